"""make_plan's parts, one by one, over an in-memory gateway (the emulator tests cover the real thing)."""

from __future__ import annotations

import pytest
from fakes import (
    ALICE,
    BOB,
    MG,
    OTHER_SUB,
    READER,
    RG,
    SUB,
    FakeGateway,
    assignment,
    current,
    in_azure,
    reader,
    role,
    state,
    wanted,
)

from rbactool import plan as planning
from rbactool.assignments import assignment_name, role_definition_guid
from rbactool.errors import SpecError
from rbactool.managed import marker, with_marker
from rbactool.plan import (
    CREATE,
    DELETE,
    NOOP,
    UPDATE,
    AssignmentChange,
    DesiredState,
    Ownership,
    OwnershipConflict,
    RoleChange,
    RoleNames,
    assignment_triple,
    desired_from_spec,
    desired_role_guid,
    leftover_assignments,
    leftover_roles,
    make_plan,
    plan_assignment,
    plan_assignments,
    plan_role,
    plan_roles,
    plan_spec,
    read_current,
)
from rbactool.spec import RenderedRole, load_spec

MINE = Ownership("team")


# --------------------------------------------------------------------------- desired state


def _spec(tmp_path, name_line="name: team\n", assignments=None):
    assignments = assignments if assignments is not None else (
        "assignments:\n"
        f"  - role: scoring\n    principal: {{id: {ALICE.upper()}, type: User}}\n    scope: {RG}\n"
        f"  - role: Reader\n    principal: {{id: {BOB}, type: Group}}\n    scope: /subscriptions/${{subscription}}\n"
        "    condition: \"@Resource[x] == 'y'\"\n")
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"version: 1\n{name_line}defaults:\n  subscription: {SUB}\nroles:\n  - key: scoring\n    definition:\n"
        "      Name: Scoring\n      Actions: [Microsoft.Storage/storageAccounts/read]\n"
        f"      AssignableScopes: [/subscriptions/{SUB}]\n{assignments}")
    return load_spec(path)


def test_desired_from_spec_resolves_roles_scopes_and_principals(tmp_path):
    desired = desired_from_spec(_spec(tmp_path))
    assert [r.key for r in desired.roles] == ["scoring"]
    first, second = desired.assignments
    assert (first.role_key, first.role.name, first.principal_id, first.scope) == ("scoring", "Scoring", ALICE, RG)
    assert (second.role_key, second.role.role_id, second.scope) == (None, READER, f"/subscriptions/{SUB}")
    assert second.condition_version == "2.0"  # a condition without a version gets 2.0
    assert desired.spec_id == "team" and desired.watch == (f"/subscriptions/{SUB}",)


def test_desired_from_spec_checks_the_assignments_once(tmp_path, monkeypatch):
    from rbactool import spec as specs

    calls = []
    real = specs.check_assignments

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(specs, "check_assignments", counting)
    monkeypatch.setattr(planning, "check_assignments", counting)
    desired_from_spec(_spec(tmp_path))
    assert len(calls) == 1


def test_desired_from_spec_with_writes_needs_a_name(tmp_path):
    spec = _spec(tmp_path, name_line="")
    assert desired_from_spec(spec).spec_id is None
    with pytest.raises(SpecError, match="give the spec a `name:`"):
        desired_from_spec(spec, writes=True)


def test_desired_from_spec_refuses_a_duplicate_assignment(tmp_path):
    twice = (f"assignments:\n  - role: Reader\n    principal: {{id: {BOB}, type: User}}\n    scope: {RG}\n"
             f"  - role: reader\n    principal: {{id: {BOB.upper()}, type: User}}\n    scope: {RG}/\n")
    with pytest.raises(SpecError, match="already assigned"):
        desired_from_spec(_spec(tmp_path, assignments=twice))


def test_desired_state_limits_assignments_per_subscription(tmp_path, monkeypatch):
    monkeypatch.setattr(planning, "MAX_ASSIGNMENTS_PER_SUBSCRIPTION", 1)
    with pytest.raises(SpecError, match="2 assignments in subscription"):
        desired_from_spec(_spec(tmp_path))


