"""rbactool.explain as a library: explain_data, explain_role, checked_pattern, format_explain_text."""

from __future__ import annotations

import json

import pytest

from conftest import DATA, SUB
from rbactool.catalog import load_catalog
from rbactool.errors import InputError
from rbactool.explain import checked_pattern, explain_data, explain_role, pattern_role
from rbactool.inputs import RenderOptions
from rbactool.model import Permission, RoleDefinition
from rbactool.output import format_explain_text

ST = "Microsoft.Storage/storageAccounts"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(DATA / "validate" / "catalog.json")


def test_explain_role_lists_each_pattern_with_removals_risk_and_totals(catalog):
    role = RoleDefinition(name="r", permissions=(
        Permission(actions=(f"{ST}/*", "Contoso.Foo/bars/read"), not_actions=(f"{ST}/listkeys/action",)),))
    data = explain_role(role, catalog)
    storage, contoso = data["patterns"]
    assert [o["name"] for o in storage["operations"]] == [f"{ST}/read"]
    assert storage["removed"] == [{"name": f"{ST}/listkeys/action", "data_action": False}]
    assert storage["matched"] == 2 and contoso["matched"] == 0
    assert data["unresolved"] == ["Contoso.Foo/bars/read"]
    assert data["risk"] == {}
    assert data["totals"] == {"actions": 1, "data_actions": 0, "removed": 1}
    assert data["not_patterns"] == [{"block": 0, "pattern": f"{ST}/listkeys/action", "removed": 1}]


def test_explain_data_for_a_pattern(catalog):
    data = explain_data(f"{ST}/listkeys/action", catalog)
    assert (data["schema_version"], data["kind"], data["target"]) == (1, "pattern", f"{ST}/listkeys/action")
    assert data["catalog"] == {"snapshot_date": "2026-08-22", "origin": str(DATA / "validate" / "catalog.json")}
    [r] = data["roles"]
    assert r["risk"] == {"credential-exposure": [f"{ST}/listkeys/action"]}
    assert [p["list"] for p in r["patterns"]] == ["Actions", "DataActions"]  # both kinds are tried
    json.dumps(data)  # JSON-ready


def test_explain_data_for_a_builtin_and_a_template(catalog):
    data = explain_data("Reader", catalog)
    assert data["kind"] == "roles" and data["roles"][0]["builtin"] is True
    data = explain_data("online-endpoint-scoring", catalog, RenderOptions(scope={"subscription": SUB}))
    assert data["roles"][0]["builtin"] is False and data["roles"][0]["source"] == "template:online-endpoint-scoring"


def test_explain_data_for_a_file(catalog, tmp_path):
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"Name": "mine", "IsCustom": True, "Description": "d", "Actions": [f"{ST}/read"],
                             "NotActions": [], "DataActions": [], "NotDataActions": [],
                             "AssignableScopes": [f"/subscriptions/{SUB}"]}))
    data = explain_data(str(f), catalog)
    assert [r["role"] for r in data["roles"]] == ["mine"] and data["roles"][0]["source"] == str(f)


@pytest.mark.parametrize(("pattern", "message"), [
    ("Microsoft.Storage/*/*", "Azure allows one '*'"),
    ("Microsoft.Storage/a b", "white space"),
    ("Microsoft.Storag/storageAccounts/read", "did you mean 'Microsoft.Storage'"),
    (f"{ST}/lstkeys/action", f"did you mean '{ST}/listkeys/action'"),
])
def test_checked_pattern_refuses_with_a_hint(catalog, pattern, message):
    with pytest.raises(InputError, match=message.replace("*", r"\*").replace("(", r"\(")):
        checked_pattern(pattern, catalog)


def test_checked_pattern_accepts_what_matches(catalog):
    assert checked_pattern("*", catalog) == "*"
    assert checked_pattern(f"{ST}/*", catalog) == f"{ST}/*"


def test_pattern_role_grants_both_kinds():
    r = pattern_role("Microsoft.Storage/*")
    assert r.permissions == (Permission(actions=("Microsoft.Storage/*",), data_actions=("Microsoft.Storage/*",)),)


def test_format_explain_text(catalog):
    text = format_explain_text(explain_data(f"{ST}/*", catalog))
    lines = text.splitlines()
    assert lines[0] == f"permission string '{ST}/*'"
    assert f"  Actions: {ST}/*  -> 2 operation(s)" in lines
    assert any(line.startswith(f"      {ST}/listkeys/action  (action)  [credential-exposure]") for line in lines)
    assert lines[-1] == "  total: 2 action(s), 2 data action(s), 0 removed by NotActions, 1 credential-exposure"
    assert text.endswith("\n")


def test_format_explain_text_pattern_matching_nothing_in_one_kind_is_skipped(catalog):
    text = format_explain_text(explain_data(f"{ST}/read", catalog))
    assert "DataActions" not in text
