""".rbactool.yaml values are never coerced: an empty ``fail_on:`` (YAML null) does not turn the gate
off, and a value of the wrong type is a ConfigError naming the key (exit 3), never str()'d."""

from __future__ import annotations

import pytest
from test_validate_helpers import VDATA

from rbactool.config import ConfigError, config_from_dict

SCORING = VDATA / "seeds" / "custom-role-for-scoring.json"


@pytest.mark.parametrize(("text", "key"), [
    ("fail_on:\n", "fail_on"),
    ("fail_on: ~\n", "fail_on"),
    ("fail_on: null\n", "fail_on"),
    ("fail_on: false\n", "fail_on"),
    ("fail_on: 0\n", "fail_on"),
    ("fail_on: [none]\n", "fail_on"),
    ("severity:\n", "severity"),
    ("severity:\n  CASE_MISMATCH:\n", "severity"),
    ("severity:\n  CASE_MISMATCH: ~\n", "severity.CASE_MISMATCH"),
    ("severity:\n  CASE_MISMATCH: 1\n", "severity.CASE_MISMATCH"),
    ("ignore:\n", "ignore"),
    ("ignore:\n  - code: CASE_MISMATCH\n    reason: 5\n", "reason"),
    ("ignore:\n  - code: ~\n    reason: r\n", "ignore[0].code"),
    ("ignore:\n  - role: 12\n    reason: r\n", "ignore[0].role"),
    ("catalog_max_age_days:\n", "catalog_max_age_days"),
    ("catalog_max_age_days: '30'\n", "catalog_max_age_days"),
    ("catalog_max_age_days: 1.5\n", "catalog_max_age_days"),
    ("catalog_max_age_days: true\n", "catalog_max_age_days"),
])
@pytest.mark.parametrize("command", ["validate", "create --dry-run"])
def test_a_null_or_mistyped_config_value_is_an_error_naming_the_key(run, tmp_path, text, key, command):
    cfg = tmp_path / ".rbactool.yaml"
    cfg.write_text(text)
    argv = ["validate", SCORING] if command == "validate" else \
        ["create", SCORING, "--dry-run", "-s", "11111111-2222-3333-4444-555555555555"]
    r = run(*argv, "--config", cfg)
    assert r.exit_code == 3, (r.exit_code, r.stdout, r.stderr)
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert str(cfg) in r.stderr and key in r.stderr, r.stderr


def test_an_empty_fail_on_does_not_turn_the_gate_off(run, tmp_path):
    """The review's case: the same role fails the gate with fail_on: error and must not pass with `fail_on:`."""
    cfg = tmp_path / ".rbactool.yaml"
    cfg.write_text("fail_on: suggestion\n")
    assert run("validate", SCORING, "--config", cfg).exit_code == 1
    cfg.write_text("fail_on:\n")
    r = run("validate", SCORING, "--config", cfg)
    assert r.exit_code == 3 and "fail_on has no value" in r.stderr
    cfg.write_text("fail_on: none\n")  # spelled out, the gate may still be turned off
    assert run("validate", SCORING, "--config", cfg).exit_code == 0


def test_valid_values_still_parse():
    cfg = config_from_dict({"fail_on": "Security-Warning", "severity": {"CASE_MISMATCH": "warning"},
                            "ignore": [], "catalog_max_age_days": 0})
    assert cfg.fail_on == "SECURITY_WARNING" and cfg.severity == {"CASE_MISMATCH": "WARNING"}
    assert cfg.catalog_max_age_days == 0 and cfg.ignores == ()
    with pytest.raises(ConfigError, match="fail_on has no value"):
        config_from_dict({"fail_on": None})
