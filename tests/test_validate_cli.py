"""`rbactool validate` / `rbactool explain` through click's CliRunner: exit codes, inputs, formats."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from test_validate_helpers import FIXTURE_CATALOG, RG_SCOPE, VDATA, az_role

from rbactool.findings import RULES

SEEDS = VDATA / "seeds"
SCORING = SEEDS / "custom-role-for-scoring.json"
STRICT = SEEDS / "strict-scoring.json"
WRONG_PLACE = SEEDS / "scoring-in-dataactions.json"
ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return p


@pytest.fixture
def v(run, tmp_path, monkeypatch):
    """run("validate", ...) from an empty directory (no .rbactool.yaml above it)."""
    monkeypatch.chdir(tmp_path)
    return lambda *args, **kw: run("validate", *args, **kw)


# ---------------------------------------------------------------- exit codes


def test_clean_role_exits_0(v):
    r = v(STRICT)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "0 errors" in r.stdout


def test_error_exits_1(v):
    r = v(WRONG_PLACE, "--format", "json")
    assert r.exit_code == 1
    assert "ACTION_IN_DATA_ACTIONS" in {f["code"] for f in r.json()["findings"]}


def test_fail_on_thresholds(v):
    assert v(SCORING).exit_code == 0  # security warnings only; default --fail-on error
    assert v(SCORING, "--fail-on", "security-warning").exit_code == 1
    assert v(WRONG_PLACE, "--fail-on", "none").exit_code == 0


def test_invalid_json_exits_3_with_one_line(v, tmp_path):
    bad = write(tmp_path, "bad.json", '{"Name": "x", ')
    r = v(bad)
    assert r.exit_code == 3
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and "bad.json" in r.stderr and "not valid JSON" in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_missing_file_exits_3(v, tmp_path):
    r = v(tmp_path / "nope.json")
    assert r.exit_code == 3
    assert "no such file" in r.stderr


def test_usage_errors_exit_2(v):
    assert v().exit_code == 2
    assert v(STRICT, "--format", "xml").exit_code == 2
    assert v(STRICT, "--fail-on", "bad").exit_code == 2


def test_bad_catalog_exits_3(v, tmp_path):
    r = v(STRICT, "--catalog", write(tmp_path, "cat.json", {"schema_version": 99}))
    assert r.exit_code == 3


# ---------------------------------------------------------------- inputs


def test_stdin(v):
    r = v("-", "--format", "json", input=WRONG_PLACE.read_text())
    assert r.exit_code == 1
    data = r.json()
    assert data["files"] == ["-"]
    assert {f["file"] for f in data["findings"]} == {"-"}


def test_directory_is_searched_recursively(v, tmp_path):
    write(tmp_path, "roles/a.json", az_role(Name="A"))
    write(tmp_path, "roles/sub/b.json", az_role(Name="B", Actions=["Microsoft.Compte/x/read"]))
    write(tmp_path, "roles/notes.txt", "not a role")
    r = v(tmp_path / "roles", "--format", "json", "--catalog", FIXTURE_CATALOG)
    data = r.json()
    assert data["summary"]["roles"] == 2 and data["summary"]["files"] == 2
    assert [f["role"] for f in data["findings"]] == ["B"]
    assert r.exit_code == 1


def test_empty_directory_is_invalid_input(v, tmp_path):
    (tmp_path / "empty").mkdir()
    assert v(tmp_path / "empty").exit_code == 3


def test_az_list_array(v, tmp_path):
    doc = [
        {"roleName": "One", "roleType": "CustomRole", "assignableScopes": [RG_SCOPE],
         "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"]}]},
        {"roleName": "Two", "roleType": "BuiltInRole", "assignableScopes": ["/"],
         "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"]}]},
    ]
    r = v(write(tmp_path, "list.json", doc), "--format", "json", "--catalog", FIXTURE_CATALOG)
    assert r.exit_code == 0
    assert r.json()["summary"]["roles"] == 2
    assert r.json()["findings"] == []


def test_structure_problems_are_findings_not_crashes(v, tmp_path):
    r = v(write(tmp_path, "x.json", {"Name": "x", "Actions": "Microsoft.Compute/virtualMachines/read"}),
          "--format", "json")
    assert r.exit_code == 1
    found = {(f["code"], f["pointer"]) for f in r.json()["findings"]}
    # no masking: the wrong type is one finding, the missing scopes another; the string is still checked
    assert found == {("SCHEMA_VIOLATION", "/Actions"), ("MISSING_ASSIGNABLE_SCOPES", "/AssignableScopes")}


def test_roles_spec_is_rendered_then_validated(v):
    r = v("--roles", ROOT / "roles" / "online-endpoints.yaml", "--format", "json", "--fail-on", "security-warning")
    assert r.exit_code == 1
    data = r.json()
    assert data["summary"]["roles"] == 2
    assert "CREDENTIAL_EXPOSURE" in {f["code"] for f in data["findings"]}


# ---------------------------------------------------------------- formats


def test_json_report_shape_and_order(v, tmp_path):
    r = v(SCORING, WRONG_PLACE, "--format", "json")
    data = r.json()
    assert data["schema_version"] == 1
    assert set(data) >= {"findings", "suppressed", "summary", "fail_on", "failed", "catalog", "files"}
    assert data["summary"]["error"] == 1 and data["summary"]["roles"] == 2
    keys = [(f["file"], f["pointer"]) for f in data["findings"]]
    assert keys == sorted(keys)
    for f in data["findings"]:
        assert f["type"] == RULES[f["code"]].type
    # byte-for-byte stable
    assert v(SCORING, WRONG_PLACE, "--format", "json").stdout == r.stdout


def test_text_output_groups_by_file_and_role(v):
    r = v(SCORING)
    lines = r.stdout.splitlines()
    assert lines[0] == str(SCORING)
    assert lines[1].strip().startswith("role ")
    assert lines[-1].startswith("1 file, 1 role: 0 errors, 1 security warning")


def test_list_rules(v):
    text = v("--list-rules")
    assert text.exit_code == 0
    assert all(code in text.stdout for code in RULES)
    data = v("--list-rules", "--format", "json").json()
    assert [r["code"] for r in data["rules"]] == sorted(RULES)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_sarif_is_valid_and_points_at_lines(v, tmp_path):
    role = write(tmp_path, "r.json", az_role(Actions=["Microsoft.Compute/virtualMachines/read",
                                                      "Microsoft.Compte/virtualMachines/read"]))
    r = v(role, "--format", "sarif", "--catalog", FIXTURE_CATALOG)
    assert r.exit_code == 1
    sarif = json.loads(r.stdout)
    schema = json.loads((VDATA / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema.validate(sarif, schema)
    official = json.loads((VDATA / "sarif-2.1.0.json").read_text())  # the OASIS schema, shipped
    jsonschema.Draft202012Validator(official).validate(sarif)
    run_ = sarif["runs"][0]
    [res] = [x for x in run_["results"] if x["ruleId"] == "NAMESPACE_TYPO"]
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == _line_of(role.read_text(), "Microsoft.Compte")
    assert run_["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "NAMESPACE_TYPO"
    assert res["level"] == "error"
    # the file is under the current directory: a repository-relative URI, as code scanning wants
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "r.json"
    assert all(x.get("locations") for x in run_["results"])


def test_sarif_rejects_a_broken_document():
    # the subset schema can fail: an unknown result property is refused
    schema = json.loads((VDATA / "sarif-2.1.0-subset.schema.json").read_text())
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                            "results": [{"message": {"text": "m"}, "lvl": "error"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    # and so can the official one
    official = jsonschema.Draft202012Validator(json.loads((VDATA / "sarif-2.1.0.json").read_text()))
    with pytest.raises(jsonschema.ValidationError):
        official.validate(broken)


def test_sarif_lists_suppressed_results(v):
    r = v(SCORING, "--format", "sarif", "--ignore", "CREDENTIAL_EXPOSURE")
    results = json.loads(r.stdout)["runs"][0]["results"]
    [sup] = [x for x in results if x["ruleId"] == "CREDENTIAL_EXPOSURE"]
    assert sup["suppressions"][0]["kind"] == "external"
    assert sup["suppressions"][0]["justification"]


# ---------------------------------------------------------------- suppressions from the command line


def test_ignore_option_suppresses_and_counts(v):
    r = v(SCORING, "--format", "json", "--fail-on", "security-warning", "--ignore", "CREDENTIAL_EXPOSURE")
    data = r.json()
    assert r.exit_code == 0
    assert "CREDENTIAL_EXPOSURE" not in {f["code"] for f in data["findings"]}
    assert data["summary"]["suppressed"] == 1
    assert data["suppressed"][0]["code"] == "CREDENTIAL_EXPOSURE"
    assert data["suppressed"][0]["suppressed_by"] == "--ignore"


def test_ignore_unknown_code_is_invalid_input(v):
    r = v(SCORING, "--ignore", "NO_SUCH_CODE")
    assert r.exit_code == 3
    assert "NO_SUCH_CODE" in r.stderr


# ---------------------------------------------------------------- explain


def test_explain_builtin_role_offline(run):
    r = run("explain", "AzureML Data Scientist", "--format", "json")
    assert r.exit_code == 0
    data = r.json()
    [role] = data["roles"]
    assert role["builtin"] is True
    names = {op["name"].lower() for p in role["patterns"] for op in p["operations"]}
    assert "microsoft.machinelearningservices/workspaces/onlineendpoints/score/action" in names
    assert role["totals"]["actions"] == len(names)


def test_explain_pattern_shows_risk_classes(run):
    r = run("explain", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/*/action", "--format", "json")
    ops = {op["name"].lower(): op for p in r.json()["roles"][0]["patterns"] for op in p["operations"]}
    assert len(ops) == 5
    key = "microsoft.machinelearningservices/workspaces/onlineendpoints/regeneratekeys/action"
    assert ops[key]["risk_classes"] == ["credential-exposure"]
    assert ops[key]["display_name"]
    assert ops[key]["data_action"] is False


def test_explain_role_file_shows_notactions_removals(run, tmp_path):
    f = write(tmp_path, "r.json", az_role(Actions=["Microsoft.Storage/storageAccounts/*"],
                                          NotActions=["Microsoft.Storage/storageAccounts/listkeys/action"]))
    r = run("explain", f, "--format", "json", "--catalog", FIXTURE_CATALOG)
    [role] = r.json()["roles"]
    [p] = role["patterns"]
    assert [x["name"] for x in p["removed"]] == ["Microsoft.Storage/storageAccounts/listkeys/action"]
    assert "credential-exposure" not in role["risk"]
    text = run("explain", f, "--catalog", FIXTURE_CATALOG)
    assert "removed" in text.stdout


def test_explain_unknown_target_exits_3_with_suggestion(run):
    r = run("explain", "AzureML Data Scientst")
    assert r.exit_code == 3
    assert "AzureML Data Scientist" in r.stderr


def test_validate_imports_neither_azure_nor_jsonschema_for_a_valid_file():
    import subprocess
    import sys

    code = (
        "import sys, runpy\n"
        f"sys.argv = ['rbactool', 'validate', {str(STRICT)!r}, '--no-config']\n"
        "try:\n    runpy.run_module('rbactool', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'jsonschema'))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_explain_pattern_matching_nothing_is_an_error_with_a_hint(run):
    r = run("explain", "Microsoft.Compute/virtualMachines/*/frobnicate", "--format", "json")
    assert r.exit_code == 3 and "matches no operation" in r.stderr and "stale" in r.stderr
    r = run("explain", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/scor/action")
    assert r.exit_code == 3 and "onlineEndpoints/score/action" in r.stderr


@pytest.mark.parametrize(
    ("target", "needle"),
    [("/tmp/definitely-missing.json", "no such file"), ("roles/nope.yaml", "no such file"),
     ("Microsoft.Foo/bar/*/*", "one '*'"), ("Microsoft.Comput/virtualMachines/read", "Microsoft.Compute")],
)
def test_explain_bad_targets_exit_3(run, target, needle):
    r = run("explain", target)
    assert r.exit_code == 3 and needle in r.stderr and r.stdout == ""


def test_catalog_max_age_option(v):
    # the packaged snapshot is from 2026-08-22: older than 0 days on any later day
    data = v(STRICT, "--format", "json", "--catalog-max-age-days", "0").json()
    assert "CATALOG_OUTDATED" in {f["code"] for f in data["findings"]}
    assert v(STRICT, "--catalog-max-age-days", "-1").exit_code == 2


def test_show_suppressed_in_text(v):
    r = v(SCORING, "--ignore", "CREDENTIAL_EXPOSURE", "--show-suppressed")
    assert "suppressed:" in r.stdout and "CREDENTIAL_EXPOSURE" in r.stdout
    assert "(1 suppressed)" in r.stdout


def test_explain_template_renders_it_first(run):
    r = run("explain", "online-endpoint-scoring", "--format", "json")
    assert r.exit_code == 0, r.stderr
    [role] = r.json()["roles"]
    assert role["builtin"] is False
    assert "credential-exposure" in role["risk"]
