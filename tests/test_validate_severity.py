"""Issue 13 item 5: severities grounded in what ARM does, each rule saying what it is based on."""

from __future__ import annotations

import json

import pytest
from test_validate_helpers import FIXTURE_CATALOG, az_role, report_for

from rbactool.findings import ERROR, RULES, SECURITY_WARNING, WARNING


@pytest.fixture
def v(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def _v(doc, *args):
        p = tmp_path / "role.json"
        p.write_text(json.dumps(doc))
        return run("validate", p, "--no-config", "--catalog", FIXTURE_CATALOG, "--format", "json", *args)

    return _v


def _types(result) -> dict[str, str]:
    return {f["code"]: f["type"] for f in result.json()["findings"]}


def test_list_rules_says_what_each_rule_is_based_on(run):
    text = run("validate", "--list-rules").stdout
    blocks = text.split("\n")
    based = [line for line in blocks if line.startswith("    based on: ")]
    assert len(based) == len(RULES)
    data = run("validate", "--list-rules", "--format", "json").json()
    for r in data["rules"]:
        assert r["basis"] == RULES[r["code"]].basis and r["based_on"]
    by_code = {r["code"]: r for r in data["rules"]}
    assert by_code["UNKNOWN_OPERATION"]["basis"] == "ARM rejects"
    assert "InvalidActionOrNotAction" in by_code["UNKNOWN_OPERATION"]["based_on"]
    assert by_code["CREDENTIAL_EXPOSURE"]["basis"] == "security judgment"


def test_is_custom_as_a_string_is_a_warning_and_the_role_is_still_checked(v):
    r = v(az_role(IsCustom="true", Actions=["Microsoft.Compte/virtualMachines/read"]))
    types = _types(r)
    assert types["IS_CUSTOM_NOT_BOOLEAN"] == WARNING
    assert types["NAMESPACE_TYPO"] == ERROR  # the rest of the role is checked as a custom role
    assert "SCHEMA_VIOLATION" not in types
    [f] = [f for f in r.json()["findings"] if f["code"] == "IS_CUSTOM_NOT_BOOLEAN"]
    assert f["pointer"] == "/IsCustom"
    clean = v(az_role(IsCustom="true"))
    assert clean.exit_code == 0 and set(_types(clean)) == {"IS_CUSTOM_NOT_BOOLEAN"}


def test_all_data_actions_is_a_security_warning_not_an_error(v):
    r = v(az_role(DataActions=["*"]))
    types = _types(r)
    assert types["ALL_DATA_ACTIONS"] == SECURITY_WARNING
    assert ERROR not in types.values()
    assert r.exit_code == 0
    assert v(az_role(DataActions=["*"]), "--fail-on", "security-warning").exit_code == 1


@pytest.mark.parametrize("attr", ["NotActions", "NotDataActions"])
def test_bare_wildcard_in_not_lists_is_a_warning(v, attr):
    doc = az_role(DataActions=["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"], **{attr: ["*"]})
    types = _types(v(doc))
    assert types["BARE_WILDCARD_OUTSIDE_ACTIONS"] == WARNING
    assert ERROR not in types.values()


@pytest.mark.parametrize("doc, code", [
    # Microsoft.KeyVault and Microsoft.Compute are stale in the fixture catalog: the kind of a known
    # operation does not go stale, so the misplacement is still an ERROR
    (az_role(Actions=["Microsoft.KeyVault/vaults/secrets/getSecret/action"]), "DATA_ACTION_IN_ACTIONS"),
    (az_role(Actions=[], DataActions=["Microsoft.Compute/virtualMachines/read"]), "ACTION_IN_DATA_ACTIONS"),
])
def test_a_known_operation_in_the_wrong_section_is_an_error_in_a_stale_namespace(doc, code):
    from test_validate_helpers import fixture_catalog

    ns = (doc["Actions"] or doc["DataActions"])[0]
    assert not fixture_catalog().provider(ns.split("/")[0]).fresh
    [f] = [f for f in report_for(doc).findings if f.code == code]
    assert f.type == ERROR


def test_an_unknown_operation_in_a_stale_namespace_stays_a_warning():
    [f] = [f for f in report_for(az_role(Actions=["Microsoft.Compute/virtualMachines/hibernate/action"])).findings]
    assert (f.code, f.type) == ("UNVERIFIED_OPERATION", WARNING)


def test_sarif_rules_carry_what_they_are_based_on(v):
    r = v(az_role(Actions=["Microsoft.Compte/virtualMachines/read"]), "--format", "sarif")
    [rule] = r.json()["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "NAMESPACE_TYPO"
    assert rule["properties"]["basis"] == "ARM rejects" and "InvalidActionOrNotAction" in rule["properties"]["based_on"]
