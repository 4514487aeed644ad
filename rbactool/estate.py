"""The estate: what a snapshot holds, and the SQLite file it is kept in (``docs/snapshot.md``).

An estate is the RBAC state of a tenant (or part of one) at one moment: the scope hierarchy,
role definitions, role assignments (active and PIM-eligible), deny assignments, principals and
group memberships, and every scope or API that could not be read (a *gap*: recorded, never
silently missing). It is built by ``rbactool snapshot`` from Azure, or from a seed document
(``estate_from_seed``, the emulator's seed format), and written with ``write_estate``. Analysis
(``rbactool.access``) reads it through ``EstateDB`` with indexed queries, so a question about one
scope never loads the whole estate.

Pure: no azure.*, no network. The file may hold sensitive data (who holds what): it is written with
mode 0600, atomically, and never holds a token.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbactool.errors import InputError, OutputError
from rbactool.model import Permission, RoleDefinition, role_from_dict, to_az_dict
from rbactool.readers import clip, loads_json
from rbactool.scopes import (
    MANAGEMENT_GROUP,
    RESOURCE,
    RESOURCE_GROUP,
    ROOT,
    SUBSCRIPTION,
    scope_segments,
    segments_kind,
)

__all__ = ["SCHEMA_VERSION", "EVERYONE", "ScopeNode", "Principal", "Assignment", "DenyAssignment", "Gap",
           "Estate", "EstateDB", "write_estate", "open_estate", "estate_from_seed", "scope_key",
           "role_guid", "parent_scope"]

SCHEMA_VERSION = 1
#: The all-principals id of a deny assignment (type ``SystemDefined``): everyone in the directory.
EVERYONE = "00000000-0000-0000-0000-000000000000"
#: The tenant of a seed that names none (the emulator's default tenant).
DEFAULT_TENANT = "00000000-0000-0000-0000-0000000000aa"

#: The tables of a snapshot; a file with anything else in its schema (a view, a trigger) is refused.
TABLES = ("meta", "gaps", "scopes", "role_definitions", "role_assignments", "deny_assignments", "principals",
          "group_members")
#: How long one process may spend in a snapshot's queries (a crafted file cannot hang an answer).
QUERY_SECONDS = 300

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE gaps (scope TEXT NOT NULL, api TEXT NOT NULL, status INTEGER, code TEXT, message TEXT);
CREATE TABLE scopes (key TEXT PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT, name TEXT);
CREATE TABLE role_definitions (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
    description TEXT, assignable_scopes TEXT NOT NULL, permissions TEXT NOT NULL, document TEXT NOT NULL);
CREATE TABLE role_assignments (id TEXT PRIMARY KEY, scope TEXT NOT NULL, scope_key TEXT NOT NULL,
    role_definition_id TEXT NOT NULL, principal_id TEXT NOT NULL, principal_type TEXT,
    condition TEXT, condition_version TEXT, eligible INTEGER NOT NULL DEFAULT 0, description TEXT);
CREATE INDEX role_assignments_scope ON role_assignments (scope_key);
CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
CREATE INDEX role_assignments_role ON role_assignments (role_definition_id);
CREATE TABLE deny_assignments (id TEXT PRIMARY KEY, name TEXT, scope TEXT NOT NULL, scope_key TEXT NOT NULL,
    permissions TEXT NOT NULL, principals TEXT NOT NULL, exclude_principals TEXT NOT NULL,
    do_not_apply_to_child_scopes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX deny_assignments_scope ON deny_assignments (scope_key);
CREATE TABLE principals (id TEXT PRIMARY KEY, type TEXT, name TEXT);
CREATE TABLE group_members (group_id TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY (group_id, member_id));
CREATE INDEX group_members_member ON group_members (member_id);
"""


def scope_key(scope: str) -> str:
    """The comparison form of a scope: lower case, no trailing ``/`` (ARM compares case-insensitively)."""
    s = scope.strip().lower().rstrip("/")
    return s or "/"


