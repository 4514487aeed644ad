"""assign is read-compare-write: on the emulator's request log, re-runs make no writes and an existing
assignment keeps every field the user did not give (condition, version, description, ownership marker)."""

from __future__ import annotations

import json

import pytest
from test_azure_ops import USER, az, writes  # noqa: F401 (az is a fixture)

from rbactool.assignments import Assignment, assignment_name
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)
from rbactool.errors import InputError
from rbactool.operations import merge_assignment

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
COND_Y = ("((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR "
          "(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))")
COND_X = COND_Y.replace("'logs'", "'reports'")
MARKER = "[managed by rbactool: team-a]"


def sdk_put(az, emulator, name, **props):  # noqa: F811
    """Create an assignment directly (as the portal or az would), bypassing rbactool."""
    from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient, models

    from rbactool.azure_adapter import StaticTokenCredential

    client = AuthorizationManagementClient(StaticTokenCredential(emulator.token), az.sub,
                                           base_url=emulator.base_url, connection_verify=emulator.ca_path)
    client.role_assignments.create(az.ws, name, models.RoleAssignmentCreateParameters(
        role_definition_id=f"/subscriptions/{az.sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        principal_id=USER, principal_type="User", **props))


def stored(az):  # noqa: F811
    listed = az("list", "assignments", "--scope", az.ws, "--principal", USER, "--format", "json").json()
    mine = [a for a in listed if a["scope"] == az.ws]
    assert len(mine) == 1, listed
    return mine[0]


def assign(az, *extra):  # noqa: F811
    return az("assign", "-i", USER, "--role", "Reader", "--scope", az.ws, *extra)


@pytest.fixture(params=["deterministic", "elsewhere"])
def conditional(request, az, emulator):  # noqa: F811
    """A conditional assignment with a description and apply's marker, under rbactool's name or another one."""
    name = assignment_name(az.ws, READER, USER) if request.param == "deterministic" \
        else "9e5ef3b9-0000-4000-8000-000000000001"
    sdk_put(az, emulator, name, condition=COND_Y, condition_version="2.0", description=f"log readers {MARKER}")
    emulator.clear_requests()
    return name


def test_a_rerun_makes_zero_writes(az, emulator):  # noqa: F811
    r = assign(az, "--principal-type", "User")
    assert r.exit_code == 0 and r.stdout.startswith("created"), r.stderr
    emulator.clear_requests()
    for extra in ((), ("--principal-type", "User"), ("--dry-run",)):
        r = assign(az, *extra)
        assert r.exit_code == 0 and r.stdout.startswith("unchanged"), (extra, r.stdout, r.stderr)
    assert writes(emulator) == []
    assert len(emulator.requests()) == 3  # one GET of the assignment per run


def test_a_plain_assign_keeps_condition_version_description_and_marker(az, emulator, conditional):  # noqa: F811
    r = assign(az)
    status = "unchanged" if conditional == assignment_name(az.ws, READER, USER) else "already-assigned"
    assert r.exit_code == 0 and r.stdout.startswith(status), r.stdout + r.stderr
    assert conditional in r.stdout
    r = assign(az, "--principal-type", "User", "--dry-run")
    assert r.exit_code == 0 and r.stdout.startswith(status)
    assert writes(emulator) == []
    a = stored(az)
    assert (a["name"], a["condition"], a["conditionVersion"], a["description"]) == \
        (conditional, COND_Y, "2.0", f"log readers {MARKER}")


def test_dry_run_reports_exactly_what_a_run_would_do(az, emulator):  # noqa: F811
    r = assign(az, "--principal-type", "User", "--dry-run")
    assert r.exit_code == 0 and r.stdout.startswith("would-create")
    sdk_put(az, emulator, assignment_name(az.ws, READER, USER), condition=COND_Y)
    emulator.clear_requests()
    r = assign(az, "--dry-run")
    assert r.exit_code == 0 and r.stdout.startswith("unchanged")
    r = assign(az, "--dry-run", "--condition", COND_X)
    assert r.exit_code == 0 and r.stdout.startswith("would-update") and "'reports'" in r.stdout
    r = assign(az, "--dry-run", "--clear-condition")
    assert r.exit_code == 0 and r.stdout.startswith("would-update") and "widens access" in r.stdout
    assert writes(emulator) == []
    assert stored(az)["condition"] == COND_Y


def test_a_new_condition_is_an_update_with_before_and_after(az, emulator, conditional):  # noqa: F811
    r = assign(az, "--condition", COND_X)
    assert r.exit_code == 0 and r.stdout.startswith("updated"), r.stdout + r.stderr
    line = next(x for x in r.stdout.splitlines() if x.strip().startswith("condition:"))
    assert line.index("'logs'") < line.index("->") < line.index("'reports'")
    assert "widens" not in r.stdout
    puts = emulator.requests(method="PUT", path_contains="roleAssignments")
    assert len(puts) == 1 and puts[0]["path"].endswith(conditional)  # written under the name it has
    a = stored(az)
    assert (a["name"], a["condition"], a["conditionVersion"], a["description"]) == \
        (conditional, COND_X, "2.0", f"log readers {MARKER}")
    emulator.clear_requests()
    assert assign(az, "--condition", COND_X).stdout.startswith(("unchanged", "already-assigned"))
    assert writes(emulator) == []


def test_clear_condition_removes_it_and_says_access_widens(az, emulator, conditional):  # noqa: F811
    r = assign(az, "--clear-condition", "--format", "json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["status"] == "updated" and out["widensAccess"] is True
    assert {c["field"]: (c["before"], c["after"]) for c in out["changes"]} == \
        {"condition": (COND_Y, None), "conditionVersion": ("2.0", None)}
    assert out["name"] == conditional and out["assignment"]["condition"] is None
    a = stored(az)
    assert a["condition"] is None and a["conditionVersion"] is None
    assert a["description"] == f"log readers {MARKER}"
    r = assign(az, "--clear-condition")  # nothing left to clear
    assert r.exit_code == 0 and "widens" not in r.stdout and not r.stdout.startswith("updated")


def test_clear_condition_text_output_says_it_widens_access(az, emulator, conditional):  # noqa: F811
    r = assign(az, "--clear-condition")
    assert r.exit_code == 0 and r.stdout.startswith("updated")
    assert "widens access" in r.stdout
    assert "managed by spec 'team-a'" in r.stderr  # the owner's next apply would set it back


def test_a_new_description_keeps_the_marker_and_the_condition(az, emulator, conditional):  # noqa: F811
    r = assign(az, "--description", "readers of logs")
    assert r.exit_code == 0 and r.stdout.startswith("updated")
    assert "description:" in r.stdout
    a = stored(az)
    assert (a["description"], a["condition"]) == (f"readers of logs {MARKER}", COND_Y)


def test_condition_and_clear_condition_together_is_a_usage_error(az, emulator):  # noqa: F811
    r = assign(az, "--condition", COND_X, "--clear-condition")
    assert r.exit_code == 2 and emulator.requests() == []
    r = assign(az, "--principal-type", "User", "--condition-version", "2.0")
    assert r.exit_code == 3 and "--condition" in r.stderr
    assert writes(emulator) == []


def test_json_output_of_a_create(az, emulator):  # noqa: F811
    r = assign(az, "--principal-type", "User", "--condition", COND_Y, "--format", "json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["status"] == "created" and out["changes"] == [] and out["widensAccess"] is False
    assert out["name"] == assignment_name(az.ws, READER, USER)
    assert out["assignment"]["condition"] == COND_Y and out["assignment"]["conditionVersion"] == "2.0"
    assert out["id"].endswith(out["name"]) and out["scope"] == az.ws


def test_a_conditional_assignment_from_apply_survives_assign(az, emulator, tmp_path):  # noqa: F811
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({
        "version": 1, "name": "team-a", "roles": [],
        "assignments": [{"role": "Reader", "principal": {"id": USER, "type": "User"}, "scope": az.ws,
                         "description": "log readers", "condition": COND_Y, "condition_version": "2.0"}],
    }))
    r = az("apply", "--roles", str(spec), "-s", az.sub, "--auto-approve")
    assert r.exit_code == 0, r.stderr
    emulator.clear_requests()
    r = assign(az, "--principal-type", "User")
    assert r.exit_code == 0 and r.stdout.startswith("unchanged"), r.stdout + r.stderr
    assert writes(emulator) == []
    a = stored(az)
    assert (a["condition"], a["description"]) == (COND_Y, f"log readers {MARKER}")
    r = az("plan", "--roles", str(spec), "-s", az.sub, "--format", "json")
    assert r.exit_code == 0 and r.json()["summary"]["update"] == 0  # apply still sees its own, unchanged


# --------------------------------------------------------------------------- merge_assignment (pure)

EXISTING = Assignment(id="/x/providers/Microsoft.Authorization/roleAssignments/n", name="n", scope="/x",
                      role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                      principal_id=USER, principal_type="User", description=f"d {MARKER}",
                      condition=COND_Y, condition_version="2.0")


def test_merge_keeps_what_is_not_given():
    merged, changes, widens = merge_assignment(EXISTING)
    assert merged == EXISTING and changes == () and not widens
    merged, changes, _ = merge_assignment(EXISTING, description="d")
    assert changes == () and merged.description == f"d {MARKER}"


def test_merge_reports_changes_and_widening():
    merged, changes, widens = merge_assignment(EXISTING, condition=COND_X)
    assert [c.field for c in changes] == ["condition"] and not widens and merged.condition_version == "2.0"
    merged, changes, widens = merge_assignment(EXISTING, clear_condition=True)
    assert widens and merged.condition is None and merged.condition_version is None
    merged, changes, _ = merge_assignment(EXISTING, description="")
    assert merged.description == MARKER and [c.field for c in changes] == ["description"]
    with pytest.raises(InputError):
        merge_assignment(EXISTING, clear_condition=True, condition_version="2.0")


def test_a_subscription_wide_assignment_needs_an_explicit_scope(az, emulator):  # noqa: F811
    # $AZURE_SUBSCRIPTION_ID (in the emulator's env) alone never becomes the assignment's scope
    for command in (("assign", "--principal-type", "User", "--role", "Owner"), ("unassign", "--role", "Owner")):
        r = az(*command[:1], "-i", USER, *command[1:])
        assert r.exit_code == 2 and "-s SUBSCRIPTION for the whole subscription" in r.stderr
    assert writes(emulator) == []
    r = az("assign", "-i", USER, "--principal-type", "User", "--role", "Reader", "-s", az.sub, "--dry-run")
    assert r.exit_code == 0 and f"at /subscriptions/{az.sub}" in r.stdout


# --------------------------------------------------------------------------- empty --condition, PrincipalNotFound


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_condition_is_a_usage_error_pointing_to_clear_condition(az, emulator, conditional, empty):  # noqa: F811
    for extra in ((), ("--dry-run",), ("--principal-type", "User")):
        r = assign(az, "--condition", empty, *extra)
        assert r.exit_code == 2, (r.exit_code, r.stderr)
        assert "--clear-condition" in r.stderr and "widens access" in r.stderr
    assert emulator.requests() == []  # refused before anything is read or written
    assert stored(az)["condition"] == COND_Y


def test_an_empty_condition_is_refused_by_the_library_too():
    from rbactool.operations import assign as assign_op

    with pytest.raises(InputError, match="--clear-condition"):
        assign_op(None, principal_id=USER, principal_type=None, role=None, scope="/subscriptions/x", condition="")


def test_principal_not_found_on_an_existing_assignment_still_applies_the_requested_fields(
        az, emulator, conditional, monkeypatch):  # noqa: F811
    """The read misses the assignment (a list lagging behind, or it was made a moment after the read),
    the PUT without --principal-type gets PrincipalNotFound and the list then finds it: the requested
    --condition is compared and written, not skipped with an 'unchanged'."""
    from rbactool import operations

    real = operations.find_assignment
    calls = []

    def lagging(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(operations, "find_assignment", lagging)
    emulator.add_fault(method="PUT", path_contains="roleAssignments", status=400, code="PrincipalNotFound",
                       message="Principal does not exist in the directory.", times=1)
    r = assign(az, "--condition", COND_X, "--format", "json")
    assert r.exit_code == 0, r.stdout + r.stderr
    out = r.json()
    assert out["status"] == "updated", out
    assert {c["field"] for c in out["changes"]} == {"condition"}
    a = stored(az)
    assert (a["name"], a["condition"], a["description"]) == (conditional, COND_X, f"log readers {MARKER}")
    puts = emulator.requests(method="PUT", path_contains="roleAssignments")
    assert len(puts) == 2 and puts[-1]["path"].endswith(conditional)  # the refused PUT, then the update
    emulator.clear_requests()
    r = assign(az, "--condition", COND_X)  # and now it is proven unchanged, with no write
    assert r.exit_code == 0 and r.stdout.startswith(("unchanged", "already-assigned")) and writes(emulator) == []
