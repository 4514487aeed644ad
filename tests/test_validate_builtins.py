"""Every built-in role validates without crashing and without ERRORs (catalog staleness is a WARNING)."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from rbactool.builtins import load_builtin_roles
from rbactool.catalog import load_catalog
from rbactool.effective import effective_operations
from rbactool.validate import validate_roles


@pytest.fixture(scope="module")
def builtin_report():
    return validate_roles(load_builtin_roles().all(), load_catalog(None), today=dt.date(2026, 9, 1))


def test_all_builtin_roles_are_validated(builtin_report):
    assert builtin_report.roles_checked == len(load_builtin_roles()) == 928


def test_no_builtin_role_gets_an_error(builtin_report):
    errors = [(f.location.role, f.code, f.location.value) for f in builtin_report.findings if f.type == "ERROR"]
    assert errors == []


def test_no_check_crashes_on_builtin_roles(builtin_report):
    assert "INTERNAL_ERROR" not in builtin_report.codes


def test_builtin_staleness_is_reported_as_warnings(builtin_report):
    counts = collections.Counter(f.code for f in builtin_report.findings)
    # The data README: 179 built-in wildcards match nothing in the (partly stale) catalog.
    assert counts["UNVERIFIED_WILDCARD"] > 100
    assert all(f.type == "WARNING" for f in builtin_report.findings if f.code.startswith("UNVERIFIED_"))


def test_owner_is_an_owner_clone_and_contributor_is_not(builtin_report):
    clones = {f.location.role for f in builtin_report.findings if f.code == "OWNER_CLONE"}
    assert "Owner" in clones
    assert "Contributor" not in clones


def test_azureml_data_scientist_notactions_that_protect_nothing(builtin_report):
    # workspaces/computes/*/write does not match workspaces/computes/write (one '*' needs a segment)
    hits = {f.location.value for f in builtin_report.findings
            if f.code == "NOT_ACTION_MATCHES_NOTHING" and f.location.role == "AzureML Data Scientist"}
    assert "Microsoft.MachineLearningServices/workspaces/computes/*/write" in hits


def test_contributor_effective_operations_exclude_role_assignment_writes():
    role = load_builtin_roles().by_name("Contributor")
    eff = effective_operations(role, load_catalog(None))
    names = eff.names()
    assert "microsoft.authorization/roleassignments/write" not in names
    assert "microsoft.compute/virtualmachines/write" in names
    assert len(eff.actions) > 10000
