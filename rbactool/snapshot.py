"""Read an estate from Azure (``rbactool snapshot``) into an ``rbactool.estate.Estate``.

The reads, with the fewest requests (ARM path, ``../shared/research/azure-access-model.md``):

1. subscriptions (``GET /subscriptions``) unless given; the management-group hierarchy in one
   request (``GET .../managementGroups/{tenant root}?$expand=children&$recurse=true``);
2. per subscription, concurrently (bounded): role definitions (built-in and custom), role
   assignments (no filter: at, above and below the subscription, so management-group and root
   assignments come along), deny assignments, PIM eligibility schedule instances;
3. per management group without subscriptions below it that were read: its own (``atScope()``)
   assignments and custom roles.

A read that fails (403, 404, a dropped connection) is a *gap* in the snapshot — recorded with its
scope, API, status and code, and shown by every answer that depends on it — never silently
missing data. Pure orchestration over a *reader* (``rbactool.azure_adapter.AzureGateway``); no
azure.* import here.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from rbactool.errors import AzureOperationError, InputError
from rbactool.estate import (
    EVERYONE,
    Assignment,
    DenyAssignment,
    Estate,
    Gap,
    Principal,
    ScopeNode,
    role_guid,
    scope_key,
)
from rbactool.model import Permission, RoleDefinition
from rbactool.scopes import MANAGEMENT_GROUP, ROOT, SUBSCRIPTION

__all__ = ["API_VERSIONS", "EstateReader", "take_snapshot", "MAX_GROUPS"]

#: Groups whose members a snapshot reads at most (nested groups included); more is a gap.
MAX_GROUPS = 50_000
_GRAPH_TYPES = {"#microsoft.graph.user": "User", "#microsoft.graph.group": "Group",
                "#microsoft.graph.serviceprincipal": "ServicePrincipal", "#microsoft.graph.device": "Device",
                "#microsoft.graph.directoryobjectpartnerreference": "ForeignGroup"}

API_VERSIONS = {
    "subscriptions": "2022-12-01",
    "managementGroups": "2023-04-01",
    "roleDefinitions": "2022-04-01",
    "roleAssignments": "2022-04-01",
    "denyAssignments": "2022-04-01",
    "roleEligibilityScheduleInstances": "2020-10-01",
}
MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"


class EstateReader(Protocol):
    """What a snapshot reads through (``AzureGateway`` implements it)."""

    def get_collection(self, path: str, api_version: str, params: dict[str, str] | None = None) -> list[dict]: ...

    def get_json(self, path: str, api_version: str, params: dict[str, str] | None = None) -> dict: ...

    def list_role_definitions(self, scope: str, filter: str | None = None) -> list[RoleDefinition]: ...  # noqa: A002

    def list_role_assignments(self, scope: str, filter: str | None = None) -> list: ...  # noqa: A002

    # Microsoft Graph (with --groups)
    def graph_objects(self, ids: Sequence[str]) -> list[dict]: ...

    def graph_members(self, group_id: str) -> list[dict]: ...

    # Azure Resource Graph (--source resource-graph): one page of a query
    def resource_graph(self, query: str, subscriptions: Sequence[str], skip_token: str | None) -> dict: ...


@dataclass
class _Collector:
    estate: Estate
    lock: threading.Lock
    progress: Callable[[str], None] | None = None

    def gap(self, scope: str, api: str, e: AzureOperationError) -> None:
        with self.lock:
            self.estate.gaps.append(Gap(scope, api, e.status_code, e.error_code or ("connection" if e.connection
                                                                                    else ""), str(e)[:300]))


def _read(c: _Collector, scope: str, api: str, fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except AzureOperationError as e:
        if e.status_code is None or e.status_code == 401:
            raise  # not signed in, or no endpoint answering: no snapshot at all, never an empty one
        c.gap(scope, api, e)  # an answer that refuses (403, 404, ...): a gap, recorded
        return default


def _hierarchy(c: _Collector, reader: EstateReader, tenant: str | None) -> dict[str, str]:
    """Read the management-group tree; returns subscription key -> parent management group id."""
    parents: dict[str, str] = {}
    if not tenant:
        return parents
    root = f"{MG_PREFIX}{tenant}"
    doc = _read(c, root, "managementGroups", lambda: reader.get_json(
        root, API_VERSIONS["managementGroups"], {"$expand": "children", "$recurse": "true"}), None)
    if not doc:
        return parents
    c.estate.scopes.append(ScopeNode(doc.get("id") or root, MANAGEMENT_GROUP, "/",
                                     (doc.get("properties") or {}).get("displayName") or "Tenant Root Group"))
    stack = [(doc.get("id") or root, (doc.get("properties") or {}).get("children") or [], 0)]
    while stack:
        parent, children, depth = stack.pop()
        if depth > 16:
            continue
        for child in children or []:
            cid, ctype = str(child.get("id") or ""), str(child.get("type") or "").lower()
            if ctype.endswith("/subscriptions") or ctype == "/subscriptions":
                parents[scope_key(cid)] = parent
            elif cid:
                c.estate.scopes.append(ScopeNode(cid, MANAGEMENT_GROUP, parent, child.get("displayName") or ""))
                stack.append((cid, child.get("children") or [], depth + 1))
    return parents


def _permissions(blocks: Iterable[dict]) -> tuple[Permission, ...]:
    return tuple(Permission(tuple(b.get("actions") or ()), tuple(b.get("notActions") or ()),
                            tuple(b.get("dataActions") or ()), tuple(b.get("notDataActions") or ()))
                 for b in blocks or [])


def _deny(d: dict) -> DenyAssignment:
    p = d.get("properties") or {}
    return DenyAssignment(
        id=d.get("id", ""), scope=p.get("scope") or d.get("id", "").split("/providers/Microsoft.Authorization")[0],
        permissions=_permissions(p.get("permissions")),
        principals=tuple(str(x.get("id", "")).lower() for x in p.get("principals") or []),
        exclude_principals=tuple(str(x.get("id", "")).lower() for x in p.get("excludePrincipals") or []),
        do_not_apply_to_child_scopes=bool(p.get("doNotApplyToChildScopes")), name=p.get("denyAssignmentName") or "")


def _eligible(d: dict) -> Assignment:
    p = d.get("properties") or {}
    return Assignment(id=d.get("id", ""), scope=p.get("scope", ""), role_definition_id=role_guid(
        p.get("roleDefinitionId", "")), principal_id=str(p.get("principalId", "")).lower(),
        principal_type=p.get("principalType") or "", condition=p.get("condition"),
        condition_version=p.get("conditionVersion"), eligible=True)


def _active(a) -> Assignment:
    return Assignment(id=a.id, scope=a.scope, role_definition_id=role_guid(a.role_definition_id),
                      principal_id=a.principal_id.lower(), principal_type=a.principal_type or "",
                      condition=a.condition, condition_version=a.condition_version, description=a.description or "")


def _subscription(c: _Collector, reader: EstateReader, scope: str, seen: dict[str, dict], builtins: bool,
                  at_scope: bool = False) -> None:
    """Everything at, above and below *scope* (with *at_scope*: at and above only, ``atScope()``)."""
    only = {"$filter": "atScope()"} if at_scope else None
    roles = _read(c, scope, "roleDefinitions", lambda: reader.list_role_definitions(
        scope, None if builtins else "type eq 'CustomRole'"), [])
    assignments = _read(c, scope, "roleAssignments", lambda: reader.list_role_assignments(
        scope, "atScope()" if at_scope else None), [])
    with c.lock:
        for r in roles:
            seen["roles"].setdefault((r.role_id or "").lower(), r)
        for a in assignments:
            seen["assignments"].setdefault(a.id.lower(), _active(a))
    _arm_only(c, reader, scope, seen, only)


def _graph_kind(obj: dict) -> tuple[str, str]:
    kind = _GRAPH_TYPES.get(str(obj.get("@odata.type", "")).lower(), "")
    name = obj.get("displayName") or obj.get("userPrincipalName") or obj.get("appDisplayName") or ""
    return kind, str(name)


def _directory(c: _Collector, reader: EstateReader, principals: dict[str, str]) -> None:
    """Names and types of the principals (``directoryObjects/getByIds``, 1,000 at a time), and the
    direct members of every group among them, nested groups followed (``groups/{id}/members``)."""
    est = c.estate
    known: dict[str, tuple[str, str]] = {}

    def resolve(ids: list[str]) -> None:
        for i in range(0, len(ids), 1000):
            chunk = ids[i:i + 1000]
            for obj in _read(c, "graph", "directoryObjects/getByIds", lambda chunk=chunk: reader.graph_objects(chunk),
                             []):
                if obj.get("id"):
                    known[str(obj["id"]).lower()] = _graph_kind(obj)

    resolve(sorted(principals))
    queue = [pid for pid in sorted(principals) if (known.get(pid, ("",))[0] or principals[pid]) == "Group"]
    seen = set(queue)
    new: set[str] = set()
    while queue:
        gid = queue.pop(0)
        if len(seen) > MAX_GROUPS:
            c.gap(gid, "groups/members", AzureOperationError(f"more than {MAX_GROUPS:,} groups: members not read"))
            break
        for m in _read(c, gid, "groups/members", lambda gid=gid: reader.graph_members(gid), []):
            mid = str(m.get("id", "")).lower()
            if not mid:
                continue
            est.members.append((gid, mid))
            kind, name = _graph_kind(m)
            if kind:
                known.setdefault(mid, (kind, name))
            elif mid not in known:
                new.add(mid)
            if (known.get(mid, ("",))[0]) == "Group" and mid not in seen:
                seen.add(mid)
                queue.append(mid)
    resolve(sorted(new - set(known)))
    est.principals = [Principal(pid, known.get(pid, ("", ""))[0] or principals.get(pid, ""),
                                known.get(pid, ("", ""))[1])
                      for pid in sorted(set(principals) | set(known))]


ARG_QUERIES = {
    "roleAssignments": "authorizationresources | where type =~ 'microsoft.authorization/roleassignments'",
    "roleDefinitions": "authorizationresources | where type =~ 'microsoft.authorization/roledefinitions'",
    "managementGroups": "resourcecontainers | where type =~ 'microsoft.management/managementgroups'",
    "subscriptions": "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'",
}
MAX_ARG_PAGES = 100_000
#: What a role definition row keeps (Resource Graph adds others, e.g. isServiceRole).
_ROLE_PROPERTIES = ("roleName", "description", "type", "permissions", "assignableScopes")
_PERMISSION_KEYS = {k.lower(): k for k in ("actions", "notActions", "dataActions", "notDataActions", "condition",
                                           "conditionVersion")}


def _arg_rows(c: _Collector, reader: EstateReader, what: str, subscriptions: Sequence[str]) -> list[dict]:
    """Every row of one Resource Graph query, page by page (``$skipToken``)."""
    rows: list[dict] = []
    token: str | None = None
    for _ in range(MAX_ARG_PAGES):
        page = _read(c, "/", f"resourceGraph:{what}", lambda token=token: reader.resource_graph(
            ARG_QUERIES[what], subscriptions, token), None)
        if page is None:
            return rows
        data = page.get("data")
        rows += data if isinstance(data, list) else []
        token = page.get("$skipToken")
        if not token:
            break
    return rows


def _from_resource_graph(c: _Collector, reader: EstateReader, subs: list[str], seen: dict[str, dict]) -> list[str]:
    """Role assignments and definitions, management groups and subscriptions from Resource Graph
    (tenant-wide unless *subs*); returns the subscriptions found. Resource Graph holds no deny
    assignments and no PIM eligibility: those are read from ARM afterwards, per subscription."""
    from rbactool.model import role_from_dict

    est = c.estate
    for row in _arg_rows(c, reader, "managementGroups", subs):
        p = row.get("properties") or {}
        chain = (p.get("details") or {}).get("managementGroupAncestorsChain") or []
        parent = f"{MG_PREFIX}{chain[0]['name']}" if chain and chain[0].get("name") else "/"
        est.scopes.append(ScopeNode(row.get("id", ""), MANAGEMENT_GROUP, parent, p.get("displayName") or ""))
    found: list[str] = []
    for row in _arg_rows(c, reader, "subscriptions", subs):
        p = row.get("properties") or {}
        chain = p.get("managementGroupAncestorsChain") or []
        sub = str(row.get("subscriptionId") or row.get("id", "").rsplit("/", 1)[-1])
        parent = f"{MG_PREFIX}{chain[0]['name']}" if chain and chain[0].get("name") else "/"
        est.scopes.append(ScopeNode(f"/subscriptions/{sub}", SUBSCRIPTION, parent, row.get("name") or sub))
        found.append(sub)
    for row in _arg_rows(c, reader, "roleDefinitions", subs):
        props = row.get("properties") or {}
        doc = {"id": row.get("id"), "name": row.get("name"), "type": "Microsoft.Authorization/roleDefinitions",
               "properties": {k: props[k] for k in _ROLE_PROPERTIES if props.get(k) is not None}}
        if isinstance(doc["properties"].get("permissions"), list):  # Resource Graph's keys vary in case
            doc["properties"]["permissions"] = [
                {_PERMISSION_KEYS[k.lower()]: v for k, v in b.items() if k.lower() in _PERMISSION_KEYS}
                for b in doc["properties"]["permissions"] if isinstance(b, dict)]
        try:
            role = role_from_dict(doc, source="resource-graph")
        except InputError as e:
            c.gap(str(row.get("id", "")), "resourceGraph:roleDefinitions", AzureOperationError(str(e)))
            continue
        seen["roles"].setdefault((role.role_id or "").lower(), role)
    for row in _arg_rows(c, reader, "roleAssignments", subs):
        p = row.get("properties") or {}
        aid = str(row.get("id", ""))
        seen["assignments"].setdefault(aid.lower(), Assignment(
            id=aid, scope=p.get("scope") or aid.split("/providers/Microsoft.Authorization")[0],
            role_definition_id=role_guid(str(p.get("roleDefinitionId", ""))),
            principal_id=str(p.get("principalId", "")).lower(), principal_type=p.get("principalType") or "",
            condition=p.get("condition"), condition_version=p.get("conditionVersion"),
            description=p.get("description") or ""))
    return found


def take_snapshot(reader_for: Callable[[], EstateReader], *, subscriptions: Sequence[str] = (),
                  management_groups: Sequence[str] = (), tenant: str | None = None, cloud: str = "",
                  endpoint: str = "", parallelism: int = 8, at_scope: str | None = None, groups: bool = False,
                  source: str = "arm", progress: Callable[[str], None] | None = None) -> Estate:
    """Read the estate visible through *reader_for()* (one reader per worker thread). *at_scope*:
    only what applies at that one scope (its ancestry, ``atScope()``), for ``who-can --live``."""
    reader = reader_for()
    est = Estate(meta={"source": "arm", "cloud": cloud, "endpoint": endpoint, "tenant_id": tenant,
                       "taken_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                       "api_versions": API_VERSIONS})
    c = _Collector(est, threading.Lock(), progress)
    est.scopes.append(ScopeNode("/", ROOT, None, "root"))
    subs = list(subscriptions)
    seen: dict[str, dict] = {"roles": {}, "assignments": {}, "denies": {}}
    if source == "resource-graph":
        est.meta["source"] = "resource-graph"
        subs = _from_resource_graph(c, reader, subs, seen) or subs
        scopes = [f"/subscriptions/{s}" for s in subs] + [f"{MG_PREFIX}{m}" for m in management_groups]
        _each(reader_for, scopes, parallelism, lambda r, i, scope: _arm_only(c, r, scope, seen))
        return _finish(c, est, seen, reader, groups)
    if not subs:
        found = _read(c, "/", "subscriptions", lambda: reader.get_collection(
            "/subscriptions", API_VERSIONS["subscriptions"]), [])
        subs = [str(s.get("subscriptionId")) for s in found if s.get("subscriptionId")]
        if not tenant:
            tenant = next((str(s.get("tenantId")) for s in found if s.get("tenantId")), None)
            est.meta["tenant_id"] = tenant
    parents = _hierarchy(c, reader, tenant)
    root_mg = f"{MG_PREFIX}{tenant}" if tenant else "/"
    for sub in subs:
        est.scopes.append(ScopeNode(f"/subscriptions/{sub}", SUBSCRIPTION,
                                    parents.get(scope_key(f"/subscriptions/{sub}"), root_mg), sub))
    scopes = [f"/subscriptions/{s}" for s in subs] + [f"{MG_PREFIX}{m}" for m in management_groups]
    if at_scope is not None:
        scopes = [at_scope]
    _each(reader_for, scopes, parallelism, lambda r, i, scope: _subscription(
        c, r, scope, seen, builtins=i == 0, at_scope=at_scope is not None))
    return _finish(c, est, seen, reader, groups)


def _each(reader_for: Callable[[], EstateReader], scopes: Sequence[str], parallelism: int,
          fn: Callable[[EstateReader, int, str], None]) -> None:
    """fn(reader, index, scope) for every scope, concurrently (bounded), one reader per thread."""
    local = threading.local()

    def work(i_scope: tuple[int, str]) -> None:
        if not hasattr(local, "reader"):
            local.reader = reader_for()
        fn(local.reader, *i_scope)

    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, 32))) as pool:
        list(pool.map(work, enumerate(scopes)))


def _arm_only(c: _Collector, reader: EstateReader, scope: str, seen: dict[str, dict],
              only: dict[str, str] | None = None) -> None:
    """What Resource Graph does not hold, from ARM: deny assignments and PIM eligibility."""
    denies = _read(c, scope, "denyAssignments", lambda: reader.get_collection(
        f"{scope}/providers/Microsoft.Authorization/denyAssignments", API_VERSIONS["denyAssignments"], only), [])
    eligible = _read(c, scope, "roleEligibilityScheduleInstances", lambda: reader.get_collection(
        f"{scope}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances",
        API_VERSIONS["roleEligibilityScheduleInstances"], only), [])
    with c.lock:
        for d in denies:
            seen["denies"].setdefault(str(d.get("id", "")).lower(), _deny(d))
        for e in eligible:
            seen["assignments"].setdefault(str(e.get("id", "")).lower(), _eligible(e))
    if c.progress:
        c.progress(scope)


def _finish(c: _Collector, est: Estate, seen: dict[str, dict], reader: EstateReader, groups: bool) -> Estate:
    if not any(not r.is_custom for r in seen["roles"].values()):
        # no built-in role could be read: use rbactool's offline copy (and say so)
        from rbactool.builtins import load_builtin_roles

        for r in load_builtin_roles().all():
            seen["roles"].setdefault((r.role_id or "").lower(), r)
        est.meta["builtin_roles"] = "rbactool's offline copy (Azure's list could not be read)"
    est.roles = sorted(seen["roles"].values(), key=lambda r: r.name.lower())
    est.assignments = sorted(seen["assignments"].values(), key=lambda a: a.id.lower())
    est.denies = sorted(seen["denies"].values(), key=lambda d: d.id.lower())
    types: dict[str, str] = {}
    for a in est.assignments:
        types.setdefault(a.principal_id, a.principal_type)
    for d in est.denies:
        for pid in (*d.principals, *d.exclude_principals):
            if pid != EVERYONE:
                types.setdefault(pid, "")
    est.principals = [Principal(pid, t) for pid, t in sorted(types.items())]
    est.meta["groups_read"] = groups
    if groups:
        _directory(c, reader, types)
    est.gaps.sort(key=lambda g: (g.scope.lower(), g.api))
    return est
