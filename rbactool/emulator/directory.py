"""The emulator's principal directory: Graph-style defaults and group membership.

ARM's principal checks (``PrincipalNotFound``, ``UnmatchedPrincipalType``), ``assignedTo()`` and the
Microsoft Graph stand-in (:mod:`rbactool.emulator.graph`) all read the same directory
(``State.principals``; ``state.make_principal`` checks what is seeded). Group membership is a list
of direct member object ids per group; transitive membership is computed here, cycle-safe, in time
linear in the directory's size.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping

from rbactool.emulator.state import GROUP_TYPES, Principal, member_ids

#: app ids of service principals seeded without one: stable, derived from the object id
_APP_NAMESPACE = uuid.UUID("1b6f0c8e-2f7d-4c55-9d0e-7262616374a9")


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
