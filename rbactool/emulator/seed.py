"""``rbactool emulator --seed FILE``: a whole estate (hierarchy, directory, roles, assignments,
deny assignments, PIM eligibility) loaded into the emulator in one go.

The file is YAML or JSON, read by rbactool's one reader (:mod:`rbactool.readers`) with raised
size limits (a 100,000-assignment estate is ~20 MB of JSON) and every other limit kept; this
module then bounds the count of every list, the hierarchy depth and the group memberships, and
checks every reference. Any problem is one :class:`SeedError` line naming the file and the key
path (``seed.yaml: role_assignments[3].role: unknown role 'Reeder'``), exit 3. Nothing is
changed unless the whole seed is valid: :func:`parse_seed` builds the records, :func:`apply_seed`
swaps them in under the state lock.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rbactool.estate as estate
from rbactool.emulator.routing import Hierarchy
from rbactool.emulator.state import (
    PRINCIPAL_TYPES,
    DenyAssignmentRecord,
    DenyPrincipal,
    EligibilityRecord,
    ManagementGroupRecord,
    PermissionBlock,
    Principal,
    RoleAssignmentRecord,
    RoleDefinitionRecord,
    State,
    arm_timestamp,
    make_principal,
)
from rbactool.errors import InputError, ScopeError
from rbactool.readers import clip
from rbactool.scopes import MANAGEMENT_GROUP, ROOT, Scope, check_management_group_id, is_guid, parse_scope

#: Size limits of a seed file (the reader's defaults are for role files: 16 MiB, 1,000,000 values).
SEED_MAX_BYTES = estate.SEED_MAX_BYTES
SEED_MAX_VALUES = estate.SEED_MAX_VALUES
#: Counts a seed may hold (Azure's own limits where there is one: 10,000 management groups,
#: 5,000 custom roles; the others bound memory: ~1 KB per assignment).
LIMITS = {
    "management_groups": 10_000,
    "subscriptions": 10_000,
    "resource_groups": 100_000,
    "principals": 200_000,
    "groups": 50_000,
    "role_definitions": 5_000,
    "role_assignments": 300_000,
    "deny_assignments": 20_000,
    "eligible_assignments": 100_000,
}
MAX_GROUP_MEMBERS = 2_000_000  # memberships over all groups
MAX_MG_DEPTH = 6  # levels below the tenant root group, as in Azure
ALL_PRINCIPALS = "00000000-0000-0000-0000-000000000000"
TOP_KEYS = ("tenant", *LIMITS)
_MAX_TEXT = 1024


class SeedError(InputError):
    """The seed file cannot be loaded (exit 3)."""


@dataclass
class Seed:
    """A validated seed: the records :func:`apply_seed` puts into the state."""

    tenant_id: str
    subscriptions: list[str] = field(default_factory=list)
    subscription_names: dict[str, str] = field(default_factory=dict)
    subscription_parents: dict[str, str] = field(default_factory=dict)
    mg_tree: dict[str, ManagementGroupRecord] = field(default_factory=dict)
    management_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    resource_groups: dict[str, str] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    groups: list[tuple[str, str, list[str]]] = field(default_factory=list)
    custom_roles: dict[str, RoleDefinitionRecord] = field(default_factory=dict)
    assignments: list[RoleAssignmentRecord] = field(default_factory=list)
    deny_assignments: dict[str, DenyAssignmentRecord] = field(default_factory=dict)
    eligibilities: dict[str, EligibilityRecord] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "management_groups": len(self.mg_tree), "subscriptions": len(self.subscriptions),
            "principals": len(self.principals), "groups": len(self.groups),
            "role_definitions": len(self.custom_roles), "role_assignments": len(self.assignments),
            "deny_assignments": len(self.deny_assignments), "eligible_assignments": len(self.eligibilities),
        }


# ------------------------------------------------------------------------ reading


def read_seed(path: str | Path) -> Any:
    """The parsed seed document (JSON when the text starts with ``{``, YAML otherwise)."""
    return estate.read_seed_document(Path(path), SeedError, limit=SEED_MAX_BYTES, max_nodes=SEED_MAX_VALUES)


# ------------------------------------------------------------------------ validation helpers


class _Ctx:
    def __init__(self, where: str):
        self.where = where
        self.scopes: dict[str, Scope] = {}  # scope text -> checked scope
        self.roles: dict[str, RoleDefinitionRecord] = {}  # role reference -> role

    def fail(self, path: str, msg: str) -> SeedError:
        return SeedError(f"{self.where}: {path}: {msg}")

    def mapping(self, v: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(v, dict):
            raise self.fail(path, f"must be a mapping, got {_kind(v)}")
        for k in v:
            if k not in allowed:
                raise self.fail(f"{path}.{k}" if path else str(k),
                                f"unknown key (expected one of {', '.join(allowed)})")
        for k in required:
            if v.get(k) is None:
                raise self.fail(f"{path}.{k}", "is required")
        return v

    def items(self, doc: dict, key: str) -> list:
        v = doc.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(key, f"must be a list, got {_kind(v)}")
        if len(v) > LIMITS[key]:
            raise self.fail(key, f"{len(v):,} items, more than the limit of {LIMITS[key]:,}")
        return v

    def text(self, v: Any, path: str, *, optional: bool = False) -> str | None:
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v.strip():
            raise self.fail(path, f"must be a non-empty string, got {_kind(v)}")
        if len(v) > _MAX_TEXT and not path.endswith("condition"):
            raise self.fail(path, f"is {len(v):,} characters long (limit {_MAX_TEXT:,})")
        return v

    def guid(self, v: Any, path: str) -> str:
        if not isinstance(v, str) or not is_guid(v):
            raise self.fail(path, f"must be a GUID like 00000000-0000-0000-0000-000000000000, got {clip(v)}")
        return v

    def strings(self, v: Any, path: str) -> tuple[str, ...]:
        if v is None:
            return ()
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
            raise self.fail(path, "must be a list of non-empty strings")
        return tuple(v)

    def flag(self, v: Any, path: str) -> bool:
        if v is None:
            return False
        if not isinstance(v, bool):
            raise self.fail(path, f"must be true or false, got {clip(v)}")
        return v


def _kind(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "nothing"}.get(
        type(v), type(v).__name__)


@functools.lru_cache(maxsize=65536)
def _scope(text: str) -> Scope:
    return parse_scope(text)


def uuid5_url(name: str) -> str:
    """``str(uuid.uuid5(uuid.NAMESPACE_URL, name))``, computed directly (100,000 of them in a seed)."""
    b = bytearray(hashlib.sha1(_URL_NS + name.encode("utf-8")).digest()[:16])  # noqa: S324 - uuid5 is SHA-1
    b[6] = (b[6] & 0x0F) | 0x50
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_URL_NS = uuid.NAMESPACE_URL.bytes


# ------------------------------------------------------------------------ parse


def parse_seed(doc: Any, where: str, *, tenant_id: str, subscriptions: tuple[str, ...] = (),
               keep_subscriptions: bool = False, builtins: dict[str, RoleDefinitionRecord] | None = None,
               now: float | None = None) -> Seed:
    """Validate a parsed seed document. *subscriptions* (those the emulator was started with) are
    kept, under the tenant root group, when the seed lists none or when *keep_subscriptions*."""
    from rbactool.emulator.backend import builtin_records

    c = _Ctx(where)
    if doc is None:
        doc = {}
    c.mapping(doc, "", TOP_KEYS)
    tenant = c.guid(doc["tenant"], "tenant") if doc.get("tenant") is not None else tenant_id
    seed = Seed(tenant_id=tenant)
    stamp = arm_timestamp(now)
    _hierarchy(c, doc, seed, subscriptions, keep_subscriptions)
    _directory(c, doc, seed)
    builtins = builtin_records() if builtins is None else builtins
    roles = _roles(c, doc, seed, builtins, stamp)
    h = Hierarchy(seed.management_groups, seed.mg_tree, seed.tenant_id)
    known_rgs: dict[str, str] = dict(seed.resource_groups)
    _assignments(c, doc, seed, roles, h, known_rgs, stamp)
    _denies(c, doc, seed, known_rgs, stamp)
    _eligible(c, doc, seed, roles, known_rgs, stamp)
    seed.resource_groups = known_rgs
    return seed


def _hierarchy(c: _Ctx, doc: dict, seed: Seed, known_subs: tuple[str, ...], keep: bool) -> None:
    tenant = seed.tenant_id
    root = tenant.lower()
    seed.mg_tree[root] = ManagementGroupRecord(tenant, "Tenant Root Group", None)
    declared_root = False
    parents: dict[str, tuple[str, str]] = {}  # mg lower -> (parent as written, path)
    sub_parent: dict[str, str] = {}
    for i, raw in enumerate(c.items(doc, "management_groups")):
        path = f"management_groups[{i}]"
        m = c.mapping(raw, path, ("id", "parent", "name", "subscriptions"), ("id",))
        mg_id = c.text(m["id"], f"{path}.id")
        try:
            check_management_group_id(mg_id, f"{path}.id")
        except (ScopeError, InputError) as e:
            raise c.fail(f"{path}.id", f"not a valid management group id: {clip(mg_id)}") from e
        low = mg_id.lower()
        name = c.text(m.get("name"), f"{path}.name", optional=True)
        if low == root:
            if declared_root:
                raise c.fail(f"{path}.id", "the tenant root group is listed twice")
            if m.get("parent") is not None:
                raise c.fail(f"{path}.parent", "the tenant root group (its id is the tenant id) has no parent")
            declared_root = True
            seed.mg_tree[root] = ManagementGroupRecord(tenant, name or "Tenant Root Group", None)
        else:
            if low in seed.mg_tree:
                raise c.fail(f"{path}.id", f"management group {clip(mg_id)} is listed twice")
            parent = c.text(m.get("parent"), f"{path}.parent", optional=True) or tenant
            seed.mg_tree[low] = ManagementGroupRecord(mg_id, name or mg_id, parent)
            parents[low] = (parent, f"{path}.parent")
        subs = m.get("subscriptions") or []
        if not isinstance(subs, list):
            raise c.fail(f"{path}.subscriptions", f"must be a list, got {_kind(subs)}")
        for j, s in enumerate(subs):
            _subscription(c, s, f"{path}.subscriptions[{j}]", seed, sub_parent, mg_id)
    for i, s in enumerate(c.items(doc, "subscriptions")):
        _subscription(c, s, f"subscriptions[{i}]", seed, sub_parent, None)
    if len(seed.subscriptions) > LIMITS["subscriptions"]:
        raise c.fail("management_groups", f"more than {LIMITS['subscriptions']:,} subscriptions")
    for s in known_subs if keep or not seed.subscriptions else ():
        if s.lower() not in sub_parent:
            sub_parent[s.lower()] = tenant
            seed.subscriptions.append(s)
    for parent, path in parents.values():
        if parent.lower() not in seed.mg_tree:
            raise c.fail(path, f"unknown management group {clip(parent)} (list it under management_groups)")
    for low in parents:  # depth and cycles
        depth, cur, seen = 0, low, set()
        while cur != root:
            if cur in seen:
                raise c.fail(parents[low][1], f"management group {clip(seed.mg_tree[low].name)} is its own ancestor")
            seen.add(cur)
            cur = seed.mg_tree[cur].parent.lower()  # type: ignore[union-attr]
            depth += 1
        if depth > MAX_MG_DEPTH:
            raise c.fail(parents[low][1], f"management group {clip(seed.mg_tree[low].name)} is {depth} levels "
                         f"below the tenant root group (Azure allows {MAX_MG_DEPTH})")
    below: dict[str, list[str]] = {k: [] for k in seed.mg_tree}
    for sub in seed.subscriptions:
        cur: str | None = sub_parent[sub.lower()].lower()
        while cur is not None:
            below[cur].append(sub)
            parent = seed.mg_tree[cur].parent
            cur = parent.lower() if parent else None
    seed.management_groups = {k: tuple(v) for k, v in below.items()}
    seed.subscription_parents = {k: seed.mg_tree[v.lower()].name for k, v in sub_parent.items()}


def _subscription(c: _Ctx, raw: Any, path: str, seed: Seed, sub_parent: dict[str, str], mg: str | None) -> None:
    if isinstance(raw, dict):
        m = c.mapping(raw, path, ("id", "name"), ("id",))
        sub, name = c.guid(m["id"], f"{path}.id"), c.text(m.get("name"), f"{path}.name", optional=True)
    else:
        sub, name = c.guid(raw, path), None
    low = sub.lower()
    if low in sub_parent:
        raise c.fail(path, f"subscription {sub} is listed twice (a subscription has exactly one parent)")
    sub_parent[low] = mg or seed.tenant_id
    seed.subscriptions.append(sub)
    if name:
        seed.subscription_names[low] = name


def _directory(c: _Ctx, doc: dict, seed: Seed) -> None:
    canonical = {t.lower(): t for t in PRINCIPAL_TYPES}
    for i, raw in enumerate(c.items(doc, "principals")):
        path = f"principals[{i}]"
        m = c.mapping(raw, path, ("id", "type", "name", "user_principal_name", "app_id", "service_principal_names"),
                      ("id", "type"))
        pid = c.guid(m["id"], f"{path}.id")
        ptype = canonical.get(str(m["type"]).lower())
        if ptype is None:
            raise c.fail(f"{path}.type", f"must be one of {', '.join(PRINCIPAL_TYPES)}, got {clip(m['type'])}")
        if pid.lower() in seed.principals:
            raise c.fail(f"{path}.id", f"principal {pid} is listed twice")
        if pid == ALL_PRINCIPALS:
            raise c.fail(f"{path}.id", "the all-principals id is reserved (deny assignments only)")
        name = c.text(m.get("name"), f"{path}.name", optional=True) or ""
        if not any(k in m for k in ("user_principal_name", "app_id", "service_principal_names")):
            seed.principals[pid.lower()] = Principal(pid, ptype, name)
            continue
        try:  # the Graph stand-in's fields, checked as the directory checks them
            seed.principals[pid.lower()] = make_principal(
                pid, ptype, name, user_principal_name=m.get("user_principal_name"), app_id=m.get("app_id"),
                service_principal_names=m.get("service_principal_names"))
        except ValueError as e:
            raise c.fail(path, str(e)) from e
    groups = c.items(doc, "groups")
    seen: set[str] = set()
    for i, raw in enumerate(groups):
        path = f"groups[{i}]"
        m = c.mapping(raw, path, ("id", "name", "members"), ("id",))
        gid = c.guid(m["id"], f"{path}.id")
        known = seed.principals.get(gid.lower())
        if known is not None and known.type != "Group":
            raise c.fail(f"{path}.id", f"{gid} is listed under principals as a {known.type}")
        if gid.lower() in seen:
            raise c.fail(f"{path}.id", f"group {gid} is listed twice")
        seen.add(gid.lower())
        name = c.text(m.get("name"), f"{path}.name", optional=True) or (known.display_name if known else "")
        seed.principals[gid.lower()] = Principal(gid, "Group", name)
        seed.groups.append((gid, name, []))
    total = 0
    for i, raw in enumerate(groups):
        path = f"groups[{i}].members"
        members = c.strings(raw.get("members"), path)
        total += len(members)
        if total > MAX_GROUP_MEMBERS:
            raise c.fail(path, f"more than {MAX_GROUP_MEMBERS:,} group memberships in all")
        gid = seed.groups[i][0]
        seen_members: set[str] = set()
        for j, mid in enumerate(members):
            low = mid.lower()
            if low not in seed.principals:
                raise c.fail(f"{path}[{j}]", f"unknown principal {clip(mid)} (list it under principals or groups)")
            if low == gid.lower():
                raise c.fail(f"{path}[{j}]", f"group {gid} cannot be a member of itself")
            if low not in seen_members:
                seen_members.add(low)
                seed.groups[i][2].append(mid)


def _roles(c: _Ctx, doc: dict, seed: Seed, builtins: dict[str, RoleDefinitionRecord],
           stamp: str) -> dict[str, RoleDefinitionRecord]:
    from rbactool.model import role_from_dict

    by_name = {r.role_name.lower(): r for r in builtins.values()}
    for i, raw in enumerate(c.items(doc, "role_definitions")):
        path = f"role_definitions[{i}]"
        try:
            role = role_from_dict(raw, source=c.where, pointer_prefix=f"/role_definitions/{i}")
        except InputError as e:
            raise SeedError(str(e).replace("\n", " ")) from e
        if not role.name:
            raise c.fail(f"{path}.Name", "is required")
        low = role.name.lower()
        if low in by_name:
            what = "a built-in role" if not by_name[low].is_custom else "another custom role"
            raise c.fail(f"{path}.Name", f"{clip(role.name)} is already the name of {what}")
        guid = role.role_id or uuid5_url(f"rbactool-seed-role:{role.name}")
        if not is_guid(guid):
            raise c.fail(f"{path}.Id", f"must be a GUID, got {clip(guid)}")
        if guid.lower() in builtins or guid.lower() in seed.custom_roles:
            raise c.fail(f"{path}.Id", f"role id {guid} is already taken")
        if not role.assignable_scopes:
            raise c.fail(f"{path}.AssignableScopes", "is required")
        for j, s in enumerate(role.assignable_scopes):
            _known_scope(c, s, f"{path}.AssignableScopes[{j}]", seed, None)
        rec = RoleDefinitionRecord(
            guid=guid, role_name=role.name, description=role.description or "",
            permissions=tuple(PermissionBlock(p.actions, p.not_actions, p.data_actions, p.not_data_actions,
                                              p.condition, p.condition_version) for p in role.permissions),
            assignable_scopes=tuple(role.assignable_scopes), is_custom=True, created_on=stamp, updated_on=stamp,
        )
        seed.custom_roles[guid.lower()] = rec
        by_name[low] = rec
    return by_name


def _role_ref(c: _Ctx, v: Any, path: str, seed: Seed, by_name: dict[str, RoleDefinitionRecord]) -> RoleDefinitionRecord:
    hit = c.roles.get(v) if isinstance(v, str) else None
    if hit is None:
        hit = c.roles[v] = _find_role(c, v, path, seed, by_name)
    return hit


def _find_role(c: _Ctx, v: Any, path: str, seed: Seed,
               by_name: dict[str, RoleDefinitionRecord]) -> RoleDefinitionRecord:
    from rbactool.emulator.backend import builtin_records

    text = c.text(v, path)
    assert text is not None
    guid = text.rstrip("/").rsplit("/", 1)[-1] if "/" in text else text
    if is_guid(guid):
        rec = seed.custom_roles.get(guid.lower()) or builtin_records().get(guid.lower())
        if rec is not None:
            return rec
        raise c.fail(path, f"unknown role id {clip(guid)}")
    rec = by_name.get(text.lower())
    if rec is None:
        raise c.fail(path, f"unknown role {clip(text)} (a built-in role name, a role_definitions Name, or a GUID)")
    return rec


def _known_scope(c: _Ctx, text: Any, path: str, seed: Seed, rgs: dict[str, str] | None) -> Scope:
    hit = c.scopes.get(text) if isinstance(text, str) else None
    if hit is not None:
        return hit
    scope = _check_scope(c, text, path, seed, rgs)
    c.scopes[text] = scope
    return scope


def _check_scope(c: _Ctx, text: Any, path: str, seed: Seed, rgs: dict[str, str] | None) -> Scope:
    if not isinstance(text, str):
        raise c.fail(path, f"must be a scope string, got {_kind(text)}")
    try:
        scope = _scope(text)
    except ScopeError as e:
        raise c.fail(path, f"not a valid scope: {clip(text)}") from e
    if scope.kind == MANAGEMENT_GROUP and (scope.management_group or "").lower() not in seed.mg_tree:
        raise c.fail(path, f"unknown management group {clip(scope.management_group)} (list it under "
                     "management_groups)")
    if scope.subscription and scope.subscription.lower() not in seed.subscription_parents:
        raise c.fail(path, f"unknown subscription {clip(scope.subscription)} (list it under a management group's "
                     "subscriptions or under subscriptions)")
    if rgs is not None and scope.resource_group:
        rg = f"/subscriptions/{scope.subscription}/resourceGroups/{scope.resource_group}"
        rgs.setdefault(rg.lower(), rg)
    return scope


def _principal(c: _Ctx, v: Any, path: str, seed: Seed) -> Principal:
    p = seed.principals.get(v.lower()) if isinstance(v, str) else None
    if p is not None:
        return p
    pid = c.guid(v, path)
    if p is None:
        raise c.fail(path, f"unknown principal {pid} (list it under principals or groups)")
    return p


def _assignee(c: _Ctx, m: dict, path: str, seed: Seed) -> Principal:
    """The assignment's principal: from the directory, or (with ``principal_type``) one outside it,
    as ARM accepts an assignment to an object it cannot look up when principalType is given."""
    given = m.get("principal_type")
    if given is None:
        return _principal(c, m["principal"], f"{path}.principal", seed)
    ptype = {t.lower(): t for t in PRINCIPAL_TYPES}.get(str(given).lower())
    if ptype is None:
        raise c.fail(f"{path}.principal_type", f"must be one of {', '.join(PRINCIPAL_TYPES)}, got {clip(given)}")
    pid = c.guid(m["principal"], f"{path}.principal")
    known = seed.principals.get(pid.lower())
    if known is not None and known.type != ptype:
        raise c.fail(f"{path}.principal_type", f"{ptype} differs from the directory's {known.type}")
    return known or Principal(pid, ptype, "")


def _condition(c: _Ctx, m: dict, path: str) -> tuple[str | None, str | None]:
    cond = c.text(m.get("condition"), f"{path}.condition", optional=True)
    version = m.get("condition_version")
    if version is not None and not isinstance(version, str):
        version = str(version)
    if version is not None and cond is None:
        raise c.fail(f"{path}.condition_version", "is set without a condition")
    return cond, (version or "2.0") if cond else None


def _seed_key(key: str, scope: str, p: Principal, role: RoleDefinitionRecord) -> str:
    """What a derived assignment name is made from: the same as rbactool.estate.estate_from_seed,
    so a snapshot of the seeded emulator and the estate read from the seed share ids."""
    return f"{key}:{(scope.rstrip('/') or '/').lower()}:{p.object_id.lower()}:{role.guid}"


def _name(c: _Ctx, m: dict, path: str, seed_key: str, *, alias: bool = False) -> str:
    """The GUID name from ``id`` (a GUID or a full id), or ``name`` too where *alias*; else
    ``uuid5(NAMESPACE_URL, seed_key)``."""
    key = "id" if m.get("id") is not None or not alias else "name"
    raw = m.get(key)
    if alias and m.get("id") is not None and m.get("name") is not None:
        raise c.fail(f"{path}.name", "give id or name, not both")
    if raw is None:
        return uuid5_url(seed_key)
    text = c.text(raw, f"{path}.{key}")
    assert text is not None
    return c.guid(text.rstrip("/").rsplit("/", 1)[-1], f"{path}.{key}")


def _assignments(c: _Ctx, doc: dict, seed: Seed, roles: dict, h: Hierarchy, rgs: dict[str, str], stamp: str) -> None:
    keys = ("principal", "role", "scope", "condition", "condition_version", "id", "name", "description",
            "principal_type")
    seen_names: set[str] = set()
    seen_identity: dict[tuple[str, str, str], int] = {}
    assignable_ok: dict[tuple[str, str], bool] = {}
    for i, raw in enumerate(c.items(doc, "role_assignments")):
        path = f"role_assignments[{i}]"
        m = c.mapping(raw, path, keys, ("principal", "role", "scope"))
        p = _assignee(c, m, path, seed)
        role = _role_ref(c, m["role"], f"{path}.role", seed, roles)
        scope = _known_scope(c, m["scope"], f"{path}.scope", seed, rgs)
        text = str(scope)
        ok_key = (role.guid.lower(), scope.key)
        ok = assignable_ok.get(ok_key)
        if ok is None:
            ok = assignable_ok[ok_key] = any(h.at_or_above(a, text) for a in role.assignable_scopes)
        if not ok:
            raise c.fail(f"{path}.scope", f"role {clip(role.role_name)} is not assignable at {clip(text)} "
                         "(outside its AssignableScopes)")
        cond, version = _condition(c, m, path)
        name = _name(c, m, path, _seed_key("role_assignments", m["scope"], p, role), alias=True)
        if name.lower() in seen_names:
            raise c.fail(f"{path}.id", f"assignment id {name} is used twice")
        identity = (p.object_id.lower(), role.guid.lower(), scope.key)
        if identity in seen_identity:
            raise c.fail(path, f"the same principal, role and scope as role_assignments[{seen_identity[identity]}]")
        seen_names.add(name.lower())
        seen_identity[identity] = i
        seed.assignments.append(RoleAssignmentRecord(
            name=name, scope=text, role_definition_guid=role.guid, principal_id=p.object_id,
            principal_type=p.type, description=c.text(m.get("description"), f"{path}.description", optional=True),
            condition=cond, condition_version=version, created_on=stamp, updated_on=stamp,
        ))


def _deny_principals(c: _Ctx, v: Any, path: str, seed: Seed, *, exclude: bool) -> tuple[DenyPrincipal, ...]:
    out = []
    for j, pid in enumerate(c.strings(v, path)):
        if pid == ALL_PRINCIPALS:
            if exclude:
                raise c.fail(f"{path}[{j}]", "the all-principals id may appear in principals only")
            out.append(DenyPrincipal(ALL_PRINCIPALS, "SystemDefined", "All Principals"))
            continue
        p = _principal(c, pid, f"{path}[{j}]", seed)
        out.append(DenyPrincipal(p.object_id, p.type, p.display_name))
    return tuple(out)


def _denies(c: _Ctx, doc: dict, seed: Seed, rgs: dict[str, str], stamp: str) -> None:
    keys = ("scope", "actions", "not_actions", "data_actions", "not_data_actions", "principals",
            "exclude_principals", "do_not_apply_to_child_scopes", "name", "deny_assignment_name", "description", "id")
    for i, raw in enumerate(c.items(doc, "deny_assignments")):
        path = f"deny_assignments[{i}]"
        m = c.mapping(raw, path, keys, ("scope", "principals"))
        scope = _known_scope(c, m["scope"], f"{path}.scope", seed, rgs)
        block = PermissionBlock(c.strings(m.get("actions"), f"{path}.actions"),
                                c.strings(m.get("not_actions"), f"{path}.not_actions"),
                                c.strings(m.get("data_actions"), f"{path}.data_actions"),
                                c.strings(m.get("not_data_actions"), f"{path}.not_data_actions"))
        if not block.actions and not block.data_actions:
            raise c.fail(path, "denies nothing (give actions or data_actions)")
        principals = _deny_principals(c, m["principals"], f"{path}.principals", seed, exclude=False)
        if not principals:
            raise c.fail(f"{path}.principals", "is empty")
        excluded = _deny_principals(c, m.get("exclude_principals"), f"{path}.exclude_principals", seed, exclude=True)
        raw_name = c.text(m.get("name"), f"{path}.name", optional=True)
        label = c.text(m.get("deny_assignment_name"), f"{path}.deny_assignment_name", optional=True)
        if raw_name is not None and not is_guid(raw_name):  # a display name where the GUID would be
            if label is not None:
                raise c.fail(f"{path}.name", "must be a GUID (the display name is deny_assignment_name)")
            label, raw_name = raw_name, None
        fields = {"id": m.get("id"), "name": raw_name}
        name = _name(c, fields, path, f"deny:{(m['scope'].rstrip('/') or '/').lower()}:{i}", alias=True)
        label = label or f"Deny assignment {name}"
        if name.lower() in seed.deny_assignments:
            raise c.fail(f"{path}.id", f"deny assignment id {name} is used twice")
        seed.deny_assignments[name.lower()] = DenyAssignmentRecord(
            name=name, deny_assignment_name=label,
            description=c.text(m.get("description"), f"{path}.description", optional=True) or "",
            scope=str(scope), permissions=(block,), principals=principals, exclude_principals=excluded,
            do_not_apply_to_child_scopes=c.flag(m.get("do_not_apply_to_child_scopes"),
                                                f"{path}.do_not_apply_to_child_scopes"),
            created_on=stamp,
        )


def _eligible(c: _Ctx, doc: dict, seed: Seed, roles: dict, rgs: dict[str, str], stamp: str) -> None:
    keys = ("principal", "role", "scope", "condition", "condition_version", "id", "name", "start", "end",
            "principal_type")
    for i, raw in enumerate(c.items(doc, "eligible_assignments")):
        path = f"eligible_assignments[{i}]"
        m = c.mapping(raw, path, keys, ("principal", "role", "scope"))
        p = _assignee(c, m, path, seed)
        role = _role_ref(c, m["role"], f"{path}.role", seed, roles)
        scope = _known_scope(c, m["scope"], f"{path}.scope", seed, rgs)
        if scope.kind == ROOT:
            raise c.fail(f"{path}.scope", "PIM eligibility cannot be at the root scope '/'")
        cond, version = _condition(c, m, path)
        name = _name(c, m, path, _seed_key("eligible_assignments", m["scope"], p, role), alias=True)
        if name.lower() in seed.eligibilities:
            raise c.fail(path, f"eligible assignment {name} is listed twice (same id, or same principal, role "
                         "and scope)")
        seed.eligibilities[name.lower()] = EligibilityRecord(
            name=name, schedule_name=uuid5_url(f"roleEligibilitySchedules:{name}"), scope=str(scope),
            role_definition_guid=role.guid,
            principal_id=p.object_id, principal_type=p.type, condition=cond, condition_version=version,
            start=c.text(m.get("start"), f"{path}.start", optional=True) or stamp,
            end=c.text(m.get("end"), f"{path}.end", optional=True),
        )


# ------------------------------------------------------------------------ apply


def apply_seed(state: State, seed: Seed) -> None:
    """Replace the state's contents with the seed (config is kept). Caller holds no lock."""
    with state.lock:
        state.clear()
        state.tenant_id = seed.tenant_id
        if seed.subscriptions:
            state.subscriptions = tuple(seed.subscriptions)
        state.subscription_names.update(seed.subscription_names)
        state.subscription_parents.update(seed.subscription_parents)
        state.mg_tree.update(seed.mg_tree)
        state.management_groups.update(seed.management_groups)
        state.resource_groups.update(seed.resource_groups)
        state.principals.update(seed.principals)
        for gid, name, members in seed.groups:  # groups are directory objects with their direct members
            state.principals[gid.lower()] = Principal(gid, "Group", name, members=tuple(members))
        state.custom_roles.update(seed.custom_roles)
        for rec in seed.assignments:
            state.put_assignment(rec)
        state.deny_assignments.update(seed.deny_assignments)
        state.eligibilities.update(seed.eligibilities)
