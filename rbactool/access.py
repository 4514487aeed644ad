"""Who can do what, where: access analysis over a snapshot (``rbactool.estate.EstateDB``).

Azure's own evaluation (``../shared/research/azure-access-model.md`` section 1), offline:

1. every role assignment at the scope or any ancestor (resource -> resource group -> subscription
   -> management-group chain -> tenant root group -> ``/``) applies;
2. a role grants an operation when some permission block matches it in ``Actions`` (control
   plane) or ``DataActions`` (data plane) and the *same* block's ``NotActions``/``NotDataActions``
   does not (wildcards match as ARM matches them: case-insensitive, ``*`` spans segments);
3. a group's assignments reach its members transitively (the answer says via which groups);
4. a deny assignment at the scope (or an ancestor, unless ``doNotApplyToChildScopes``) that names
   the principal, one of its groups or everyone, and does not exclude them, wins over any grant;
5. a grant through a conditional assignment is marked with its condition; a PIM-eligible
   assignment is listed apart ("can activate").

``escalations`` finds principals who can give themselves or others more access: role assignment
writes (with delegation conditions evaluated by ``rbactool.conditions``) and role definition writes
over custom roles that are assigned. Pure: no azure.*, no network.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rbactool.conditions import ConditionError, NotEvaluable, evaluate, parse_condition
from rbactool.errors import InputError
from rbactool.estate import EVERYONE, Assignment, DenyAssignment, EstateDB, scope_key
from rbactool.model import Permission, RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog

__all__ = ["SCHEMA_VERSION", "Grant", "WhoCan", "who_can", "PrincipalAccess", "principal_access",
           "Escalation", "EscalationReport", "escalations", "ROLE_ASSIGNMENTS_WRITE", "ROLE_DEFINITIONS_WRITE",
           "Directory", "role_grants", "resolve_principal", "snapshot_info"]

SCHEMA_VERSION = 1
ROLE_ASSIGNMENTS_WRITE = "Microsoft.Authorization/roleAssignments/write"
ROLE_DEFINITIONS_WRITE = "Microsoft.Authorization/roleDefinitions/write"
MAX_GROUP_DEPTH = 32
#: Roles an escalation path lists in JSON (the most powerful first); ``rolesCount`` has the total.
ROLES_SHOWN = 10
_DEFINITION_ATTR = "@request[microsoft.authorization/roleassignments:roledefinitionid]"
_PRINCIPAL_ATTR = "@request[microsoft.authorization/roleassignments:principalid]"
_TYPE_ATTR = "@request[microsoft.authorization/roleassignments:principaltype]"


@functools.lru_cache(maxsize=65536)
def _rx(pattern: str):
    from rbactool.catalog import compile_pattern

    return compile_pattern(pattern.strip())


def _matches(patterns: Iterable[str], low: str) -> bool:
    return any(p.strip() and _rx(p).match(low) for p in patterns)


def block_grants(block: Permission, operation: str, data: bool) -> bool:
    low = operation.lower()
    if data:
        return _matches(block.data_actions, low) and not _matches(block.not_data_actions, low)
    return _matches(block.actions, low) and not _matches(block.not_actions, low)


def role_grants(role: RoleDefinition, operation: str, data: bool) -> bool:
    """Whether some permission block of *role* grants *operation* (NotActions per block)."""
    return any(block_grants(b, operation, data) for b in role.permissions)


def _is_data(operation: str, catalog: Catalog | None) -> tuple[bool, str | None]:
    """(is a data action, note). The catalog decides; an unknown operation is taken as an action."""
    if catalog is None:
        return False, None
    ops = catalog.get(operation)
    if not ops:
        from rbactool.catalog import did_you_mean

        hint = did_you_mean(catalog, operation, False) or did_you_mean(catalog, operation, True)
        if hint:  # a typo answers another question (wildcards match it): refuse, as explain does
            raise InputError(f"operation {operation!r} is not in the operations catalog{hint}")
        return False, f"{operation} is not in the operations catalog: evaluated as a control-plane action"
    return all(o.is_data_action for o in ops), None


@dataclass(frozen=True)
class Grant:
    """One path by which a principal holds an operation: principal <- groups <- assignment <- role."""
    principal_id: str
    principal_type: str
    principal_name: str
    role: str
    role_definition_id: str
    assignment_id: str
    assignment_scope: str
    via: tuple[str, ...] = ()  # groups, from the assigned group down to the principal's own group
    condition: str | None = None
    eligible: bool = False
    denied_by: str | None = None  # the deny assignment that blocks this grant
    via_names: tuple[str, ...] = ()  # display names of the *via* groups, where the snapshot has them

    def to_dict(self) -> dict[str, Any]:
        d = {"principalId": self.principal_id, "principalType": self.principal_type,
             "principalName": self.principal_name, "role": self.role, "roleDefinitionId": self.role_definition_id,
             "assignmentId": self.assignment_id, "assignmentScope": self.assignment_scope, "via": list(self.via),
             "viaNames": list(self.via_names),
             "conditional": self.condition is not None, "condition": self.condition, "eligible": self.eligible}
        if self.denied_by:
            d["deniedBy"] = self.denied_by
        return d


class Directory:
    """Group expansion over the snapshot, cached, cycle-safe, bounded in depth."""

    def __init__(self, db: EstateDB):
        self.db = db
        self._groups_of: dict[str, frozenset[str]] = {}
        self._paths: dict[str, dict[str, tuple[str, ...]]] = {}
        self._names: dict[str, tuple[str, str]] = {}

    def describe(self, pid: str, fallback_type: str = "") -> tuple[str, str]:
        if pid not in self._names:
            p = self.db.principal(pid)
            self._names[pid] = (p.type or fallback_type, p.name) if p else (fallback_type, "")
        return self._names[pid]

    def names(self, ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.describe(i)[1] or i for i in ids)

    def holders(self, principal_id: str) -> Iterator[tuple[str, tuple[str, ...]]]:
        """The assigned principal itself (no groups) and every transitive member with its group path."""
        yield principal_id, ()
        seen = {principal_id}
        frontier = [(principal_id, (principal_id,))]
        for _ in range(MAX_GROUP_DEPTH):
            nxt = []
            for gid, path in frontier:
                for m in self.db.members(gid):
                    if m in seen:
                        continue
                    seen.add(m)
                    yield m, path
                    nxt.append((m, (*path, m)))
            if not nxt:
                return
            frontier = nxt

    def group_paths(self, pid: str) -> dict[str, tuple[str, ...]]:
        """Every group *pid* belongs to, transitively -> the shortest path from that group down to
        *pid*'s own group (breadth first, cycle-safe, bounded in depth)."""
        if pid not in self._paths:
            paths: dict[str, tuple[str, ...]] = {}
            frontier: list[tuple[str, tuple[str, ...]]] = [(pid, ())]
            for _ in range(MAX_GROUP_DEPTH):
                nxt = []
                for member, below in frontier:
                    for g in self.db.groups_of(member):
                        if g not in paths:
                            paths[g] = (g, *below)
                            nxt.append((g, paths[g]))
                if not nxt:
                    break
                frontier = nxt
            self._paths[pid] = paths
        return self._paths[pid]

    def groups_of(self, pid: str) -> frozenset[str]:
        """Every group *pid* belongs to, transitively."""
        if pid not in self._groups_of:
            self._groups_of[pid] = frozenset(self.group_paths(pid))
        return self._groups_of[pid]