# --------------------------------------------------------------------------- reading current state


def test_read_current_lists_once_per_subscription_and_management_group():
    mine = in_azure(role())
    gw = FakeGateway([mine, reader()], [assignment(), assignment(f"{MG}", principal=BOB)])
    desired = state([("scoring", role())], [wanted(), wanted(scope=f"{RG}/providers/Microsoft.Storage/storageAccounts/sa"), wanted(scope=MG)])
    got = read_current(lambda: gw, desired)
    assert sorted(gw.calls) == sorted([
        ("roles", f"/subscriptions/{SUB}", "type eq 'CustomRole'"), ("roles", MG, "type eq 'CustomRole'"),
        ("assignments", f"/subscriptions/{SUB}", None), ("assignments", MG, "atScope()")])
    assert got.reads == 4 and got.roles == (mine,)
    assert {a.principal_id for a in got.assignments} == {ALICE, BOB}


def test_read_current_finds_a_role_where_it_is_assignable_and_in_the_watch_list():
    moved = role(scopes=(f"/subscriptions/{OTHER_SUB}", f"/subscriptions/{SUB}"))
    desired = DesiredState((RenderedRole("scoring", moved, None),), (), "team", (MG,))
    gw = FakeGateway()
    read_current(lambda: gw, desired)
    assert {scope for kind, scope, _ in gw.calls if kind == "roles"} == {f"/subscriptions/{OTHER_SUB}",
                                                                        f"/subscriptions/{SUB}", MG}


def test_read_current_drops_duplicates_seen_in_two_lists():
    a = assignment()
    gw = FakeGateway([], [a])
    got = read_current(lambda: gw, state([], [wanted(), wanted(scope=f"/subscriptions/{SUB}")]))
    assert got.assignments == (a,)


# --------------------------------------------------------------------------- ownership and names


def test_ownership_claims():
    assert MINE.claim(with_marker("x", "team"), "it") == ""
    assert MINE.claim("by hand", "it") == "not managed by a spec yet: apply takes it over"
    with pytest.raises(OwnershipConflict, match="it is managed by spec 'other'.*--take-over"):
        MINE.claim(marker("other"), "it")
    assert Ownership("team", take_over=True).claim(marker("other"), "it") == "takes over from spec 'other'"
    assert MINE.owns(f"x {marker('team')}") and not MINE.owns(marker("other")) and not MINE.owns(None)
    assert not Ownership(None).owns(marker("team"))
    assert MINE.mark("text") == f"text {marker('team')}" and Ownership(None).mark("text") == "text"


def test_role_names_prefer_azure_then_the_spec_then_builtins():
    azure = in_azure(role(name="In Azure"))
    spec_role = role(name="In spec", role_id="cccccccc-0000-4000-8000-000000000003")
    names = RoleNames(state([("s", spec_role)]), current([azure]), lambda g: "Reader" if g == READER else None)
    assert names(azure.role_id.upper()) == "In Azure"
    assert names(spec_role.role_id) == "In spec"
    assert names(READER) == "Reader"
    assert names("dddddddd-0000-4000-8000-000000000004") == "dddddddd-0000-4000-8000-000000000004"
    assert RoleNames(state(), current())(READER) == READER  # no built-in lookup given


# --------------------------------------------------------------------------- matching roles


def test_a_new_role_is_created_with_its_deterministic_id_and_the_marker():
    c = plan_role(RenderedRole("scoring", role(), None), None, MINE)
    assert (c.action, c.key, c.current) == (CREATE, "scoring", None)
    assert c.desired.role_id == role_definition_guid("Scoring", f"/subscriptions/{SUB}")
    assert c.desired.description == marker("team")


