"""Golden cases: for every finding code, one role that triggers it and a near miss that must not."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from test_validate_helpers import RG_SCOPE, SUB, az_role, codes, fixture_catalog, fresh_catalog, report_for

from rbactool.config import Config
from rbactool.findings import RULES
from rbactool.validate import validate_roles

ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
VM = "Microsoft.Compute/virtualMachines"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
SUB_SCOPE = f"/subscriptions/{SUB}"
MG = "/providers/Microsoft.Management/managementGroups/"

# (code, triggering role, near miss, catalog: "fixture" | "fresh" | "packaged")
TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _arm_resource(scopes):
    """A roleDefinitions resource as a template holds it; *scopes* may be expressions."""
    return {"type": "Microsoft.Authorization/roleDefinitions", "apiVersion": "2022-04-01",
            "name": "5b0f4d3e-7f31-4a53-8f0a-8c2f3b9e2f11",
            "properties": {"roleName": "ARM role", "description": "d", "type": "CustomRole",
                           "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"]}],
                           "assignableScopes": scopes}}


CASES = [
    ("MISSING_NAME", az_role(Name="  "), az_role(Name="x")),
    ("MISSING_ASSIGNABLE_SCOPES", az_role(AssignableScopes=[]), az_role()),
    ("NO_PERMISSIONS", az_role(Actions=[]), az_role(Actions=[], DataActions=[f"{BLOBS}/read"])),
    ("EMPTY_PERMISSION_STRING", az_role(Actions=[f"{VM}/read", " "]), az_role()),
    ("DUPLICATE_PERMISSION", az_role(Actions=[f"{VM}/read", f"{VM}/READ"]), az_role(Actions=[f"{VM}/read", f"{VM}/start/action"])),
    ("DUPLICATE_ASSIGNABLE_SCOPE", az_role(AssignableScopes=[RG_SCOPE, RG_SCOPE.upper().replace("SUBSCRIPTIONS", "subscriptions")]),
     az_role(AssignableScopes=[RG_SCOPE, RG_SCOPE + "x"])),
    ("NAME_TOO_LONG", az_role(Name="x" * 513), az_role(Name="x" * 512)),
    ("DESCRIPTION_TOO_LONG", az_role(Description="d" * 2049), az_role(Description="d" * 2048)),
    ("CONDITION_WITHOUT_VERSION",
     az_role(Actions=None, NotActions=None, DataActions=None, NotDataActions=None,
             Permissions=[{"dataActions": [f"{BLOBS}/read"], "condition": "@Resource[x] StringEquals 'y'"}]),
     az_role(Actions=None, NotActions=None, DataActions=None, NotDataActions=None,
             Permissions=[{"dataActions": [f"{BLOBS}/read"], "condition": "@Resource[x] StringEquals 'y'",
                           "conditionVersion": "2.0"}])),
    ("ACTION_SYNTAX", az_role(Actions=["Microsoft.Compute"]), az_role(Actions=["Microsoft.Compute/*"])),
    ("MULTIPLE_WILDCARDS", az_role(Actions=["Microsoft.Compute/*/*"]), az_role(Actions=["Microsoft.Compute/*/read"])),
    ("WHITESPACE_IN_PERMISSION", az_role(Actions=["Microsoft.Compute/virtual Machines/read"]), az_role()),
    ("SURROUNDING_WHITESPACE", az_role(Actions=[f"{VM}/read "]), az_role(Actions=[f"{VM}/read"])),
    ("TRAILING_SLASH", az_role(Actions=[f"{VM}/"]), az_role(Actions=[f"{VM}/*"])),
    ("BARE_WILDCARD_OUTSIDE_ACTIONS", az_role(NotActions=["*"]), az_role(Actions=["*"])),
    ("ALL_DATA_ACTIONS", az_role(DataActions=["*"]), az_role(DataActions=["Microsoft.Storage/*"])),
    ("IS_CUSTOM_NOT_BOOLEAN", az_role(IsCustom="true"), az_role(IsCustom=True)),
    ("NAMESPACE_TYPO", az_role(Actions=["Microsoft.Compte/virtualMachines/read"]), az_role()),
    ("UNKNOWN_NAMESPACE", az_role(Actions=["Contoso.Widgets/things/read"]), az_role(), "fresh"),
    ("UNVERIFIED_NAMESPACE", az_role(Actions=["Contoso.Widgets/things/read"]),
     az_role(Actions=["Microsoft.RoleOnly/things/read"])),
    ("UNKNOWN_OPERATION", az_role(Actions=[f"{ML}/scores/action"]), az_role(Actions=[f"{ML}/score/action"])),
    ("UNVERIFIED_OPERATION", az_role(Actions=[f"{VM}/hibernate/action"]), az_role(Actions=[f"{VM}/start/action"])),
    ("WILDCARD_MATCHES_NOTHING", az_role(Actions=[f"{ML}/*/delete"]), az_role(Actions=[f"{ML}/*/action"])),
    ("UNVERIFIED_WILDCARD", az_role(Actions=["Microsoft.Compute/disks/*"]), az_role(Actions=[f"{VM}/*"])),
    ("NOT_ACTION_MATCHES_NOTHING",
     az_role(Actions=["Microsoft.MachineLearningServices/*"], NotActions=[f"{ML}/*/write"]),
     az_role(Actions=["Microsoft.MachineLearningServices/*"], NotActions=[f"{ML}/write"])),
    ("DATA_ACTION_IN_ACTIONS", az_role(Actions=[f"{BLOBS}/read"]), az_role(Actions=[], DataActions=[f"{BLOBS}/read"])),
    ("ACTION_IN_DATA_ACTIONS", az_role(Actions=[], DataActions=[f"{ML}/score/action"]),
     az_role(Actions=[f"{ML}/score/action"])),
    ("NOT_ACTION_SUBTRACTS_NOTHING", az_role(Actions=[f"{VM}/read"], NotActions=[f"{VM}/delete"]),
     az_role(Actions=["Microsoft.Compute/*"], NotActions=[f"{VM}/delete"])),
    ("CASE_MISMATCH", az_role(Actions=["microsoft.compute/virtualmachines/read"]), az_role()),
    ("NARROWER_THAN_WILDCARD", az_role(Actions=[f"{ML}/*/action"]), az_role(Actions=[f"{ML}/score/action"])),
    ("SCOPE_ROOT", az_role(AssignableScopes=["/"]), az_role(AssignableScopes=[SUB_SCOPE])),
    ("SCOPE_WILDCARD", az_role(AssignableScopes=["/subscriptions/*"]), az_role(AssignableScopes=[SUB_SCOPE])),
    ("SCOPE_MALFORMED", az_role(AssignableScopes=["/subscriptions/not-a-guid"]), az_role(AssignableScopes=[SUB_SCOPE])),
    ("SCOPE_PLACEHOLDER", az_role(AssignableScopes=["/subscriptions/<subscriptionId>/resourcegroups/<rg>"]),
     az_role(AssignableScopes=[SUB_SCOPE])),
    ("SCOPE_MULTIPLE_MANAGEMENT_GROUPS", az_role(AssignableScopes=[MG + "a", MG + "b"]),
     az_role(AssignableScopes=[MG + "a", SUB_SCOPE])),
    ("DATA_ACTIONS_WITH_MANAGEMENT_GROUP", az_role(DataActions=[f"{BLOBS}/read"], AssignableScopes=[MG + "a"]),
     az_role(DataActions=[f"{BLOBS}/read"], AssignableScopes=[SUB_SCOPE])),
    ("TOO_MANY_SCOPES", az_role(AssignableScopes=[f"{SUB_SCOPE}/resourceGroups/rg{i}" for i in range(2001)]),
     az_role(AssignableScopes=[f"{SUB_SCOPE}/resourceGroups/rg{i}" for i in range(2000)])),
    ("SCOPE_RESOURCE_LEVEL",
     az_role(AssignableScopes=[f"{RG_SCOPE}/providers/Microsoft.MachineLearningServices/workspaces/ws1"]),
     az_role()),
    ("PRIVILEGE_ESCALATION", az_role(Actions=["Microsoft.Authorization/roleAssignments/write"]),
     az_role(Actions=["Microsoft.Authorization/*/read"])),
    ("CREDENTIAL_EXPOSURE", az_role(Actions=["Microsoft.Storage/storageAccounts/*"]),
     az_role(Actions=["Microsoft.Storage/storageAccounts/*"], NotActions=["Microsoft.Storage/storageAccounts/listkeys/action"])),
    ("REMOTE_EXECUTION", az_role(Actions=[f"{VM}/*/action"]), az_role(Actions=[f"{VM}/start/action"])),
    # a read whose answer holds a secret, as the built-in Reader's */read grants it (packaged catalog)
    ("READS_SECRETS_LIKE_READER", az_role(Actions=["*/read"]), az_role(Actions=["Microsoft.Compute/*/read"]),
     "packaged"),
    ("OWNER_CLONE", az_role(Actions=["*"], AssignableScopes=[SUB_SCOPE]),
     az_role(Actions=["*"], NotActions=["Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"],
             AssignableScopes=[SUB_SCOPE])),
    ("ENTRA_ROLE_NAME", az_role(Name="Global Administrator"), az_role(Name="Network Administrator")),
    ("BUILTIN_NAME_CLASH", az_role(Name="Reader"), az_role(Name="Reader (custom)")),
    ("SCHEMA_VIOLATION", az_role(Actions="Microsoft.Compute/virtualMachines/read"), az_role()),
    ("EMPTY_DOCUMENT", [], [az_role()]),
    ("DUPLICATE_KEY", json.dumps(az_role())[:-1] + ', "Actions": ["Microsoft.Compute/virtualMachines/read"]}',
     json.dumps(az_role(Description='"Actions": ["*"], "Actions": []'))),
    ("NAME_CONTROL_CHARACTER", az_role(Name="Reader\u202e (custom)"), az_role(Name="Lecteur privé (custom)")),
    ("DESCRIPTION_CONTROL_CHARACTER", az_role(Description="reads\x1b[8m hidden"),
     az_role(Description="line one\nline two\ttabbed, emoji \U0001f469\u200d\U0001f4bb")),
    ("SCOPE_TRAILING_SLASH", az_role(AssignableScopes=[SUB_SCOPE + "/"]), az_role(AssignableScopes=[SUB_SCOPE])),
    ("ROLE_UNREADABLE",
     az_role(Permissions=[{"actions": [f"{VM}/read"]}]),
     az_role(Actions=None, NotActions=None, DataActions=None, NotDataActions=None,
             Permissions=[{"actions": [f"{VM}/read"]}])),
]
CASES += [
    ("UNKNOWN_FIELD", az_role(Action=[f"{VM}/read"]), az_role()),
    ("UNRESOLVED_EXPRESSION", _arm_resource(["[parameters('scope')]"]), _arm_resource([f"[concat('/subscriptions/', '{SUB}')]"])),
    ("JSON_NOT_STRICT", json.dumps(az_role()) + "\n// trailing comment\n", json.dumps(az_role(Description="// not a comment"))),
    ("NO_ROLE_DEFINITIONS", {"$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0", "resources": []},
     {"$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0", "resources": [_arm_resource([SUB_SCOPE])]}),
]
# Codes with their own tests below or in test_documents.py (not a property of one role).
SPECIAL = {"CATALOG_OUTDATED", "INTERNAL_ERROR", "FILE_UNREADABLE", "BICEP_NOT_COMPILED"}


def _catalog(kind, tmp_path):
    if kind == "packaged":
        from rbactool.catalog import load_packaged_catalog

        return load_packaged_catalog()
    return fresh_catalog(tmp_path) if kind == "fresh" else fixture_catalog()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_golden_trigger(case, tmp_path):
    code, doc, _, *kind = case
    assert code in codes(doc, _catalog(kind[0] if kind else "fixture", tmp_path))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_golden_near_miss(case, tmp_path):
    code, _, doc, *kind = case
    assert code not in codes(doc, _catalog(kind[0] if kind else "fixture", tmp_path))


def test_every_registered_code_has_a_golden_case():
    covered = {c[0] for c in CASES} | SPECIAL
    assert covered == set(RULES)


def test_the_default_role_is_clean():
    assert codes(az_role()) == set()


def test_catalog_outdated_by_age(tmp_path):
    cat = fixture_catalog()  # snapshot 2026-08-22
    old = report_for(az_role(), cat, today=dt.date(2027, 8, 1))
    assert "CATALOG_OUTDATED" in old.codes
    assert "CATALOG_OUTDATED" not in report_for(az_role(), cat, today=dt.date(2026, 9, 1)).codes
    strict = Config(catalog_max_age_days=5)
    assert "CATALOG_OUTDATED" in report_for(az_role(), cat, today=dt.date(2026, 9, 1), config=strict).codes
    [f] = [f for f in old.findings if f.code == "CATALOG_OUTDATED"]
    assert f.location.value == "2026-08-22"


def test_a_crashing_check_becomes_an_internal_error(monkeypatch):
    import rbactool.checks.naming as naming
    from rbactool.model import role_from_dict

    def boom(ctx):
        raise RuntimeError("kaput")
        yield  # pragma: no cover

    monkeypatch.setattr(naming, "check_entra_role_name", boom)
    report = validate_roles([role_from_dict(az_role(), source="r.json")], fixture_catalog(), today=dt.date(2026, 9, 1))
    [f] = [f for f in report.findings if f.code == "INTERNAL_ERROR"]
    assert "naming.entra_role_name" in f.message
    assert f.type == "ERROR"
    # the other checks still ran
    report2 = validate_roles([role_from_dict(az_role(Actions=[f"{VM}/READ"]), source="r.json")], fixture_catalog(),
                             today=dt.date(2026, 9, 1))
    assert {"INTERNAL_ERROR", "CASE_MISMATCH"} <= report2.codes


def test_unknown_namespace_did_you_mean_names_the_namespace():
    report = report_for(az_role(Actions=["Microsoft.compte/virtualMachines/read"]))
    [f] = [f for f in report.findings if f.code == "NAMESPACE_TYPO"]
    assert "Microsoft.Compute" in f.message
    assert f.location.pointer == "/Actions/0"


def test_unknown_operation_did_you_mean():
    report = report_for(az_role(Actions=[f"{ML}/scor/action"]))
    [f] = [f for f in report.findings if f.code == "UNKNOWN_OPERATION"]
    assert f"{ML}/score/action" in f.message


def test_stale_provider_warning_names_the_snapshot_date():
    report = report_for(az_role(Actions=[f"{VM}/hibernate/action"]))
    [f] = [f for f in report.findings if f.code == "UNVERIFIED_OPERATION"]
    assert f.type == "WARNING"
    assert "2023-08-12" in f.message


def test_placement_known_only_from_builtin_roles_is_a_warning():
    # the catalog knows exportSpecification only as an action, from built-in roles that disagree
    doc = az_role(Actions=[], DataActions=["Microsoft.ApiCenter/services/exportSpecification/action"])
    found = codes(doc)
    assert "UNVERIFIED_OPERATION" in found
    assert "ACTION_IN_DATA_ACTIONS" not in found


def test_wildcard_matching_only_other_kind_in_stale_provider_is_a_warning():
    found = codes(az_role(Actions=["Microsoft.KeyVault/vaults/secrets/*"]))
    assert "UNVERIFIED_WILDCARD" in found
    assert "DATA_ACTION_IN_ACTIONS" not in found


def test_builtin_roles_may_use_root_scope():
    doc = az_role(IsCustom=False, AssignableScopes=["/"])
    assert "SCOPE_ROOT" not in codes(doc)
    assert "SCOPE_ROOT" in codes(az_role(AssignableScopes=["/"]))


def test_risk_findings_point_at_the_granting_pattern_and_name_operations():
    report = report_for(az_role(Actions=[f"{VM}/read", "Microsoft.Storage/storageAccounts/*"]))
    [f] = [f for f in report.findings if f.code == "CREDENTIAL_EXPOSURE"]
    assert f.location.pointer == "/Actions/1"
    assert f.operations == ("Microsoft.Storage/storageAccounts/listkeys/action",)
    assert f.type == "SECURITY_WARNING"


def test_notactions_in_another_block_do_not_subtract():
    doc = az_role(Actions=None, NotActions=None, DataActions=None, NotDataActions=None, Permissions=[
        {"actions": ["Microsoft.Storage/storageAccounts/*"]},
        {"actions": [f"{VM}/read"], "notActions": ["Microsoft.Storage/storageAccounts/listkeys/action"]},
    ])
    found = codes(doc)
    assert "CREDENTIAL_EXPOSURE" in found
    assert "NOT_ACTION_SUBTRACTS_NOTHING" in found


def test_arm_shape_pointers():
    doc = {"name": "x", "type": "Microsoft.Authorization/roleDefinitions", "properties": {
        "roleName": "ARM role", "type": "CustomRole",
        "permissions": [{"actions": [f"{VM}/read", "Microsoft.Compte/x/read"]}],
        "assignableScopes": [SUB_SCOPE]}}
    report = report_for(doc)
    [f] = [f for f in report.findings if f.code == "NAMESPACE_TYPO"]
    assert f.location.pointer == "/properties/permissions/0/actions/1"
    assert f.location.role == "ARM role"


def test_list_shape_one_broken_item_does_not_hide_the_others():
    good = {"roleName": "Good", "roleType": "CustomRole", "assignableScopes": [SUB_SCOPE],
            "permissions": [{"actions": ["Microsoft.Compte/x/read"]}]}
    bad = {"roleName": "Bad", "roleType": "CustomRole", "permissions": "oops"}
    report = report_for([good, bad])
    by_code = {f.code: f for f in report.findings}
    assert by_code["NAMESPACE_TYPO"].location.pointer == "/0/permissions/0/actions/0"
    assert by_code["SCHEMA_VIOLATION"].location.pointer == "/1/permissions"
    assert report.roles_checked == 2  # the broken item is still checked (its scopes are missing)
    assert ("MISSING_ASSIGNABLE_SCOPES", "Bad") in {(f.code, f.location.role) for f in report.findings}


def test_schema_violation_points_at_the_key_as_written():
    report = report_for(az_role(Actions=None, actions=[f"{VM}/read"], Bogus=1))
    assert {(f.code, f.type, f.location.pointer) for f in report.findings} == {("UNKNOWN_FIELD", "WARNING", "/Bogus")}


def test_malformed_strings_get_no_risk_findings():
    found = codes(az_role(Actions=[f"{VM}/*/*"]))
    assert "MULTIPLE_WILDCARDS" in found
    assert not found & {"REMOTE_EXECUTION", "NARROWER_THAN_WILDCARD"}


def test_schema_violation_on_list_items_is_reported_once_per_item():
    report = report_for([1, az_role()])
    [f] = [f for f in report.findings if f.code == "SCHEMA_VIOLATION"]
    assert f.location.pointer == "/0"
    assert report.roles_checked == 1


def test_role_unreadable_message_does_not_repeat_the_file():
    report = report_for({"roleName": "y", "roleType": "Weird"}, source="weird.json")
    [f] = [f for f in report.findings if f.code == "ROLE_UNREADABLE"]
    assert f.code == "ROLE_UNREADABLE"
    assert not f.message.startswith("weird.json")
