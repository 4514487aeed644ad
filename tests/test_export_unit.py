"""export_scope over an in-memory gateway; the listings and role names of rbactool.operations."""

from __future__ import annotations

from fakes import ALICE, BOB, READER, RG, SUB, FakeGateway, assignment, in_azure, reader, role

from rbactool.export import export_scope, role_keys, spec_yaml
from rbactool.managed import marker
from rbactool.operations import check_permissions, list_assignments, list_definitions, role_names
from rbactool.spec import load_spec


def _estate():
    scoring = in_azure(role(description=f"Scores {marker('team')}"))
    other = in_azure(role(name="Elsewhere", scopes=(f"/subscriptions/{SUB}/resourceGroups/far",)))
    return FakeGateway(
        [scoring, other, reader()],
        [assignment(role_guid=scoring.role_id, description=f"why {marker('team')}"),
         assignment(principal=BOB, condition="@x"),
         assignment(scope=f"/subscriptions/{SUB}/resourceGroups/far", principal=BOB)],
    ), scoring


def test_export_scope_writes_a_spec_that_loads(tmp_path):
    gw, scoring = _estate()
    doc = export_scope(gw, RG)
    assert doc["name"] == "exported-rg" and doc["description"] == f"Exported from {RG} by rbactool export"
    assert [r["key"] for r in doc["roles"]] == ["scoring"]  # the role assignable only elsewhere is left out
    assert doc["roles"][0]["definition"]["Description"] == "Scores" and "Id" not in doc["roles"][0]["definition"]
    assert doc["assignments"] == [
        {"role": "scoring", "principal": {"id": ALICE, "type": "User"}, "scope": RG, "description": "why"},
        {"role": "Reader", "principal": {"id": BOB, "type": "User"}, "scope": RG, "condition": "@x",
         "condition_version": "2.0"},
    ]
    path = tmp_path / "exported.yaml"
    path.write_text(spec_yaml(doc))
    assert load_spec(path).name == "exported-rg"


def test_export_custom_only_and_role_keys():
    gw, _ = _estate()
    assert [a["role"] for a in export_scope(gw, RG, custom_only=True)["assignments"]] == ["scoring"]
    keys = role_keys([in_azure(role(name="A b")), in_azure(role(name="a-B", scopes=(RG,))),
                      in_azure(role(name="!!!"))])
    assert sorted(keys.values()) == ["a-b", "a-b-2", "role"]


def test_listings_and_role_names():
    gw, scoring = _estate()
    assert [r.name for r in list_definitions(gw, f"/subscriptions/{SUB}")] == ["Elsewhere", "Scoring", "Reader"]
    assert [r.name for r in list_definitions(gw, f"/subscriptions/{SUB}", custom_only=True)] == ["Elsewhere",
                                                                                                 "Scoring"]
    found = list_assignments(gw, f"/subscriptions/{SUB}", principal_id=BOB.upper())
    assert [a.scope for a in found] == [f"/subscriptions/{SUB}/resourceGroups/far", RG]
    assert list_assignments(gw, RG, role="Reader") == [assignment(principal=BOB, condition="@x")]
    names = role_names(gw, list_assignments(gw, RG), RG)
    assert names == {scoring.role_id.lower(): "Scoring", READER: "Reader"}


def test_check_permissions_subtracts_not_actions():
    class Perms:
        def list_permissions(self, scope):
            return [{"actions": ["Microsoft.Authorization/*"],
                     "notActions": ["Microsoft.Authorization/roleDefinitions/write"]}]

    assert check_permissions(Perms(), RG) == {"Microsoft.Authorization/roleDefinitions/write": False,
                                              "Microsoft.Authorization/roleAssignments/write": True}