_Directory = Directory


def _deny_applies(deny: DenyAssignment, target_key: str, pid: str, groups: frozenset[str]) -> bool:
    if deny.do_not_apply_to_child_scopes and scope_key(deny.scope) != target_key:
        return False
    return _deny_names(deny, {pid} | groups)


def _deny_names(deny: DenyAssignment, who: set[str]) -> bool:
    """Whether *deny* names one of *who* (a principal and its groups), or everyone, and excludes none."""
    if not (EVERYONE in deny.principals or who & set(deny.principals)):
        return False
    return not who & set(deny.exclude_principals)


def _denying(denies: list[DenyAssignment], operation: str, data: bool) -> list[DenyAssignment]:
    return [d for d in denies if any(block_grants(b, operation, data) for b in d.permissions)]


@dataclass
class WhoCan:
    operation: str
    is_data_action: bool
    scope: str
    grants: list[Grant] = field(default_factory=list)
    eligible: list[Grant] = field(default_factory=list)
    denied: list[Grant] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    snapshot: dict[str, Any] = field(default_factory=dict)

    def principals(self) -> list[str]:
        return sorted({g.principal_id for g in self.grants})

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "operation": self.operation, "isDataAction": self.is_data_action,
                "scope": self.scope, "snapshot": self.snapshot, "answers": [g.to_dict() for g in self.grants],
                "eligible": [g.to_dict() for g in self.eligible], "denied": [g.to_dict() for g in self.denied],
                "notes": self.notes}


