"""A least-privilege custom role from what a principal did: ``rbactool rightsize``.

From the principal's use in the Activity Log (``rbactool.activity``) and its assignments in a
snapshot (``rbactool.estate``):

* Actions: every control-plane write, delete and action it used that its assignments grant at the
  scope of use (in Azure's spelling); a used operation they do not grant is added only with its
  reason (the snapshot may predate a change, or the access came another way), and said so;
* reads: the Activity Log records none, so for each namespace it used, the reads it holds today
  there are kept (``Namespace/*/read`` when it holds all of them, else each one);
* DataActions: the Activity Log records none either, so the data actions it holds today are kept,
  unless a data-plane log is given (events that name data actions): then only those used;
* AssignableScopes: the narrowest scope Azure lets a custom role be assignable at (management
  group, subscription or resource group) that covers every use; the assignment: the narrowest
  scope (a resource too) that covers every use.

The proposal comes with a roles spec that moves the principal onto it (``rbactool plan``/``apply``),
the assignments it replaces, and the ``diff`` of the principal's current effective access (all
its roles merged into one role whose blocks are all their blocks) against the proposal.
Pure: no azure.*, no network.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rbactool.access import Directory, resolve_principal, role_grants, snapshot_info
from rbactool.catalog import namespace_of
from rbactool.errors import InputError
from rbactool.estate import Assignment, EstateDB, scope_key
from rbactool.model import Permission, RoleDefinition
from rbactool.scopes import MANAGEMENT_GROUP, RESOURCE_GROUP, SUBSCRIPTION, parse_scope
from rbactool.usage_analysis import LIMITS as USAGE_LIMITS

if TYPE_CHECKING:
    from rbactool.activity import ActivityLog
    from rbactool.catalog import Catalog
    from rbactool.diff import RoleDiff

__all__ = ["LIMITS", "SCHEMA_VERSION", "Rightsizing", "rightsize"]

SCHEMA_VERSION = 1
LIMITS = (
    USAGE_LIMITS[0],
    "Reads are kept at the level the principal holds today, for the namespaces it used.",
    "Data actions are kept as granted today unless a data-plane log is given (--data-log).",
    "What the logs' window did not show (a yearly rotation, a disaster-recovery runbook) is removed: "
    "review the removals, or widen the window.",
)
_ASSIGNABLE_KINDS = (RESOURCE_GROUP, SUBSCRIPTION, MANAGEMENT_GROUP)


@dataclass
class Rightsizing:
    principal_id: str
    principal_type: str
    principal_name: str
    role: RoleDefinition
    assignment_scope: str
    replaces: list[dict[str, Any]]  # the current assignments (id, role, scope, via)
    kept: list[dict[str, Any]]  # used operations kept: {operation, calls, scopes}
    added: list[dict[str, Any]]  # used but not granted today: {operation, calls, reason}
    reads: list[dict[str, Any]]  # {namespace, kept: "wildcard" | n}
    data: dict[str, Any]
    denied: list[str]
    diff: RoleDiff
    spec: dict[str, Any]
    current: RoleDefinition
    log: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    limits: tuple[str, ...] = LIMITS
    assignment_scopes: list[str] = field(default_factory=list)  # one, or one per subscription

    @property
    def removals_only(self) -> bool:
        return not self.diff.grants_new_access

    def to_dict(self) -> dict[str, Any]:
        from rbactool.diff_format import role_diff_dict
        from rbactool.model import to_az_dict

        return {"schema_version": SCHEMA_VERSION, "principalId": self.principal_id,
                "principalType": self.principal_type, "principalName": self.principal_name,
                "role": to_az_dict(self.role), "assignmentScope": self.assignment_scope,
                "assignmentScopes": self.assignment_scopes or [self.assignment_scope],
                "assignableScopes": list(self.role.assignable_scopes), "replaces": self.replaces,
                "kept": self.kept, "added": self.added, "reads": self.reads, "dataActions": self.data,
                "deniedOnly": self.denied, "removalsOnly": self.removals_only,
                "diff": {"verdict": self.diff.verdict, "summary": self.diff.summary(), **role_diff_dict(self.diff)},
                "spec": self.spec, "log": self.log, "snapshot": self.snapshot, "limits": list(self.limits)}


def _held(db: EstateDB, directory: Directory, pid: str) -> list[tuple[Assignment, RoleDefinition, tuple[str, ...]]]:
    groups = sorted(directory.groups_of(pid))
    out = []
    for a in db.assignments_of([pid, *groups]):
        role = db.role(a.role_definition_id)
        if a.eligible or role is None:
            continue
        out.append((a, role, () if a.principal_id == pid else (a.principal_id,)))
    return out


def _narrowest(db: EstateDB, scopes: list[str]) -> str:
    """The deepest scope at or above every one of *scopes* (the hierarchy from the snapshot)."""
    chains = [db.ancestry(s) for s in scopes]
    others = [set(c) for c in chains[1:]]
    for k in chains[0]:
        if all(k in o for o in others):
            return k
    return "/"


def _assignable(db: EstateDB, scope_low: str, spelled: dict[str, str]) -> str:
    """The narrowest scope a custom role may be assignable at that is at or above *scope_low*."""
    for k in db.ancestry(scope_low):
        if k == "/":
            break
        try:
            kind = parse_scope(spelled.get(k, k)).kind
        except InputError:
            continue
        if kind in _ASSIGNABLE_KINDS:
            return spelled.get(k) or (db.scope(k) or (k,))[0]
    raise InputError("the use spans the whole tenant: no management group, subscription or resource group covers "
                     "it, and a custom role cannot be assignable at '/'")


def _spelled(db: EstateDB, key: str, log_scopes: dict[str, str]) -> str:
    """A scope key in Azure's (or the log's) spelling: the hierarchy's, else a used scope's prefix."""
    node = db.scope(key)
    if node:
        return node[0]
    if key in log_scopes:
        return log_scopes[key]
    for low, text in log_scopes.items():
        if low.startswith(key + "/") and len(text) > len(key):
            return text[:len(key)]
    return key


def rightsize(db: EstateDB, log: ActivityLog, catalog: Catalog, principal: str, *,
              data_log: ActivityLog | None = None, name: str | None = None) -> Rightsizing:
    """Propose a least-privilege custom role for *principal* from its use in *log*."""
    from rbactool.diff import diff_roles
    from rbactool.effective import effective_operations
    from rbactool.usage_analysis import caller_principal

    pid = resolve_principal(db, principal)
    directory = Directory(db)
    ptype, pname = directory.describe(pid)
    held = _held(db, directory, pid)
    if not held:
        raise InputError(f"principal {principal!r} holds no active role assignment in the snapshot {db.path}: "
                         "nothing to right-size")
    kept: dict[str, dict[str, Any]] = {}
    added: dict[str, dict[str, Any]] = {}
    denied: set[str] = set()
    scopes_used: list[str] = []
    resolved: dict[str, str] = {}
    for (caller, op, scope), use in log.uses.items():
        if caller not in resolved:
            resolved[caller] = caller_principal(db, caller)
        if resolved[caller] != pid:
            continue
        spelling = _spelling(catalog, log.operations.get(op, op))
        if not use.allowed:
            denied.add(spelling)
            continue
        chain = set(db.ancestry(scope))
        granted = any(scope_key(a.scope) in chain and role_grants(r, op, False) for a, r, _ in held)
        entry = (kept if granted else added).setdefault(op, {"operation": spelling, "calls": 0, "scopes": []})
        entry["calls"] += use.count()
        if len(entry["scopes"]) < 20:
            entry["scopes"].append(log.scopes.get(scope, scope))
        scopes_used.append(scope)
    for op, entry in added.items():
        entry["reason"] = ("used in the logs but not granted at that scope by the principal's assignments in the "
                           "snapshot: the snapshot may predate a change, or the access came another way (a group "
                           "membership, an assignment the snapshot could not read); added so the proposal keeps "
                           "working, review it")
        kept.pop(op, None)
    denied -= {e["operation"] for e in (*kept.values(), *added.values())}
    if not kept and not added:
        raise InputError(f"no authorised write, delete or action of {principal!r} in the logs "
                         f"({log.counted:,} events counted): nothing to build a role from; its assignments are "
                         "unobserved (see rbactool usage)")
    current = RoleDefinition(
        name=f"Current access of {pname or pid}", description="Every block of every role the principal holds.",
        permissions=tuple(b for _, r, _ in held for b in r.permissions),
        assignable_scopes=tuple(dict.fromkeys(a.scope for a, _, _ in held)), is_custom=True)
    eff = effective_operations(current, catalog)
    actions = sorted({e["operation"] for e in (*kept.values(), *added.values())}, key=str.lower)
    reads: list[dict[str, Any]] = []
    for ns in sorted({namespace_of(o) for o in actions}, key=str.lower):
        held_reads = sorted((o.name for o in eff.actions if o.name.lower().endswith("/read")
                             and namespace_of(o.name).lower() == ns.lower()), key=str.lower)
        every = {o.name.lower() for o in catalog.expand(f"{ns}/*/read", data_action=False)}
        if held_reads and every and {r.lower() for r in held_reads} == every:
            actions.append(f"{_ns_spelling(catalog, ns)}/*/read")
            reads.append({"namespace": ns, "kept": "all", "operations": len(held_reads)})
        elif held_reads:
            actions += held_reads
            reads.append({"namespace": ns, "kept": "some", "operations": len(held_reads)})
    data_actions, data = _data_actions(eff, data_log, db, pid, catalog)
    spelled = {k: _spelled(db, k, log.scopes) for k in {scope_key(s) for s in scopes_used}}
    targets = _targets(db, sorted(spelled), bool(data_actions))
    for t in targets:
        for k in db.ancestry(t):
            spelled.setdefault(k, _spelled(db, k, log.scopes))
    assignable = tuple(dict.fromkeys(_assignable(db, t, spelled) for t in targets))
    scopes = [spelled[t] for t in targets]
    role_name = name or f"Right-sized {pname or pid}"[:500]
    window = f"{log.first or '?'} .. {log.last or '?'}"
    role = RoleDefinition(
        name=role_name, is_custom=True,
        description=(f"Least privilege for {pname or pid} from its Activity Log use ({window}), proposed by "
                     "rbactool rightsize.")[:2000],
        permissions=(Permission(tuple(dict.fromkeys(actions)), (), tuple(data_actions), ()),),
        assignable_scopes=assignable)
    diff = diff_roles(current, role, catalog, findings=False)
    replaces = [{"assignmentId": a.id, "role": r.name, "scope": a.scope, "principalId": a.principal_id,
                 "via": list(via)} for a, r, via in held]
    spec = _spec(role, pid, ptype or _type_of(held), pname, scopes)
    return Rightsizing(pid, ptype, pname, role, scopes[0], replaces, list(kept.values()),
                       list(added.values()), reads, data, sorted(denied, key=str.lower), diff, spec, current,
                       log=log.summary(), snapshot=snapshot_info(db), assignment_scopes=scopes)


def _targets(db: EstateDB, keys: list[str], data: bool) -> list[str]:
    """Where to assign: the narrowest scope covering every use; one per subscription instead when
    that is a management group and the role has data actions (Azure refuses a custom role with
    DataActions assignable at a management group), or when nothing below the root covers them all."""
    narrow = _narrowest(db, keys)
    if narrow != "/" and not (data and _kind(narrow) == MANAGEMENT_GROUP):
        return [narrow]
    groups: dict[str, list[str]] = {}
    for k in keys:
        parts = k.split("/")
        groups.setdefault(parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else k, []).append(k)
    return [_narrowest(db, ks) for _, ks in sorted(groups.items())]


def _kind(key: str) -> str:
    try:
        return parse_scope(key).kind
    except InputError:
        return ""


def _type_of(held: list) -> str:
    for a, _, via in held:
        if not via and a.principal_type:
            return a.principal_type
    return "ServicePrincipal"


def _data_actions(eff, data_log: ActivityLog | None, db: EstateDB, pid: str,
                  catalog: Catalog) -> tuple[list[str], dict[str, Any]]:
    from rbactool.usage_analysis import caller_principal

    granted = [o.name for o in eff.data_actions] + list(eff.unresolved_data_actions)
    if data_log is None:
        return sorted(granted, key=str.lower), {"kept": "as granted today (no data-plane log)",
                                                "count": len(granted)}
    low = {g.lower(): g for g in granted}
    used = sorted({low[op] for (caller, op, _), use in data_log.uses.items()
                   if use.allowed and op in low and caller_principal(db, caller) == pid},
                  key=str.lower)
    return used, {"kept": "used in the data-plane log", "count": len(used), "granted": len(granted)}


def _spelling(catalog: Catalog, op: str) -> str:
    found = catalog.get(op)
    return found[0].name if found else op


def _ns_spelling(catalog: Catalog, ns: str) -> str:
    info = catalog.provider(ns)
    return info.name if info is not None and getattr(info, "name", None) else ns


def _spec(role: RoleDefinition, pid: str, ptype: str, pname: str, scopes: list[str]) -> dict[str, Any]:
    from rbactool.model import to_az_dict

    key = re.sub(r"[^a-z0-9]+", "-", role.name.lower()).strip("-")[:60].strip("-") or "rightsized"
    definition = dict(to_az_dict(role))
    definition.pop("Id", None)
    principal: dict[str, Any] = {"id": pid, "type": ptype if ptype in ("User", "Group", "ServicePrincipal")
                                 else "ServicePrincipal"}
    if pname:
        principal["name"] = pname
    short = uuid.uuid5(uuid.NAMESPACE_URL, f"rbactool-rightsize:{pid}").hex[:8]
    return {"version": 1, "name": f"rightsize-{short}",
            "description": f"Moves {pname or pid} onto a right-sized role (rbactool rightsize)",
            "roles": [{"key": key, "definition": definition}],
            "assignments": [{"role": key, "principal": principal, "scope": scope} for scope in scopes]}
