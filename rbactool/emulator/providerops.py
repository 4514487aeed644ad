"""``providerOperations`` (the action catalogue: the packaged catalog plus per-test extra operations)
and ``permissions`` (the caller's effective permissions)."""

from __future__ import annotations

import functools
from typing import Any

from rbactool.catalog import Operation, namespace_of
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


def _resource_type(name: str) -> str:
    """``Microsoft.Storage/storageAccounts/blobServices/read`` -> ``storageAccounts/blobServices``."""
    parts = name.split("/")[1:]
    verb_len = 2 if len(parts) >= 2 and parts[-1].lower() == "action" else 1
    return "/".join(parts[:-verb_len])


def _document(namespace: str, ops: list[dict], expand: bool) -> dict[str, Any]:
    top: list[dict] = []
    types: dict[str, list[dict]] = {}
    for op in ops:
        rt = _resource_type(op["name"])
        if not rt or not expand:
            top.append(op)
        else:
            types.setdefault(rt, []).append(op)
    return {
        "id": f"/providers/Microsoft.Authorization/providerOperations/{namespace}",
        "name": namespace,
        "type": TYPE,
        "displayName": namespace.replace(".", " "),
        "operations": top,
        # Without $expand=resourceTypes every operation is listed at provider level.
        "resourceTypes": [
            {"name": rt, "displayName": rt.rsplit("/", 1)[-1], "operations": items}
            for rt, items in sorted(types.items(), key=lambda kv: kv[0].lower())
        ],
    }


@functools.lru_cache(maxsize=1024)
def _catalog_document(namespace: str, expand: bool) -> dict[str, Any] | None:
    catalog = packaged_catalog()
    info = catalog.provider(namespace)
    if info is None:
        return None
    return _document(info.name, [_op_json(op) for op in catalog.expand(f"{info.name}/*")], expand)


def _extras_by_namespace(b: Backend) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for name, is_data in tuple(b.extra_operations.items()):
        display, description = b.extra_texts.get(name, (name, name))
        out.setdefault(namespace_of(name).lower(), []).append({
            "name": name, "displayName": display, "description": description, "origin": "user,system",
            "properties": None, "isDataAction": is_data,
        })
    return out


def _provider(b: Backend, namespace: str, expand: bool, extras: dict[str, list[dict]]) -> dict[str, Any] | None:
    base = _catalog_document(namespace.lower(), expand)
    added = extras.get(namespace.lower())
    if not added:
        return base
    if base is None:
        return _document(namespace_of(added[0]["name"]), added, expand)
    ops = [o for rt in base["resourceTypes"] for o in rt["operations"]] + base["operations"]
    known = {o["name"].lower() for o in ops}
    return _document(base["name"], ops + [o for o in added if o["name"] not in known], expand)


def _expand(call: Call) -> bool:
    return (call.query.get("$expand") or "").lower() == "resourcetypes"


def get(b: Backend, call: Call) -> Response:
    ns = call.name or ""
    doc = _provider(b, ns, _expand(call), _extras_by_namespace(b))
    if doc is None:
        raise ArmError(404, "ResourceProviderNotFound", f"The resource provider '{ns}' could not be found.")
    return Response(200, doc)


def list_(b: Backend, call: Call) -> Response:
    expand = _expand(call)
    extras = _extras_by_namespace(b)
    names = {p.name.lower(): p.name for p in packaged_catalog().providers()}
    for ns, ops in extras.items():
        names.setdefault(ns, namespace_of(ops[0]["name"]))
    items = [_provider(b, names[k], expand, extras) for k in sorted(names)]
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
