"""The test-control API under ``/__emulator/`` (no token; never logged). The Python equivalents
are methods of :class:`rbactool.emulator.app.App` (and of the fixture's handle).

This module drives the app through ``Controllable`` (the methods it calls), so it never imports
``rbactool.emulator.app``, which imports it: no import cycle.
"""

from __future__ import annotations

from typing import Any, Protocol

from rbactool.emulator.armerror import ArmError
from rbactool.emulator.config import EmulatorConfig
from rbactool.emulator.faults import Faults
from rbactool.emulator.routing import Response
from rbactool.emulator.state import Principal, State


class Controllable(Protocol):
    """What the control API needs of the emulator app (``rbactool.emulator.app.App`` is one)."""

    state: State
    faults: Faults

    def reset(self) -> None: ...
    def add_principal(self, object_id: str, type: str = "User", display_name: str = "",  # noqa: A002
                      visible_after_s: float | None = None, *, user_principal_name: str | None = None,
                      app_id: str | None = None, service_principal_names: list[str] | None = None,
                      members: list[str] | None = None) -> Principal: ...
    def remove_principal(self, object_id: str) -> None: ...
    def set_member(self, group_id: str, member_id: str, present: bool = True) -> Principal: ...
    def configure(self, **changes: Any) -> EmulatorConfig: ...
    def add_fault(self, **rule: Any) -> None: ...
    def clear_faults(self) -> None: ...
    def requests(self) -> list[dict]: ...
    def clear_requests(self) -> None: ...
    def set_caller_grants(self, caller: str, grants: list[tuple[str, str]] | list[dict]) -> None: ...
    def set_management_group(self, group: str, subscriptions: list[str]) -> None: ...
    def add_operations(self, operations: list[dict]) -> None: ...
    def advance_clock(self, seconds: float) -> float: ...
    def dump(self) -> dict: ...
    def load_seed(self, doc: Any, where: str = "seed", *, keep_subscriptions: bool = False) -> dict[str, int]: ...


_PRINCIPAL_KEYS = {"type", "displayName", "visibleAfterS", "userPrincipalName", "appId", "servicePrincipalNames",
                   "members"}


def route(app: Controllable, method: str, parts: list[str], body: Any) -> Response:
    head = parts[0] if parts else ""
    if (method, head) == ("POST", "reset") and len(parts) == 1:
        app.reset()
        return Response(200, {"reset": True})
    if head == "principals" and len(parts) == 2 and method == "PUT":
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        unknown = sorted(set(body) - _PRINCIPAL_KEYS)
        if unknown:
            known = ", ".join(sorted(_PRINCIPAL_KEYS))
            raise ValueError(f"unknown principal field {unknown[0][:60]!r} (one of {known})")
        p = app.add_principal(parts[1], body.get("type", "User"), body.get("displayName", ""),
                               body.get("visibleAfterS"), user_principal_name=body.get("userPrincipalName"),
                               app_id=body.get("appId"), service_principal_names=body.get("servicePrincipalNames"),
                               members=body.get("members"))
        return Response(200, p.to_json())
    if head == "principals" and len(parts) == 4 and parts[2] == "members" and method in ("PUT", "DELETE"):
        return Response(200, app.set_member(parts[1], parts[3], method == "PUT").to_json())
    if head == "principals" and len(parts) == 2 and method == "DELETE":
        app.remove_principal(parts[1])
        return Response(200, {})
    if head == "config" and len(parts) == 1:
        if method == "PUT":
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return Response(200, app.configure(**body).to_dict())
        if method == "GET":
            return Response(200, app.state.config.to_dict())
    if head == "faults" and len(parts) == 1:
        if method == "POST":
            app.add_fault(**(body if isinstance(body, dict) else {"_": body}))
            return Response(201, {"faults": app.faults.rules()})
        if method == "DELETE":
            app.clear_faults()
            return Response(200, {"faults": []})
        if method == "GET":
            return Response(200, {"faults": app.faults.rules()})
    if head == "requests" and len(parts) == 1:
        if method == "GET":
            return Response(200, {"value": app.requests()})
        if method == "DELETE":
            app.clear_requests()
            return Response(200, {"value": []})
    if head == "callers" and len(parts) == 2 and method == "PUT":
        grants = body.get("grants") if isinstance(body, dict) else None
        if not isinstance(grants, list):
            raise ValueError("the body must be {\"grants\": [{\"role\": ..., \"scope\": ...}]}")
        app.set_caller_grants(parts[1], grants)
        return Response(200, {"grants": grants})
    if head == "management-groups" and len(parts) == 2 and method == "PUT":
        subs = body.get("subscriptions") if isinstance(body, dict) else None
        if not isinstance(subs, list):
            raise ValueError("the body must be {\"subscriptions\": [...]}")
        app.set_management_group(parts[1], subs)
        return Response(200, {"subscriptions": subs})
    if head == "operations" and len(parts) == 1 and method == "PUT":
        ops = body.get("operations") if isinstance(body, dict) else None
        if not isinstance(ops, list):
            raise ValueError("the body must be {\"operations\": [{\"name\": ..., \"isDataAction\": ...}]}")
        app.add_operations(ops)
        return Response(200, {"operations": ops})
    if head == "clock" and len(parts) == 1 and method == "POST":
        advance = body.get("advance_s") if isinstance(body, dict) else None
        if isinstance(advance, bool) or not isinstance(advance, (int, float)):
            raise ValueError("the body must be {\"advance_s\": seconds}")
        return Response(200, {"offset_s": app.advance_clock(float(advance))})
    if head == "seed" and len(parts) == 1 and method == "PUT":
        from rbactool.errors import InputError

        try:
            return Response(200, {"loaded": app.load_seed(body, "seed")})
        except InputError as e:
            raise ArmError(400, "InvalidSeed", str(e)) from e
    if head == "state" and len(parts) == 1 and method == "GET":
        return Response(200, app.dump())
    raise ArmError(404, "InvalidEmulatorRequest", f"Unknown emulator control request {method} /{'/'.join(parts)}.")
