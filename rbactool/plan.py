"""Declarative RBAC: a roles spec is the desired state; ``plan`` compares it with Azure, ``apply``
makes Azure match. No state file: managed objects are recognised by their deterministic names
(``assignments.role_definition_guid`` / ``assignment_name``) or, for assignments, by the marker
``[managed by rbactool]`` in their description.

Reads are minimal and concurrent: one ``type eq 'CustomRole'`` list per subscription (or
management group) and one unfiltered assignment list per subscription (or management group);
no per-object GETs. Pure apart from the gateway: no ``azure.*`` import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import ClassVar

from rbactool.assignments import Assignment, assignment_name, role_definition_guid, role_guid_of
from rbactool.builtins import load_builtin_roles
from rbactool.errors import AzureOperationError, Cancelled, SpecError
from rbactool.managed import owner, strip_marker, with_marker
from rbactool.model import RoleDefinition
from rbactool.operations import Gateway, same_definition, write_assignment
from rbactool.scopes import MANAGEMENT_GROUP, parse_scope
from rbactool.spec import RenderedRole, RolesSpec, check_assignments, effective_defaults, render_roles
from rbactool.waits import DEFAULT_BACKOFF, Backoff, pause
from rbactool.waits import ThrottleGate as ThrottleGate  # re-exported: the gate apply's gateways share

logger = logging.getLogger(__name__)

MAX_ASSIGNMENTS_PER_SUBSCRIPTION = 4000
MAX_CUSTOM_ROLES = 5000

CREATE, UPDATE, DELETE, NOOP = "create", "update", "delete", "no-op"


# --------------------------------------------------------------------------- desired state


@dataclass(frozen=True)
class DesiredAssignment:
    scope: str
    role_ref: str  # as written in the spec
    role: RoleDefinition | None  # the spec's custom role or the built-in; None for a bare GUID/id
    role_key: str | None  # spec key when the role is defined in the spec
    principal_id: str
    principal_type: str
    description: str | None
    condition: str | None
    condition_version: str | None
    pointer: str


@dataclass(frozen=True)
class DesiredState:
    roles: tuple[RenderedRole, ...]
    assignments: tuple[DesiredAssignment, ...]
    spec_id: str | None = None  # the spec's name: what its marker says (None: owns nothing)
    #: Also read here, so objects this spec manages are found even when the spec no longer
    #: mentions their scope (the spec's default subscription or management group).
    watch: tuple[str, ...] = ()


def desired_state(spec: RolesSpec, rendered: list[RenderedRole], overrides=None, fallbacks=None) -> DesiredState:
    """The spec's roles and assignments, checked offline (references, scopes, duplicates, limits)."""
    defaults = effective_defaults(spec, overrides, fallbacks)
    keyed = {r.key: r for r in rendered}
    out = []
    per_sub: dict[str, int] = {}
    for entry, scope, role in check_assignments(spec, rendered, defaults):
        sub = parse_scope(scope).subscription
        if sub:
            per_sub[sub] = per_sub.get(sub, 0) + 1
        out.append(DesiredAssignment(
            scope=scope, role_ref=entry.role, role=role, role_key=entry.role if entry.role in keyed else None,
            principal_id=entry.principal_id.lower(), principal_type=entry.principal_type,
            description=entry.description, condition=entry.condition,
            condition_version=entry.condition_version or ("2.0" if entry.condition else None), pointer=entry.pointer,
        ))
    for sub, n in per_sub.items():
        if n > MAX_ASSIGNMENTS_PER_SUBSCRIPTION:
            raise SpecError(f"{spec.path}: {n} assignments in subscription {sub}; Azure allows "
                            f"{MAX_ASSIGNMENTS_PER_SUBSCRIPTION} per subscription")
    if len(rendered) > MAX_CUSTOM_ROLES:
        raise SpecError(f"{spec.path}: {len(rendered)} custom roles; Azure allows {MAX_CUSTOM_ROLES} per tenant")
    watch = []
    if defaults.get("management_group"):
        watch.append(f"/providers/Microsoft.Management/managementGroups/{defaults['management_group']}")
    elif defaults.get("subscription"):
        watch.append(f"/subscriptions/{defaults['subscription']}")
    return DesiredState(tuple(rendered), tuple(out), spec.name, tuple(watch))


