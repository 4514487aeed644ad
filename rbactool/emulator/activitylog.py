"""The emulator's Activity Log: its own control-plane writes, as Azure records them.

Every ARM write the emulator handles (PUT and DELETE of role definitions and role assignments; any
POST or PATCH it is sent on an authorisation path) is recorded as a ``Started`` event and a
``Succeeded`` or ``Failed`` event sharing an ``operationId``, with the caller's object id from the
token as the ``objectidentifier`` claim, in the shape ``az monitor activity-log list`` prints. A
request without a usable token (401) has no caller and, as in Azure, no event.

Control API (no token): ``GET /__emulator/activity-log`` (the events, oldest first, a JSON array),
``POST /__emulator/activity-log`` with ``{"events": [...]}`` (events for operations the emulator
does not implement, each a full event or ``{"operation", "scope", "caller", "status"?, "time"?,
"evidence"?}``), ``DELETE /__emulator/activity-log``. ``EmulatorHandle.record_activity`` is the
Python form. The log holds at most ``MAX_EVENTS`` events (the oldest are dropped).
"""

from __future__ import annotations

import base64
import collections
import threading
import time
import uuid
from typing import Any

from rbactool.emulator.config import DEFAULT_CALLER
from rbactool.emulator.routing import Response, split_arm_path
from rbactool.emulator.state import arm_timestamp

__all__ = ["MAX_EVENTS", "OID_CLAIM", "ActivityLog", "route"]

MAX_EVENTS = 100_000
OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
TID_CLAIM = "http://schemas.microsoft.com/identity/claims/tenantid"
_WRITES = {"PUT": "write", "PATCH": "write", "DELETE": "delete"}
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "NoContent", 400: "BadRequest", 403: "Forbidden",
                404: "NotFound", 409: "Conflict", 429: "TooManyRequests", 500: "InternalServerError"}


def _caller(header: str | None) -> str | None:
    """The caller's object id from a bearer token (unsigned, as the emulator's are); None without one."""
    from rbactool.errors import InputError
    from rbactool.readers import loads_json

    if not header or not header.strip().lower().startswith("bearer "):
        return None
    parts = header.strip()[7:].strip().split(".")
    if len(parts) != 3:
        return DEFAULT_CALLER
    try:
        claims = loads_json(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode("utf-8"),
                            "token", duplicates=False)
    except (ValueError, UnicodeDecodeError, InputError):
        return DEFAULT_CALLER
    oid = claims.get("oid") if isinstance(claims, dict) else None
    return oid if isinstance(oid, str) and oid else DEFAULT_CALLER


def _operation(method: str, path: str) -> tuple[str, str] | None:
    """(operation, resource id) of an ARM write on an authorisation path."""
    route = split_arm_path(path)
    if route is None or route.name is None or route.resource not in ("roleDefinitions", "roleAssignments"):
        return None
    verb = _WRITES.get(method)
    if verb is None:
        return None
    return f"Microsoft.Authorization/{route.resource}/{verb}", path


def _subscription(scope: str) -> str:
    parts = scope.split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def _resource_group(scope: str) -> str:
    parts = scope.split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""