def snapshot_info(db: EstateDB) -> dict[str, Any]:
    """What an answer says about the snapshot it came from: when, which tenant, its gaps."""
    return _snapshot_info(db)


def _snapshot_info(db: EstateDB) -> dict[str, Any]:
    info = {k: db.meta.get(k) for k in ("taken_at", "tenant_id", "cloud", "source")}
    info["path"] = db.path
    gaps = db.gaps()
    info["gaps"] = [{"scope": g.scope, "api": g.api, "status": g.status, "code": g.code} for g in gaps]
    return info


def _check_operation(operation: str) -> str:
    op = operation.strip()
    if not op or "/" not in op or "*" in op or len(op) > 512:
        raise InputError(f"operation {operation!r}: expected one operation such as "
                         "Microsoft.Storage/storageAccounts/listKeys/action (no wildcards)")
    return op


def _check_scope(scope: str) -> str:
    from rbactool.scopes import parse_scope

    return str(parse_scope(scope))


def who_can(db: EstateDB, operation: str, scope: str, catalog: Catalog | None = None) -> WhoCan:
    """Every principal that can perform *operation* at *scope*, each with its path."""
    operation = _check_operation(operation)
    scope = _check_scope(scope)
    data, note = _is_data(operation, catalog)
    out = WhoCan(operation, data, scope, notes=[note] if note else [], snapshot=_snapshot_info(db))
    chain = db.ancestry(scope)
    if not any(db.scope(k) is not None and db.scope(k)[1] == "subscription" for k in chain) \
            and scope_key(scope).startswith("/subscriptions/"):
        out.notes.append(f"the subscription of {scope} is not in the snapshot: only assignments at management "
                         "groups and / are seen")
    target = chain[0]
    directory = _Directory(db)
    denies = _denying(db.denies_at(chain), operation, data)
    for a in db.assignments_at(chain):
        role = db.role(a.role_definition_id)
        if role is None:
            out.notes.append(f"assignment {a.id}: role definition {a.role_definition_id} is not in the snapshot")
            continue
        if not role_grants(role, operation, data):
            continue
        for pid, via in directory.holders(a.principal_id):
            ptype, name = directory.describe(pid, a.principal_type if pid == a.principal_id else "")
            deny = next((d for d in denies if _deny_applies(d, target, pid, directory.groups_of(pid))), None)
            g = Grant(pid, ptype, name, role.name, a.role_definition_id, a.id, a.scope, via, a.condition, a.eligible,
                      deny.id if deny else None, directory.names(via))
            (out.denied if deny else out.eligible if a.eligible else out.grants).append(g)
    for lst in (out.grants, out.eligible, out.denied):
        lst.sort(key=_grant_order)
    if db.meta.get("groups_read") is False and any(g.principal_type == "Group" for g in out.grants + out.eligible):
        out.notes.append("group memberships were not read (snapshot --groups): the members of the groups "
                         "listed here can too, and are not listed")
    return out


def _grant_order(g: Grant) -> tuple[str, str, str]:
    return (g.principal_name.lower() or "~", g.principal_id, g.assignment_id)


