"""``Microsoft.Management`` (api-version 2023-04-01; 2020-02-01 ... 2021-04-01 are served the same):
the management-group hierarchy the seed describes, read-only.

* ``GET /providers/Microsoft.Management/managementGroups``: every group, paged (``$skiptoken``);
* ``GET .../managementGroups/{id}[?$expand=children|path|ancestors&$recurse=true]``, also
  ``$filter=children.childType ne Subscription``;
* ``GET .../managementGroups/{id}/descendants[?$top=&$skiptoken=]``: groups and subscriptions below, flat;
* ``GET .../managementGroups/{id}/subscriptions[/{subscriptionId}]``: direct child subscriptions;
* ``POST /providers/Microsoft.Management/getEntities[?$view=GroupsOnly|SubscriptionsOnly]``.

Without a seeded hierarchy there is just the tenant root group (its id is the tenant id) with
every subscription under it. An unknown group is 403 ``AuthorizationFailed``, as ARM answers
for a scope that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

from rbactool.emulator import armerror
from rbactool.emulator.armerror import ArmError
from rbactool.emulator.backend import Backend
from rbactool.emulator.routing import Call, Response, page_records
from rbactool.emulator.state import ManagementGroupRecord, State
from rbactool.scopes import parse_scope

VERSIONS = ("2023-04-01", "2021-04-01", "2020-10-01", "2020-05-01", "2020-02-01", "2019-11-01",
            "2018-03-01-preview")
MG_TYPE = "Microsoft.Management/managementGroups"
PREFIX = "/providers/Microsoft.Management/managementGroups"
_PATH = re.compile(r"^/providers/microsoft\.management/(managementgroups|getentities)"
                   r"(?:/([^/]+)(?:/([^/]+)(?:/([^/]+))?)?)?$", re.IGNORECASE)
_NO_SUBS = re.compile(r"^\s*children\.childtype\s+ne\s+'?subscription'?\s*$", re.IGNORECASE)
_STAMP = "2024-01-01T00:00:00.0000000Z"


class Tree:
    """The hierarchy as the API needs it: groups, their children, subscriptions and names."""

    def __init__(self, st: State):
        self.tenant = st.tenant_id
        root = st.tenant_id.lower()
        self.groups: dict[str, ManagementGroupRecord] = dict(st.mg_tree) or {
            root: ManagementGroupRecord(st.tenant_id, "Tenant Root Group", None)}
        self.child_groups: dict[str, list[str]] = {k: [] for k in self.groups}
        for k, g in self.groups.items():
            if g.parent is not None and g.parent.lower() in self.child_groups:
                self.child_groups[g.parent.lower()].append(k)
        self.child_subs: dict[str, list[str]] = {k: [] for k in self.groups}
        for s in st.subscriptions:
            parent = st.subscription_parents.get(s.lower(), st.tenant_id).lower()
            self.child_subs.setdefault(parent, []).append(s)
        self.sub_names = {s.lower(): st.subscription_names.get(s.lower(), s) for s in st.subscriptions}

    def get(self, name: str) -> ManagementGroupRecord:
        g = self.groups.get(name.lower())
        if g is None:
            raise ArmError(403, "AuthorizationFailed",
                           f"The client does not have authorization to perform action "
                           f"'Microsoft.Management/managementGroups/read' over scope '{PREFIX}/{name}' or the scope "
                           "is invalid. If access was recently granted, please refresh your credentials.")
        return g

    def ancestors(self, g: ManagementGroupRecord) -> list[ManagementGroupRecord]:
        out = []
        while g.parent is not None and g.parent.lower() in self.groups and len(out) < len(self.groups):
            g = self.groups[g.parent.lower()]
            out.append(g)
        return out

    def mg_id(self, g: ManagementGroupRecord) -> str:
        return f"{PREFIX}/{g.name}"

    def parent_ref(self, g: ManagementGroupRecord) -> dict[str, Any] | None:
        if g.parent is None or g.parent.lower() not in self.groups:
            return None
        p = self.groups[g.parent.lower()]
        return {"id": self.mg_id(p), "name": p.name, "displayName": p.display_name}

    def descendants(self, g: ManagementGroupRecord) -> tuple[list[ManagementGroupRecord], list[tuple[str, str]]]:
        """(groups, (subscription, parent group name)) below *g*, breadth first."""
        groups, subs, todo = [], [], [g]
        while todo:
            cur = todo.pop(0)
            subs.extend((s, cur.name) for s in self.child_subs.get(cur.name.lower(), ()))
            for k in self.child_groups.get(cur.name.lower(), ()):
                groups.append(self.groups[k])
                todo.append(self.groups[k])
        return groups, subs


def handle(b: Backend, method: str, path: str, query: dict[str, str], body: bytes, base_url: str) -> Response | None:
    m = _PATH.match(path)
    if m is None:
        return None
    kind, name, sub, sub_id = m.group(1).lower(), m.group(2), m.group(3), m.group(4)
    if kind == "getentities" and (name is not None or method != "POST"):
        return None if name is not None else _method(method)
    if kind == "managementgroups" and method != "GET":
        raise _method(method)
    version = query.get("api-version")
    if not version:
        raise armerror.missing_api_version()
    if version not in VERSIONS:
        raise armerror.invalid_api_version(version, VERSIONS)
    call = Call(method, path, parse_scope("/"), "managementGroups", name, query, None, "", 0.0, base_url)
    with b.state.lock:
        tree = Tree(b.state)
        if kind == "getentities":
            return _entities(b, tree, call)
        if name is None:
            items = [_summary(tree, g) for g in _ordered(tree)]
            return Response(200, page_records(call, items, b.config.page_size, _same))
        g = tree.get(name)
        if sub is None:
            return Response(200, _detail(tree, g, query))
        if sub.lower() == "descendants" and sub_id is None:
            return _descendants(b, tree, g, call)
        if sub.lower() == "subscriptions":
            rows = [_subscription_row(tree, g, s) for s in tree.child_subs.get(g.name.lower(), ())]
            if sub_id is None:
                return Response(200, page_records(call, rows, b.config.page_size, _same))
            for r in rows:
                if r["name"].lower() == sub_id.lower():
                    return Response(200, r)
            raise ArmError(404, "NotFound", f"Subscription '{sub_id}' is not a child of management group '{g.name}'.")
    raise armerror.unknown_route(method, path)


def _method(method: str) -> ArmError:
    return armerror.method_not_allowed(method)


def _same(x: Any) -> Any:
    return x


def _ordered(tree: Tree) -> list[ManagementGroupRecord]:
    root = tree.groups.get(tree.tenant.lower())
    groups, _ = tree.descendants(root) if root else ([], [])
    seen = {g.name.lower() for g in groups}
    rest = [g for k, g in tree.groups.items() if k not in seen and g is not root]
    return ([root] if root else []) + groups + rest


def _summary(tree: Tree, g: ManagementGroupRecord) -> dict[str, Any]:
    return {"id": tree.mg_id(g), "type": MG_TYPE, "name": g.name,
            "properties": {"tenantId": tree.tenant, "displayName": g.display_name}}


def _children(tree: Tree, g: ManagementGroupRecord, recurse: bool, subs: bool, depth: int = 0) -> list[dict]:
    out: list[dict] = []
    for k in tree.child_groups.get(g.name.lower(), ()):
        child = tree.groups[k]
        item: dict[str, Any] = {"id": tree.mg_id(child), "type": MG_TYPE, "name": child.name,
                                "displayName": child.display_name}
        if recurse and depth < 16:
            item["children"] = _children(tree, child, True, subs, depth + 1)
        out.append(item)
    if subs:
        for s in tree.child_subs.get(g.name.lower(), ()):
            out.append({"id": f"/subscriptions/{s}", "type": "/subscriptions", "name": s,
                        "displayName": tree.sub_names.get(s.lower(), s)})
    return out


def _detail(tree: Tree, g: ManagementGroupRecord, query: dict[str, str]) -> dict[str, Any]:
    expand = {e.strip().lower() for e in (query.get("$expand") or "").split(",") if e.strip()}
    unknown = expand - {"children", "path", "ancestors"}
    if unknown:
        raise ArmError(400, "InvalidRequest", f"The $expand value '{query.get('$expand')}' is not valid; use "
                       "children, path or ancestors.")
    recurse = (query.get("$recurse") or "").lower() == "true"
    if recurse and "children" not in expand:
        raise ArmError(400, "InvalidRequest", "$recurse=true can only be used with $expand=children.")
    flt = query.get("$filter")
    if flt is not None and not _NO_SUBS.match(flt):
        raise ArmError(400, "InvalidFilter", f"The filter '{flt}' is not supported.")
    details: dict[str, Any] = {"version": 1, "updatedTime": _STAMP, "updatedBy": tree.tenant,
                               "parent": tree.parent_ref(g)}
    ancestors = tree.ancestors(g)
    if "path" in expand:
        details["path"] = [{"name": a.name, "displayName": a.display_name} for a in reversed(ancestors)]
    if "ancestors" in expand:
        details["managementGroupAncestors"] = [{"name": a.name, "displayName": a.display_name} for a in ancestors]
    props: dict[str, Any] = {"tenantId": tree.tenant, "displayName": g.display_name, "details": details}
    if "children" in expand:
        props["children"] = _children(tree, g, recurse, flt is None)
    return {"id": tree.mg_id(g), "type": MG_TYPE, "name": g.name, "properties": props}


def _page_size(b: Backend, query: dict[str, str]) -> int:
    top = query.get("$top")
    if top is None:
        return b.config.page_size
    try:
        n = int(top)
    except ValueError as e:
        raise ArmError(400, "InvalidRequest", f"The $top value '{top}' is not valid.") from e
    if n <= 0:
        raise ArmError(400, "InvalidRequest", f"The $top value '{top}' is not valid.")
    return n


def _descendants(b: Backend, tree: Tree, g: ManagementGroupRecord, call: Call) -> Response:
    groups, subs = tree.descendants(g)
    items: list[dict[str, Any]] = [
        {"id": tree.mg_id(x), "type": MG_TYPE, "name": x.name,
         "properties": {"displayName": x.display_name, "parent": {"id": f"{PREFIX}/{x.parent}"}}}
        for x in groups
    ]
    items += [
        {"id": f"/subscriptions/{s}", "type": "Microsoft.Management/managementGroups/subscriptions", "name": s,
         "properties": {"displayName": tree.sub_names.get(s.lower(), s), "parent": {"id": f"{PREFIX}/{parent}"}}}
        for s, parent in subs
    ]
    out = page_records(call, items, _page_size(b, call.query), _same)
    out.setdefault("nextLink", None)
    return Response(200, out)


def _subscription_row(tree: Tree, g: ManagementGroupRecord, s: str) -> dict[str, Any]:
    return {"id": f"{tree.mg_id(g)}/subscriptions/{s}", "type": "Microsoft.Management/managementGroups/subscriptions",
            "name": s, "properties": {"tenant": tree.tenant, "displayName": tree.sub_names.get(s.lower(), s),
                                      "parent": {"id": tree.mg_id(g)}, "state": "Active"}}


def _entities(b: Backend, tree: Tree, call: Call) -> Response:
    view = (call.query.get("$view") or "FullHierarchy").lower()
    if view not in ("fullhierarchy", "groupsonly", "subscriptionsonly", "audit"):
        raise ArmError(400, "InvalidRequest", f"The $view value '{call.query.get('$view')}' is not valid.")
    items: list[dict[str, Any]] = []
    for g in _ordered(tree):
        chain = list(reversed(tree.ancestors(g)))
        groups, subs = tree.descendants(g)
        if view != "subscriptionsonly":
            items.append({"id": tree.mg_id(g), "type": MG_TYPE, "name": g.name, "properties": {
                "tenantId": tree.tenant, "displayName": g.display_name,
                "parent": {"id": tree.mg_id(tree.groups[g.parent.lower()])} if g.parent and
                g.parent.lower() in tree.groups else None,
                "permissions": "view", "inheritedPermissions": "view",
                "parentDisplayNameChain": [a.display_name for a in chain], "parentNameChain": [a.name for a in chain],
                "numberOfDescendants": len(groups) + len(subs),
                "numberOfChildren": len(tree.child_groups.get(g.name.lower(), ())) + len(
                    tree.child_subs.get(g.name.lower(), ())),
                "numberOfChildGroups": len(tree.child_groups.get(g.name.lower(), ())),
            }})
        if view not in ("groupsonly",):
            chain_here = [*chain, g]
            for s in tree.child_subs.get(g.name.lower(), ()):
                items.append({"id": f"/subscriptions/{s}", "type": "/subscriptions", "name": s, "properties": {
                    "tenantId": tree.tenant, "displayName": tree.sub_names.get(s.lower(), s),
                    "parent": {"id": tree.mg_id(g)}, "permissions": "view", "inheritedPermissions": "view",
                    "parentDisplayNameChain": [a.display_name for a in chain_here],
                    "parentNameChain": [a.name for a in chain_here],
                    "numberOfDescendants": 0, "numberOfChildren": 0, "numberOfChildGroups": 0,
                }})
    out = page_records(call, items, _page_size(b, call.query), _same)
    out["count"] = len(items)
    out.setdefault("nextLink", None)
    return Response(200, out)