def desired_from_spec(spec: RolesSpec, *, template_dirs: tuple = (), overrides=None, fallbacks=None,
                      writes: bool = False) -> DesiredState:
    """Render a spec's roles and check its assignments, once, offline: the state plan compares with
    Azure. *writes* (apply, --prune) requires the spec's ``name:``, the marker of what it owns."""
    if spec.name is None and writes:
        raise SpecError(f"{spec.path}: give the spec a `name:` (e.g. name: {spec.spec_id}) before apply or --prune: "
                        "apply marks what it writes with it, and --prune deletes only what carries it")
    rendered = render_roles(spec, extra_template_dirs=tuple(template_dirs), overrides=overrides, fallbacks=fallbacks)
    return desired_state(spec, rendered, overrides, fallbacks)


# --------------------------------------------------------------------------- current state


@dataclass(frozen=True)
class CurrentState:
    roles: tuple[RoleDefinition, ...]  # custom roles visible at the listed scopes
    assignments: tuple[Assignment, ...]
    reads: int
    scopes: tuple[str, ...] = ()  # the subscriptions / management groups that were read


def _list_scope(scope: str) -> str:
    """Where one list covers *scope*: its subscription, or the management group itself."""
    s = parse_scope(scope)
    return f"/subscriptions/{s.subscription}" if s.subscription else str(s)


def _unique(scopes) -> list[str]:
    out: dict[str, str] = {}
    for scope in scopes:
        out.setdefault(scope.lower(), scope)
    return sorted(out.values(), key=str.lower)


def role_list_scopes(desired: DesiredState) -> list[str]:
    """Every subscription / management group a desired role is assignable in (a role moved to
    another subscription is still found where it is), those of the assignments, and the watch list."""
    scopes = [_list_scope(s) for r in desired.roles for s in r.role.assignable_scopes if s != "/"]
    scopes += [_list_scope(a.scope) for a in desired.assignments]
    return _unique([*scopes, *desired.watch])


def assignment_list_scopes(desired: DesiredState) -> list[str]:
    return _unique([*(_list_scope(a.scope) for a in desired.assignments), *desired.watch])


def per_thread(factory: Callable[[], Gateway]) -> Callable[[], Gateway]:
    """A gateway per worker thread (one HTTP session each), made on first use."""
    local = threading.local()

    def get() -> Gateway:
        if not hasattr(local, "gw"):
            local.gw = factory()
        return local.gw

    return get


def read_current(gw_factory: Callable[[], Gateway], desired: DesiredState, *, parallelism: int = 4) -> CurrentState:
    """One custom-role list and one assignment list per subscription / management group, concurrently."""
    jobs: list[tuple[str, str]] = [("roles", s) for s in role_list_scopes(desired)]
    jobs += [("assignments", s) for s in assignment_list_scopes(desired)]
    gw = per_thread(gw_factory)

    def run(job):
        kind, scope = job
        if kind == "roles":
            return kind, gw().list_role_definitions(scope, "type eq 'CustomRole'")
        flt = "atScope()" if parse_scope(scope).kind == MANAGEMENT_GROUP else None
        return kind, gw().list_role_assignments(scope, flt)

    roles: dict[str, RoleDefinition] = {}
    assignments: dict[str, Assignment] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(jobs) or 1))) as pool:
        for kind, items in pool.map(run, jobs):
            for item in items:
                if kind == "roles" and item.is_custom:
                    roles.setdefault(item.role_id.lower(), item)
                elif kind == "assignments":
                    assignments.setdefault(item.id.lower(), item)
    scopes = tuple(dict.fromkeys(scope for _, scope in jobs))
    return CurrentState(tuple(roles.values()), tuple(assignments.values()), len(jobs), scopes)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class RoleChange:
    """One change to a custom role: create, update, delete or no-op."""

    kind: ClassVar[str] = "role"
    action: str
    key: str | None
    desired: RoleDefinition | None  # with the role_id it has (or will have) in Azure
    current: RoleDefinition | None
    diff_summary: str = ""
    risky: tuple[str, ...] = ()
    note: str = ""

    @property
    def label(self) -> str:
        return (self.desired or self.current).name


