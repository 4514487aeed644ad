"""Request context, ARM path splitting, scope relations, OData filters and paging."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from rbactool.emulator.armerror import ArmError, invalid_filter
from rbactool.errors import ScopeError
from rbactool.scopes import MANAGEMENT_GROUP, ROOT, SUBSCRIPTION, Scope, parse_scope

AUTHZ = "/providers/microsoft.authorization/"
_SLASHES = re.compile(r"/{2,}")


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # a JSON-able object, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One ARM request after routing: what the handlers see."""

    method: str
    path: str  # normalised path (runs of '/' collapsed), caller's casing
    scope: Scope  # the request scope ("/" for tenant level)
    resource: str  # "roleDefinitions", "roleAssignments", "providerOperations", "permissions"
    name: str | None  # the segment after the resource type, if any
    query: dict[str, str]
    body: Any
    caller: str  # object id of the caller (from the token)
    now: float
    base_url: str  # https://host:port, for nextLink

    @property
    def request_subscription(self) -> str | None:
        return self.scope.subscription


def normalise_path(path: str) -> str:
    path = _SLASHES.sub("/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return path or "/"


_RESOURCES = {
    "roledefinitions": "roleDefinitions",
    "roleassignments": "roleAssignments",
    "denyassignments": "denyAssignments",
    "roleeligibilityscheduleinstances": "roleEligibilityScheduleInstances",
    "roleassignmentscheduleinstances": "roleAssignmentScheduleInstances",
    "provideroperations": "providerOperations",
    "permissions": "permissions",
}


@dataclass(frozen=True)
class Route:
    scope_text: str
    resource: str
    name: str | None


def split_arm_path(path: str) -> Route | None:
    """Split at the last ``/providers/Microsoft.Authorization/``; None when it is not an authz path."""
    low = path.lower()
    i = low.rfind(AUTHZ)
    if i < 0:
        return None
    scope_text = path[:i] or "/"
    rest = path[i + len(AUTHZ):].split("/")
    resource = _RESOURCES.get(rest[0].lower())
    if resource is None or len(rest) > 2:
        return None
    name = rest[1] if len(rest) == 2 and rest[1] else None
    return Route(scope_text, resource, name)


def parse_request_scope(text: str) -> Scope | None:
    try:
        return parse_scope(text)
    except ScopeError:
        return None


# ------------------------------------------------------------------------ scope relations


class Hierarchy:
    """'A is at or above B', with an optional management group -> subscriptions mapping and an
    optional seeded management-group tree (group id lower -> record with ``parent``).

    A management group without a configured mapping is taken to contain every subscription
    (lenient: the emulator cannot know the real hierarchy unless it is seeded). The tenant root
    group (its id is the tenant id) contains everything.
    """

    _MG = "/providers/microsoft.management/managementgroups/"

    def __init__(self, management_groups: dict[str, tuple[str, ...]], tree: dict | None = None,
                 root: str | None = None):
        self.mgs = management_groups
        self.tree = tree or {}
        self.root = root.lower() if root else None
        self._subs: dict[str, frozenset[str]] = {}

    def _sub_set(self, mg: str) -> frozenset[str]:
        hit = self._subs.get(mg)
        if hit is None:
            hit = self._subs[mg] = frozenset(s.lower() for s in self.mgs[mg])
        return hit

    def mg_ancestors(self, mg: str) -> list[str]:
        """The seeded ancestors of group *mg* (lower-cased ids), nearest first."""
        out: list[str] = []
        rec = self.tree.get(mg.lower())
        while rec is not None and rec.parent is not None and len(out) <= len(self.tree):
            low = rec.parent.lower()
            out.append(low)
            rec = self.tree.get(low)
        return out

    def at_or_above(self, a: str, b: str) -> bool:
        la, lb = a.lower().rstrip("/"), b.lower().rstrip("/")
        if la == "":
            return True
        if lb == la or lb.startswith(la + "/"):
            return True
        if not la.startswith(self._MG):
            return False
        mg = la[len(self._MG):].split("/", 1)[0]
        if lb == "":
            return False
        if mg == self.root:
            return True
        if lb.startswith(self._MG):
            other = lb[len(self._MG):].split("/", 1)[0]
            return mg in self.mg_ancestors(other)
        if lb.startswith("/subscriptions/"):
            if mg not in self.mgs:
                return not self.tree  # lenient only without a seeded hierarchy
            return lb.split("/")[2] in self._sub_set(mg)
        return False

    def related(self, a: str, b: str) -> bool:
        return self.at_or_above(a, b) or self.at_or_above(b, a)


def is_root(scope: Scope) -> bool:
    return scope.kind == ROOT


def is_subscription(scope: Scope) -> bool:
    return scope.kind == SUBSCRIPTION


def is_management_group(scope: Scope) -> bool:
    return scope.kind == MANAGEMENT_GROUP


# ------------------------------------------------------------------------ filters

_STRING = r"'((?:[^']|'')*)'"
_EQ = re.compile(r"^\s*(\w+)\s+eq\s+(?:" + _STRING + r"|([^\s']+))\s*$", re.IGNORECASE)
_FUNC = re.compile(r"^\s*(\w+)\(\s*(?:" + _STRING + r")?\s*\)\s*$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


@dataclass(frozen=True)
class FilterTerm:
    name: str  # lower-cased property or function name
    value: str | None
    is_function: bool


def parse_filter(expr: str | None, allowed: set[str], *, allow_and: bool) -> dict[str, FilterTerm]:
    """Parse ``a eq 'x'``, ``f()`` and ``f('x')`` terms (joined by ``and`` when allowed)."""
    if expr is None or not expr.strip():
        return {}
    parts = _AND.split(expr.strip()) if allow_and else [expr]
    terms: dict[str, FilterTerm] = {}
    for part in parts:
        m = _EQ.match(part)
        if m:
            value = m.group(2).replace("''", "'") if m.group(2) is not None else m.group(3)
            term = FilterTerm(m.group(1).lower(), value, False)
        else:
            m = _FUNC.match(part)
            if not m:
                raise invalid_filter(expr)
            value = m.group(2).replace("''", "'") if m.group(2) is not None else None
            term = FilterTerm(m.group(1).lower() + "()", value, True)
        if term.name not in allowed or term.name in terms:
            raise invalid_filter(expr)
        terms[term.name] = term
    return terms


# ------------------------------------------------------------------------ paging


def page_records(call: Call, records: list[Any], page_size: int, render: Any) -> dict[str, Any]:
    """:func:`page` over records rendered only for the page sent (lists of 100,000 assignments)."""
    start = _start(call)
    end = len(records) if page_size <= 0 else start + page_size
    out: dict[str, Any] = {"value": [render(r) for r in records[start:end]]}
    if page_size > 0 and end < len(records):
        out["nextLink"] = next_link(call, end)
    return out


def _start(call: Call) -> int:
    raw = call.query.get("$skiptoken")
    try:
        start = int(raw) if raw is not None else 0
    except ValueError as e:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{raw}' is not valid.") from e
    if start < 0:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{raw}' is not valid.")
    return start


def next_link(call: Call, token: int | str) -> str:
    params = [(k, v) for k, v in call.query.items() if k != "$skiptoken"]
    params = [(_QUERY_SPELLING.get(k, k), v) for k, v in params]
    params.append(("$skipToken", str(token)))
    return f"{call.base_url}{quote(call.path)}?{urlencode(params, quote_via=quote, safe='')}"


def page(call: Call, items: list[Any], page_size: int) -> dict[str, Any]:
    """``{"value": [...], "nextLink"?}``; the nextLink is absolute, on the emulator, and keeps
    every original query parameter (``$filter`` included) plus ``$skipToken``."""
    return page_records(call, items, page_size, _same)


def _same(x: Any) -> Any:
    return x


_QUERY_SPELLING = {"$filter": "$filter", "$expand": "$expand", "api-version": "api-version", "tenantid": "tenantId",
                   "$recurse": "$recurse", "$top": "$top"}
