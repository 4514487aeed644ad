"""A read-only Microsoft Graph stand-in under ``/msgraph/{v1.0|beta}/``, backed by the emulator's directory.

What az's role commands (and access analysis) ask of Graph:

* ``POST directoryObjects/getByIds`` (``{"ids": [...], "types": [...]}``, at most 1000 ids)
* ``GET users|servicePrincipals|groups|devices|directoryObjects[/{id}]``; users also by UPN
  (``users/{upn}``, ``users('{upn}')``); lists with ``$filter`` (``prop eq '..'``,
  ``startswith(prop,'..')``, ``collection/any(c:c eq '..')`` joined by ``and``), ``$top``,
  ``$select``, ``$count``, and ``@odata.nextLink`` paging
* ``GET groups/{id}/members|transitiveMembers``, ``GET {collection}/{id}/memberOf|transitiveMemberOf``
* ``POST {collection}/{id}/getMemberGroups|getMemberObjects|checkMemberGroups``
* ``GET me`` (a user caller)

Errors have Graph's shape: ``{"error": {"code": "Request_ResourceNotFound", "message": ..., "innerError":
{...}}}``. Every input is bounded: a filter of at most 2048 characters and 16 terms, parsed by
linear-time patterns; at most 1000 ids per ``getByIds``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import rbactool.emulator.directory as directory
from rbactool.emulator.armerror import ArmError
from rbactool.emulator.routing import Response
from rbactool.emulator.state import Principal
from rbactool.scopes import is_guid

PREFIX = "/msgraph"
VERSIONS = ("v1.0", "beta")
MAX_FILTER = 2048
MAX_TERMS = 16
MAX_IDS = 1000
MAX_SELECT = 64
DEFAULT_PAGE = 100

ODATA_TYPE = {
    "User": "#microsoft.graph.user",
    "ServicePrincipal": "#microsoft.graph.servicePrincipal",
    "Group": "#microsoft.graph.group",
    "Device": "#microsoft.graph.device",
    # a group of another tenant (ARM's ForeignGroup) is a partner reference in this directory
    "ForeignGroup": "#microsoft.graph.directoryObjectPartnerReference",
}
#: getByIds "types" names -> principal types
_TYPE_NAMES = {"user": "User", "serviceprincipal": "ServicePrincipal", "group": "Group", "device": "Device",
               "directoryobjectpartnerreference": "ForeignGroup"}
#: collection segment (lower) -> (spelling, principal types it holds, Graph type name for messages)
COLLECTIONS = {
    "users": ("users", ("User",), "microsoft.graph.user"),
    "serviceprincipals": ("servicePrincipals", ("ServicePrincipal",), "microsoft.graph.servicePrincipal"),
    "groups": ("groups", ("Group",), "microsoft.graph.group"),
    "devices": ("devices", ("Device",), "microsoft.graph.device"),
    "directoryobjects": ("directoryObjects", tuple(ODATA_TYPE), "microsoft.graph.directoryObject"),
}
_DIGITS = re.compile(r"[0-9]{1,9}")
_KEYED = re.compile(r"^(\w+)\('((?:[^']|'')*)'\)$")


@dataclass(eq=False)
class GraphError(ArmError):
    """An error in Graph's shape (``innerError`` with a date and request ids)."""

    def body(self) -> dict:
        rid = str(uuid.uuid4())
        date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        return {"error": {"code": self.code, "message": self.message,
                          "innerError": {"date": date, "request-id": rid, "client-request-id": rid}}}


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def not_found(key: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{key[:200]}' does not exist or one of its queried reference-property objects "
                      "are not present.")


def unauthorized(message: str, base_url: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message,
                      {"WWW-Authenticate": f'Bearer realm="", authorization_uri="{base_url}/common/oauth2/authorize"'})


# ------------------------------------------------------------------------ objects


def render(p: Principal, tenant: str) -> dict[str, Any]:
    base: dict[str, Any] = {"@odata.type": ODATA_TYPE[p.type], "id": p.object_id, "displayName": p.display_name}
    if p.type == "User":
        upn = directory.user_principal_name(p)
        base.update({"userPrincipalName": upn, "mail": upn if "@" in upn else None, "accountEnabled": True,
                     "userType": "Member", "givenName": None, "surname": None, "jobTitle": None,
                     "businessPhones": []})
    elif p.type == "ServicePrincipal":
        base.update({"appId": directory.app_id(p), "servicePrincipalNames": directory.service_principal_names(p),
                     "servicePrincipalType": "Application", "accountEnabled": True,
                     "appOwnerOrganizationId": tenant, "appDisplayName": p.display_name, "tags": []})
    elif p.type == "Group":
        nick = re.sub(r"[^A-Za-z0-9._-]", "", p.display_name) or p.object_id.split("-")[0]
        base.update({"mailNickname": nick, "mail": None, "securityEnabled": True, "mailEnabled": False,
                     "groupTypes": [], "description": None})
    elif p.type == "Device":
        base.update({"deviceId": p.object_id, "accountEnabled": True, "operatingSystem": None})
    return base