@dataclass(frozen=True)
class AssignmentChange:
    """One change to a role assignment: create, update, delete or no-op."""

    kind: ClassVar[str] = "assignment"
    action: str
    scope: str
    role_guid: str
    role_label: str
    principal_id: str
    principal_type: str | None
    name: str  # the assignment name written (or found)
    description: str | None = None
    condition: str | None = None
    condition_version: str | None = None
    current: Assignment | None = None
    role_key: str | None = None  # a spec role this depends on
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.role_label} -> {self.principal_id} at {self.scope}"


@dataclass(frozen=True)
class Plan:
    roles: tuple[RoleChange, ...]
    assignments: tuple[AssignmentChange, ...]
    unmanaged: tuple[Assignment, ...] = ()  # at the spec's scopes, not created by rbactool: never touched
    orphans: tuple[Assignment | RoleDefinition, ...] = ()  # managed, gone from the spec; --prune deletes
    reads: int = 0
    prune: bool = False
    scopes: tuple[str, ...] = ()
    role_names: dict = field(default_factory=dict)  # role GUID (lower) -> name, for labels

    def role_label(self, guid: str) -> str:
        return self.role_names.get(guid.lower(), guid)

    def changes(self) -> list[RoleChange | AssignmentChange]:
        return [c for c in (*self.roles, *self.assignments) if c.action != NOOP]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes())

    def counts(self) -> dict[str, int]:
        out = {CREATE: 0, UPDATE: 0, DELETE: 0, NOOP: 0}
        for c in (*self.roles, *self.assignments):
            out[c.action] += 1
        return out


class OwnershipConflict(SpecError):
    """The spec would take over an object another spec manages."""


class OrphanedAssignments(SpecError):
    """A role's new assignable scopes would leave existing assignments of it outside them (Azure
    refuses that update: RoleScopeBeingRemovedContainsAssignments)."""


def orphaned_assignments(change: RoleChange, current: CurrentState) -> list[Assignment]:
    """Assignments of an updated role that its new assignable scopes no longer cover. A new
    management-group scope may cover anything below it (the hierarchy is unknown offline): Azure's to say."""
    from rbactool.scopes import MANAGEMENT_GROUP, scope_segments, segments_cover, segments_kind

    if change.action != UPDATE or change.current is None:
        return []
    new = [scope_segments(s) for s in change.desired.assignable_scopes]
    if any(segments_kind(s) == MANAGEMENT_GROUP for s in new):
        return []
    kept = {s.lower() for s in change.desired.assignable_scopes}
    removed = [scope_segments(s) for s in change.current.assignable_scopes if s.lower() not in kept]
    guid = (change.current.role_id or "").lower()
    out = []
    for a in current.assignments:
        seg = scope_segments(a.scope)
        if a.role_guid.lower() == guid and any(segments_cover(r, seg) for r in removed) \
                and not any(segments_cover(n, seg) for n in new):
            out.append(a)
    return out


def check_orphans(roles: Sequence[RoleChange], current: CurrentState) -> None:
    for change in roles:
        orphans = orphaned_assignments(change, current)
        if orphans:
            first = orphans[0]
            more = f" and {len(orphans) - 1} more" if len(orphans) > 1 else ""
            raise OrphanedAssignments(
                f"role {change.label!r}: the new assignable scopes ({', '.join(change.desired.assignable_scopes)}) "
                f"leave {len(orphans)} existing assignment(s) outside them ({first.principal_id} at {first.scope}"
                f"{more}); Azure refuses that update: remove those assignments first, or keep the scope")


def plan_spec(desired: DesiredState, gw_factory: Callable[[], Gateway], *, catalog=None, prune: bool = False,
              take_over: bool = False, parallelism: int = 8) -> Plan:
    """Read Azure where *desired* lives (at most 8 lists at a time) and compute the plan: reads only.
    *catalog* adds the effective change and its risk classes to each role change."""
    current = read_current(gw_factory, desired, parallelism=min(parallelism, 8))
    builtins = load_builtin_roles()

    def builtin_name(guid: str) -> str | None:
        role = builtins.by_id(guid)
        return role.name if role else None

    return make_plan(desired, current, prune=prune, catalog=catalog, builtin_name=builtin_name, take_over=take_over)