# --------------------------------------------------------------------------- one principal


@dataclass(frozen=True)
class Held:
    """One assignment a principal holds (directly or via groups), with what its role grants."""
    grant: Grant
    actions: int
    data_actions: int
    risks: tuple[str, ...]
    relation: str  # "at-or-above" (applies at --scope) | "below" (within --scope) | "" (no --scope)


@dataclass
class PrincipalAccess:
    principal_id: str
    principal_type: str
    principal_name: str
    groups: list[str]
    held: list[Held] = field(default_factory=list)
    denies: list[dict[str, Any]] = field(default_factory=list)
    scope: str | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)
    group_names: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "principalId": self.principal_id,
                "principalType": self.principal_type, "principalName": self.principal_name, "groups": self.groups,
                "scope": self.scope, "snapshot": self.snapshot,
                "assignments": [{**h.grant.to_dict(), "effectiveActions": h.actions,
                                 "effectiveDataActions": h.data_actions, "riskClasses": list(h.risks),
                                 **({"relation": h.relation} if h.relation else {})} for h in self.held],
                "denyAssignments": self.denies}


def principal_access(db: EstateDB, principal: str, catalog: Catalog, *, scope: str | None = None) -> PrincipalAccess:
    """Everything *principal* (an object id, or a name the snapshot knows) can do, by scope."""
    from rbactool.effective import effective_operations

    if scope:
        scope = _check_scope(scope)
    pid = _principal_id(db, principal)
    directory = _Directory(db)
    ptype, name = directory.describe(pid)
    groups = directory.groups_of(pid)
    paths = directory.group_paths(pid)
    chain = set(db.ancestry(scope)) if scope else set()
    scope_k = scope_key(scope) if scope else None
    out = PrincipalAccess(pid, ptype, name, sorted(groups), scope=scope, snapshot=_snapshot_info(db),
                          group_names={g: directory.describe(g)[1] for g in groups if directory.describe(g)[1]})
    effective: dict[str, tuple[int, int, tuple[str, ...]]] = {}
    for a in db.assignments_of({pid, *groups}):
        relation = ""
        if scope_k is not None:
            k = scope_key(a.scope)
            if k in chain:
                relation = "at-or-above"
            elif k.startswith(scope_k.rstrip("/") + "/"):
                relation = "below"
            else:
                continue
        role = db.role(a.role_definition_id)
        if role is None:
            continue
        if a.role_definition_id not in effective:
            eff = effective_operations(role, catalog)
            effective[a.role_definition_id] = (len(eff.actions), len(eff.data_actions), _risks(eff))
        n_actions, n_data, risks = effective[a.role_definition_id]
        via = paths.get(a.principal_id, ()) if a.principal_id != pid else ()
        grant = Grant(pid, ptype, name, role.name, a.role_definition_id, a.id, a.scope, via, a.condition, a.eligible,
                      None, directory.names(via))
        out.held.append(Held(grant, n_actions, n_data, risks, relation))
    out.held.sort(key=lambda h: (scope_key(h.grant.assignment_scope), h.grant.role.lower(), h.grant.assignment_id))
    who = {pid, *groups}
    for d in _all_denies(db):
        if scope_k is not None and scope_key(d.scope) not in chain and not scope_key(d.scope).startswith(
                scope_k.rstrip("/") + "/"):
            continue  # neither at, above nor below --scope
        if _deny_names(d, who):
            out.denies.append({"id": d.id, "scope": d.scope, "doNotApplyToChildScopes": d.do_not_apply_to_child_scopes,
                               "actions": sorted({x for b in d.permissions for x in b.actions}),
                               "dataActions": sorted({x for b in d.permissions for x in b.data_actions})})
    return out


def _risks(eff) -> tuple[str, ...]:
    """The risk classes among a role's effective operations (stops once every class is found)."""
    from rbactool.risk import RISK_CLASSES, risk_classes

    found: set[str] = set()
    for op in (*eff.actions, *eff.data_actions):
        found.update(risk_classes(op.name, op.is_data_action))
        if len(found) == len(RISK_CLASSES):
            break
    return tuple(c for c in RISK_CLASSES if c in found)


