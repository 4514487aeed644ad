""".rbactool.yaml: fail_on, severity overrides, ignores with a mandatory reason, and their edge cases."""

from __future__ import annotations

import json

import pytest
from test_validate_helpers import FIXTURE_CATALOG, VDATA, az_role, report_for

from rbactool.config import ConfigError, config_from_dict, find_config, load_config

SCORING = VDATA / "seeds" / "custom-role-for-scoring.json"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("doc, fragment", [
    ({"ignore": [{"code": "CASE_MISMATCH"}]}, "reason"),
    ({"ignore": [{"code": "CASE_MISMATCH", "reason": "   "}]}, "reason"),
    ({"ignore": [{"code": "NO_SUCH_CODE", "reason": "x"}]}, "NO_SUCH_CODE"),
    ({"ignore": [{"reason": "everything"}]}, "matches everything"),
    ({"ignore": [{"code": "CASE_MISMATCH", "reason": "x", "path": "a"}]}, "unknown key 'path'"),
    ({"ignore": [{"code": [], "reason": "x"}]}, "non-empty"),
    ({"ignore": "CASE_MISMATCH"}, "list"),
    ({"severity": {"NO_SUCH_CODE": "warning"}}, "NO_SUCH_CODE"),
    ({"severity": {"CASE_MISMATCH": "fatal"}}, "fatal"),
    ({"fail_on": "sometimes"}, "fail_on"),
    ({"catalog_max_age_days": -1}, "catalog_max_age_days"),
    ({"failon": "error"}, "unknown key 'failon'"),
    (["not", "a", "mapping"], "mapping"),
])
def test_invalid_configs_are_config_errors(doc, fragment):
    with pytest.raises(ConfigError) as e:
        config_from_dict(doc, origin=".rbactool.yaml")
    assert fragment in str(e.value)


def test_valid_config():
    cfg = config_from_dict({
        "fail_on": "security-warning",
        "catalog_max_age_days": 30,
        "severity": {"CASE_MISMATCH": "warning"},
        "ignore": [{"code": ["CASE_MISMATCH", "DUPLICATE_PERMISSION"], "role": "Legacy *", "reason": "old"}],
    })
    assert cfg.fail_on == "SECURITY_WARNING"
    assert cfg.severity == {"CASE_MISMATCH": "WARNING"}
    assert cfg.ignores[0].code == ("CASE_MISMATCH", "DUPLICATE_PERMISSION")
    assert config_from_dict({"fail_on": "none"}).fail_on is None
    assert config_from_dict(None).fail_on == "ERROR"