@dataclass(frozen=True)
class Ownership:
    """Who may change what: *mine* is this spec's name (None: it owns nothing)."""

    mine: str | None
    take_over: bool = False

    def owns(self, description: str | None) -> bool:
        return self.mine is not None and owner(description) == self.mine

    def claim(self, description: str | None, what: str) -> str:
        """'' when the object is ours; a note when we take an unmarked one over; raise for another spec's."""
        who = owner(description)
        if who is not None and who == self.mine:
            return ""
        if who and not self.take_over:
            raise OwnershipConflict(
                f"{what} is managed by spec {who!r}; this spec ({self.mine or 'unnamed'}) would change it: remove it "
                f"from one of the two specs (or pass --take-over to move it to this one)")
        return f"takes over from spec {who!r}" if who else "not managed by a spec yet: apply takes it over"

    def mark(self, description: str | None) -> str | None:
        """*description* with this spec's marker (unchanged when the spec has no name)."""
        return with_marker(description, self.mine) if self.mine else description


class RoleNames:
    """Role GUID (lower) -> name, for labels: Azure's custom roles, the spec's, then the built-ins."""

    def __init__(self, desired: DesiredState, current: CurrentState,
                 builtin_name: Callable[[str], str | None] | None = None):
        self.names = {r.role_id.lower(): r.name for r in current.roles}
        for r in desired.roles:
            if r.role.role_id:
                self.names.setdefault(r.role.role_id.lower(), r.role.name)
        self._builtin_name = builtin_name

    def __call__(self, guid: str) -> str:
        return self.names.get(guid.lower()) or (self._builtin_name(guid) if self._builtin_name else None) or guid


def plan_role(rendered: RenderedRole, existing: RoleDefinition | None, ownership: Ownership,
              catalog=None) -> RoleChange:
    """Create, update or leave one spec role; *existing* is the custom role of the same name in Azure."""
    role = replace(rendered.role, description=ownership.mark(rendered.role.description))
    if existing is None:
        target = replace(role, role_id=role_definition_guid(role.name, role.assignable_scopes[0]), resource_id=None)
        return RoleChange(CREATE, rendered.key, target, None, *_diff(None, target, catalog))
    target = replace(role, role_id=existing.role_id, resource_id=existing.resource_id)
    if same_definition(existing, target):
        return RoleChange(NOOP, rendered.key, target, existing)
    note = ownership.claim(existing.description, f"role {existing.name!r}")
    summary, risky = _diff(existing, target, catalog)
    return RoleChange(UPDATE, rendered.key, target, existing, summary, risky, note)


def plan_roles(desired: DesiredState, current: CurrentState, ownership: Ownership, catalog=None) -> list[RoleChange]:
    """One change per spec role; custom roles are matched by name (case-insensitive)."""
    by_name = {r.name.lower(): r for r in current.roles}
    return [plan_role(r, by_name.get(r.role.name.lower()), ownership, catalog) for r in desired.roles]


Triple = tuple[str, str, str]  # (scope, role GUID, principal id), lower case: what identifies an assignment


def assignment_triple(a: Assignment) -> Triple:
    return (a.scope.lower().rstrip("/"), a.role_guid.lower(), a.principal_id.lower())


def desired_role_guid(d: DesiredAssignment, guid_of_key: dict[str, str]) -> str:
    """The role GUID a desired assignment names: its spec role's, the built-in's, or the one written."""
    if d.role_key:
        return guid_of_key[d.role_key]
    return d.role.role_id.lower() if d.role is not None and d.role.role_id else role_guid_of(d.role_ref).lower()