def test_a_matching_role_is_a_no_op_and_keeps_its_azure_id():
    existing = in_azure(role(), description=marker("team"))
    c = plan_role(RenderedRole("scoring", role(), None), existing, MINE)
    assert c.action == NOOP and c.desired.role_id == existing.role_id and c.current is existing


def test_a_changed_role_is_updated_and_an_unmarked_one_is_taken_over():
    existing = in_azure(role(actions=("Microsoft.Storage/storageAccounts/write",)))
    c = plan_role(RenderedRole("scoring", role(), None), existing, MINE)
    assert c.action == UPDATE and c.note == "not managed by a spec yet: apply takes it over"
    assert c.diff_summary == "" and c.risky == ()  # no catalog: no effective diff


def test_another_specs_role_is_a_conflict():
    existing = in_azure(role(actions=("x/y/read",)), description=marker("other"))
    with pytest.raises(OwnershipConflict):
        plan_role(RenderedRole("scoring", role(), None), existing, MINE)


def test_roles_are_matched_by_name_case_insensitively():
    existing = in_azure(role(name="SCORING"), description=marker("team"))
    desired = state([("scoring", role()), ("new", role(name="New"))])
    changes = plan_roles(desired, current([existing]), MINE)
    assert [(c.key, c.action) for c in changes] == [("scoring", UPDATE), ("new", CREATE)]  # the name's case changes
    assert changes[0].desired.role_id == existing.role_id


# --------------------------------------------------------------------------- matching assignments


def test_the_role_guid_of_a_desired_assignment():
    assert desired_role_guid(wanted(role_key="scoring"), {"scoring": "guid-of-key"}) == "guid-of-key"
    assert desired_role_guid(wanted(role_def=reader()), {}) == READER
    bare = wanted(role_ref=f"/providers/Microsoft.Authorization/roleDefinitions/{READER.upper()}")
    assert desired_role_guid(bare, {}) == READER


def test_a_missing_assignment_is_created_under_its_deterministic_name():
    c = plan_assignment(wanted(description="why"), READER, None, "Reader", MINE)
    assert (c.action, c.name, c.kind) == (CREATE, assignment_name(RG, READER, ALICE), "assignment")
    assert c.description == f"why {marker('team')}" and c.label == f"Reader -> {ALICE} at {RG}"


def test_an_assignment_is_matched_ignoring_the_marker():
    found = assignment(description=f"why {marker('team')}")
    c = plan_assignment(wanted(description="why"), READER, found, "Reader", MINE)
    assert c.action == NOOP and c.current is found and c.name == found.name


@pytest.mark.parametrize(("found", "note"), [
    (assignment(description="old"), "not managed by a spec yet: apply takes it over"),
    (assignment(description=marker("team"), condition="c"), ""),
])
def test_a_differing_assignment_is_updated(found, note):
    c = plan_assignment(wanted(description="new" if found.description == "old" else None), READER, found,
                        "Reader", MINE)
    assert c.action == UPDATE and c.note == note and c.name == found.name


def test_assignments_are_matched_by_scope_role_and_principal():
    found = assignment(scope=RG.upper() + "/", description=marker("team"))
    desired = state([], [wanted(role_def=reader()), wanted(role_def=reader(), principal=BOB)])
    changes = plan_assignments(desired, current([], [found]), {}, lambda g: g, MINE)
    assert [c.action for c in changes] == [NOOP, CREATE]
    assert assignment_triple(found) == (RG.lower(), READER, ALICE)


# --------------------------------------------------------------------------- prune and orphans


def _others():
    mine = assignment(principal=ALICE, description=marker("team"))
    theirs = assignment(principal=BOB, description=marker("other"))
    elsewhere = assignment(scope=f"/subscriptions/{SUB}/resourceGroups/far", principal=BOB)
    return mine, theirs, elsewhere


def test_leftover_assignments_without_prune_are_orphans_and_unmanaged_ones_reported():
    mine, theirs, elsewhere = _others()
    desired = state([], [wanted(principal="cccccccc-0000-4000-8000-000000000003")])
    left = leftover_assignments(desired, current([], [mine, theirs, elsewhere]), set(), lambda g: "Reader", MINE,
                                prune=False)
    assert left.orphans == (mine,) and left.unmanaged == (theirs,) and left.deletes == ()