def event(operation: str, scope: str, caller: str, tenant: str, *, status: str = "Succeeded", when: float | None = None,
          operation_id: str | None = None, method: str = "PUT", status_code: int | None = None,
          evidence: dict | None = None, caller_name: str | None = None) -> dict[str, Any]:
    """One event in the ``az monitor activity-log list`` shape."""
    t = time.time() if when is None else when
    data_id = str(uuid.uuid4())
    provider = operation.split("/", 1)[0]
    code = status_code if status_code is not None else (200 if status != "Failed" else 400)
    text = _STATUS_TEXT.get(code, str(code))
    authorization: dict[str, Any] = {"action": operation, "scope": scope}
    if evidence:
        authorization["evidence"] = evidence
    return {
        "authorization": authorization, "caller": caller_name or caller, "channels": "Operation",
        "claims": {OID_CLAIM: caller, TID_CLAIM: tenant, "aud": "https://management.core.windows.net/"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "correlationId": operation_id or str(uuid.uuid4()), "description": "", "eventDataId": data_id,
        "eventName": {"value": "BeginRequest" if status == "Started" else "EndRequest",
                      "localizedValue": "Begin request" if status == "Started" else "End request"},
        "eventTimestamp": arm_timestamp(t), "httpRequest": {"clientIpAddress": "127.0.0.1", "method": method},
        "id": f"{scope}/events/{data_id}/ticks/{int(t * 10_000_000)}", "level": "Informational",
        "operationId": operation_id or str(uuid.uuid4()),
        "operationName": {"value": operation, "localizedValue": operation},
        "properties": {"statusCode": text, "eventCategory": "Administrative", "entity": scope, "message": operation},
        "resourceGroupName": _resource_group(scope), "resourceId": scope,
        "resourceProviderName": {"value": provider, "localizedValue": provider},
        "resourceType": {"value": "/".join(operation.split("/")[:-1]), "localizedValue": ""},
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": "" if status == "Started" else text, "localizedValue": ""},
        "submissionTimestamp": arm_timestamp(t), "subscriptionId": _subscription(scope), "tenantId": tenant,
    }


class ActivityLog:
    """The events, bounded, thread-safe."""

    def __init__(self, tenant: str, size: int = MAX_EVENTS):
        self.tenant = tenant
        self._events: collections.deque[dict] = collections.deque(maxlen=size)
        self._lock = threading.Lock()

    def record_request(self, method: str, path: str, headers: dict[str, str], status: int) -> None:
        """A request the emulator answered: recorded when it is a write it handles and has a caller."""
        found = _operation(method, path)
        if found is None or status == 401:
            return
        caller = _caller(headers.get("authorization"))
        if caller is None:
            return
        op, scope = found
        now = time.time()
        op_id = str(uuid.uuid4())
        end = "Succeeded" if 200 <= status < 300 else "Failed"
        with self._lock:
            self._events.append(event(op, scope, caller, self.tenant, status="Started", when=now,
                                      operation_id=op_id, method=method, status_code=0))
            self._events.append(event(op, scope, caller, self.tenant, status=end, when=now, operation_id=op_id,
                                      method=method, status_code=status))

    def append(self, items: list) -> int:
        """Test-recorded events: full events, or ``{"operation", "scope", "caller", ...}`` short forms."""
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"events[{i}] must be an object")
            if "operation" not in item:
                out.append(item)
                continue
            op, scope, caller = item.get("operation"), item.get("scope"), item.get("caller", DEFAULT_CALLER)
            if not all(isinstance(v, str) and v for v in (op, scope, caller)) or not scope.startswith("/"):
                raise ValueError(f"events[{i}] needs 'operation', 'scope' (an ARM scope) and 'caller' strings")
            when = item.get("time")
            if when is not None and (isinstance(when, bool) or not isinstance(when, (int, float))):
                raise ValueError(f"events[{i}].time must be a Unix time")
            status = item.get("status", "Succeeded")
            code = item.get("statusCode")
            evidence = item.get("evidence") if isinstance(item.get("evidence"), dict) else None
            op_id = str(uuid.uuid4())
            method = "DELETE" if op.lower().endswith("/delete") else "POST" if op.lower().endswith("/action") else "PUT"
            if status != "Started":
                out.append(event(op, scope, caller, self.tenant, status="Started", when=when, operation_id=op_id,
                                 method=method, status_code=0, evidence=evidence))
            out.append(event(op, scope, caller, self.tenant, status=str(status), when=when, operation_id=op_id,
                             method=method, status_code=code if isinstance(code, int) else None, evidence=evidence))
        with self._lock:
            self._events.extend(out)
        return len(out)

    def events(self) -> list[dict]:
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


def route(log: ActivityLog, method: str, parts: list[str], body: Any) -> Response | None:
    """``/__emulator/activity-log``; None for any other control path."""
    if not parts or parts[0] != "activity-log" or len(parts) != 1:
        return None
    if method == "GET":
        return Response(200, log.events())
    if method == "DELETE":
        log.clear()
        return Response(200, [])
    if method == "POST":
        items = body.get("events") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ValueError("the body must be {\"events\": [...]}")
        return Response(201, {"recorded": log.append(items)})
    return None
