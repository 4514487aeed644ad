"""The findings model and its registry."""

from __future__ import annotations

import dataclasses
import re

import pytest

from rbactool.findings import (
    ERROR,
    RULES,
    SECURITY_WARNING,
    SUGGESTION,
    TYPES,
    WARNING,
    at_or_above,
    make_finding,
    parse_type,
    sort_findings,
)


def test_codes_are_upper_snake_and_rules_are_complete():
    for code, rule in RULES.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", code), code
        assert rule.code == code
        assert rule.type in TYPES
        assert rule.title and len(rule.explanation) > 40


def test_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError, match="NOT_REGISTERED"):
        make_finding("NOT_REGISTERED", "x")


def test_type_comes_from_the_registry_and_findings_are_frozen():
    f = make_finding("SCOPE_ROOT", "m", file="a.json", role="r", pointer="/AssignableScopes/0", value="/")
    assert f.type == RULES["SCOPE_ROOT"].type == ERROR
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.code = "X"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.location.file = "b.json"  # type: ignore[misc]


def test_sorting_is_by_file_then_numeric_pointer():
    a = make_finding("CASE_MISMATCH", "m", file="a.json", pointer="/Actions/10")
    b = make_finding("CASE_MISMATCH", "m", file="a.json", pointer="/Actions/2")
    c = make_finding("CASE_MISMATCH", "m", file="0.json", pointer="/Actions/99")
    d = make_finding("CATALOG_OUTDATED", "m")
    assert sort_findings([a, b, c, d]) == (d, c, b, a)


def test_fail_on_thresholds():
    assert parse_type("security-warning") == SECURITY_WARNING
    assert at_or_above(ERROR, SECURITY_WARNING)
    assert at_or_above(SECURITY_WARNING, SECURITY_WARNING)
    assert not at_or_above(WARNING, SECURITY_WARNING)
    assert at_or_above(SUGGESTION, SUGGESTION)
    assert not at_or_above(ERROR, None)
    with pytest.raises(ValueError):
        parse_type("fatal")


def test_the_registry_types_match_the_issue():
    # a few anchors from the issue / landscape section 8
    assert RULES["ACTION_IN_DATA_ACTIONS"].type == ERROR
    assert RULES["CREDENTIAL_EXPOSURE"].type == SECURITY_WARNING
    assert RULES["UNVERIFIED_OPERATION"].type == WARNING
    assert RULES["CASE_MISMATCH"].type == SUGGESTION
    assert RULES["SCOPE_RESOURCE_LEVEL"].type == WARNING


def test_every_rule_says_what_it_is_based_on():
    from rbactool.findings import BASES, TYPE_BASES

    for rule in RULES.values():
        assert rule.basis in BASES, rule.code
        assert len(rule.based_on) > 20, rule.code
        assert rule.basis in TYPE_BASES[rule.type], (rule.code, rule.type, rule.basis)


def test_errors_rest_only_on_an_arm_rejection_or_a_role_that_cannot_work():
    from rbactool.findings import ARM_REJECTS, CANNOT_WORK, VALIDATOR

    for rule in RULES.values():
        if rule.type == ERROR:
            assert rule.basis in (ARM_REJECTS, CANNOT_WORK) or rule.code == "INTERNAL_ERROR", rule.code
            assert rule.basis != VALIDATOR or rule.code == "INTERNAL_ERROR"
        if rule.basis == ARM_REJECTS and rule.type == ERROR:
            # an ARM rejection names its ARM error code or a documented limit
            assert any(w in rule.based_on for w in ("Invalid", "Missing", "documented", "NullOrEmpty", "Linked",
                                                    "root scope", "az CLI")), rule.code


def test_severities_grounded_in_what_arm_does():
    # issue 13 item 5: ARM never receives IsCustom; ARM accepts `*` in DataActions (all data access)
    assert RULES["IS_CUSTOM_NOT_BOOLEAN"].type == WARNING
    assert RULES["ALL_DATA_ACTIONS"].type == SECURITY_WARNING
    assert RULES["BARE_WILDCARD_OUTSIDE_ACTIONS"].type == WARNING
    assert RULES["DATA_ACTION_IN_ACTIONS"].type == RULES["ACTION_IN_DATA_ACTIONS"].type == ERROR
    assert RULES["UNVERIFIED_OPERATION"].type == WARNING
    # accepted by ARM, so not an ERROR: a security judgment or a likely mistake
    assert RULES["DUPLICATE_KEY"].type == SECURITY_WARNING
    assert RULES["NAME_CONTROL_CHARACTER"].type == SECURITY_WARNING
    assert RULES["CONDITION_WITHOUT_VERSION"].type == WARNING