def role_guid(role_definition_id: str) -> str:
    """``/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{guid}`` or a GUID -> the GUID."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def parent_scope(scope: str) -> str | None:
    """The parent of a subscription-tree scope by its text: resource -> parent resource or resource
    group, resource group -> subscription. A subscription's or management group's parent comes from
    the hierarchy (``EstateDB.parent``), not from the text: None here."""
    segs = scope_segments(scope)
    kind = segments_kind(segs)
    parts = scope.strip().rstrip("/").split("/")[1:]
    if kind == RESOURCE_GROUP:
        return "/" + "/".join(parts[:2])
    if kind != RESOURCE or not segs or segs[0] != "subscriptions":
        return None
    found = [i for i, p in enumerate(parts) if p.lower() == "providers"]
    if not found:
        return None
    last = found[-1]
    if len(parts) - (last + 2) > 2:  # a child resource (type/name/type/name...): drop one type/name pair
        return "/" + "/".join(parts[:-2])
    return "/" + "/".join(parts[:last])  # the resource group, subscription or parent of an extension resource


@dataclass(frozen=True)
class ScopeNode:
    id: str
    kind: str  # root | managementGroup | subscription | resourceGroup | resource
    parent: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Principal:
    id: str
    type: str = ""  # User | Group | ServicePrincipal | ForeignGroup | Device
    name: str = ""


@dataclass(frozen=True)
class Assignment:
    id: str
    scope: str
    role_definition_id: str  # the role's GUID, lower case
    principal_id: str
    principal_type: str = ""
    condition: str | None = None
    condition_version: str | None = None
    eligible: bool = False  # a PIM eligibility (roleEligibilityScheduleInstances), not in force until activated
    description: str = ""


@dataclass(frozen=True)
class DenyAssignment:
    id: str
    scope: str
    permissions: tuple[Permission, ...]
    principals: tuple[str, ...]
    exclude_principals: tuple[str, ...] = ()
    do_not_apply_to_child_scopes: bool = False
    name: str = ""


@dataclass(frozen=True)
class Gap:
    """A scope or API that could not be read: the snapshot says so instead of looking complete."""
    scope: str
    api: str
    status: int | None = None
    code: str = ""
    message: str = ""


@dataclass
class Estate:
    meta: dict[str, Any] = field(default_factory=dict)
    scopes: list[ScopeNode] = field(default_factory=list)
    roles: list[RoleDefinition] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    denies: list[DenyAssignment] = field(default_factory=list)
    principals: list[Principal] = field(default_factory=list)
    members: list[tuple[str, str]] = field(default_factory=list)  # (group id, direct member id)
    gaps: list[Gap] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"scopes": len(self.scopes), "role_definitions": len(self.roles),
                "role_assignments": sum(not a.eligible for a in self.assignments),
                "eligible_assignments": sum(a.eligible for a in self.assignments),
                "deny_assignments": len(self.denies), "principals": len(self.principals),
                "group_memberships": len(self.members), "gaps": len(self.gaps)}


def _permissions_json(blocks: Iterable[Permission]) -> str:
    return json.dumps([{"actions": list(p.actions), "notActions": list(p.not_actions),
                        "dataActions": list(p.data_actions), "notDataActions": list(p.not_data_actions)}
                       for p in blocks])


def _json(text: Any, where: str, kind: type) -> Any:
    """A JSON column of a snapshot (which may be crafted): *kind* or a one-line InputError."""
    doc = loads_json(text, where, InputError) if isinstance(text, str) else None
    if not isinstance(doc, kind):
        raise InputError(f"{where}: not a JSON {kind.__name__}")
    return doc


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: not a list of strings")
    return tuple(value)


def _permissions_of(text: str, where: str = "permissions") -> tuple[Permission, ...]:
    blocks = _json(text, where, list)
    if not all(isinstance(p, dict) for p in blocks):
        raise InputError(f"{where}: not a list of permission blocks")
    return tuple(Permission(*(_string_list(p.get(k, []), f"{where}: {k}")
                              for k in ("actions", "notActions", "dataActions", "notDataActions")))
                 for p in blocks)


def write_estate(estate: Estate, path: str | os.PathLike) -> Path:
    """Write *estate* to a new SQLite file at *path* (replaced atomically, mode 0600)."""
    target = Path(path)
    if not target.parent.is_dir():
        raise OutputError(f"-o: directory {target.parent} does not exist")
    if target.exists() and not target.is_file():
        raise OutputError(f"-o: {target} is not a regular file")
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        con = sqlite3.connect(tmp)
        try:
            _fill(con, estate)
            con.commit()
        finally:
            con.close()
        tmp.chmod(0o600)
        tmp.replace(target)
    except OSError as e:
        raise OutputError(f"-o: cannot write {target}: {e.strerror or e}") from e
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _fill(con: sqlite3.Connection, e: Estate) -> None:
    con.executescript(_SCHEMA)
    meta = {**e.meta, "schema_version": SCHEMA_VERSION, "counts": e.counts()}
    con.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in sorted(meta.items())])
    con.executemany("INSERT INTO gaps VALUES (?, ?, ?, ?, ?)",
                    [(g.scope, g.api, g.status, g.code, g.message) for g in e.gaps])
    con.executemany("INSERT OR REPLACE INTO scopes VALUES (?, ?, ?, ?, ?)",
                    [(scope_key(s.id), s.id, s.kind, scope_key(s.parent) if s.parent else None, s.name)
                     for s in e.scopes])
    con.executemany("INSERT OR REPLACE INTO role_definitions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [((r.role_id or "").lower(), r.name, r.role_type, r.description,
                      json.dumps(list(r.assignable_scopes)), _permissions_json(r.permissions),
                      json.dumps(to_az_dict(r), sort_keys=True)) for r in e.roles])
    con.executemany("INSERT OR REPLACE INTO role_assignments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(a.id, a.scope, scope_key(a.scope), a.role_definition_id.lower(), a.principal_id.lower(),
                      a.principal_type, a.condition, a.condition_version, int(a.eligible), a.description)
                     for a in e.assignments])
    con.executemany("INSERT OR REPLACE INTO deny_assignments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(d.id, d.name, d.scope, scope_key(d.scope), _permissions_json(d.permissions),
                      json.dumps([p.lower() for p in d.principals]),
                      json.dumps([p.lower() for p in d.exclude_principals]), int(d.do_not_apply_to_child_scopes))
                     for d in e.denies])
    con.executemany("INSERT OR REPLACE INTO principals VALUES (?, ?, ?)",
                    [(p.id.lower(), p.type, p.name) for p in e.principals])
    con.executemany("INSERT OR IGNORE INTO group_members VALUES (?, ?)",
                    [(g.lower(), m.lower()) for g, m in e.members])


class EstateDB:
    """A snapshot file opened read-only, with the queries analysis needs (each indexed)."""

    def __init__(self, path: str | os.PathLike):
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{path}: no such snapshot file (make one with 'rbactool snapshot -o {path}')")
        try:
            self.con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
            # a snapshot may come from someone else: no schema code runs (views, triggers), reads only,
            # and no query runs away (a crafted file cannot hang an answer)
            self.con.execute("PRAGMA trusted_schema = OFF")
            self.con.execute("PRAGMA query_only = ON")
            kinds = dict(self.con.execute("SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
            odd = sorted(n for n, t in kinds.items() if t not in ("table", "index"))
            missing = sorted(set(TABLES) - {n for n, t in kinds.items() if t == "table"})
            if odd or missing:
                raise sqlite3.DatabaseError(f"{'unexpected ' + odd[0] if odd else 'no table ' + missing[0]}")
            deadline = time.monotonic() + QUERY_SECONDS
            self.con.set_progress_handler(lambda: int(time.monotonic() > deadline), 100_000)
            rows = dict(self.con.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as e:
            raise InputError(f"{path}: not an rbactool snapshot ({e})") from None
        self.path = str(path)
        self.meta = {k: _json(v, f"{path}: meta {clip(k)}", object) for k, v in rows.items()}
        if self.meta.get("schema_version") != SCHEMA_VERSION:
            raise InputError(f"{path}: snapshot schema version {clip(self.meta.get('schema_version'))}, "
                             f"this rbactool reads version {SCHEMA_VERSION} (take the snapshot again)")
        self._roles: dict[str, RoleDefinition | None] = {}
        self._scopes: dict[str, tuple[str, str, str | None, str] | None] = {}

    def close(self) -> None:
        self.con.close()

    # -- hierarchy
    def scope(self, key: str) -> tuple[str, str, str | None, str] | None:
        """(id, kind, parent key, name) of a scope in the hierarchy, or None."""
        if key not in self._scopes:
            self._scopes[key] = self.con.execute(
                "SELECT id, kind, parent, name FROM scopes WHERE key = ?", (key,)).fetchone()
        return self._scopes[key]

    def ancestry(self, scope: str) -> list[str]:
        """The scope keys from *scope* up to the root ``/``: resource -> ... -> resource group ->
        subscription -> management groups (from the hierarchy) -> ``/``."""
        chain: list[str] = []
        cur: str | None = scope_key(scope)
        while cur is not None and cur not in chain and len(chain) < 64:
            chain.append(cur)
            if cur == "/":
                break
            node = self.scope(cur)
            if node is not None and node[2]:
                cur = node[2]
            else:
                text = parent_scope(cur)
                cur = scope_key(text) if text else "/"
        if chain[-1] != "/":
            chain.append("/")
        return chain

    # -- rows
    def role(self, guid: str) -> RoleDefinition | None:
        guid = guid.lower()
        if guid not in self._roles:
            row = self.con.execute("SELECT document FROM role_definitions WHERE id = ?", (guid,)).fetchone()
            self._roles[guid] = role_from_dict(_json(row[0], f"{self.path}: role definition {clip(guid)}", dict),
                                               source=self.path) if row else None
        return self._roles[guid]

    def roles(self) -> list[RoleDefinition]:
        return [r for (guid,) in self.con.execute("SELECT id FROM role_definitions ORDER BY name")
                if (r := self.role(guid)) is not None]

    def assignments_at(self, keys: Sequence[str]) -> list[Assignment]:
        marks = ",".join("?" * len(keys))
        return [_assignment(r) for r in self.con.execute(
            f"SELECT * FROM role_assignments WHERE scope_key IN ({marks}) ORDER BY id", list(keys))]

    def assignments_of(self, principal_ids: Iterable[str]) -> list[Assignment]:
        ids = sorted({p.lower() for p in principal_ids})
        out: list[Assignment] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            out += [_assignment(r) for r in self.con.execute(
                f"SELECT * FROM role_assignments WHERE principal_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                chunk)]
        return out

    def all_assignments(self) -> Iterable[Assignment]:
        return (_assignment(r) for r in self.con.execute("SELECT * FROM role_assignments ORDER BY id"))

    def assignments_of_roles(self, guids: Iterable[str]) -> list[Assignment]:
        ids = sorted({g.lower() for g in guids})
        if not ids:
            return []
        return [_assignment(r) for r in self.con.execute(
            f"SELECT * FROM role_assignments WHERE role_definition_id IN ({','.join('?' * len(ids))}) ORDER BY id",
            ids)]

    def denies_at(self, keys: Sequence[str]) -> list[DenyAssignment]:
        marks = ",".join("?" * len(keys))
        where = f"{self.path}: deny assignment"
        return [DenyAssignment(r[0], r[2], _permissions_of(r[4], where), _string_list(_json(r[5], where, list), where),
                               _string_list(_json(r[6], where, list), where), bool(r[7]), r[1] or "")
                for r in self.con.execute(f"SELECT * FROM deny_assignments WHERE scope_key IN ({marks}) ORDER BY id",
                                          list(keys))]

    def principal(self, pid: str) -> Principal | None:
        row = self.con.execute("SELECT id, type, name FROM principals WHERE id = ?", (pid.lower(),)).fetchone()
        return Principal(*row) if row else None

    def members(self, group_id: str) -> list[str]:
        return [m for (m,) in self.con.execute(
            "SELECT member_id FROM group_members WHERE group_id = ? ORDER BY member_id", (group_id.lower(),))]

    def groups_of(self, member_id: str) -> list[str]:
        return [g for (g,) in self.con.execute(
            "SELECT group_id FROM group_members WHERE member_id = ? ORDER BY group_id", (member_id.lower(),))]

    def gaps(self) -> list[Gap]:
        return [Gap(*r) for r in self.con.execute("SELECT scope, api, status, code, message FROM gaps")]


def _assignment(r: tuple) -> Assignment:
    return Assignment(id=r[0], scope=r[1], role_definition_id=r[3], principal_id=r[4], principal_type=r[5] or "",
                      condition=r[6], condition_version=r[7], eligible=bool(r[8]), description=r[9] or "")


def open_estate(path: str | os.PathLike) -> EstateDB:
    return EstateDB(path)


# --------------------------------------------------------------------------- seed documents

#: A seed file may be larger than a role file: the bench estate (100,000 assignments) is 22 MB.
SEED_MAX_BYTES = 96 * 1024 * 1024
SEED_MAX_VALUES = 6_000_000


def read_seed_document(path: str | os.PathLike, error: type[InputError] = InputError, *,
                       limit: int = SEED_MAX_BYTES, max_nodes: int = SEED_MAX_VALUES) -> Any:
    """A seed file's document (JSON when the text starts with ``{``, YAML otherwise), read with the
    readers' limits raised to the seed's (one reader for ``load_seed`` and ``rbactool emulator --seed``)."""
    from rbactool.readers import loads_json, loads_yaml, read_file

    text = read_file(path, what="seed file", limit=limit, error=error)
    if text.lstrip().startswith("{"):
        return loads_json(text, str(path), error, limit=limit, max_nodes=max_nodes)
    return loads_yaml(text, str(path), error, limit=limit, max_nodes=max_nodes)


_SEED_KEYS = ("tenant", "management_groups", "principals", "groups", "role_definitions", "role_assignments",
              "deny_assignments", "eligible_assignments", "subscriptions", "resource_groups")


def _items(doc: Mapping, key: str, where: str) -> list[Mapping]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InputError(f"{where}: {key} must be a list of mappings")
    return value


def _text(item: Mapping, key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: {key} must be a non-empty string, got {clip(value)}")
    return value


def _strings(item: Mapping, key: str, where: str) -> tuple[str, ...]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _subscriptions(value: Any, where: str) -> list[tuple[str, str]]:
    """A seed's subscriptions: ids, or ``{id, name}`` mappings."""
    out = []
    for i, v in enumerate(value or []):
        if isinstance(v, Mapping):
            out.append((_text(v, "id", f"{where}: subscriptions[{i}]"), str(v.get("name") or v.get("id"))))
        elif isinstance(v, str) and v:
            out.append((v, v))
        else:
            raise InputError(f"{where}: subscriptions[{i}] must be an id or a mapping with an id")
    return out