def _all_denies(db: EstateDB) -> list[DenyAssignment]:
    keys = [k for (k,) in db.con.execute("SELECT DISTINCT scope_key FROM deny_assignments")]
    return db.denies_at(keys) if keys else []


def resolve_principal(db: EstateDB, principal: str) -> str:
    """The object id of *principal*: an object id the snapshot knows, or a unique principal name."""
    return _principal_id(db, principal)


def _principal_id(db: EstateDB, principal: str) -> str:
    p = principal.strip().lower()
    if db.principal(p) is not None or db.assignments_of([p]):
        return p
    rows = db.con.execute("SELECT id FROM principals WHERE lower(name) = ?", (p,)).fetchall()
    if len(rows) == 1:
        return rows[0][0]
    if len(rows) > 1:
        raise InputError(f"principal {principal!r}: {len(rows)} principals have that name; give the object id")
    raise InputError(f"principal {principal!r} is not in the snapshot {db.path} (no assignment, no directory entry)")


# --------------------------------------------------------------------------- escalations


@dataclass(frozen=True)
class Escalation:
    kind: str  # "assign-roles" | "edit-assigned-role"
    grant: Grant
    detail: str
    roles: tuple[str, ...] = ()  # privileged roles it can hand out, or the assigned roles it can edit
    to: tuple[str, ...] = ()  # "self", "others" ...
    evaluated: bool = True  # False: a condition could not be evaluated (reported, not assumed)

    def to_dict(self) -> dict[str, Any]:
        # the most powerful roles first, at most ROLES_SHOWN of them (rolesCount says how many)
        return {"kind": self.kind, **self.grant.to_dict(), "detail": self.detail,
                "roles": list(self.roles[:ROLES_SHOWN]), "rolesCount": len(self.roles),
                "to": list(self.to), "conditionEvaluated": self.evaluated}


def is_privileged(role: RoleDefinition) -> bool:
    """A role that hands out access or acts on everything: it can write role assignments or role
    definitions, or it grants every provider's writes/actions (Owner, User Access Administrator,
    Role Based Access Control Administrator, Contributor and equivalents, judged by permissions)."""
    return (role_grants(role, ROLE_ASSIGNMENTS_WRITE, False) or role_grants(role, ROLE_DEFINITIONS_WRITE, False)
            or any(p.strip() in ("*", "*/write", "*/action") for b in role.permissions for p in b.actions))


def _covers(assignable: Iterable[str], chain: set[str], below_of: str) -> bool:
    """Whether a role with these assignable scopes can be assigned at the scope (whose ancestry is
    *chain*) or somewhere below it."""
    for s in assignable:
        k = scope_key(s)
        if k in chain or k.startswith(below_of.rstrip("/") + "/"):
            return True
    return False


@dataclass
class EscalationReport:
    found: list[Escalation]
    snapshot: dict[str, Any]

    def principals(self) -> list[str]:
        return sorted({e.grant.principal_id for e in self.found})

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "snapshot": self.snapshot,
                "escalations": [e.to_dict() for e in self.found]}


def escalations(db: EstateDB) -> EscalationReport:
    """Every principal who can give itself or others more access, with its path."""
    return _Escalations(db).run()


_Finding = tuple[str, str, tuple[str, ...], tuple[str, ...], bool]  # kind, detail, roles, to, evaluated
_PROBES = (("others", "11111111-2222-4333-8444-555555555555", "User"),
           ("others", "11111111-2222-4333-8444-555555555556", "ServicePrincipal"),
           ("others", "11111111-2222-4333-8444-555555555557", "Group"))


