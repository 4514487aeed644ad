"""``providerOperations`` (the action catalogue, from the packaged catalog) and ``permissions``."""

from __future__ import annotations

import functools
from typing import Any

from rbactool.catalog import Operation
from rbactool.emulator.actions import packaged_catalog
from rbactool.emulator.armerror import ArmError
from rbactool.emulator.backend import Backend
from rbactool.emulator.routing import Call, Response, page

TYPE = "Microsoft.Authorization/providerOperations"


def _op_json(op: Operation) -> dict[str, Any]:
    return {
        "name": op.name, "displayName": op.display_name, "description": op.description,
        "origin": "user,system", "properties": None, "isDataAction": op.is_data_action,
    }


def _resource_type(op: Operation) -> str:
    """``Microsoft.Storage/storageAccounts/blobServices/read`` -> ``storageAccounts/blobServices``."""
    parts = op.name.split("/")[1:]
    verb_len = 2 if len(parts) >= 2 and parts[-1].lower() == "action" else 1
    return "/".join(parts[:-verb_len])


@functools.lru_cache(maxsize=1024)
def _provider_json(namespace: str, expand: bool) -> dict[str, Any] | None:
    catalog = packaged_catalog()
    info = catalog.provider(namespace)
    if info is None:
        return None
    ops = catalog.expand(f"{info.name}/*")
    top: list[dict] = []
    types: dict[str, list[dict]] = {}
    for op in ops:
        rt = _resource_type(op)
        if not rt or not expand:
            top.append(_op_json(op))
        else:
            types.setdefault(rt, []).append(_op_json(op))
    out: dict[str, Any] = {
        "id": f"/providers/Microsoft.Authorization/providerOperations/{info.name}",
        "name": info.name,
        "type": TYPE,
        "displayName": info.name.replace(".", " "),
        "operations": top,
    }
    # Without $expand=resourceTypes every operation is listed at provider level.
    out["resourceTypes"] = [
        {"name": rt, "displayName": rt.rsplit("/", 1)[-1], "operations": items}
        for rt, items in sorted(types.items(), key=lambda kv: kv[0].lower())
    ]
    return out


def _expand(call: Call) -> bool:
    return (call.query.get("$expand") or "").lower() == "resourcetypes"


def get(b: Backend, call: Call) -> Response:
    ns = call.name or ""
    doc = _provider_json(ns.lower(), _expand(call))
    if doc is None:
        raise ArmError(404, "ResourceProviderNotFound", f"The resource provider '{ns}' could not be found.")
    return Response(200, doc)


def list_(b: Backend, call: Call) -> Response:
    expand = _expand(call)
    items = [_provider_json(p.name.lower(), expand) for p in packaged_catalog().providers()]
    return Response(200, page(call, [i for i in items if i is not None], b.config.page_size))


def permissions(b: Backend, call: Call) -> Response:
    """The caller's effective permissions at the scope, from the caller-permission table.

    A caller without a table entry is treated as an Owner (``*``), as when enforcement is off.
    """
    with b.state.lock:
        blocks = b.caller_blocks(call.caller, str(call.scope))
    if blocks is None:
        items = [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]
    else:
        items = [
            {"actions": list(x.actions), "notActions": list(x.not_actions),
             "dataActions": list(x.data_actions), "notDataActions": list(x.not_data_actions)}
            for x in blocks
        ]
    return Response(200, page(call, items, b.config.page_size))