def test_leftover_assignments_with_prune_are_deleted_and_wanted_ones_kept():
    mine, theirs, elsewhere = _others()
    desired = state([], [wanted(principal=BOB)])
    left = leftover_assignments(desired, current([], [mine, theirs, elsewhere]), {assignment_triple(theirs)},
                                lambda g: "Reader", MINE, prune=True)
    (delete,) = left.deletes
    assert (delete.action, delete.current, delete.role_label) == (DELETE, mine, "Reader")
    assert left.orphans == () and left.unmanaged == ()


def test_an_unnamed_spec_owns_nothing():
    mine, _, _ = _others()
    left = leftover_assignments(state([], [wanted(principal=BOB)], spec_id=None), current([], [mine]), set(),
                                lambda g: g, Ownership(None), prune=True)
    assert left.deletes == () and left.unmanaged == (mine,)


def test_leftover_roles_are_orphans_or_deletes_flagged_when_still_held():
    gone = in_azure(role(name="Gone"), description=marker("team"))
    kept = in_azure(role(name="Kept"), description=marker("team"))
    theirs = in_azure(role(name="Theirs"), description=marker("other"))
    held = assignment(role_guid=gone.role_id, principal=BOB)
    pruned = assignment(role_guid=gone.role_id, principal=ALICE)
    now = current([gone, kept, theirs], [held, pruned])
    left = leftover_roles(now, {kept.role_id.lower()}, set(), MINE, prune=False)
    assert left.orphans == (gone,) and left.deletes == ()
    left = leftover_roles(now, {kept.role_id.lower()}, {pruned.id.lower()}, MINE, prune=True)
    (delete,) = left.deletes
    assert (delete.action, delete.current, delete.key, delete.kind) == (DELETE, gone, None, "role")
    assert delete.note.startswith(f"blocked: still assigned 1 time(s) outside this spec (e.g. {BOB} at")
    left = leftover_roles(now, {kept.role_id.lower()}, {pruned.id.lower(), held.id.lower()}, MINE, prune=True)
    assert left.deletes[0].note == ""


# --------------------------------------------------------------------------- the whole plan


def test_make_plan_orders_changes_and_names_every_role():
    existing = in_azure(role(actions=("x/y/read",)), description=marker("team"))
    orphan_role = in_azure(role(name="Old"), description=marker("team"))
    old = assignment(role_guid=orphan_role.role_id, principal=BOB, description=marker("team"))
    desired = state([("scoring", role())], [wanted(role_key="scoring", role_def=role()), wanted(role_def=reader())])
    plan = make_plan(desired, current([existing, orphan_role], [old]), prune=True,
                     builtin_name=lambda g: "Reader" if g == READER else None)
    assert [(type(c), c.action) for c in plan.roles] == [(RoleChange, UPDATE), (RoleChange, DELETE)]
    assert [c.action for c in plan.assignments] == [CREATE, CREATE, DELETE]
    assert isinstance(plan.assignments[0], AssignmentChange) and plan.assignments[0].role_guid == existing.role_id
    assert plan.role_label(orphan_role.role_id) == "Old" and plan.assignments[1].role_label == "Reader"
    assert plan.counts() == {CREATE: 2, UPDATE: 1, DELETE: 2, NOOP: 0}
    assert plan.prune and plan.reads == 2


def test_plan_spec_reads_through_the_gateway_then_plans():
    gw = FakeGateway([in_azure(role(), description=marker("team"))], [])
    desired = state([("scoring", role())], [wanted(role_key="scoring", role_def=role())])
    plan = plan_spec(desired, lambda: gw)
    assert [c.action for c in plan.roles] == [NOOP] and [c.action for c in plan.assignments] == [CREATE]
    assert plan.reads == 2 and gw.calls
