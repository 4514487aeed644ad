"""What identities use (Activity Log) against what they are granted (a snapshot): ``rbactool usage``.

For every identity (a principal holding assignments directly, or a caller in the logs) and every
role assignment: the effective operations granted (wildcards expanded, NotActions per block, via
groups too) against the operations used in the window, each use attributed to the assignment
``evidence.roleAssignmentId`` names, else to every assignment at or above the event's scope whose
role grants the operation. The used / granted ratio is over the *observable* operations: the
Activity Log records control-plane writes, deletes and actions, never reads and never data actions,
so those are "unobserved", not "unused" (``LIMITS``). Pure: no azure.*, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rbactool.access import Directory, role_grants, snapshot_info
from rbactool.estate import Assignment, EstateDB, scope_key

if TYPE_CHECKING:
    from rbactool.activity import ActivityLog
    from rbactool.catalog import Catalog
    from rbactool.model import RoleDefinition

__all__ = ["LIMITS", "SCHEMA_VERSION", "AssignmentUsage", "IdentityUsage", "UsageReport", "usage_report",
           "RoleOps", "role_ops", "is_observable", "caller_principal"]

SCHEMA_VERSION = 1
LIMITS = (
    "The Activity Log records control-plane writes, deletes and actions (POST); it does not record reads "
    "(*/read) or data actions (blobs, secrets, queues...): those are unobserved, not unused.",
    "Used / granted counts only observable operations (granted actions that are not reads).",
    "An assignment with no use in the window is unobserved in the logs given: the window may be short "
    "(the platform keeps 90 days), and the logs may not cover every subscription it applies to.",
    "Without evidence.roleAssignmentId in an event, a use is attributed to every assignment that could "
    "have authorised it.",
)


def is_observable(name: str) -> bool:
    """Whether the Activity Log can show a use of this (control-plane) operation: not a read."""
    return not name.lower().endswith("/read")


@dataclass(frozen=True)
class RoleOps:
    actions: frozenset[str]  # lower-cased effective actions
    data_actions: frozenset[str]
    observable: frozenset[str]


def role_ops(role: RoleDefinition, catalog: Catalog) -> RoleOps:
    from rbactool.effective import effective_operations

    eff = effective_operations(role, catalog)
    actions = eff.names()
    return RoleOps(actions, eff.names(data=True), frozenset(a for a in actions if is_observable(a)))


@dataclass
class AssignmentUsage:
    assignment: Assignment
    role: str
    granted: RoleOps
    via: tuple[str, ...] = ()
    used: dict[str, int] = field(default_factory=dict)  # operation (catalog spelling) -> calls
    by_evidence: int = 0
    users: set[str] = field(default_factory=set)
    covered: bool = True  # the logs cover the assignment's subscription (or it is above any subscription)

    def to_dict(self) -> dict[str, Any]:
        a = self.assignment
        return {"assignmentId": a.id, "scope": a.scope, "role": self.role, "roleDefinitionId": a.role_definition_id,
                "principalId": a.principal_id, "principalType": a.principal_type, "conditional": bool(a.condition),
                "grantedActions": len(self.granted.actions), "grantedDataActions": len(self.granted.data_actions),
                "observable": len(self.granted.observable), "used": dict(sorted(self.used.items())),
                "usedObservable": sum(1 for o in self.used if is_observable(o)),
                "attributedByEvidence": self.by_evidence, "usedBy": sorted(self.users),
                "unobserved": not self.used, "inLogCoverage": self.covered}


@dataclass
class OperationUse:
    operation: str
    calls: int
    denied: int
    first: str
    last: str
    scopes: list[str]
    granted: bool

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "calls": self.calls, "denied": self.denied, "first": self.first or None,
                "last": self.last or None, "scopes": self.scopes, "granted": self.granted}


@dataclass
class IdentityUsage:
    principal_id: str
    principal_type: str
    principal_name: str
    granted_actions: int = 0
    granted_data_actions: int = 0
    observable: int = 0
    operations: list[OperationUse] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)  # assignment ids
    in_snapshot: bool = True

    @property
    def used_granted(self) -> list[OperationUse]:
        return [o for o in self.operations if o.granted and o.calls]

    @property
    def used_observable(self) -> int:
        return sum(1 for o in self.used_granted if is_observable(o.operation))

    @property
    def ratio(self) -> float | None:
        return round(self.used_observable / self.observable, 4) if self.observable else None

    def to_dict(self) -> dict[str, Any]:
        return {"principalId": self.principal_id, "principalType": self.principal_type,
                "principalName": self.principal_name, "inSnapshot": self.in_snapshot,
                "grantedActions": self.granted_actions, "grantedDataActions": self.granted_data_actions,
                "observable": self.observable, "usedObservable": self.used_observable, "ratio": self.ratio,
                "operations": [o.to_dict() for o in self.operations],
                "notGranted": [o.operation for o in self.operations if o.calls and not o.granted],
                "deniedOnly": [o.operation for o in self.operations if o.denied and not o.calls],
                "assignments": self.assignments}


@dataclass
class UsageReport:
    identities: list[IdentityUsage]
    assignments: dict[str, AssignmentUsage]
    log: dict[str, Any]
    snapshot: dict[str, Any]
    limits: tuple[str, ...] = LIMITS

    def unobserved_assignments(self) -> list[AssignmentUsage]:
        return [a for a in self.assignments.values() if not a.used]

    def identity(self, principal_id: str) -> IdentityUsage | None:
        return next((i for i in self.identities if i.principal_id == principal_id.lower()), None)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "snapshot": self.snapshot, "log": self.log,
                "identities": [i.to_dict() for i in self.identities],
                "assignments": [a.to_dict() for a in self.assignments.values()],
                "unobservedAssignments": [a.assignment.id for a in self.unobserved_assignments()],
                "limits": list(self.limits)}


class _Context:
    """Caches shared by every identity: role operations, scope chains, unions of roles."""

    def __init__(self, db: EstateDB, catalog: Catalog):
        self.db, self.catalog = db, catalog
        self.directory = Directory(db)
        self._ops: dict[str, RoleOps | None] = {}
        self._chains: dict[str, frozenset[str]] = {}
        self._unions: dict[tuple[str, ...], tuple[int, int, int]] = {}

    def ops(self, guid: str) -> RoleOps | None:
        if guid not in self._ops:
            role = self.db.role(guid)
            self._ops[guid] = role_ops(role, self.catalog) if role is not None else None
        return self._ops[guid]

    def chain(self, scope_low: str) -> frozenset[str]:
        if scope_low not in self._chains:
            self._chains[scope_low] = frozenset(self.db.ancestry(scope_low))
        return self._chains[scope_low]

    def union(self, guids: tuple[str, ...]) -> tuple[int, int, int]:
        if guids not in self._unions:
            parts = [o for g in guids if (o := self.ops(g)) is not None]
            if len(parts) == 1:
                p = parts[0]
                self._unions[guids] = (len(p.actions), len(p.data_actions), len(p.observable))
            else:
                self._unions[guids] = (len(frozenset().union(*(p.actions for p in parts))),
                                       len(frozenset().union(*(p.data_actions for p in parts))),
                                       len(frozenset().union(*(p.observable for p in parts))))
        return self._unions[guids]


def _subscription_of(scope_low: str) -> str | None:
    parts = scope_low.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else None


def caller_principal(db: EstateDB, caller: str) -> str:
    """A caller that is a name (a UPN, no object id in the event): the principal of that name, if one."""
    if "@" not in caller and "-" in caller:
        return caller
    rows = db.con.execute("SELECT id FROM principals WHERE lower(name) = ?", (caller,)).fetchall()
    return rows[0][0] if len(rows) == 1 else caller


def usage_report(db: EstateDB, log: ActivityLog, catalog: Catalog, *, principal: str | None = None) -> UsageReport:
    """Used against granted for every identity (or one *principal*) and every assignment."""
    ctx = _Context(db, catalog)
    by_holder: dict[str, list[Assignment]] = {}
    for a in db.all_assignments():
        if not a.eligible:
            by_holder.setdefault(a.principal_id, []).append(a)
    uses: dict[str, list[tuple[str, str, Any]]] = {}
    resolved: dict[str, str] = {}
    for (caller, op, scope), use in log.uses.items():
        who = resolved.get(caller)
        if who is None:
            who = resolved[caller] = caller_principal(db, caller)
        uses.setdefault(who, []).append((op, scope, use))
    if principal is not None:
        identities = [principal.lower()]
    else:
        identities = sorted({pid for pid, held in by_holder.items() if any(a.principal_type != "Group" for a in held)}
                            | set(uses))
    log_subs = {s for low in log.scopes if (s := _subscription_of(low))}
    report = UsageReport([], {}, log.summary(), snapshot_info(db))
    for pid in identities:
        report.identities.append(_identity(ctx, pid, by_holder, uses.get(pid, []), log, report, log_subs))
    if principal is None:  # assignments of groups nobody in the logs used: listed too
        for held in by_holder.values():
            for a in held:
                if a.id not in report.assignments and (ops := ctx.ops(a.role_definition_id)) is not None:
                    report.assignments[a.id] = _new_usage(ctx, a, ops, (), log_subs)
    report.identities.sort(key=lambda i: (i.principal_name.lower() or "~", i.principal_id))
    return report


def _new_usage(ctx: _Context, a: Assignment, ops: RoleOps, via: tuple[str, ...], log_subs: set[str]) -> AssignmentUsage:
    role = ctx.db.role(a.role_definition_id)
    sub = _subscription_of(scope_key(a.scope))
    return AssignmentUsage(a, role.name if role else a.role_definition_id, ops, via,
                           covered=sub is None or sub in log_subs)


def _identity(ctx: _Context, pid: str, by_holder: dict[str, list[Assignment]], uses: list, log: ActivityLog,
              report: UsageReport, log_subs: set[str]) -> IdentityUsage:
    db = ctx.db
    p = db.principal(pid)
    ptype, name = ctx.directory.describe(pid)
    groups = ctx.directory.groups_of(pid)
    held: list[tuple[Assignment, RoleOps, RoleDefinition]] = []
    for holder in (pid, *sorted(groups)):
        for a in by_holder.get(holder, ()):
            ops, role = ctx.ops(a.role_definition_id), db.role(a.role_definition_id)
            if ops is None or role is None:
                continue
            held.append((a, ops, role))
            if a.id not in report.assignments:
                report.assignments[a.id] = _new_usage(ctx, a, ops, () if holder == pid else (holder,), log_subs)
    out = IdentityUsage(pid, ptype, name, in_snapshot=p is not None or bool(held),
                        assignments=[a.id for a, _, _ in held])
    out.granted_actions, out.granted_data_actions, out.observable = ctx.union(
        tuple(sorted({a.role_definition_id for a, _, _ in held})))
    merged: dict[str, OperationUse] = {}
    for op, scope, use in uses:
        spelling = _spelling(ctx.catalog, log.operations.get(op, op))
        chain = ctx.chain(scope)
        candidates = [(a, role) for a, _, role in held if scope_key(a.scope) in chain and role_grants(role, op, False)]
        if use.evidence:
            named = [(a, role) for a, role in candidates if a.id.rsplit("/", 1)[-1].replace("-", "").lower()
                     in use.evidence]
            if named:
                candidates = named
                for a, _ in named:
                    report.assignments[a.id].by_evidence += use.count()
        if use.allowed:
            for a, _ in candidates:
                au = report.assignments[a.id]
                au.used[spelling] = au.used.get(spelling, 0) + use.count()
                au.users.add(pid)
        o = merged.get(op)
        if o is None:
            o = merged[op] = OperationUse(spelling, 0, 0, use.first, use.last, [], False)
        o.calls += use.count() if use.allowed else 0
        o.denied += use.denied
        o.granted = o.granted or (bool(candidates) and use.allowed)
        o.first = min(filter(None, (o.first, use.first)), default="")
        o.last = max(o.last, use.last)
        if len(o.scopes) < 50:
            o.scopes.append(log.scopes.get(scope, scope))
    out.operations = sorted(merged.values(), key=lambda o: o.operation.lower())
    return out


def _spelling(catalog: Catalog, op: str) -> str:
    """Azure's own casing of an operation (the log may shout: MICROSOFT.FOO/BARS/WRITE)."""
    found = catalog.get(op)
    return found[0].name if found else op