class _Escalations:
    """One pass over the assignments of roles that write role assignments or definitions; what
    depends only on the assignment's scope (the privileged roles assignable there, the assigned
    custom roles editable there, the deny assignments) is computed once per scope."""

    def __init__(self, db: EstateDB):
        self.db = db
        self.roles = {(r.role_id or "").lower(): r for r in db.roles()}
        self.assigners = {g for g, r in self.roles.items() if role_grants(r, ROLE_ASSIGNMENTS_WRITE, False)}
        self.definers = {g for g, r in self.roles.items() if role_grants(r, ROLE_DEFINITIONS_WRITE, False)}
        self.keys = {g: tuple(scope_key(s) for s in r.assignable_scopes) for g, r in self.roles.items()}
        self.privileged = sorted((g for g, r in self.roles.items() if is_privileged(r)),
                                 key=lambda g: _power(self.roles[g]))
        self.assigned_custom = sorted(g for (g,) in db.con.execute(
            "SELECT DISTINCT ra.role_definition_id FROM role_assignments ra JOIN role_definitions rd "
            "ON rd.id = ra.role_definition_id WHERE rd.type = 'CustomRole'"))
        self.directory = _Directory(db)
        self._at: dict[str, tuple[list[str], set[str]]] = {}
        self._candidates: dict[str, list[str]] = {}
        self._editable: dict[str, tuple[str, ...]] = {}
        self._denies: dict[tuple[str, str], list[DenyAssignment]] = {}
        self._findings: dict[tuple, _Finding] = {}
        self._evaluated: dict[tuple, bool] = {}
        self._conditions: dict[str, Any] = {}

    def _parsed(self, text: str):
        if text not in self._conditions:
            try:
                self._conditions[text] = parse_condition(text)
            except ConditionError as e:
                self._conditions[text] = e
        found = self._conditions[text]
        if isinstance(found, ConditionError):
            raise found
        return found

    def chain(self, scope: str) -> tuple[list[str], set[str]]:
        k = scope_key(scope)
        if k not in self._at:
            chain = self.db.ancestry(scope)
            self._at[k] = (chain, set(chain))
        return self._at[k]

    def _indexes(self) -> None:
        """Built once, through the hierarchy (a management group's subscriptions are below it, which
        their scope strings do not show): scope -> privileged roles assignable at it or below it, and
        scope -> assigned custom roles all of whose assignable scopes are at it or below it."""
        self._below: dict[str, set[str]] = {}
        for g in self.privileged:
            for k in self.keys[g]:
                for s in self.db.ancestry(k):
                    self._below.setdefault(s, set()).add(g)
        self._edit_at: dict[str, list[str]] = {}
        for g in self.assigned_custom:
            common: set[str] | None = None
            for k in self.keys[g]:
                anc = set(self.db.ancestry(k))
                common = anc if common is None else common & anc
            for s in common or ():
                self._edit_at.setdefault(s, []).append(self.roles[g].name)

    def candidates(self, a_key: str, chain: set[str]) -> list[str]:
        """Privileged roles (most powerful first) assignable at *a_key*, above it or below it."""
        if a_key not in self._candidates:
            below = self._below.get(a_key, set())
            self._candidates[a_key] = [g for g in self.privileged
                                       if g in below or any(k in chain for k in self.keys[g])]
        return self._candidates[a_key]

    def editable(self, a_key: str) -> tuple[str, ...]:
        """Assigned custom roles a role-definition writer at *a_key* can change (it must hold the
        write at every assignable scope of the role)."""
        if a_key not in self._editable:
            self._editable[a_key] = tuple(sorted(self._edit_at.get(a_key, ())))
        return self._editable[a_key]

    def denies(self, a_key: str, chain: list[str], op: str) -> list[DenyAssignment]:
        if (a_key, op) not in self._denies:
            self._denies[(a_key, op)] = _denying(self.db.denies_at(chain), op, False)
        return self._denies[(a_key, op)]

    def assign_finding(self, a: Assignment, a_key: str, chain: set[str]) -> _Finding:
        # a condition that does not name principal ids answers alike for every holder of its type
        by_id = a.condition is not None and _PRINCIPAL_ATTR.lower() in a.condition.lower().replace(" ", "")
        key = (a_key, a.condition, a.principal_id if by_id else a.principal_type if a.condition else None)
        if key not in self._findings:
            self._findings[key] = self._assign_finding(a, self.candidates(a_key, chain))
        return self._findings[key]

    def _assign_finding(self, a: Assignment, candidates: list[str]) -> _Finding:
        if a.condition is None:
            return ("assign-roles", "can assign any role, privileged ones included, to anyone (itself too)",
                    tuple(self.roles[g].name for g in candidates), ("self", "others"), True)
        try:
            cond = self._parsed(a.condition)
        except ConditionError as e:
            return ("assign-roles", f"its delegation condition could not be parsed ({e}): not evaluated",
                    (), ("unknown",), False)
        allowed: list[str] = []
        to: set[str] = set()
        probes = (("self", a.principal_id, a.principal_type or "User"), *_PROBES)

        def allows(guid: str, pid: str, ptype: str) -> bool:  # the same request answers the same everywhere
            key = (a.condition, guid, pid, ptype)
            if key not in self._evaluated:
                self._evaluated[key] = evaluate(cond, ROLE_ASSIGNMENTS_WRITE, {
                    _DEFINITION_ATTR: [guid], _PRINCIPAL_ATTR: [pid], _TYPE_ATTR: [ptype]})
            return self._evaluated[key]

        try:
            for guid in candidates:
                hits = [who for who, pid, ptype in probes if allows(guid, pid, ptype)]
                if hits:
                    allowed.append(self.roles[guid].name)
                    to.update(hits)
        except NotEvaluable as e:
            return ("assign-roles", f"its delegation condition was not evaluated: {e}", (), ("unknown",), False)
        if not allowed:
            return ("assign-roles", "constrained by its condition to roles that are not privileged", (), (), True)
        return ("assign-roles", "its delegation condition still allows privileged roles", tuple(allowed),
                tuple(sorted(to, reverse=True)), True)

    def run(self) -> EscalationReport:
        self._indexes()
        out: list[Escalation] = []
        report = EscalationReport(out, _snapshot_info(self.db))
        for a in self.db.assignments_of_roles(self.assigners | self.definers):
            role = self.roles[a.role_definition_id]
            chain_list, chain = self.chain(a.scope)
            a_key = chain_list[0]
            found: list[_Finding] = []
            if a.role_definition_id in self.assigners:
                found.append(self.assign_finding(a, a_key, chain))
            if a.role_definition_id in self.definers and (editable := self.editable(a_key)):
                found.append(("edit-assigned-role", f"can change {len(editable)} custom role(s) that are "
                              "assigned, widening every assignment of them", editable, ("holders of those roles",),
                              True))
            found = [f for f in found if f[2] or not f[4]]
            if not found:
                continue
            for pid, via in self.directory.holders(a.principal_id):
                ptype, name = self.directory.describe(pid, a.principal_type if pid == a.principal_id else "")
                groups = self.directory.groups_of(pid)
                for kind, detail, granted_roles, to, evaluated in found:
                    op = ROLE_ASSIGNMENTS_WRITE if kind == "assign-roles" else ROLE_DEFINITIONS_WRITE
                    if any(_deny_applies(d, a_key, pid, groups) for d in self.denies(a_key, chain_list, op)):
                        continue
                    grant = Grant(pid, ptype, name, role.name, a.role_definition_id, a.id, a.scope, via,
                                  a.condition, a.eligible, None, self.directory.names(via))
                    out.append(Escalation(kind, grant, detail, granted_roles, to, evaluated))
        out.sort(key=lambda e: (e.grant.principal_name.lower() or "~", e.grant.principal_id, e.kind,
                                e.grant.assignment_id))
        return report


def _power(r: RoleDefinition) -> tuple[int, str]:
    """Sort key, the most powerful first: Owner-like (everything and assign), then those that act on
    everything (Contributor-like), then those that assign roles, then the rest."""
    everything = any(p.strip() == "*" for b in r.permissions for p in b.actions)
    assigns = role_grants(r, ROLE_ASSIGNMENTS_WRITE, False)
    return (0 if everything and assigns else 1 if everything else 2 if assigns else 3, r.name.lower())