def estate_from_seed(doc: Any, *, source: str = "<seed>", builtin_roles: Iterable[RoleDefinition] = ()) -> Estate:
    """An estate from a seed document (the format of ``rbactool emulator --seed``, docs/emulator.md).

    Roles are referred to by name or GUID: custom roles of the seed first, then *builtin_roles*
    (all of which the estate holds, as a snapshot of Azure does). Assignment ids are derived
    deterministically when not given.
    """
    import uuid

    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: a seed must be a mapping at the top level")
    unknown = sorted(set(doc) - set(_SEED_KEYS))
    if unknown:
        raise InputError(f"{source}: unknown key {clip(unknown[0])} (known: {', '.join(_SEED_KEYS)})")
    tenant = str(doc.get("tenant") or DEFAULT_TENANT)
    est = Estate(meta={"source": "seed", "tenant_id": tenant, "seed": source})
    root_mg = f"/providers/Microsoft.Management/managementGroups/{tenant}"
    est.scopes.append(ScopeNode("/", ROOT, None, "root"))
    seen_mgs = {tenant.lower()}
    est.scopes.append(ScopeNode(root_mg, MANAGEMENT_GROUP, "/", "Tenant Root Group"))
    for i, mg in enumerate(_items(doc, "management_groups", source)):
        where = f"{source}: management_groups[{i}]"
        mid = _text(mg, "id", where)
        parent = mg.get("parent")
        if mid.lower() == tenant.lower():
            parent_id = "/"
        else:
            parent_id = f"/providers/Microsoft.Management/managementGroups/{parent or tenant}"
        if mid.lower() != tenant.lower():
            if mid.lower() in seen_mgs:
                raise InputError(f"{where}: duplicate management group {clip(mid)}")
            seen_mgs.add(mid.lower())
            est.scopes.append(ScopeNode(f"/providers/Microsoft.Management/managementGroups/{mid}", MANAGEMENT_GROUP,
                                        parent_id, str(mg.get("name") or mid)))
        for sub, name in _subscriptions(mg.get("subscriptions"), where):
            est.scopes.append(ScopeNode(f"/subscriptions/{sub}", SUBSCRIPTION,
                                        f"/providers/Microsoft.Management/managementGroups/{mid}", name))
    for sub, name in _subscriptions(doc.get("subscriptions"), source):
        est.scopes.append(ScopeNode(f"/subscriptions/{sub}", SUBSCRIPTION, root_mg, name))
    for i, p in enumerate(_items(doc, "principals", source)):
        where = f"{source}: principals[{i}]"
        est.principals.append(Principal(_text(p, "id", where).lower(), _text(p, "type", where, "User"),
                                        str(p.get("name") or "")))
    for i, g in enumerate(_items(doc, "groups", source)):
        where = f"{source}: groups[{i}]"
        gid = _text(g, "id", where).lower()
        if g.get("name") or not any(p.id == gid for p in est.principals):
            est.principals.append(Principal(gid, "Group", str(g.get("name") or "")))
        est.members += [(gid, m.lower()) for m in _strings(g, "members", where)]
    by_name: dict[str, RoleDefinition] = {}
    builtins = list(builtin_roles)
    for r in builtins:
        by_name[r.name.lower()] = r
        by_name[(r.role_id or "").lower()] = r
    for i, d in enumerate(_items(doc, "role_definitions", source)):
        role = role_from_dict(dict(d), source=f"{source}: role_definitions[{i}]")
        if not role.role_id:
            role = _with_id(role, str(uuid.uuid5(uuid.NAMESPACE_URL, f"rbactool-seed-role:{role.name}")))
        est.roles.append(role)
        by_name[role.name.lower()] = role
        by_name[role.role_id.lower()] = role

    def role_ref(item: Mapping, where: str) -> RoleDefinition:
        ref = _text(item, "role", where)
        role = by_name.get(role_guid(ref)) or by_name.get(ref.lower())
        if role is None:
            raise InputError(f"{where}: role {clip(ref)} is neither a role of the seed nor a built-in role")
        return role

    types = {p.id: p.type for p in est.principals}
    for key, eligible in (("role_assignments", False), ("eligible_assignments", True)):
        for i, a in enumerate(_items(doc, key, source)):
            where = f"{source}: {key}[{i}]"
            role = role_ref(a, where)
            principal = _text(a, "principal", where).lower()
            scope = _text(a, "scope", where).rstrip("/") or "/"
            seed_id = f"{key}:{scope.lower()}:{principal}:{role.role_id}"
            name = str(a.get("id") or uuid.uuid5(uuid.NAMESPACE_URL, seed_id))
            api = "roleEligibilityScheduleInstances" if eligible else "roleAssignments"
            est.assignments.append(Assignment(
                id=f"{scope if scope != '/' else ''}/providers/Microsoft.Authorization/{api}/{name}", scope=scope,
                role_definition_id=role.role_id.lower(), principal_id=principal,
                principal_type=str(a.get("principal_type") or types.get(principal, "")),
                condition=a.get("condition"), condition_version=a.get("condition_version") or (
                    "2.0" if a.get("condition") else None), eligible=eligible))
    for i, d in enumerate(_items(doc, "deny_assignments", source)):
        where = f"{source}: deny_assignments[{i}]"
        scope = _text(d, "scope", where).rstrip("/") or "/"
        name = str(d.get("name") or uuid.uuid5(uuid.NAMESPACE_URL, f"deny:{scope.lower()}:{i}"))
        est.denies.append(DenyAssignment(
            id=f"{scope if scope != '/' else ''}/providers/Microsoft.Authorization/denyAssignments/{name}",
            scope=scope, permissions=(Permission(_strings(d, "actions", where), _strings(d, "not_actions", where),
                                                 _strings(d, "data_actions", where),
                                                 _strings(d, "not_data_actions", where)),),
            principals=tuple(p.lower() for p in _strings(d, "principals", where)),
            exclude_principals=tuple(p.lower() for p in _strings(d, "exclude_principals", where)),
            do_not_apply_to_child_scopes=bool(d.get("do_not_apply_to_child_scopes")), name=name))
    custom = {(r.role_id or "").lower() for r in est.roles}
    est.roles += [r for r in builtins if (r.role_id or "").lower() not in custom]
    return est


def _with_id(role: RoleDefinition, guid: str) -> RoleDefinition:
    from dataclasses import replace

    return replace(role, role_id=guid, resource_id=f"/providers/Microsoft.Authorization/roleDefinitions/{guid}")
