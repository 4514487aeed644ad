"""Read one role object leniently: every problem is its own finding, never a stop.

``rbactool.model.role_from_dict`` refuses a role at its first structural problem; the validator
must not (a wrong type in one field would hide every finding on the others). ``read_role`` reads
each field on its own: a field of the wrong type is a SCHEMA_VIOLATION and the role is checked
without it; a key the shape does not know is UNKNOWN_FIELD (a WARNING: ARM and the az CLI ignore
it); an ARM expression rbactool did not evaluate (``rbactool.arm_templates.Unresolved``, or a
Terraform interpolation) is UNRESOLVED_EXPRESSION and the role is checked without that value.

Shapes: ``az``, ``arm`` (the resource, also as a template resource), ``az-list`` (one flattened
item) and ``terraform`` (``azurerm_role_definition``'s field names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rbactool.arm_templates import Unresolved
from rbactool.model import (
    BUILTIN_ROLE,
    CUSTOM_ROLE,
    ROLE_DEFINITION_TYPE,
    SHAPE_ARM,
    SHAPE_AZ,
    SHAPE_AZ_LIST,
    SHAPE_TERRAFORM,
    Permission,
    RoleDefinition,
    guid_from_id,
)
from rbactool.readers import clip, pointer_token

__all__ = ["Problem", "read_role", "shape_of"]


@dataclass(frozen=True)
class Problem:
    """A finding about the document, before the finding registry: code, pointer, message, value."""

    code: str
    pointer: str
    message: str
    value: str | None = None


_AZ_TOP = ("Name", "RoleName", "Id", "IsCustom", "Description", "Actions", "NotActions", "DataActions",
           "NotDataActions", "AssignableScopes", "Permissions", "$schema")
_PERM = ("actions", "notActions", "dataActions", "notDataActions", "condition", "conditionVersion")
_TF_PERM = ("actions", "not_actions", "data_actions", "not_data_actions")
#: Keys of an ARM resource in a template or a REST answer (ARM ignores the ones it does not use).
_ARM_TOP = ("id", "name", "type", "properties", "systemData", "apiVersion", "scope", "dependsOn", "condition",
            "comments", "copy", "metadata")
_ARM_PROPS = ("roleName", "description", "type", "roleType", "permissions", "assignableScopes", "createdOn",
              "updatedOn", "createdBy", "updatedBy")
_FLAT = ("id", "name", "type", "roleName", "roleType", "description", "permissions", "assignableScopes",
         "createdOn", "updatedOn", "createdBy", "updatedBy", "systemData")
_TF_TOP = ("name", "scope", "description", "permissions", "assignable_scopes", "role_definition_id", "count",
           "for_each", "depends_on", "lifecycle", "provider", "timeouts")
_METADATA = (("created_on", "createdOn"), ("updated_on", "updatedOn"), ("created_by", "createdBy"),
             ("updated_by", "updatedBy"))


def shape_of(item: dict) -> str:
    if "properties" in item:
        return SHAPE_ARM
    if "roleName" in item or "roleType" in item:
        return SHAPE_AZ_LIST
    return SHAPE_AZ


def _jtype(v: Any) -> str:
    if isinstance(v, Unresolved):
        return "an unresolved expression"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number")


_CANON: dict[tuple[tuple[str, ...], bool], dict[str, str]] = {}


def _canon(known: tuple[str, ...], ci: bool) -> dict[str, str]:
    key = (known, ci)
    if key not in _CANON:
        _CANON[key] = {(k.lower() if ci else k): k for k in known}
    return _CANON[key]


class _Fields:
    """One object's keys (case-insensitive for the az shape), recording problems."""

    def __init__(self, reader: _Reader, obj: dict, pointer: str, known: tuple[str, ...], ci: bool):
        self.r, self.obj, self.pointer, self.ci = reader, obj, pointer, ci
        canon = _canon(known, ci)
        self.real: dict[str, str] = {}  # canonical name -> key as written
        for key in obj:
            c = canon.get(key.lower() if ci else key)
            if c is None:
                listed = f" (known: {', '.join(sorted(known))})" if len(key) <= 60 else ""
                reader.add("UNKNOWN_FIELD", f"{pointer}/{pointer_token(key)}",
                           f"unknown field {clip(key)}: ARM ignores it{listed}")
                continue
            if c in self.real:
                reader.add("ROLE_UNREADABLE", f"{pointer}/{pointer_token(key)}",
                           f"{clip(self.real[c])} and {clip(key)} are the same key (keys are case-insensitive); "
                           "the last one is checked")
            self.real[c] = key

    def has(self, key: str) -> bool:
        return key in self.real

    def ptr(self, key: str) -> str:
        return f"{self.pointer}/{pointer_token(self.real.get(key, key))}"

    def raw(self, key: str) -> Any:
        return self.obj[self.real[key]] if key in self.real else None

    def string(self, key: str) -> str | None:
        v = self.raw(key)
        if v is None:
            return None
        if isinstance(v, Unresolved):
            self.r.unresolved(v, self.ptr(key))
            return None
        if not isinstance(v, str):
            self.r.add("SCHEMA_VIOLATION", self.ptr(key), f"must be a string, got {_jtype(v)}", _value(v))
            return None
        return v

    def strings(self, key: str, field: str | None = None) -> tuple[str, ...]:
        """A list of strings: a lone string is read as a one-item list (after its finding); items
        of other types are findings and left out."""
        v = self.raw(key)
        if v is None:
            return ()
        if type(v) is list and all(type(s) is str for s in v):
            return tuple(v)  # the common case: nothing to report
        p = self.ptr(key)
        if isinstance(v, Unresolved):
            self.r.unresolved(v, p, field)
            return ()
        if isinstance(v, str):
            self.r.add("SCHEMA_VIOLATION", p, "must be a list of strings, got a string (checked as a one-item list)",
                       _value(v))
            return (v,)
        if not isinstance(v, list):
            self.r.add("SCHEMA_VIOLATION", p, f"must be a list of strings, got {_jtype(v)}", _value(v))
            return ()
        out = []
        kept = []
        for i, s in enumerate(v):
            if isinstance(s, Unresolved):
                self.r.unresolved(s, f"{p}/{i}", field if len(v) == 1 else None)
            elif isinstance(s, str):
                out.append(s)
                kept.append(i)
            else:
                self.r.add("SCHEMA_VIOLATION", f"{p}/{i}", f"must be a string, got {_jtype(s)}", _value(s))
        if len(kept) != len(v):
            self.r.maps.append((p, tuple(kept)))
        if v and not out and all(isinstance(s, Unresolved) for s in v) and field:
            self.r.unknown.add(field)
        return tuple(out)


