"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources`` for the few
queries rbactool sends. This is not a KQL engine: a query is recognised or refused (400 with
ARG's ``InvalidQuery`` detail). Recognised (case and spacing do not matter)::

    authorizationresources [| where type =~ 'microsoft.authorization/roleassignments'] [| project a, b, ...]
    authorizationresources  | where type =~ 'microsoft.authorization/roledefinitions'  [| project ...]
    resourcecontainers     [| where type =~ 'microsoft.management/managementgroups'] [| project ...]
    resourcecontainers      | where type =~ 'microsoft.resources/subscriptions'        [| project ...]
    resourcecontainers      | where type =~ 'microsoft.resources/subscriptions/resourcegroups' [| project ...]

``==`` works too (case-sensitive, as in KQL). ``project`` takes plain column names. Request:
``query``, ``subscriptions`` or ``managementGroups`` (not both), ``options.$top`` (1-1000,
default 1000), ``options.$skip``, ``options.$skipToken``, ``options.resultFormat``
(``objectArray``, the default, or ``table``), ``options.authorizationScopeFilter``.
Response: ``totalRecords``, ``count``, ``resultTruncated`` (the strings ``"true"``/``"false"``),
``$skipToken`` when another page exists (only when ``id`` is among the columns), ``data``,
``facets``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from rbactool.emulator import armerror
from rbactool.emulator.armerror import ArmError
from rbactool.emulator.backend import Backend
from rbactool.emulator.roledefs import BUILTIN_TIMESTAMP, definition_id
from rbactool.emulator.routing import Response
from rbactool.emulator.state import RoleAssignmentRecord, RoleDefinitionRecord, State, bucket_of
from rbactool.errors import InputError
from rbactool.readers import decode_text, loads_json

VERSIONS = ("2024-04-01", "2022-10-01", "2021-03-01", "2021-06-01-preview", "2020-04-01-preview", "2019-04-01")
PATH = "/providers/microsoft.resourcegraph/resources"
MAX_TOP = 1000
RA = "microsoft.authorization/roleassignments"
RD = "microsoft.authorization/roledefinitions"
CA = "microsoft.authorization/classicadministrators"
MG = "microsoft.management/managementgroups"
SUB = "microsoft.resources/subscriptions"
RG = "microsoft.resources/subscriptions/resourcegroups"
TABLES = {"authorizationresources": (RA, RD, CA), "resourcecontainers": (MG, SUB, RG)}
COLUMNS = (("id", "string"), ("name", "string"), ("type", "string"), ("tenantId", "string"), ("kind", "string"),
           ("location", "string"), ("resourceGroup", "string"), ("subscriptionId", "string"),
           ("managedBy", "string"), ("sku", "object"), ("plan", "object"), ("properties", "object"),
           ("tags", "object"), ("identity", "object"), ("zones", "object"), ("extendedLocation", "object"))
_TYPES = dict(COLUMNS)
_WHERE = re.compile(r"^where\s+type\s*(=~|==)\s*(?:'([^']*)'|\"([^\"]*)\")$", re.IGNORECASE)
_PROJECT = re.compile(r"^project\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)$", re.IGNORECASE)
_SCOPE_FILTERS = ("atscopeandbelow", "atscopeandabove", "atscopeexact", "atscopeaboveandbelow")


def handle(b: Backend, method: str, path: str, query: dict[str, str], body: bytes, base_url: str) -> Response | None:
    if path.lower() != PATH:
        return None
    if method != "POST":
        raise armerror.method_not_allowed(method)
    version = query.get("api-version")
    if not version:
        raise armerror.missing_api_version()
    if version not in VERSIONS:
        raise armerror.invalid_api_version(version, VERSIONS)
    req = _body(body)
    text = req.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ArmError(400, "BadRequest", "The request must have a 'query'.")
    parsed = parse_query(text)
    if parsed is None:
        return Response(400, invalid_query(text))
    table, rtype, exact, columns = parsed
    opts = req.get("options") or {}
    if not isinstance(opts, dict):
        raise ArmError(400, "BadRequest", "'options' must be an object.")
    top, skip, token, fmt, scope_filter = _options(opts)
    subs, mgs = _scopes(req)
    with b.state.lock:
        segments = _records(b, table, rtype, exact, subs, mgs, scope_filter)
        total = sum(len(recs) for _, recs in segments)
        fingerprint = hashlib.sha256(json.dumps([text, subs, mgs, scope_filter]).encode()).hexdigest()[:16]
        start = skip + (_read_token(token, fingerprint) if token else 0)
        rows = [_project(_render(b.state, kind, r), columns) for kind, r in _slice(segments, start, top)]
    more = start + top < total
    pageable = columns is None or "id" in columns
    out: dict[str, Any] = {"totalRecords": total, "count": len(rows),
                           "resultTruncated": "true" if more and not pageable else "false", "facets": []}
    if more and pageable:
        out["$skipToken"] = _make_token(start + top - skip, fingerprint)
    names = list(columns) if columns is not None else [c for c, _ in COLUMNS]
    if fmt == "table":
        out["data"] = {"columns": [{"name": n, "type": _TYPES.get(n, "object")} for n in names],
                       "rows": [[row.get(n) for n in names] for row in rows]}
    else:
        out["data"] = rows
    return Response(200, out, {"x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"})


def invalid_query(text: str) -> dict[str, Any]:
    return {"error": {
        "code": "BadRequest",
        "message": "Please provide below info when asking for support: the query text. The rbactool emulator "
                   "answers only the queries listed in docs/emulator.md.",
        "details": [
            {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure "
                                                "Resource Graph service and fix the error before retrying."},
            {"code": "UnsupportedQuery", "message": f"The emulator does not recognise the query {text[:200]!r}."},
        ],
    }}


def parse_query(text: str) -> tuple[str, str | None, bool, tuple[str, ...] | None] | None:
    """(table, type or None for every type, case-sensitive?, projected columns or None) or None."""
    parts = [p.strip() for p in text.strip().split("|")]
    table = parts[0].lower()
    if table not in TABLES or any(not p for p in parts):
        return None
    rtype, exact, columns = None, False, None
    rest = parts[1:]
    if rest and rest[0].lower().startswith("where"):
        m = _WHERE.match(rest.pop(0))
        if m is None:
            return None
        rtype = m.group(2) if m.group(2) is not None else m.group(3)
        exact = m.group(1) == "=="
        if rtype.lower() not in TABLES[table]:
            return None
    if rest and rest[0].lower().startswith("project"):
        m = _PROJECT.match(rest.pop(0))
        if m is None:
            return None
        columns = tuple(c.strip() for c in m.group(1).split(","))
    if rest:
        return None
    return table, rtype, exact, columns


def _body(raw: bytes) -> dict:
    if not raw:
        raise armerror.invalid_request_content("the request body is empty.")
    try:
        doc = loads_json(decode_text(raw, "body", "the request body"), "body")
    except InputError as e:
        raise armerror.invalid_request_content(str(e).removeprefix("body: ")) from e
    if not isinstance(doc, dict):
        raise armerror.invalid_request_content("the request body must be a JSON object.")
    return doc


def _options(opts: dict) -> tuple[int, int, str | None, str, str]:
    top = opts.get("$top", MAX_TOP)
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ArmError(400, "BadRequest", f"options.$top must be an integer from 1 to {MAX_TOP}, got {top!r}.")
    skip = opts.get("$skip", 0)
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise ArmError(400, "BadRequest", f"options.$skip must be a non-negative integer, got {skip!r}.")
    token = opts.get("$skipToken")
    if token is not None and not isinstance(token, str):
        raise ArmError(400, "BadRequest", "options.$skipToken must be a string.")
    fmt = str(opts.get("resultFormat") or "objectArray")
    if fmt.lower() not in ("objectarray", "table"):
        raise ArmError(400, "BadRequest", f"options.resultFormat must be objectArray or table, got {fmt!r}.")
    sf = str(opts.get("authorizationScopeFilter") or "AtScopeAndBelow").lower()
    if sf not in _SCOPE_FILTERS:
        raise ArmError(400, "BadRequest", f"options.authorizationScopeFilter {sf!r} is not valid.")
    return top, skip, token, fmt.lower().replace("objectarray", "objectArray"), sf


def _scopes(req: dict) -> tuple[list[str] | None, list[str] | None]:
    out = []
    for key in ("subscriptions", "managementGroups"):
        v = req.get(key)
        if v is not None and (not isinstance(v, list) or not all(isinstance(s, str) for s in v)):
            raise ArmError(400, "BadRequest", f"'{key}' must be an array of strings.")
        out.append([s.lower() for s in v] if v else None)
    if out[0] is not None and out[1] is not None:
        raise ArmError(400, "BadRequest", "'subscriptions' and 'managementGroups' cannot both be given.")
    return out[0], out[1]


def _make_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": fingerprint}).encode()).decode()


def _read_token(token: str, fingerprint: str) -> int:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = doc["o"]
        ok = isinstance(offset, int) and offset >= 0 and doc["q"] == fingerprint
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ArmError(400, "BadRequest", "options.$skipToken is not valid for this query and scope.")
    return offset


# ------------------------------------------------------------------------ rows


class _Scoping:
    """Which rows a request's ``subscriptions``/``managementGroups`` and scope filter select."""

    def __init__(self, b: Backend, subs: list[str] | None, mgs: list[str] | None, scope_filter: str):
        st, h = b.state, b.hierarchy
        self.all = subs is None and mgs is None
        self.req_subs: set[str] = set(subs or ())
        self.req_mgs: set[str] = set(mgs or ())
        self.subs: set[str] = set(self.req_subs)
        self.mgs: set[str] = set()
        self.above: set[str] = set()
        for s in self.req_subs:
            parent = st.subscription_parents.get(s, st.tenant_id).lower()
            self.above.update({parent, *h.mg_ancestors(parent)})
        for m in self.req_mgs:
            self.above.update(h.mg_ancestors(m))
            self.mgs.update(k for k in st.mg_tree if m in h.mg_ancestors(k))
            self.subs.update(s.lower() for s in st.management_groups.get(m, ()))
        if mgs is not None and st.tenant_id.lower() in self.req_mgs:
            self.subs.update(s.lower() for s in st.subscriptions)
            self.mgs.update(st.mg_tree)
        self.with_above = scope_filter in ("atscopeandabove", "atscopeaboveandbelow")
        self.with_below = scope_filter in ("atscopeandbelow", "atscopeaboveandbelow")

    def assignment(self, rec: RoleAssignmentRecord) -> bool:
        if self.all:
            return True
        low = rec.scope.lower()
        b = bucket_of(low)
        if b:
            if b not in self.subs:
                return False
            if b in self.req_subs and low.rstrip("/") == f"/subscriptions/{b}":
                return True
            return self.with_below
        if low == "/":
            return self.with_above
        mg = low.rsplit("/", 1)[-1]
        if mg in self.req_mgs:
            return True
        if mg in self.mgs:
            return self.with_below
        return self.with_above and mg in self.above


def _records(b: Backend, table: str, rtype: str | None, exact: bool, subs: list[str] | None,
             mgs: list[str] | None, scope_filter: str) -> list[tuple[str, list[Any]]]:
    """The selected rows as (type, records) segments, in a stable order."""
    st = b.state
    types = [t for t in TABLES[table] if rtype is None or (t == rtype if exact else t == rtype.lower())]
    sc = _Scoping(b, subs, mgs, scope_filter)
    out: list[tuple[str, list[Any]]] = []
    for t in types:
        if t == RA:
            recs = list(st.assignments.values())
            out.append((RA, recs if sc.all else [r for r in recs if sc.assignment(r)]))
        elif t == RD:
            out.append((RD, [*st.custom_roles.values(), *b.builtins.values()]))
        elif t == MG:
            groups = st.mg_tree or {st.tenant_id.lower(): None}
            out.append((MG, [k for k in groups if sc.all or k in sc.req_mgs or k in sc.mgs]))
        elif t == SUB:
            out.append((SUB, [s for s in st.subscriptions if sc.all or s.lower() in sc.subs]))
        elif t == RG:
            out.append((RG, [rg for rg in st.resource_groups.values() if sc.all or bucket_of(rg) in sc.subs]))
    return out


def _slice(segments: list[tuple[str, list[Any]]], start: int, count: int) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for kind, recs in segments:
        if start >= len(recs):
            start -= len(recs)
            continue
        take = recs[start:start + count - len(out)]
        out.extend((kind, r) for r in take)
        start = 0
        if len(out) >= count:
            break
    return out


def _render(st: State, kind: str, obj: Any) -> dict[str, Any]:
    base = {"id": "", "name": "", "type": kind, "tenantId": st.tenant_id, "kind": "", "location": "",
            "resourceGroup": "", "subscriptionId": "", "managedBy": "", "sku": None, "plan": None,
            "properties": {}, "tags": None, "identity": None, "zones": None, "extendedLocation": None}
    if kind == RA:
        base.update(_assignment_row(obj))
    elif kind == RD:
        base.update(_definition_row(obj))
    elif kind == MG:
        base.update(_mg_row(st, obj))
    elif kind == SUB:
        base.update(_sub_row(st, obj))
    else:
        sub = bucket_of(obj)
        name = obj.rstrip("/").rsplit("/", 1)[-1]
        base.update({"id": obj, "name": name, "subscriptionId": sub, "resourceGroup": name.lower(),
                     "location": "eastus", "tags": {}, "properties": {"provisioningState": "Succeeded"}})
    return base


def _assignment_row(rec: RoleAssignmentRecord) -> dict[str, Any]:
    from rbactool.emulator.assignments import assignment_id

    sub = bucket_of(rec.scope)
    parts = rec.scope.split("/")
    rg = parts[4].lower() if sub and len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""
    return {"id": assignment_id(rec.scope, rec.name), "name": rec.name, "subscriptionId": sub, "resourceGroup": rg,
            "properties": {
                "roleDefinitionId": definition_id(rec.role_definition_guid, parts[2] if sub else None),
                "principalId": rec.principal_id, "principalType": rec.principal_type, "scope": rec.scope,
                "condition": rec.condition, "conditionVersion": rec.condition_version,
                "createdOn": rec.created_on, "updatedOn": rec.updated_on, "createdBy": rec.created_by,
                "updatedBy": rec.updated_by, "description": rec.description,
                "delegatedManagedIdentityResourceId": rec.delegated_managed_identity_resource_id,
            }}


def _definition_row(rec: RoleDefinitionRecord) -> dict[str, Any]:
    return {"id": definition_id(rec.guid, None), "name": rec.guid, "properties": {
        "roleName": rec.role_name, "type": "CustomRole" if rec.is_custom else "BuiltInRole",
        "description": rec.description, "assignableScopes": list(rec.assignable_scopes),
        "permissions": [p.to_json() for p in rec.permissions], "isServiceRole": False,
        "createdOn": rec.created_on or BUILTIN_TIMESTAMP, "updatedOn": rec.updated_on or BUILTIN_TIMESTAMP,
        "createdBy": rec.created_by, "updatedBy": rec.updated_by,
    }}


def _chain(st: State, mg: str | None) -> list[dict[str, str]]:
    out = []
    seen = 0
    while mg is not None and seen <= len(st.mg_tree):
        rec = st.mg_tree.get(mg.lower())
        if rec is None:
            break
        out.append({"name": rec.name, "displayName": rec.display_name})
        mg = rec.parent
        seen += 1
    return out


def _mg_row(st: State, key: str) -> dict[str, Any]:
    rec = st.mg_tree.get(key)
    name = rec.name if rec else st.tenant_id
    display = rec.display_name if rec else "Tenant Root Group"
    parent = st.mg_tree.get(rec.parent.lower()) if rec and rec.parent else None
    details: dict[str, Any] = {
        "version": 1, "updatedTime": "2024-01-01T00:00:00.0000000Z", "updatedBy": st.tenant_id,
        "managementGroupAncestorsChain": _chain(st, rec.parent if rec else None),
        "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{parent.name}", "name": parent.name,
                   "displayName": parent.display_name} if parent else None,
    }
    return {"id": f"/providers/Microsoft.Management/managementGroups/{name}", "name": name,
            "properties": {"displayName": display, "tenantId": st.tenant_id, "details": details}}


def _sub_row(st: State, sub: str) -> dict[str, Any]:
    name = st.subscription_names.get(sub.lower(), sub)
    parent = st.subscription_parents.get(sub.lower(), st.tenant_id)
    return {"id": f"/subscriptions/{sub}", "name": name, "subscriptionId": sub, "tags": {}, "properties": {
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Emulator",
                                 "spendingLimit": "Off"},
        "managementGroupAncestorsChain": _chain(st, parent) or [{"name": st.tenant_id,
                                                                  "displayName": "Tenant Root Group"}],
    }}


def _project(row: dict[str, Any], columns: tuple[str, ...] | None) -> dict[str, Any]:
    if columns is None:
        return row
    lower = {k.lower(): k for k in row}
    out = {}
    for c in columns:
        key = lower.get(c.lower())
        if key is None:
            raise ArmError(400, "BadRequest", f"Query is invalid: unknown column '{c}' in project.")
        out[c] = row[key]
    return out