def plan_assignment(d: DesiredAssignment, guid: str, found: Assignment | None, label: str,
                    ownership: Ownership) -> AssignmentChange:
    """Create, update (description or condition differ) or leave one spec assignment."""
    base = dict(scope=d.scope, role_guid=guid, role_label=label, principal_id=d.principal_id,
                principal_type=d.principal_type, description=ownership.mark(d.description),
                condition=d.condition, condition_version=d.condition_version, role_key=d.role_key)
    if found is None:
        return AssignmentChange(CREATE, name=assignment_name(d.scope, guid, d.principal_id), **base)
    differs = (strip_marker(found.description) != strip_marker(d.description)
               or (found.condition or None) != (d.condition or None))
    if not differs:
        return AssignmentChange(NOOP, name=found.name, current=found, **base)
    note = ownership.claim(found.description, f"the assignment of {label} to {d.principal_id} at {d.scope}")
    return AssignmentChange(UPDATE, name=found.name, current=found, note=note, **base)


def plan_assignments(desired: DesiredState, current: CurrentState, guid_of_key: dict[str, str],
                     role_name: Callable[[str], str], ownership: Ownership) -> list[AssignmentChange]:
    """One change per spec assignment; assignments are matched by scope, role and principal."""
    by_triple: dict[Triple, Assignment] = {}
    for a in current.assignments:
        by_triple.setdefault(assignment_triple(a), a)
    out = []
    for d in desired.assignments:
        guid = desired_role_guid(d, guid_of_key)
        label = d.role.name if d.role is not None else role_name(guid)
        out.append(plan_assignment(d, guid, by_triple.get((d.scope.lower().rstrip("/"), guid, d.principal_id)),
                                   label, ownership))
    return out


@dataclass(frozen=True)
class Leftovers:
    """What Azure has and the spec does not: deletes (with --prune), orphans (without), unmanaged."""

    deletes: tuple[AssignmentChange | RoleChange, ...] = ()
    orphans: tuple[Assignment | RoleDefinition, ...] = ()
    unmanaged: tuple[Assignment, ...] = ()


def leftover_assignments(desired: DesiredState, current: CurrentState, wanted: set[Triple],
                         role_name: Callable[[str], str], ownership: Ownership, *, prune: bool) -> Leftovers:
    """Assignments not in the spec: this spec's are deleted (--prune) or orphans; others at the spec's
    scopes are reported as unmanaged and never touched."""
    managed_scopes = {a.scope.lower() for a in desired.assignments}
    deletes: list[AssignmentChange] = []
    orphans: list[Assignment] = []
    unmanaged: list[Assignment] = []
    for a in current.assignments:
        if assignment_triple(a) in wanted:
            continue
        if not ownership.owns(a.description):
            if a.scope.lower() in managed_scopes:
                unmanaged.append(a)
        elif prune:
            deletes.append(AssignmentChange(
                DELETE, a.scope, a.role_guid.lower(), role_name(a.role_guid), a.principal_id, a.principal_type,
                a.name, current=a))
        else:
            orphans.append(a)
    return Leftovers(tuple(deletes), tuple(orphans), tuple(unmanaged))


def leftover_roles(current: CurrentState, wanted_role_ids: set[str], deleted_assignments: set[str],
                   ownership: Ownership, *, prune: bool) -> Leftovers:
    """This spec's custom roles the spec no longer has: deleted (--prune; flagged when other
    assignments still hold them) or orphans."""
    deletes: list[RoleChange] = []
    orphans: list[RoleDefinition] = []
    for r in current.roles:
        if r.role_id.lower() in wanted_role_ids or not ownership.owns(r.description):
            continue
        if not prune:
            orphans.append(r)
            continue
        holders = [a for a in current.assignments
                   if a.role_guid.lower() == r.role_id.lower() and a.id.lower() not in deleted_assignments]
        note = (f"blocked: still assigned {len(holders)} time(s) outside this spec "
                f"(e.g. {holders[0].principal_id} at {holders[0].scope}); the delete will fail") if holders else ""
        deletes.append(RoleChange(DELETE, None, None, r, note=note))
    return Leftovers(tuple(deletes), tuple(orphans))