def _value(v: Any) -> str | None:
    if isinstance(v, (dict, list)) or v is None:
        return None
    return json.dumps(v) if not isinstance(v, str) else json.dumps(v)[:200]


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.unknown: set[str] = set()
        #: (list pointer, document index of each item kept): where items were left out.
        self.maps: list[tuple[str, tuple[int, ...]]] = []

    def add(self, code: str, pointer: str, message: str, value: str | None = None) -> None:
        self.problems.append(Problem(code, pointer or "/", message, value))

    def unresolved(self, u: Unresolved, pointer: str, field: str | None = None) -> None:
        if field:
            self.unknown.add(field)
        self.add("UNRESOLVED_EXPRESSION", pointer,
                 f"{clip(u.text, 120)} is not evaluated ({u.why}); the rest of the role is checked without it",
                 u.text[:200])

    def blocks(self, value: Any, pointer: str, ci: bool, terraform: bool = False) -> tuple[Permission, ...]:
        if value is None:
            return ()
        if isinstance(value, Unresolved):
            self.unresolved(value, pointer, "permissions")
            return ()
        if isinstance(value, dict) and terraform:
            value = [value]
        if not isinstance(value, list):
            self.add("SCHEMA_VIOLATION", pointer, f"must be a list of permission blocks, got {_jtype(value)}")
            return ()
        out = []
        kept: list[int] = []
        for i, block in enumerate(value):
            bp = f"{pointer}/{i}"
            kept.append(i)
            if isinstance(block, Unresolved):
                self.unresolved(block, bp, "permissions" if len(value) == 1 else None)
                kept.pop()
                continue
            if not isinstance(block, dict):
                self.add("SCHEMA_VIOLATION", bp, f"must be an object, got {_jtype(block)}")
                kept.pop()
                continue
            if terraform:
                f = _Fields(self, block, bp, _TF_PERM, ci=False)
                out.append(Permission(*(f.strings(k, "permissions" if len(value) == 1 else None) for k in _TF_PERM)))
                continue
            f = _Fields(self, block, bp, _PERM, ci=ci)
            lists = [f.strings(k) for k in _PERM[:4]]
            out.append(Permission(*lists, condition=f.string("condition"),
                                  condition_version=f.string("conditionVersion")))
        if len(kept) != len(value):
            self.maps.append((pointer, tuple(kept)))
        return tuple(out)