def test_find_config_walks_upward(tmp_path):
    (tmp_path / ".rbactool.yaml").write_text("fail_on: warning\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / ".rbactool.yaml"
    assert load_config(find_config(deep)).fail_on == "WARNING"


# ---------------------------------------------------------------- matching


def _suppressed_codes(report):
    return {s.finding.code for s in report.suppressed}


def test_ignore_by_code_and_role_glob_is_anded():
    cfg = config_from_dict({"ignore": [{"code": "CASE_MISMATCH", "role": "legacy*", "reason": "old roles"}]})
    doc = az_role(Actions=["microsoft.compute/virtualmachines/read"])
    assert "CASE_MISMATCH" in report_for(dict(doc, Name="Legacy VM"), config=cfg).suppressed[0].finding.code
    kept = report_for(dict(doc, Name="New VM"), config=cfg)
    assert "CASE_MISMATCH" in kept.codes and not kept.suppressed


def test_ignore_file_glob():
    cfg = config_from_dict({"ignore": [{"file": "legacy/*.json", "reason": "frozen"}]})
    doc = az_role(Actions=["microsoft.compute/virtualmachines/read"])
    assert report_for(doc, config=cfg, source="legacy/a.json").codes == set()
    assert "CASE_MISMATCH" in report_for(doc, config=cfg, source="new/a.json").codes
    by_name = config_from_dict({"ignore": [{"file": "old-*.json", "reason": "frozen"}]})
    assert report_for(doc, config=by_name, source="roles/old-a.json").codes == set()
    assert "CASE_MISMATCH" in report_for(doc, config=by_name, source="roles/new-a.json").codes


def test_ignore_operation_must_cover_every_named_operation():
    doc = az_role(Actions=[f"{ML}/*/action"])
    only_listkeys = config_from_dict({"ignore": [{"code": "CREDENTIAL_EXPOSURE", "operation": "*/listkeys/action",
                                                  "reason": "x"}]})
    assert "CREDENTIAL_EXPOSURE" in report_for(doc, config=only_listkeys).codes
    all_three = config_from_dict({"ignore": [{"code": "CREDENTIAL_EXPOSURE",
                                              "operation": ["*/listkeys/action", "*/regeneratekeys/action",
                                                            "*/token/action"], "reason": "x"}]})
    report = report_for(doc, config=all_three)
    assert "CREDENTIAL_EXPOSURE" not in report.codes
    assert _suppressed_codes(report) == {"CREDENTIAL_EXPOSURE"}


def test_ignore_operation_matches_the_offending_value():
    cfg = config_from_dict({"ignore": [{"operation": f"{ML}/*/action", "reason": "reviewed"}]})
    report = report_for(az_role(Actions=[f"{ML}/*/action"]), config=cfg)
    assert report.codes == set()
    assert _suppressed_codes(report) == {"CREDENTIAL_EXPOSURE", "NARROWER_THAN_WILDCARD"}
    assert all(s.reason == "reviewed" for s in report.suppressed)


def test_severity_override_changes_type_and_failure():
    doc = az_role(Actions=["microsoft.compute/virtualmachines/read"])
    assert not report_for(doc).failed()
    report = report_for(doc, config=config_from_dict({"severity": {"CASE_MISMATCH": "error"}}))
    [f] = report.findings
    assert f.type == "ERROR"
    assert report.failed()


def test_a_suppressed_error_does_not_fail_the_run():
    doc = az_role(Actions=["Microsoft.Compte/virtualMachines/read"])
    cfg = config_from_dict({"ignore": [{"code": "NAMESPACE_TYPO", "reason": "tracked in TICKET-1"}]})
    report = report_for(doc, config=cfg)
    assert not report.failed()
    assert len(report.suppressed) == 1


# ---------------------------------------------------------------- through the CLI


@pytest.fixture
def v(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return lambda *args, **kw: run("validate", *args, **kw)


def test_config_found_upward_from_cwd(v, tmp_path, monkeypatch):
    (tmp_path / ".rbactool.yaml").write_text(
        "fail_on: security-warning\n"
        "ignore:\n  - code: NARROWER_THAN_WILDCARD\n    reason: scoring role reviewed in SEC-42\n"
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    r = v(SCORING, "--format", "json")
    data = r.json()
    assert r.exit_code == 1  # fail_on from the config
    assert data["fail_on"] == "security-warning"
    assert data["summary"]["suppressed"] == 1
    assert data["suppressed"][0]["reason"] == "scoring role reviewed in SEC-42"
    assert v(SCORING, "--fail-on", "error").exit_code == 0  # the option wins over the config
    assert v(SCORING, "--no-config", "--format", "json").json()["summary"]["suppressed"] == 0


def test_explicit_config_file(v, tmp_path):
    cfg = tmp_path / "ci.yaml"
    cfg.write_text("severity:\n  CASE_MISMATCH: error\n")
    doc = tmp_path / "r.json"
    doc.write_text(json.dumps(az_role(Actions=["microsoft.compute/virtualmachines/read"])))
    assert v(doc, "--catalog", FIXTURE_CATALOG).exit_code == 0
    assert v(doc, "--catalog", FIXTURE_CATALOG, "--config", cfg).exit_code == 1


@pytest.mark.parametrize("text", [
    "ignore:\n  - code: CASE_MISMATCH\n",  # no reason
    "ignore:\n  - code: NOT_A_CODE\n    reason: x\n",
    "fail_on: [unclosed\n",  # invalid YAML
])
def test_bad_config_exits_3(v, tmp_path, text):
    (tmp_path / ".rbactool.yaml").write_text(text)
    r = v(SCORING)
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ") and ".rbactool.yaml" in r.stderr
