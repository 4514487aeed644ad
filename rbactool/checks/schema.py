"""JSON Schema check of one role object (``rbactool/schemas/role.schema.json``).

The az CLI reads its keys case-insensitively, so az-shape keys (and permission-block keys) are
normalised to the schema's spelling first and error paths are mapped back to the keys as written.
jsonschema is imported only when this runs (it is only needed for documents the model refuses).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from rbactool.readers import clip, shorten

_AZ_KEYS = ("$schema", "Name", "RoleName", "Id", "IsCustom", "Description", "Actions", "NotActions",
            "DataActions", "NotDataActions", "AssignableScopes", "Permissions")
_PERM_KEYS = ("actions", "notActions", "dataActions", "notDataActions", "condition", "conditionVersion")


@functools.lru_cache(maxsize=1)
def role_schema() -> dict:
    return json.loads((resources.files("rbactool") / "schemas" / "role.schema.json").read_text("utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(role_schema())


def _is_az(item: dict) -> bool:
    return "properties" not in item and "roleName" not in item and "roleType" not in item


def _normalise(obj: dict, canon: tuple[str, ...]) -> tuple[dict, dict[str, str]]:
    lower = {k.lower(): k for k in canon}
    out: dict = {}
    back: dict[str, str] = {}
    for k, v in obj.items():
        c = lower.get(k.lower(), k) if isinstance(k, str) else k
        if c in out:  # same key twice in different case: keep as written, the model reports it
            c = k
        out[c] = v
        back[c] = k
    return out, back


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def schema_errors(item: Any) -> list[tuple[str, str, str | None]]:
    """(JSON pointer relative to *item*, message, offending value) for each schema violation."""
    back_top: dict[str, str] = {}
    back_perm: dict[int, dict[str, str]] = {}
    doc = item
    if isinstance(item, dict) and _is_az(item):
        doc, back_top = _normalise(item, _AZ_KEYS)
        perms = doc.get("Permissions")
        if isinstance(perms, list):
            new = []
            for i, block in enumerate(perms):
                if isinstance(block, dict):
                    block, back_perm[i] = _normalise(block, _PERM_KEYS)
                new.append(block)
            doc = {**doc, "Permissions": new}

    def real_path(path: list) -> list:
        out = list(path)
        if out and back_top:
            out[0] = back_top.get(out[0], out[0])
            if len(out) >= 3 and out[0] == back_top.get("Permissions") and isinstance(out[1], int):
                out[2] = back_perm.get(out[1], {}).get(out[2], out[2])
        return out

    results: list[tuple[str, str, str | None]] = []
    for err in sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        path = real_path(list(err.absolute_path))
        pointer = "".join("/" + _escape(p) for p in path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    key_path = real_path([*err.absolute_path, key])
                    results.append((
                        "".join("/" + _escape(p) for p in key_path),
                        f"unknown field {clip(key)} (known: {', '.join(sorted(allowed))})",
                        None,
                    ))
            continue
        if err.validator == "required":
            message = f"missing required field: {err.message.split(' is a required')[0]}"
        elif err.validator == "anyOf" and not err.absolute_path:
            message = "missing required field 'Name' (the role's display name)"
        elif err.validator == "type":
            wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            names = {"array": "a list", "string": "a string", "object": "an object", "boolean": "true or false",
                     "null": "null", "integer": "an integer", "number": "a number"}
            expected = " or ".join(names.get(w, w) for w in wanted)
            message = f"must be {expected}, got {_jtype(err.instance)}"
        else:
            message = shorten(err.message)
        value = None if isinstance(err.instance, (dict, list)) else json.dumps(err.instance)
        results.append((pointer, message, value))
    return list(dict.fromkeys(results))  # the shape dispatch can report one problem twice


def _jtype(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number")