def _is_custom(r: _Reader, f: _Fields, key: str) -> bool:
    """``roleType``/``type`` of an ARM or list role: CustomRole (the default) or BuiltInRole."""
    v = f.string(key)
    if v is None or v.lower() == CUSTOM_ROLE.lower():
        return True
    if v.lower() == BUILTIN_ROLE.lower():
        return False
    r.add("ROLE_UNREADABLE", f.ptr(key), f"role type must be CustomRole or BuiltInRole, got {clip(v)} "
                                         "(checked as a custom role)", v[:200])
    return True


def _resource_type(r: _Reader, f: _Fields) -> None:
    t = f.string("type")
    if t is not None and t.lower() != ROLE_DEFINITION_TYPE.lower():
        r.add("SCHEMA_VIOLATION", f.ptr("type"), f"expected {ROLE_DEFINITION_TYPE}, got {clip(t)}", t[:200])


def _name(r: _Reader, f: _Fields, key: str) -> str:
    v = f.raw(key)
    if isinstance(v, Unresolved):
        r.unresolved(v, f.ptr(key), "name")
        return v.text
    if v is not None and not isinstance(v, str):
        r.add("SCHEMA_VIOLATION", f.ptr(key), f"must be a string, got {_jtype(v)}", _value(v))
        return json.dumps(v)[:100]
    return v or ""


def read_role(item: Any, *, source: str | None, prefix: str = "", shape: str | None = None,
              ) -> tuple[RoleDefinition | None, list[Problem]]:
    """The role *item* holds (None when nothing of a role can be read) and every problem found."""
    r = _Reader()
    if isinstance(item, Unresolved):
        r.unresolved(item, prefix)
        return None, r.problems
    if not isinstance(item, dict):
        r.add("SCHEMA_VIOLATION", prefix, f"a role definition must be a JSON object, got {_jtype(item)}")
        return None, r.problems
    shape = shape or shape_of(item)
    reader = {SHAPE_AZ: _az, SHAPE_ARM: _arm, SHAPE_AZ_LIST: _flat, SHAPE_TERRAFORM: _terraform}[shape]
    role = reader(r, item, prefix)
    if role is not None:
        from dataclasses import replace

        role = replace(role, source=source, pointer_prefix=prefix, shape=shape, unresolved=frozenset(r.unknown),
                       index_map=tuple(sorted(r.maps, key=lambda m: len(m[0]))))
    return role, r.problems


def _az(r: _Reader, item: dict, prefix: str) -> RoleDefinition:
    f = _Fields(r, item, prefix, _AZ_TOP, ci=True)
    name = _name(r, f, "Name" if f.has("Name") else "RoleName")
    is_custom = f.raw("IsCustom")
    written = None
    if is_custom is not None and not isinstance(is_custom, bool):
        # the az CLI never sends IsCustom (it always creates a CustomRole): the IsCustom check judges
        # what was written (``RoleDefinition.is_custom_written``), as for the strict reader
        written = (is_custom if isinstance(is_custom, str) else json.dumps(is_custom, default=str))[:200]
    flat = [k for k in _AZ_TOP[5:9] if f.has(k)]
    if f.has("Permissions"):
        if flat:
            r.add("ROLE_UNREADABLE", f.ptr("Permissions"),
                  f"give either Permissions or {', '.join(flat)}, not both (the Permissions blocks are checked)")
        perms = r.blocks(f.raw("Permissions"), f.ptr("Permissions"), ci=True)
    else:
        perms = (Permission(*(f.strings(k, "permissions" if len(flat) == 1 else None) for k in _AZ_TOP[5:9])),)
        if len(flat) > 1 and all(isinstance(f.raw(k), Unresolved) for k in flat):
            r.unknown.add("permissions")
    raw_id = f.string("Id")
    return RoleDefinition(
        name=name, description=f.string("Description") or "", permissions=perms,
        assignable_scopes=f.strings("AssignableScopes", "assignable_scopes"),
        role_id=guid_from_id(raw_id), resource_id=raw_id if raw_id and "/" in raw_id else None,
        is_custom=is_custom if isinstance(is_custom, bool) else True, is_custom_written=written,
    )


