"""The emulator's request pipeline, independent of HTTP plumbing.

Order for ARM paths: authentication -> fault rules -> throttle -> routing -> api-version ->
handler; for the Graph stand-in (``/msgraph/...``): authentication -> fault rules -> handler.
``/__emulator/...`` (test control), ``GET /metadata/endpoints`` and the fake Entra endpoints skip
authentication, as the real ones do.
Every request except the control API is appended to the request log *before* its response is
written. The ``Authorization`` header is never logged or echoed.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import rbactool.emulator.activitylog as activitylog
import rbactool.emulator.armerror as armerror
import rbactool.emulator.assignments as assignments
import rbactool.emulator.auth as auth
import rbactool.emulator.cloud as cloud
import rbactool.emulator.control as control
import rbactool.emulator.denyassignments as denyassignments
import rbactool.emulator.directory as directory
import rbactool.emulator.graph as graph
import rbactool.emulator.managementgroups as managementgroups
import rbactool.emulator.pim as pim
import rbactool.emulator.providerops as providerops
import rbactool.emulator.resourcegraph as resourcegraph
import rbactool.emulator.roledefs as roledefs
from rbactool.emulator.armerror import ArmError
from rbactool.emulator.backend import Backend
from rbactool.emulator.config import SUPPORTED_API_VERSIONS, EmulatorConfig, check_changes
from rbactool.emulator.faults import FaultRule, Faults, Throttle
from rbactool.emulator.persist import PersistError, save_state
from rbactool.emulator.routing import Call, Response, normalise_path, parse_request_scope, split_arm_path
from rbactool.emulator.state import CallerGrant, Principal, State, make_principal
from rbactool.errors import InputError
from rbactool.readers import decode_text, loads_json
from rbactool.scopes import is_guid

logger = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024
CONTROL_PREFIX = "/__emulator"
_LOGGED_BODY = 16 * 1024
_HIDDEN_HEADERS = {"authorization", "cookie", "proxy-authorization"}
_ENTRA_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$", re.IGNORECASE)
_ENTRA_OIDC = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$", re.IGNORECASE)
_ENTRA_DISCOVERY = re.compile(r"^/common/discovery/instance$", re.IGNORECASE)
_METADATA = re.compile(r"^/metadata/endpoints$", re.IGNORECASE)
_BAD_SUB = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)

_HANDLERS = {
    ("roleDefinitions", "GET", False): roledefs.list_,
    ("roleDefinitions", "GET", True): roledefs.get,
    ("roleDefinitions", "PUT", True): roledefs.put,
    ("roleDefinitions", "DELETE", True): roledefs.delete,
    ("roleAssignments", "GET", False): assignments.list_,
    ("roleAssignments", "GET", True): assignments.get,
    ("roleAssignments", "PUT", True): assignments.put,
    ("roleAssignments", "DELETE", True): assignments.delete,
    ("providerOperations", "GET", False): providerops.list_,
    ("providerOperations", "GET", True): providerops.get,
    ("permissions", "GET", False): providerops.permissions,
    ("denyAssignments", "GET", False): denyassignments.list_,
    ("denyAssignments", "GET", True): denyassignments.get,
    ("roleEligibilityScheduleInstances", "GET", False): pim.list_eligible,
    ("roleEligibilityScheduleInstances", "GET", True): pim.get_eligible,
    ("roleAssignmentScheduleInstances", "GET", False): pim.list_active,
    ("roleAssignmentScheduleInstances", "GET", True): pim.get_active,
}
#: api-versions of the routes that do not take the Microsoft.Authorization RBAC versions
_VERSIONS = {
    "denyAssignments": ("2022-04-01", "2018-07-01-preview", "2018-07-01", "2015-07-01"),
    "roleEligibilityScheduleInstances": pim.VERSIONS,
    "roleAssignmentScheduleInstances": pim.VERSIONS,
}


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path plus query, as received
    headers: dict[str, str]  # lower-cased names
    body: bytes
    host: str  # host:port the client used (for nextLink and the OpenID document)


class App:
    def __init__(self, state: State, *, persist_path: Path | None = None, log_size: int = 20_000):
        self.state = state
        self.backend = Backend(state)
        self.faults = Faults()
        self.throttle = Throttle()
        self.persist_path = persist_path
        self.activity = activitylog.ActivityLog(state.tenant_id)  # its writes as Activity Log events
        self._log: collections.deque[dict] = collections.deque(maxlen=log_size)
        self._log_lock = threading.Lock()
        #: added to the wall clock for every delay decision (see advance_clock)
        self.clock_offset = 0.0
        #: tenant and subscriptions as started, restored by reset() after a seed replaced them
        self._identity = (state.tenant_id, state.subscriptions)

    def now(self) -> float:
        """The emulator's clock: wall time plus what tests advanced it by."""
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock forward, so delays expire without sleeping. Returns the offset."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self.state.lock:
            self.clock_offset += seconds
            return self.clock_offset

    # ------------------------------------------------------------------ entry point
    def handle(self, req: Request) -> Response:
        start = time.perf_counter()
        started_at = time.time()
        split = urlsplit(req.target)
        path = normalise_path(unquote(split.path))
        query = {k.lower(): v for k, v in parse_qsl(split.query, keep_blank_values=True)}
        control = path.lower().startswith(CONTROL_PREFIX + "/") or path.lower() == CONTROL_PREFIX
        try:
            resp = self._control(req, path) if control else self._arm(req, path, query)
        except ArmError as e:
            resp = Response(e.status, e.body(), dict(e.headers))
        except Exception:  # the dispatch boundary: the server must never die on a request
            logger.exception("internal error on %s %s", req.method, path)
            e = armerror.internal_error()
            resp = Response(e.status, e.body())
        if not control:
            write = req.method in ("PUT", "DELETE", "POST", "PATCH")
            header = "x-ms-ratelimit-remaining-subscription-" + ("writes" if write else "reads")
            if header not in resp.headers:
                cfg = self.state.config
                resp.headers[header] = str((cfg.throttle_writes_per_hour if write else cfg.throttle_reads_per_hour) - 1)
            delay = self.state.config.response_delay_s
            if delay:
                time.sleep(delay)
            self._record(req, path, split.query, resp, time.perf_counter() - start, started_at)
            self.activity.record_request(req.method, path, req.headers, resp.status)
        return resp

    # ------------------------------------------------------------------ HTTP control API
    def _control(self, req: Request, path: str) -> Response:
        parts = [p for p in path[len(CONTROL_PREFIX):].split("/") if p]
        try:
            body = json_body(req.body) if req.body else {}
            return activitylog.route(self.activity, req.method, parts, body) or control.route(self, req.method, parts,
                                                                                      body)
        except ValueError as e:
            raise ArmError(400, "InvalidEmulatorRequest", str(e)) from e

    # ------------------------------------------------------------------ ARM
    def _arm(self, req: Request, path: str, query: dict[str, str]) -> Response:
        base_url = self._base_url(req)
        m = _ENTRA_TOKEN.match(path)
        if m and req.method == "POST":
            status, body = auth.token_response(req.body, self.state.tenant_id)
            return Response(status, body)
        m = _ENTRA_OIDC.match(path)
        if m and req.method == "GET":
            return Response(200, auth.openid_configuration(base_url, m.group(1)))
        if req.method == "GET" and _METADATA.match(path):
            return Response(200, cloud.metadata_endpoints(base_url, query.get("api-version")))
        if req.method == "GET" and _ENTRA_DISCOVERY.match(path):
            return Response(200, cloud.instance_discovery(base_url, self.state.tenant_id,
                                                          query.get("authorization_endpoint")))
        low = path.lower()
        if low == graph.PREFIX or low.startswith(graph.PREFIX + "/"):
            return self._graph(req, path, query, base_url)
        cfg = self.state.config
        caller = auth.caller_from_header(req.headers.get("authorization"), cfg.required_token)
        self.faults.check(req.method, path)
        route = split_arm_path(path)
        if route is None:
            for other in (managementgroups.handle, resourcegraph.handle):
                resp = other(self.backend, req.method, path, query, req.body, base_url)
                if resp is not None:
                    return resp
            basic = self._subscriptions_and_tenants(req.method, path)
            if basic is not None:
                return basic
            raise armerror.unknown_route(req.method, path)
        scope = parse_request_scope(route.scope_text)
        if scope is None:
            bad = _BAD_SUB.match(route.scope_text)
            if bad and not is_guid(bad.group(1)):
                raise ArmError(400, "InvalidSubscriptionId",
                               f"The provided subscription identifier '{bad.group(1)}' is malformed or invalid.")
            raise armerror.unknown_route(req.method, path)
        if route.resource == "providerOperations" and scope.kind != "root":
            raise armerror.unknown_route(req.method, path)
        handler = _HANDLERS.get((route.resource, req.method, route.name is not None))
        if handler is None:
            raise armerror.method_not_allowed(req.method)
        version = query.get("api-version")
        if not version:
            raise armerror.missing_api_version()
        versions = _VERSIONS.get(route.resource, SUPPORTED_API_VERSIONS)
        if version not in versions:
            raise armerror.invalid_api_version(version, versions)
        write = req.method in ("PUT", "DELETE", "POST", "PATCH")
        remaining = None
        if cfg.throttle:
            limit = cfg.throttle_writes_per_hour if write else cfg.throttle_reads_per_hour
            remaining = self.throttle.take(caller, scope.subscription or "tenant", write, limit)
        if cfg.check_subscriptions and scope.subscription and scope.subscription.lower() not in {
            s.lower() for s in self.state.subscriptions
        }:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{scope.subscription}' could not be found.")
        body = None
        if req.method == "PUT":
            body = json_body(req.body)
        call = Call(req.method, path, scope, route.resource, route.name, query, body, caller, self.now(), base_url)
        resp = handler(self.backend, call)
        if write and 200 <= resp.status < 300 and resp.status != 204:
            self._persist()
        if remaining is not None:
            resp.headers["x-ms-ratelimit-remaining-subscription-" + ("writes" if write else "reads")] = str(remaining)
        return resp

    def _graph(self, req: Request, path: str, query: dict[str, str], base_url: str) -> Response:
        try:
            caller = auth.caller_from_header(req.headers.get("authorization"), self.state.config.required_token)
        except ArmError as e:
            message = "Access token is empty." if e.code == "AuthenticationFailed" else \
                "Access token validation failure."
            raise graph.unauthorized(message, base_url) from e
        self.faults.check(req.method, path)
        body = None
        if req.method == "POST" and req.body:
            try:
                body = json_body(req.body)
            except ArmError as e:
                raise graph.bad_request(e.message.replace("The request content was invalid and could not be "
                                                          "deserialized: ", "Invalid request body: ")) from e
        with self.state.lock:
            principals = dict(self.state.principals)
        call = graph.GraphCall(req.method, [p for p in path[len(graph.PREFIX):].split("/") if p], query, body,
                               caller, principals, self.state.tenant_id, base_url, self.state.config.page_size)
        return graph.handle(call)

    def _subscriptions_and_tenants(self, method: str, path: str) -> Response | None:
        """``GET /subscriptions[/{id}]`` and ``GET /tenants``: what az login and whoami-style code ask first."""
        if method != "GET":
            return None
        parts = [p for p in path.split("/") if p]
        tenant = self.state.tenant_id
        if parts == ["tenants"]:
            return Response(200, {"value": [{"id": f"/tenants/{tenant}", "tenantId": tenant,
                                             "tenantCategory": "Home", "displayName": "rbactool emulator"}]})
        if not parts or parts[0].lower() != "subscriptions" or len(parts) > 2:
            return None
        subs = [
            {"id": f"/subscriptions/{s}", "subscriptionId": s, "tenantId": tenant,
             "displayName": self.state.subscription_names.get(s.lower(), f"rbactool emulator subscription {i + 1}"),
             "state": "Enabled",
             "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Emulator",
                                      "spendingLimit": "Off"},
             "authorizationSource": "RoleBased"}
            for i, s in enumerate(self.state.subscriptions)
        ]
        if len(parts) == 1:
            return Response(200, {"value": subs})
        for sub in subs:
            if sub["subscriptionId"].lower() == parts[1].lower():
                return Response(200, sub)
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found.")

    def _base_url(self, req: Request) -> str:
        public = self.state.config.public_url
        if public:
            return public.rstrip("/")
        return f"https://{req.host}"

    # ------------------------------------------------------------------ request log
    def _record(self, req: Request, path: str, raw_query: str, resp: Response, elapsed: float,
                started_at: float | None = None) -> None:
        entry = {
            "time": time.time(),
            "start": started_at,
            "method": req.method,
            "path": path,
            "query": raw_query,
            "status": resp.status,
            "code": resp.body["error"].get("code") if isinstance(resp.body, dict) and
            isinstance(resp.body.get("error"), dict) else None,
            "latency_ms": round(elapsed * 1000, 3),
            "headers": {k: v for k, v in req.headers.items() if k not in _HIDDEN_HEADERS},
            # token requests carry a client secret: never logged
            "body": "<redacted>" if _ENTRA_TOKEN.match(path) else
            req.body[:_LOGGED_BODY].decode("utf-8", "replace") if req.body else None,
        }
        with self._log_lock:
            self._log.append(entry)
        if logger.isEnabledFor(logging.DEBUG):  # paths carry subscription ids: DEBUG only (STYLE 3.8)
            logger.debug("%s %s -> %s%s (%.2f ms)", req.method, path, resp.status,
                        f" {entry['code']}" if entry["code"] else "", entry["latency_ms"])

    def requests(self) -> list[dict]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    # ------------------------------------------------------------------ Python control API
    def reset(self) -> None:
        """Empty state and log, default config, no faults; the tenant and subscriptions the emulator
        was started with (a seed loaded since is dropped)."""
        with self.state.lock:
            self.state.clear()
            self.state.tenant_id, self.state.subscriptions = self._identity
            self.state.config = EmulatorConfig()
            self.backend.extra_operations.clear()
            self.backend.extra_texts.clear()
            self.clock_offset = 0.0
            self._persist()
        self.faults.clear()
        self.throttle.clear()
        self.clear_requests()
        self.activity.clear()

    def configure(self, **changes: Any) -> EmulatorConfig:
        checked = check_changes(changes)
        with self.state.lock:
            self.state.config = self.state.config.replace(**checked)
            return self.state.config

    def add_principal(self, object_id: str, type: str = "User", display_name: str = "",  # noqa: A002
                      visible_after_s: float | None = None, *, user_principal_name: str | None = None,
                      app_id: str | None = None, service_principal_names: list[str] | None = None,
                      members: list[str] | None = None) -> Principal:
        """Add (or replace) a directory object. Users may have a ``user_principal_name``, service
        principals an ``app_id`` and ``service_principal_names``, groups their direct ``members``
        (object ids). ARM sees it after ``visible_after_s``; the Graph stand-in at once."""
        with self.state.lock:
            delay = self.state.config.principal_visibility_delay_s if visible_after_s is None else visible_after_s
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
                raise ValueError("visibleAfterS must be a non-negative number of seconds")
            p = make_principal(
                object_id, type, display_name, self.now() + float(delay), user_principal_name=user_principal_name,
                app_id=app_id, service_principal_names=service_principal_names, members=members)
            self.state.principals[object_id.lower()] = p
            self._persist()
        return p

    def remove_principal(self, object_id: str) -> None:
        with self.state.lock:
            self.state.principals.pop(object_id.lower(), None)
            self._persist()

    def set_member(self, group_id: str, member_id: str, present: bool = True) -> Principal:
        """Add *member_id* to (or, with ``present=False``, remove it from) the group's direct members."""
        with self.state.lock:
            group = self.state.principals.get(str(group_id).lower())
            if group is None:
                raise ValueError(f"group {group_id} is not in the directory; add it first")
            updated = directory.with_member(group, member_id, present)
            self.state.principals[group.object_id.lower()] = updated
            self._persist()
        return updated

    def add_fault(self, **rule: Any) -> None:
        self.faults.add(FaultRule.from_dict(rule))

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_caller_grants(self, caller: str, grants: list[tuple[str, str]] | list[dict]) -> None:
        """The roles (name or GUID) *caller* holds, with their scopes (see config enforce_permissions)."""
        out = []
        for g in grants:
            role, scope = (g["role"], g["scope"]) if isinstance(g, dict) else g
            guid = self._role_guid(role)
            out.append(CallerGrant(guid, scope))
        with self.state.lock:
            self.state.caller_grants[caller.lower()] = tuple(out)
            self._persist()

    def _role_guid(self, role: str) -> str:
        if is_guid(role):
            return role
        low = role.lower()
        with self.state.lock:
            for rec in [*self.backend.builtins.values(), *self.state.custom_roles.values()]:
                if rec.role_name.lower() == low:
                    return rec.guid
        raise ValueError(f"unknown role {role!r}")

    def set_management_group(self, group: str, subscriptions: list[str]) -> None:
        with self.state.lock:
            self.state.management_groups[group.lower()] = tuple(subscriptions)
            self._persist()

    def add_operations(self, operations: list[dict]) -> None:
        """Extend the action catalogue: ``[{"name": "Contoso.Foo/bars/read", "isDataAction": false,
        "displayName": ..., "description": ...}]`` (the texts are optional)."""
        for op in operations:
            if not isinstance(op, dict) or not isinstance(op.get("name"), str) or "/" not in op["name"]:
                raise ValueError("an operation needs a 'name' like Contoso.Foo/bars/read")
        with self.state.lock:
            for op in operations:
                self.backend.extra_operations[op["name"]] = bool(op.get("isDataAction", False))
                display = op.get("displayName") if isinstance(op.get("displayName"), str) else op["name"]
                desc = op.get("description") if isinstance(op.get("description"), str) else display
                self.backend.extra_texts[op["name"]] = (display, desc)

    def load_seed(self, doc: Any, where: str = "seed", *, keep_subscriptions: bool = False) -> dict[str, int]:
        """Replace the state with a seed document (see rbactool.emulator.seed); InputError (SeedError)
        on a bad seed, and then nothing changes. Returns the counts loaded."""
        from rbactool.emulator.seed import apply_seed, parse_seed

        with self.state.lock:
            seed = parse_seed(doc, where, tenant_id=self.state.tenant_id, subscriptions=self.state.subscriptions,
                              keep_subscriptions=keep_subscriptions, now=self.now())
            apply_seed(self.state, seed)
            self._persist()
        logger.info("seed loaded from %s: %s", where, seed.counts())
        return seed.counts()

    def dump(self) -> dict:
        with self.state.lock:
            doc = self.state.to_json()
            doc["config"] = self.state.config.to_dict()
        doc["faults"] = self.faults.rules()
        return doc

    def _persist(self) -> None:
        if self.persist_path is None:
            return
        with self.state.lock:
            try:
                save_state(self.persist_path, self.state)
            except PersistError as e:
                logger.error("%s", e)
                raise ArmError(500, "InternalServerError", "The emulator could not save its state.") from e

def json_body(raw: bytes) -> Any:
    """The request body as JSON, read by rbactool's one JSON reader: a body nested too deep, a huge
    number or a huge string is a 400 InvalidRequestContent (as ARM answers what it cannot
    deserialize), never a 500. Duplicate keys are let through, last wins, as ARM's JSON reader does."""
    if not raw:
        raise armerror.invalid_request_content("the request body is empty.")
    try:
        text = decode_text(raw, "body", "the request body")
        return loads_json(text, "body", duplicates=False)
    except InputError as e:
        raise armerror.invalid_request_content(str(e).removeprefix("body: ")) from e