# ------------------------------------------------------------------------ $filter

_S = r"'((?:[^']|'')*)'"  # a quoted string: linear, the two alternatives never start alike
_EQ = re.compile(r"\s*(\w+)\s+eq\s+" + _S + r"\s*", re.IGNORECASE)
_STARTS = re.compile(r"\s*startswith\(\s*(\w+)\s*,\s*" + _S + r"\s*\)\s*", re.IGNORECASE)
_ANY = re.compile(r"\s*(\w+)/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+" + _S + r"\s*\)\s*", re.IGNORECASE)
_AND = re.compile(r"and\b", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    prop: str  # lower-cased property name
    op: str  # "eq", "startswith", "any"
    value: str


def _term_at(expr: str, pos: int) -> tuple[str, re.Match[str]]:
    for pattern, op in ((_ANY, "any"), (_STARTS, "startswith"), (_EQ, "eq")):
        m = pattern.match(expr, pos)
        if m:
            return op, m
    raise bad_request(f"Invalid filter clause: syntax error at position {pos} in '{expr[:200]}'.")


def parse_filter(expr: str) -> list[Term]:
    if len(expr) > MAX_FILTER:
        raise bad_request(f"Invalid filter clause: the filter is longer than {MAX_FILTER} characters.")
    terms: list[Term] = []
    pos = 0
    while True:
        op, m = _term_at(expr, pos)
        if op == "any":
            if m.group(2).lower() != m.group(3).lower():
                raise bad_request(f"Invalid filter clause: '{m.group(3)}' is not the lambda variable.")
            terms.append(Term(m.group(1).lower(), op, m.group(4).replace("''", "'")))
        else:
            terms.append(Term(m.group(1).lower(), op, m.group(2).replace("''", "'")))
        if len(terms) > MAX_TERMS:
            raise bad_request(f"Invalid filter clause: more than {MAX_TERMS} terms.")
        pos = m.end()
        if pos == len(expr):
            return terms
        a = _AND.match(expr, pos)
        if not a:
            raise bad_request(f"Invalid filter clause: syntax error at position {pos} in '{expr[:200]}'.")
        pos = a.end()


def _check_props(terms: list[Term], schema: Mapping[str, Any], type_name: str) -> None:
    for t in terms:
        if t.prop not in schema:
            raise bad_request(f"Could not find a property named '{t.prop}' on type '{type_name}'.",
                              "Request_UnsupportedQuery")
        is_list = isinstance(schema[t.prop], list)
        if (t.op == "any") != is_list:
            raise bad_request(f"Invalid filter clause: '{t.op}' cannot be used on property '{t.prop}'.",
                              "Request_UnsupportedQuery")


def _matches(obj: Mapping[str, Any], terms: list[Term]) -> bool:
    low = {k.lower(): v for k, v in obj.items()}
    for t in terms:
        v = low.get(t.prop)
        want = t.value.lower()
        if t.op == "any":
            if not any(isinstance(x, str) and x.lower() == want for x in v or ()):
                return False
        elif not isinstance(v, str) or not (v.lower() == want if t.op == "eq" else v.lower().startswith(want)):
            return False
    return True


# ------------------------------------------------------------------------ request handling


@dataclass(frozen=True)
class GraphCall:
    method: str
    parts: list[str]  # path segments after /msgraph
    query: dict[str, str]  # lower-cased keys
    body: Any  # parsed JSON for POST, else None
    caller: str
    principals: Mapping[str, Principal]
    tenant: str
    base_url: str
    page_size: int


_ALLOWED_OPTIONS = {"$filter", "$top", "$select", "$skiptoken", "$count"}


def handle(call: GraphCall) -> Response:
    if not call.parts or call.parts[0].lower() not in VERSIONS:
        raise bad_request(f"Invalid version: {call.parts[0][:40] if call.parts else ''}")
    for key in call.query:
        if key.startswith("$") and key not in _ALLOWED_OPTIONS:
            raise bad_request(f"Query option '{key[:40]}' is not supported by the emulator's Graph stand-in.",
                              "Request_UnsupportedQuery")
    version, segs = call.parts[0].lower(), call.parts[1:]
    if not segs:
        raise bad_request("Resource not found for the segment ''.")
    head, key = segs[0], None
    m = _KEYED.match(head)
    if m:
        head, key = m.group(1), m.group(2).replace("''", "'")
        segs = [head, key, *segs[1:]]
    low = head.lower()
    if low == "me":
        return _me(call, version, segs[1:])
    if low not in COLLECTIONS:
        raise bad_request(f"Resource not found for the segment '{head[:100]}'.")
    if len(segs) == 1:
        _require(call, "GET")
        return _list(call, version, low)
    if len(segs) == 2 and low == "directoryobjects" and segs[1].lower() == "getbyids":
        _require(call, "POST")
        return _get_by_ids(call, version)
    obj = _lookup(call, low, segs[1])
    if len(segs) == 2:
        _require(call, "GET")
        return Response(200, {"@odata.context": f"{_ctx(call, version)}{COLLECTIONS[low][0]}/$entity",
                              **_select(call, render(obj, call.tenant))})
    if len(segs) == 3:
        return _relation(call, version, obj, segs[2])
    raise bad_request(f"Resource not found for the segment '{segs[3][:100]}'.")


def _require(call: GraphCall, method: str) -> None:
    if call.method != method:
        raise GraphError(405, "Request_BadRequest",
                         "Specified HTTP method is not allowed for the request target. The emulator's Graph "
                         "stand-in is read-only: seed the directory with PUT /__emulator/principals/{id}.")


def _ctx(call: GraphCall, version: str) -> str:
    return f"{call.base_url}{PREFIX}/{version}/$metadata#"


def _lookup(call: GraphCall, collection: str, key: str) -> Principal:
    types = COLLECTIONS[collection][1]
    p = call.principals.get(key.lower()) if is_guid(key) else None
    if p is None and collection == "users" and "@" in key:
        low = key.lower()
        p = next((u for u in call.principals.values()
                  if u.type == "User" and directory.user_principal_name(u).lower() == low), None)
    if p is None or p.type not in types:
        raise not_found(key)
    return p


def _select(call: GraphCall, obj: dict[str, Any]) -> dict[str, Any]:
    raw = call.query.get("$select")
    if raw is None:
        return obj
    names = [n.strip().lower() for n in raw.split(",")]
    if len(names) > MAX_SELECT or not all(re.fullmatch(r"\w+", n) for n in names):
        raise bad_request("Invalid $select clause.")
    return {k: v for k, v in obj.items() if k == "@odata.type" or k.lower() in names}


def _page(call: GraphCall, version: str, context: str, items: list[dict[str, Any]],
          path: str) -> Response:
    top = call.query.get("$top")
    size = call.page_size or DEFAULT_PAGE
    if top is not None:
        if not _DIGITS.fullmatch(top) or not 1 <= int(top) <= 999:
            raise bad_request(f"Invalid page size specified: '{top[:20]}'. Must be between 1 and 999 inclusive.")
        size = int(top)
    raw = call.query.get("$skiptoken", "0")
    if not _DIGITS.fullmatch(raw):
        raise bad_request(f"The skip token '{raw[:40]}' is not valid.", "Request_BadRequest")
    start = int(raw)
    out: dict[str, Any] = {"@odata.context": _ctx(call, version) + context}
    if call.query.get("$count", "").lower() == "true":
        out["@odata.count"] = len(items)
    out["value"] = [_select(call, o) for o in items[start:start + size]]
    if start + size < len(items):
        params = [(k, v) for k, v in call.query.items() if k != "$skiptoken"]
        params.append(("$skiptoken", str(start + size)))
        out["@odata.nextLink"] = (f"{call.base_url}{PREFIX}/{version}/{path}?"
                                  f"{urlencode(params, quote_via=quote, safe='$')}")
    return Response(200, out)


def _filtered(call: GraphCall, objects: list[Principal], collection: str) -> list[dict[str, Any]]:
    rendered = [render(p, call.tenant) for p in objects]
    expr = call.query.get("$filter")
    if expr is None or not expr.strip():
        return rendered
    terms = parse_filter(expr)
    schema: dict[str, Any] = {}
    for t in COLLECTIONS[collection][1]:
        sample = render(Principal("00000000-0000-0000-0000-000000000000", t), call.tenant)
        schema.update({k.lower(): v for k, v in sample.items()})
    _check_props(terms, schema, COLLECTIONS[collection][2])
    return [o for o in rendered if _matches(o, terms)]


def _list(call: GraphCall, version: str, collection: str) -> Response:
    spelling, types, _ = COLLECTIONS[collection]
    objects = [p for p in call.principals.values() if p.type in types]
    return _page(call, version, spelling, _filtered(call, objects, collection), spelling)


def _get_by_ids(call: GraphCall, version: str) -> Response:
    body = call.body
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise bad_request("The request body must be {\"ids\": [...], \"types\": [...]} with at least one id.",
                          "Request_BadRequest")
    if len(ids) > MAX_IDS:
        raise bad_request(f"At most {MAX_IDS} ids can be requested at once, got {len(ids)}.", "Request_BadRequest")
    types_raw = body.get("types")
    if types_raw is None:
        wanted = set(ODATA_TYPE)
    else:
        if not isinstance(types_raw, list) or len(types_raw) > 16 or not all(isinstance(t, str) for t in types_raw):
            raise bad_request("'types' must be a list of type names like 'user' or 'servicePrincipal'.",
                              "Request_BadRequest")
        wanted = {_TYPE_NAMES[t.lower()] for t in types_raw if t.lower() in _TYPE_NAMES}
    out, seen = [], set()
    for oid in ids:
        if not isinstance(oid, str) or not is_guid(oid):
            raise bad_request(f"Invalid object identifier '{str(oid)[:60]}'.", "Request_BadRequest")
        p = call.principals.get(oid.lower())
        if p is not None and p.type in wanted and oid.lower() not in seen:
            seen.add(oid.lower())
            out.append(_select(call, render(p, call.tenant)))
    return Response(200, {"@odata.context": _ctx(call, version) + "directoryObjects", "value": out})


_RELATIONS: dict[str, Callable[[Mapping[str, Principal], Principal], list[Principal]]] = {
    "members": lambda ps, g: directory.direct_members(ps, g),
    "transitivemembers": lambda ps, g: directory.transitive_members(ps, g.object_id),
    "memberof": lambda ps, p: directory.direct_groups(ps, p.object_id),
    "transitivememberof": lambda ps, p: directory.transitive_groups(ps, p.object_id),
}


def _relation(call: GraphCall, version: str, obj: Principal, rel: str) -> Response:
    low = rel.lower()
    if low in ("getmembergroups", "getmemberobjects", "checkmembergroups"):
        _require(call, "POST")
        return _member_functions(call, obj, low)
    fn = _RELATIONS.get(low)
    if fn is None or (low in ("members", "transitivemembers") and obj.type not in directory.GROUP_TYPES):
        raise bad_request(f"Resource not found for the segment '{rel[:100]}'.")
    _require(call, "GET")
    found = fn(call.principals, obj)
    collection = next((v[0] for k, v in COLLECTIONS.items() if obj.type in v[1] and k != "directoryobjects"),
                      "directoryObjects")
    items = _filtered(call, found, "directoryobjects")
    path = f"{collection}/{obj.object_id}/{rel}"
    return _page(call, version, "directoryObjects", items, path)


def _member_functions(call: GraphCall, obj: Principal, fn: str) -> Response:
    body = call.body if isinstance(call.body, dict) else {}
    groups = directory.transitive_groups(call.principals, obj.object_id)
    if fn == "checkmembergroups":
        ids = body.get("groupIds")
        if not isinstance(ids, list) or len(ids) > 20 or not all(isinstance(i, str) for i in ids):
            raise bad_request("'groupIds' must be a list of at most 20 group ids.", "Request_BadRequest")
        mine = {g.object_id.lower() for g in groups}
        return Response(200, {"value": [i for i in ids if i.lower() in mine]})
    security = body.get("securityEnabledOnly")
    if not isinstance(security, bool):
        raise bad_request("'securityEnabledOnly' must be true or false.", "Request_BadRequest")
    return Response(200, {"value": [g.object_id for g in groups]})


def _me(call: GraphCall, version: str, rest: list[str]) -> Response:
    p = call.principals.get(call.caller.lower())
    if p is not None and p.type == "ServicePrincipal":
        raise bad_request("/me request is only valid with delegated authentication flow.")
    if p is None or p.type != "User":
        raise not_found(call.caller)
    if not rest:
        _require(call, "GET")
        return Response(200, {"@odata.context": f"{_ctx(call, version)}users/$entity", **render(p, call.tenant)})
    if len(rest) == 1:
        return _relation(call, version, p, rest[0])
    raise bad_request(f"Resource not found for the segment '{rest[1][:100]}'.")