def _arm(r: _Reader, item: dict, prefix: str) -> RoleDefinition | None:
    top = _Fields(r, item, prefix, _ARM_TOP, ci=False)
    _resource_type(r, top)
    props = top.raw("properties")
    if isinstance(props, Unresolved):
        r.unresolved(props, top.ptr("properties"))
        return None
    if not isinstance(props, dict):
        r.add("SCHEMA_VIOLATION", top.ptr("properties"), f"must be an object, got {_jtype(props)}")
        return None
    f = _Fields(r, props, top.ptr("properties"), _ARM_PROPS, ci=False)
    resource_id = top.string("id")
    guid = top.string("name") or guid_from_id(resource_id)
    return RoleDefinition(
        name=_name(r, f, "roleName"), description=f.string("description") or "",
        permissions=r.blocks(f.raw("permissions"), f.ptr("permissions"), ci=False),
        assignable_scopes=f.strings("assignableScopes", "assignable_scopes"),
        role_id=guid, resource_id=resource_id,
        is_custom=_is_custom(r, f, "type" if f.has("type") else "roleType"),
        **{attr: f.string(key) for attr, key in _METADATA},
    )


def _flat(r: _Reader, item: dict, prefix: str) -> RoleDefinition:
    f = _Fields(r, item, prefix, _FLAT, ci=False)
    _resource_type(r, f)
    resource_id = f.string("id")
    return RoleDefinition(
        name=_name(r, f, "roleName"), description=f.string("description") or "",
        permissions=r.blocks(f.raw("permissions"), f.ptr("permissions"), ci=False),
        assignable_scopes=f.strings("assignableScopes", "assignable_scopes"),
        role_id=f.string("name") or guid_from_id(resource_id), resource_id=resource_id,
        is_custom=_is_custom(r, f, "roleType"),
        **{attr: f.string(key) for attr, key in _METADATA},
    )


def _terraform_scope(r: _Reader, f: _Fields, scope: str | None) -> None:
    """azurerm creates the role at ``scope`` (the PUT goes to ``{scope}/providers/...``): a value that
    is not an ARM scope is rejected whatever the assignable scopes say."""
    from rbactool.errors import InputError
    from rbactool.scopes import parse_scope

    if scope is None:
        return
    try:
        parse_scope(scope)
    except InputError as e:
        r.add("SCHEMA_VIOLATION", f.ptr("scope"), f"azurerm creates the role at this scope, and ARM rejects it: {e}",
              scope[:200])


def _terraform(r: _Reader, item: dict, prefix: str) -> RoleDefinition:
    f = _Fields(r, item, prefix, _TF_TOP, ci=False)
    scopes = f.strings("assignable_scopes", "assignable_scopes")
    if not f.has("assignable_scopes") or f.raw("assignable_scopes") in ([], None):
        scope = f.raw("scope")  # azurerm: the scope is the assignable scope when none is listed
        if isinstance(scope, Unresolved):
            r.unresolved(scope, f.ptr("scope"), "assignable_scopes")
        elif isinstance(scope, str):
            scopes = (scope,)
    else:
        _terraform_scope(r, f, f.string("scope"))
    raw_id = f.string("role_definition_id")
    return RoleDefinition(
        name=_name(r, f, "name"), description=f.string("description") or "",
        permissions=r.blocks(f.raw("permissions"), f.ptr("permissions"), ci=False, terraform=True),
        assignable_scopes=scopes, role_id=guid_from_id(raw_id),
    )