def make_plan(desired: DesiredState, current: CurrentState, *, prune: bool = False, catalog=None,
              builtin_name: Callable[[str], str | None] | None = None, take_over: bool = False) -> Plan:
    """Compare desired with current. Pure: no request is made here.

    Objects carrying another spec's marker are never changed (an OwnershipConflict unless
    *take_over*); unmarked objects that differ are taken over (the update writes this spec's
    marker, and the plan says so); unmarked objects that match are adopted as they are.
    """
    ownership = Ownership(desired.spec_id, take_over)
    role_name = RoleNames(desired, current, builtin_name)
    roles = plan_roles(desired, current, ownership, catalog)
    check_orphans(roles, current)
    guid_of_key = {c.key: c.desired.role_id.lower() for c in roles}
    role_name.names.update({c.desired.role_id.lower(): c.desired.name for c in roles})
    assignments = plan_assignments(desired, current, guid_of_key, role_name, ownership)
    for a in current.assignments:  # names for every role the report may mention
        role_name.names.setdefault(a.role_guid.lower(), role_name(a.role_guid))
    wanted = {(c.scope.lower().rstrip("/"), c.role_guid, c.principal_id) for c in assignments}
    left = leftover_assignments(desired, current, wanted, role_name, ownership, prune=prune)
    gone = leftover_roles(current, set(guid_of_key.values()), {c.current.id.lower() for c in left.deletes},
                          ownership, prune=prune)
    return Plan((*roles, *gone.deletes), (*assignments, *left.deletes), left.unmanaged,
                (*left.orphans, *gone.orphans), current.reads, prune, current.scopes, role_name.names)


def _diff(old: RoleDefinition | None, new: RoleDefinition, catalog) -> tuple[str, tuple[str, ...]]:
    if catalog is None:
        return "", ()
    from rbactool.diff import diff_roles

    d = diff_roles(old, new, catalog, findings=False)  # the roles went through the gate already
    risky = sorted({cls for op in d.effective.added for cls in op.risk_classes})
    return d.summary() + d.assignable_scopes.note(), tuple(risky)


# --------------------------------------------------------------------------- apply


#: Consecutive connection-level failures (no ARM answer at all) after which apply stops scheduling.
CONNECTION_FAILURE_LIMIT = 3


@dataclass
class Outcome:
    change: RoleChange | AssignmentChange
    status: str  # done | unchanged | failed | skipped
    error: str | None = None
    code: str | None = None
    connection: bool = False  # failed without any answer from ARM (refused, reset, TLS)


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    stopped: str | None = None  # why apply stopped scheduling early (the endpoint stopped answering)
    not_started: list[RoleChange | AssignmentChange] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def _do_role(gw: Gateway, c: RoleChange, backoff: Backoff = DEFAULT_BACKOFF,
             cancel: threading.Event | None = None) -> None:
    if c.action in (CREATE, UPDATE):
        scope = c.current.assignable_scopes[0] if c.current and c.current.assignable_scopes \
            else c.desired.assignable_scopes[0]
        gw.put_role_definition(scope, c.desired.role_id, c.desired)
        return
    delays = backoff.delays()
    while True:  # assignments deleted moments ago may still count for a while
        try:
            gw.delete_role_definition(c.current.assignable_scopes[0], c.current.role_id)
            return
        except AzureOperationError as e:
            delay = next(delays, None) if e.error_code == "RoleDefinitionHasAssignments" and not c.note else None
            if delay is None:
                raise
            pause(delay, cancel)


def _do_assignment(gw: Gateway, c: AssignmentChange, backoff: Backoff, progress: Callable[[str], None],
                   cancel: threading.Event) -> str:
    """Write one assignment change; 'unchanged' when Azure already had it (a list lagging behind)."""
    if c.action == DELETE:
        return "done" if gw.delete_role_assignment(c.current.id) else "unchanged"
    status, _ = write_assignment(
        gw, c.scope, c.name, role_guid=c.role_guid, principal_id=c.principal_id, principal_type=c.principal_type,
        description=c.description, condition=c.condition, condition_version=c.condition_version,
        backoff=backoff, progress=lambda m: progress(f"{c.label}: {m}"), cancel=cancel,
        role=_KNOWN,  # roles in a plan were resolved offline: no extra lookup on scope errors
    )
    return "done" if status == "created" or c.action == UPDATE else "unchanged"


_KNOWN = RoleDefinition(name="<resolved offline>")


