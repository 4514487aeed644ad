"""The emulator's principal directory: checking seeded principals, Graph-style defaults, group membership.

ARM's principal checks (``PrincipalNotFound``, ``UnmatchedPrincipalType``), ``assignedTo()`` and the
Microsoft Graph stand-in (:mod:`rbactool.emulator.graph`) all read the same directory
(``State.principals``). Group membership is a list of direct member object ids per group;
transitive membership is computed here, cycle-safe, in time linear in the directory's size.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from rbactool.emulator.state import PRINCIPAL_TYPES, Principal
from rbactool.scopes import is_guid

GROUP_TYPES = ("Group", "ForeignGroup")
MAX_NAME = 1024
MAX_NAMES = 1000
MAX_MEMBERS = 100_000
#: app ids of service principals seeded without one: stable, derived from the object id
_APP_NAMESPACE = uuid.UUID("1b6f0c8e-2f7d-4c55-9d0e-7262616374a9")


def canonical_type(value: Any) -> str:
    canonical = {t.lower(): t for t in PRINCIPAL_TYPES}.get(str(value).lower())
    if canonical is None:
        raise ValueError(f"principal type must be one of {', '.join(PRINCIPAL_TYPES)}, got {value!r}")
    return canonical


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise ValueError(f"principal {what} must be a non-empty string of at most {MAX_NAME} characters")
    return value


def _texts(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) > MAX_NAMES:
        raise ValueError(f"principal {what} must be a list of at most {MAX_NAMES} strings")
    return tuple(_text(v, what) or "" for v in value)


def member_ids(value: Any, group: str) -> tuple[str, ...]:
    """Direct members as given (GUIDs, duplicates dropped, first spelling kept); ValueError otherwise."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) > MAX_MEMBERS:
        raise ValueError(f"group members must be a list of at most {MAX_MEMBERS} object ids")
    out: dict[str, str] = {}
    for m in value:
        if not isinstance(m, str) or not is_guid(m):
            raise ValueError(f"group member must be an object id (GUID), got {str(m)[:60]!r}")
        if m.lower() == group.lower():
            raise ValueError(f"group {group} cannot be a member of itself")
        out.setdefault(m.lower(), m)
    return tuple(out.values())


def make_principal(object_id: Any, type: Any = "User", display_name: Any = "",  # noqa: A002
                   visible_at: float = 0.0, *, user_principal_name: Any = None, app_id: Any = None,
                   service_principal_names: Any = None, members: Any = None) -> Principal:
    """A checked directory object (ValueError naming the bad field)."""
    if not isinstance(object_id, str) or not is_guid(object_id):
        raise ValueError(f"principal object id must be a GUID, got {str(object_id)[:60]!r}")
    kind = canonical_type(type)
    if display_name is None:
        display_name = ""
    if not isinstance(display_name, str) or len(display_name) > MAX_NAME:
        raise ValueError(f"principal displayName must be a string of at most {MAX_NAME} characters")
    upn = _text(user_principal_name, "userPrincipalName")
    app = _text(app_id, "appId")
    spns = _texts(service_principal_names, "servicePrincipalNames")
    if upn is not None and kind != "User":
        raise ValueError("userPrincipalName is only for principals of type User")
    if (app is not None or spns) and kind != "ServicePrincipal":
        raise ValueError("appId and servicePrincipalNames are only for principals of type ServicePrincipal")
    if members is not None and kind not in GROUP_TYPES:
        raise ValueError("members are only for principals of type Group")
    return Principal(object_id, kind, display_name, float(visible_at), upn, app, spns,
                     member_ids(members, object_id))


def principal_from_json(d: Mapping[str, Any]) -> Principal:
    """A persisted principal (``Principal.to_json``), checked like a seeded one."""
    return make_principal(d["objectId"], d["type"], d.get("displayName") or "", float(d.get("visibleAt", 0.0)),
                          user_principal_name=d.get("userPrincipalName"), app_id=d.get("appId"),
                          service_principal_names=d.get("servicePrincipalNames"), members=d.get("members"))


# ------------------------------------------------------------------------ Graph-style defaults


def user_principal_name(p: Principal) -> str:
    return p.user_principal_name or f"{p.object_id}@emulator.invalid"


def app_id(p: Principal) -> str:
    return p.app_id or str(uuid.uuid5(_APP_NAMESPACE, p.object_id.lower()))


def service_principal_names(p: Principal) -> list[str]:
    """The app id first (as Graph lists it), then the seeded names."""
    first = app_id(p)
    return [first, *(n for n in p.service_principal_names if n.lower() != first.lower())]


# ------------------------------------------------------------------------ membership


def direct_groups(principals: Mapping[str, Principal], object_id: str) -> list[Principal]:
    """Groups that list *object_id* as a direct member."""
    low = object_id.lower()
    return [g for g in principals.values()
            if g.type in GROUP_TYPES and any(m.lower() == low for m in g.members)]


def transitive_groups(principals: Mapping[str, Principal], object_id: str) -> list[Principal]:
    """Every group *object_id* is a member of, directly or through other groups (breadth first)."""
    parents: dict[str, list[Principal]] = {}
    for g in principals.values():
        if g.type in GROUP_TYPES:
            for m in g.members:
                parents.setdefault(m.lower(), []).append(g)
    seen: dict[str, Principal] = {}
    frontier = [object_id.lower()]
    while frontier:
        nxt = []
        for oid in frontier:
            for g in parents.get(oid, ()):
                key = g.object_id.lower()
                if key not in seen and key != object_id.lower():
                    seen[key] = g
                    nxt.append(key)
        frontier = nxt
    return list(seen.values())


def transitive_members(principals: Mapping[str, Principal], group_id: str) -> list[Principal]:
    """Every directory object below the group (members of member groups too), each once."""
    seen: dict[str, Principal] = {}
    root = principals.get(group_id.lower())
    frontier = [root] if root is not None else []
    while frontier:
        nxt = []
        for g in frontier:
            for m in g.members:
                key = m.lower()
                p = principals.get(key)
                if p is None or key in seen or key == group_id.lower():
                    continue
                seen[key] = p
                if p.type in GROUP_TYPES:
                    nxt.append(p)
        frontier = nxt
    return list(seen.values())


def direct_members(principals: Mapping[str, Principal], group: Principal) -> list[Principal]:
    """The group's direct members that the directory knows (unknown object ids are skipped)."""
    return [p for p in (principals.get(m.lower()) for m in group.members) if p is not None]


def assigned_to(principals: Mapping[str, Principal], object_id: str) -> set[str]:
    """``assignedTo('{id}')``: the principal itself and every group it is in, transitively (lower-cased)."""
    return {object_id.lower(), *(g.object_id.lower() for g in transitive_groups(principals, object_id))}


def with_member(group: Principal, member: str, present: bool) -> Principal:
    """The group with *member* added (present) or removed."""
    if group.type not in GROUP_TYPES:
        raise ValueError(f"principal {group.object_id} is a {group.type}, not a group")
    kept = [m for m in group.members if m.lower() != member.lower()]
    return dataclasses.replace(group, members=member_ids([*kept, member] if present else kept, group.object_id))
