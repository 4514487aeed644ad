"""Plan and apply output (rbactool.plan_format) and the imperative commands' output
(rbactool.operations_format): pure functions over plans, reports and results."""

from __future__ import annotations

from fakes import ALICE, BOB, READER, RG, assignment, in_azure, role

from rbactool import operations_format as ops_out
from rbactool import plan_format as out
from rbactool.operations import AssignResult, FieldChange, ResolvedRole, RoleResult
from rbactool.plan import CREATE, DELETE, UPDATE, ApplyReport, AssignmentChange, Outcome, Plan, RoleChange


def _plan() -> Plan:
    scoring = in_azure(role())
    old = in_azure(role(name="Old"))
    return Plan(
        roles=(RoleChange(UPDATE, "scoring", scoring, scoring, "+1 operation, -0", ("write",), "a note"),
               RoleChange(DELETE, None, None, old)),
        assignments=(AssignmentChange(CREATE, RG, READER, "Reader", ALICE, "User", "n1"),),
        unmanaged=(assignment(principal=BOB),),
        orphans=(assignment(), old),
        reads=3, scopes=("/subscriptions/s",), role_names={READER: "Reader"},
    )


def test_plan_text_tells_roles_from_assignments_by_type():
    text = out.format_plan_text(_plan())
    assert "~ update role        Scoring  (+1 operation, -0)  [write]  (a note)" in text
    assert "- delete role        Old" in text
    assert f"+ create assignment  Reader -> {ALICE} at {RG}" in text
    assert f"  ! assignment  Reader -> {ALICE} at {RG}" in text and "  ! role        Old  (" in text
    assert f"  ? assignment  Reader -> {BOB} at {RG}" in text
    assert text.endswith("Plan: 1 to create, 1 to update, 1 to delete, 0 unchanged (3 list requests).\n")


def test_plan_dict_and_markdown():
    d = out.plan_dict(_plan())
    assert [c["type"] for c in d["changes"]] == ["roleDefinition", "roleDefinition", "roleAssignment"]
    assert d["orphans"][0]["principalId"] == ALICE and d["orphans"][1] == {"roleName": "Old",
                                                                           "id": d["orphans"][1]["id"]}
    md = out.format_plan_markdown(_plan(), "roles/x.yaml")
    assert "| ~ | update | role: Scoring | +1 operation, -0 a note **write** |" in md
    assert f"| + | create | assignment: Reader -> {ALICE} at {RG} |  |" in md


def test_apply_output():
    plan = _plan()
    role_change, _ = plan.roles
    (assign_change,) = plan.assignments
    report = ApplyReport([Outcome(role_change, "done"), Outcome(assign_change, "failed", "boom", "Code")],
                         not_started=[plan.roles[1]])
    assert out.outcome_line(report.outcomes[1]) == f"FAILED   create assignment Reader -> {ALICE} at {RG}"
    assert out.not_started_line(plan.roles[1]) == "not-started delete role Old"
    assert out.format_apply_text(plan, report, 7) == (
        f"FAILED create assignment Reader -> {ALICE} at {RG}: boom\n"
        "Apply: 1 done, 0 unchanged, 1 failed, 0 skipped, 1 not started (7 requests).\n")
    d = out.apply_dict(plan, report, 7)
    assert (d["done"], d["failed"], d["not_started"], d["failures"][0]["code"]) == (1, 1, 1, "Code")
    assert out.nothing_to_do_dict(plan, 2)["requests"] == 2


def test_assign_and_unassign_output():
    resolved = ResolvedRole(READER, None, "id")
    result = AssignResult("updated", assignment(), "n", resolved,
                          (FieldChange("condition", "a", None),), widens_access=True)
    text = ops_out.assign_text(result, ALICE, RG)
    assert text.splitlines() == [f"updated           {READER} -> {ALICE} at {RG}", f"  {assignment().id}",
                                 "  condition: 'a' -> (none)",
                                 "  removing the condition widens access: the role applies without it"]
    dry = AssignResult("would-create", None, "n", resolved)
    assert ops_out.assign_dict(dry, ALICE, RG)["id"] == f"{RG}/providers/Microsoft.Authorization/roleAssignments/n"
    assert ops_out.unassign_text([], None, ALICE, RG, dry_run=False).startswith("absent ")
    assert ops_out.unassign_text([assignment()], None, ALICE, RG, dry_run=True).startswith("would remove      Reader")


def test_create_and_listing_output():
    r = in_azure(role())
    assert ops_out.role_result_line(RoleResult("created", r), None) == f"created       Scoring  ({r.role_id})"
    assert ops_out.role_results_dict([RoleResult("created", r)])["roles"][0]["status"] == "created"
    assert ops_out.table([["a", "bb"]], ["H1", "H2"]) == "H1  H2\na   bb"
    assert "Scoring" in ops_out.definitions_table([r])
    from rbactool.azure_adapter import CLOUDS

    public = CLOUDS["AzureCloud"]
    assert ops_out.whoami_text(public.arm_endpoint, public, {"tid": "t", "oid": "o", "upn": "u"}) == (
        f"endpoint:  {public.arm_endpoint} (AzureCloud)\ntenant:    t\nprincipal: o (u)\n")
    assert ops_out.whoami_text("https://127.0.0.1:8443", public, {"tid": "t"}).startswith(
        "endpoint:  https://127.0.0.1:8443 (custom endpoint, AzureCloud sign-in)\n")
    assert ops_out.permissions_text({"a/write": True, "b/write": False}, "/s") == "yes  a/write at /s\nNO   b/write at /s\n"