def _outcome(change, future: Future, stopped: str | None = None) -> Outcome:
    err = future.exception()
    if err is None:
        result = future.result()
        return Outcome(change, result if isinstance(result, str) else "done")
    if isinstance(err, Cancelled):
        if stopped:  # its wait was cut short because Azure stopped answering: it did not get done
            return Outcome(change, "failed", f"not finished: {stopped}", connection=True)
        return Outcome(change, "skipped", "interrupted")
    if isinstance(err, AzureOperationError):
        return Outcome(change, "failed", str(err), err.error_code, getattr(err, "connection", False))
    raise err


def apply_plan(
    plan: Plan,
    gw_factory: Callable[[], Gateway],
    *,
    parallelism: int = 8,
    backoff: Backoff = DEFAULT_BACKOFF,
    progress: Callable[[str], None] = lambda _: None,
    on_done: Callable[[Outcome], None] = lambda _: None,
    cancel: threading.Event | None = None,
) -> ApplyReport:
    """Run the plan's changes in dependency order with bounded concurrency.

    Phases: role creates/updates; assignment deletes, creates and updates (an assignment whose
    role failed is skipped); role deletes. Ctrl-C sets *cancel*: nothing more is scheduled, waits
    in progress stop at once, requests in flight finish, and the report says what happened.

    When CONNECTION_FAILURE_LIMIT changes in a row fail without any answer from ARM (the endpoint
    is gone), apply stops the same way (and sets *cancel*, so waits end) instead of trying every
    remaining change on its own: ``report.stopped`` says why, ``report.not_started`` lists the rest.
    Errors ARM answers with (403, 400...) do not count, and retryable answers are still retried.
    """
    report = ApplyReport()
    cancel = cancel or threading.Event()
    gw = per_thread(gw_factory)
    failed_keys: set[str] = set()
    streak = 0  # consecutive connection-level failures (record() runs in this thread only)
    role_phase = [c for c in plan.roles if c.action in (CREATE, UPDATE)]
    # creates and updates first: a principal moved to a new role keeps access until it has the new one
    assignment_phase = sorted((c for c in plan.assignments if c.action != NOOP), key=lambda c: c.action == DELETE)
    delete_phase = [c for c in plan.roles if c.action == DELETE]

    def record(out: Outcome) -> None:
        nonlocal streak
        report.outcomes.append(out)
        if out.status == "failed" and isinstance(out.change, RoleChange) and out.change.key:
            failed_keys.add(out.change.key)
        if out.status in ("done", "unchanged", "failed"):
            streak = streak + 1 if out.connection else 0
        if streak >= CONNECTION_FAILURE_LIMIT and report.stopped is None:
            report.stopped = f"{streak} changes in a row got no answer from Azure"
            logger.warning("apply: %s (last: %s); scheduling nothing more", report.stopped, out.error)
            progress(f"{report.stopped}: finishing the requests in flight, scheduling nothing more")
            cancel.set()  # waits in progress (replication, throttling) end now
        on_done(out)

    def run_phase(changes: Iterable, work: Callable) -> bool:
        pending = list(changes)
        running: dict[Future, object] = {}
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            try:
                while (pending and not report.stopped) or running:
                    while pending and len(running) < parallelism and not report.stopped:
                        c = pending.pop(0)
                        if isinstance(c, AssignmentChange) and c.role_key in failed_keys:
                            record(Outcome(c, "skipped", "its role could not be written"))
                            continue
                        running[pool.submit(work, c)] = c
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for f in finished:
                        record(_outcome(running.pop(f), f, report.stopped))
            except KeyboardInterrupt:
                report.interrupted = True
                cancel.set()
                progress("interrupted: finishing the requests in flight, scheduling nothing more")
                for f in list(running):
                    f.cancel()
                wait(running)
                for f, c in running.items():
                    if not f.cancelled():
                        record(_outcome(c, f))
                return False
        return not report.stopped

    (run_phase(role_phase, lambda c: _do_role(gw(), c))
     and run_phase(assignment_phase, lambda c: _do_assignment(gw(), c, backoff, progress, cancel))
     and run_phase(delete_phase, lambda c: _do_role(gw(), c, backoff, cancel)))
    seen = {id(o.change) for o in report.outcomes}
    report.not_started = [c for c in (*role_phase, *assignment_phase, *delete_phase) if id(c) not in seen]
    return report
