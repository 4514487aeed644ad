"""The role-definition model: one immutable representation, three real-world input shapes.

Shapes read (and reported in ``RoleDefinition.shape``):

* ``az``      -- what ``az role definition create`` takes: ``Name``, ``IsCustom``, ``Description``,
                 ``Actions``, ``NotActions``, ``DataActions``, ``NotDataActions``,
                 ``AssignableScopes`` (keys case-insensitive, as az accepts them), optionally a
                 ``Permissions`` list instead of the flat lists.
* ``arm``     -- the ARM resource: ``{"id","name","type","properties":{"roleName",...}}``.
* ``az-list`` -- what ``az role definition list`` prints: a JSON array of flattened roles
                 (``roleName``, ``roleType``, ``permissions`` ... at top level).  A single
                 flattened object (``az role definition show``-like) is read as this shape too.

Writers produce the ``az`` shape (default), the ``arm`` shape or the ``az-list`` shape,
canonically: fixed key order, 2-space indent, trailing newline, permission strings
de-duplicated case-insensitively (first spelling and position kept).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from rbactool.errors import InputError, RoleFormatError
from rbactool.readers import clip, clip_pointer

SHAPE_AZ = "az"
SHAPE_ARM = "arm"
SHAPE_AZ_LIST = "az-list"
SHAPES = (SHAPE_AZ, SHAPE_ARM, SHAPE_AZ_LIST)
#: Read only (``rbactool.terraform``): ``azurerm_role_definition``'s field names, for pointers.
SHAPE_TERRAFORM = "terraform"

CUSTOM_ROLE = "CustomRole"
BUILTIN_ROLE = "BuiltInRole"
ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"

#: Largest role file read; anything bigger is refused before parsing.
MAX_ROLE_FILE_BYTES = 16 * 1024 * 1024

# Permission-block fields: (model attribute, ARM/camelCase key, az/PascalCase key)
PERMISSION_FIELDS = (
    ("actions", "actions", "Actions"),
    ("not_actions", "notActions", "NotActions"),
    ("data_actions", "dataActions", "DataActions"),
    ("not_data_actions", "notDataActions", "NotDataActions"),
)
#: The permission lists that hold data actions.
DATA_ATTRS = frozenset({"data_actions", "not_data_actions"})
_METADATA_FIELDS = (
    ("created_on", "createdOn"),
    ("updated_on", "updatedOn"),
    ("created_by", "createdBy"),
    ("updated_by", "updatedBy"),
)


@dataclass(frozen=True)
class Permission:
    """One permissions block. NotActions subtract only from the Actions of the same block."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    condition: str | None = None
    condition_version: str | None = None

    def deduplicated(self) -> Permission:
        return replace(self, **{attr: dedupe(getattr(self, attr)) for attr, _, _ in PERMISSION_FIELDS})

    @property
    def is_flat(self) -> bool:
        """True when the block can be written as the az CLI's flat lists (no condition)."""
        return self.condition is None and self.condition_version is None


@dataclass(frozen=True)
class RoleDefinition:
    name: str
    description: str = ""
    permissions: tuple[Permission, ...] = (Permission(),)
    assignable_scopes: tuple[str, ...] = ()
    role_id: str | None = None  # the definition's GUID (ARM "name")
    resource_id: str | None = None  # full ARM id, e.g. /subscriptions/../roleDefinitions/{guid}
    is_custom: bool = True
    created_on: str | None = None
    updated_on: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    # Where the role came from; not part of equality.
    #: A non-boolean ``IsCustom`` as written (az shape), e.g. ``'true'``; None when it is a boolean or absent.
    is_custom_written: str | None = field(default=None, compare=False)
    shape: str = field(default=SHAPE_AZ, compare=False)
    source: str | None = field(default=None, compare=False)
    pointer_prefix: str = field(default="", compare=False)
    #: Fields (``name``, ``permissions``, ``assignable_scopes``) whose value is an expression
    #: rbactool did not evaluate: the checks that a missing value would trigger do not run on them.
    unresolved: frozenset[str] = field(default=frozenset(), compare=False)
    #: (list pointer, document index of each item the model kept) for lists that lost items while
    #: read leniently (an unresolved expression, a non-string): ``document_pointer`` maps back.
    index_map: tuple[tuple[str, tuple[int, ...]], ...] = field(default=(), compare=False)

    def document_pointer(self, pointer: str | None) -> str | None:
        """*pointer* (computed from the model's list positions) as a pointer into the document."""
        if not pointer or not self.index_map:
            return pointer
        for base, kept in self.index_map:
            if pointer.startswith(base + "/"):
                head, _, rest = pointer[len(base) + 1:].partition("/")
                if head.isdigit() and int(head) < len(kept):
                    pointer = f"{base}/{kept[int(head)]}" + (f"/{rest}" if rest else "")
        return pointer

    @property
    def role_type(self) -> str:
        return CUSTOM_ROLE if self.is_custom else BUILTIN_ROLE

    def _all(self, attr: str) -> tuple[str, ...]:
        return tuple(s for p in self.permissions for s in getattr(p, attr))

    @property
    def actions(self) -> tuple[str, ...]:
        """Union of Actions over every block (convenience; evaluate per block for effect)."""
        return self._all("actions")

    @property
    def not_actions(self) -> tuple[str, ...]:
        return self._all("not_actions")

    @property
    def data_actions(self) -> tuple[str, ...]:
        return self._all("data_actions")

    @property
    def not_data_actions(self) -> tuple[str, ...]:
        return self._all("not_data_actions")

    def pointer(self, block: int, attr: str | None = None, index: int | None = None) -> str:
        """JSON pointer, in the document the role was read from, of a permission string.

        ``attr`` is a model attribute (``actions``, ``not_actions``...); ``pointer(0)`` points
        at the block itself.
        """
        keys = {a: (camel, pascal) for a, camel, pascal in PERMISSION_FIELDS}
        if self.shape == SHAPE_TERRAFORM:
            base = f"{self.pointer_prefix}/permissions/{block}"
            return base if attr is None else f"{base}/{attr}" + ("" if index is None else f"/{index}")
        if self.shape == SHAPE_ARM:
            base = f"{self.pointer_prefix}/properties/permissions/{block}"
        elif self.shape == SHAPE_AZ and self._flat_source:
            base = self.pointer_prefix
        elif self.shape == SHAPE_AZ:
            base = f"{self.pointer_prefix}/Permissions/{block}"
        else:
            base = f"{self.pointer_prefix}/permissions/{block}"
        if attr is None:
            return base or "/"
        flat_az = self.shape == SHAPE_AZ and self._flat_source
        key = keys[attr][1] if flat_az else keys[attr][0]
        out = f"{base}/{key}"
        return out if index is None else f"{out}/{index}"

    def field_pointer(self, name: str) -> str:
        """JSON pointer of a top-level field: ``name``, ``description`` or ``assignable_scopes``."""
        az = {"name": "Name", "description": "Description", "assignable_scopes": "AssignableScopes"}
        camel = {"name": "roleName", "description": "description", "assignable_scopes": "assignableScopes"}
        if self.shape == SHAPE_AZ:
            return f"{self.pointer_prefix}/{az[name]}"
        if self.shape == SHAPE_TERRAFORM:
            return f"{self.pointer_prefix}/{name}"
        if self.shape == SHAPE_ARM:
            return f"{self.pointer_prefix}/properties/{camel[name]}"
        return f"{self.pointer_prefix}/{camel[name]}"

    @property
    def _flat_source(self) -> bool:
        return self.shape == SHAPE_AZ and len(self.permissions) == 1 and self.permissions[0].is_flat

    def deduplicated(self) -> RoleDefinition:
        return replace(
            self,
            permissions=tuple(p.deduplicated() for p in self.permissions),
            assignable_scopes=dedupe(self.assignable_scopes),
        )


def dedupe(values: Iterable[str]) -> tuple[str, ...]:
    """Drop case-insensitive repeats, keeping the first spelling in its position."""
    seen: set[str] = set()
    out = []
    for v in values:
        k = v.lower()
        if k not in seen:
            seen.add(k)
            out.append(v)
    return tuple(out)


# --------------------------------------------------------------------------- reading


class _Doc:
    """Case-insensitive view of one JSON object, recording which keys were consumed."""

    def __init__(self, obj: dict, where: str, pointer: str, case_insensitive: bool):
        self.obj = obj
        self.where = where
        self.pointer = pointer
        self.ci = case_insensitive
        self.index: dict[str, str] = {}
        for k in obj:
            lk = k.lower() if case_insensitive else k
            if lk in self.index:
                raise RoleFormatError(f"{where}: key {clip(k)} appears twice (keys are case-insensitive)")
            self.index[lk] = k
        self.used: set[str] = set()

    def has(self, key: str) -> bool:
        return (key.lower() if self.ci else key) in self.index

    def get(self, key: str, default: Any = None) -> Any:
        real = self.index.get(key.lower() if self.ci else key)
        if real is None:
            return default
        self.used.add(real)
        return self.obj[real]

    def loc(self, key: str) -> str:
        real = self.index.get(key.lower() if self.ci else key, key)
        return f"{self.where}: {self.pointer}/{real}"

    def str_field(self, key: str, *, required: bool = False, allow_null: bool = True) -> str | None:
        if not self.has(key):
            if required:
                raise RoleFormatError(f"{self.where}: missing required field {self.pointer}/{key}")
            return None
        v = self.get(key)
        if v is None and allow_null and not required:
            return None
        if not isinstance(v, str):
            raise RoleFormatError(f"{self.loc(key)} must be a string, got {_jtype(v)}")
        return v

    def str_list(self, key: str) -> tuple[str, ...]:
        v = self.get(key)
        if v is None:
            return ()
        if not isinstance(v, list):
            raise RoleFormatError(f"{self.loc(key)} must be a list of strings, got {_jtype(v)}")
        for i, s in enumerate(v):
            if not isinstance(s, str):
                raise RoleFormatError(f"{self.loc(key)}/{i} must be a string, got {_jtype(s)}")
        return tuple(v)

    def check_unknown(self, allowed: Iterable[str]) -> None:
        allowed_keys = {a.lower() if self.ci else a for a in allowed}
        for lk, real in self.index.items():
            if lk not in allowed_keys:
                hint = ", ".join(sorted(allowed))
                where = clip_pointer(f"{self.pointer}/{real}")
                raise RoleFormatError(f"{self.where}: unknown field {where} (known: {hint})")


def _jtype(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number"
    )


def detect_shape(doc: Any) -> str:
    """Which of the three shapes a parsed JSON document is."""
    if isinstance(doc, list):
        return SHAPE_AZ_LIST
    if isinstance(doc, dict):
        if isinstance(doc.get("value"), list) and set(doc) <= {"value", "nextLink"}:
            return SHAPE_AZ_LIST
        if "properties" in doc:
            return SHAPE_ARM
        if "roleName" in doc or "roleType" in doc:
            return SHAPE_AZ_LIST
        return SHAPE_AZ
    raise RoleFormatError(f"a role definition must be a JSON object or array, got {_jtype(doc)}")


def role_from_dict(doc: Any, *, source: str | None = None, pointer_prefix: str = "") -> RoleDefinition:
    """Read one role (az, ARM or one flattened list item). Raises RoleFormatError."""
    where = source or "<role>"
    if not isinstance(doc, dict):
        raise RoleFormatError(f"{where}: {pointer_prefix or '/'} must be a JSON object, got {_jtype(doc)}")
    if "properties" in doc:
        return _from_arm(doc, where, source, pointer_prefix)
    if "roleName" in doc or "roleType" in doc:
        return _from_flattened(doc, where, source, pointer_prefix)
    return _from_az(doc, where, source, pointer_prefix)


def roles_from_document(doc: Any, *, source: str | None = None) -> list[RoleDefinition]:
    """Read every role in a parsed JSON document (an object, an array, or a REST ``value`` list)."""
    shape = detect_shape(doc)
    if shape != SHAPE_AZ_LIST or isinstance(doc, dict) and "value" not in doc:
        return [role_from_dict(doc, source=source)]
    items, prefix = (doc["value"], "/value") if isinstance(doc, dict) else (doc, "")
    roles = []
    for i, item in enumerate(items):
        # each item keeps the shape it is written in, so pointers are right for az items too
        roles.append(role_from_dict(item, source=source, pointer_prefix=f"{prefix}/{i}"))
    return roles


def parse_document(text: str, *, source: str | None = None, duplicates: bool = True) -> Any:
    """The JSON object or array of a role file (rbactool.readers' limits); RoleFormatError otherwise.
    ``duplicates=False`` lets duplicate keys through for a caller that reports them itself."""
    from rbactool.readers import loads_json

    where = source or "<input>"
    if not text.strip():
        raise RoleFormatError(f"{where}: file is empty, expected a role definition in JSON")
    try:
        doc = loads_json(text, where, RoleFormatError, duplicates=duplicates)
    except RoleFormatError:
        if where.lower().endswith((".yaml", ".yml")):  # a roles spec given where a role file goes
            raise RoleFormatError(f"{where}: a YAML file, not a role definition in JSON (a roles spec? "
                                  f"`validate --roles`, `diff --roles`, `render --roles` and `plan` take it)") from None
        raise
    if not isinstance(doc, (dict, list)):
        raise RoleFormatError(f"{where}: a role definition must be a JSON object or array, got {_jtype(doc)}")
    return doc


def parse_roles(text: str, *, source: str | None = None) -> list[RoleDefinition]:
    return roles_from_document(parse_document(text, source=source), source=source)


def read_text_file(path: str | os.PathLike, *, limit: int = MAX_ROLE_FILE_BYTES, what: str = "role file") -> str:
    """Read a UTF-8 text file with a size limit; every failure is a RoleFormatError."""
    from rbactool.readers import read_file

    return read_file(path, what=what, limit=limit, error=RoleFormatError)


def load_roles(path: str | os.PathLike) -> list[RoleDefinition]:
    """Read every role in a JSON file of any supported shape."""
    return parse_roles(read_text_file(path), source=str(path))


def load_role(path: str | os.PathLike) -> RoleDefinition:
    roles = load_roles(path)
    if len(roles) != 1:
        raise RoleFormatError(f"{path}: expected one role definition, found {len(roles)}")
    return roles[0]


_AZ_KEYS = (
    "Name", "RoleName", "Id", "IsCustom", "Description", "Actions", "NotActions", "DataActions",
    "NotDataActions", "AssignableScopes", "Permissions", "$schema",
)
_PERMISSION_KEYS = ("actions", "notActions", "dataActions", "notDataActions", "condition", "conditionVersion")
_ARM_TOP_KEYS = ("id", "name", "type", "properties", "systemData")
_ARM_PROP_KEYS = (
    "roleName", "description", "type", "roleType", "permissions", "assignableScopes",
    "createdOn", "updatedOn", "createdBy", "updatedBy",
)
_FLAT_KEYS = (
    "id", "name", "type", "roleName", "roleType", "description", "permissions", "assignableScopes",
    "createdOn", "updatedOn", "createdBy", "updatedBy", "systemData",
)


def _permission_blocks(value: Any, loc: str, where: str, pointer: str, ci: bool) -> tuple[Permission, ...]:
    if not isinstance(value, list):
        raise RoleFormatError(f"{loc} must be a list of permission blocks, got {_jtype(value)}")
    blocks = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise RoleFormatError(f"{loc}/{i} must be an object, got {_jtype(item)}")
        d = _Doc(item, where, f"{pointer}/{i}", ci)
        d.check_unknown(_PERMISSION_KEYS)
        blocks.append(
            Permission(
                **{attr: d.str_list(camel) for attr, camel, _ in PERMISSION_FIELDS},
                condition=d.str_field("condition"),
                condition_version=d.str_field("conditionVersion"),
            )
        )
    return tuple(blocks)


def guid_from_id(resource_id: str | None) -> str | None:
    """The last segment of a resource id (a role definition's GUID); None for None/empty."""
    if not resource_id:
        return None
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _is_custom_from_type(value: str | None, where: str, loc: str) -> bool:
    if value is None:
        return True
    if value.lower() == CUSTOM_ROLE.lower():
        return True
    if value.lower() == BUILTIN_ROLE.lower():
        return False
    raise RoleFormatError(f"{loc}: role type must be CustomRole or BuiltInRole, got {clip(value)}")


def _metadata(d: _Doc) -> dict[str, str | None]:
    return {attr: d.str_field(key) for attr, key in _METADATA_FIELDS}


def _from_az(doc: dict, where: str, source: str | None, prefix: str) -> RoleDefinition:
    d = _Doc(doc, where, prefix, case_insensitive=True)
    d.check_unknown(_AZ_KEYS)
    name = d.str_field("Name", allow_null=False) if d.has("Name") else d.str_field("RoleName", required=True)
    if name is None:
        raise RoleFormatError(f"{where}: missing required field {prefix}/Name")
    is_custom = d.get("IsCustom", True)
    is_custom_written = None
    if not isinstance(is_custom, bool):
        # The az CLI never sends IsCustom (it always creates a CustomRole): a check warns (IS_CUSTOM_NOT_BOOLEAN)
        shown = is_custom if isinstance(is_custom, str) else json.dumps(is_custom, default=str)
        is_custom_written, is_custom = shown[:200], True
    d.get("$schema")
    flat_keys = [pascal for _, _, pascal in PERMISSION_FIELDS if d.has(pascal)]
    if d.has("Permissions"):
        if flat_keys:
            raise RoleFormatError(f"{where}: give either Permissions or {', '.join(flat_keys)}, not both")
        perms = _permission_blocks(
            d.get("Permissions"), d.loc("Permissions"), where, f"{prefix}/Permissions", ci=True
        )
    else:
        perms = (Permission(**{attr: d.str_list(pascal) for attr, _, pascal in PERMISSION_FIELDS}),)
    raw_id = d.str_field("Id")
    return RoleDefinition(
        name=name,
        description=d.str_field("Description") or "",
        permissions=perms,
        assignable_scopes=d.str_list("AssignableScopes"),
        role_id=guid_from_id(raw_id),
        resource_id=raw_id if raw_id and "/" in raw_id else None,
        is_custom=is_custom,
        is_custom_written=is_custom_written,
        shape=SHAPE_AZ,
        source=source,
        pointer_prefix=prefix,
    )


def _from_arm(doc: dict, where: str, source: str | None, prefix: str) -> RoleDefinition:
    top = _Doc(doc, where, prefix, case_insensitive=False)
    top.check_unknown(_ARM_TOP_KEYS)
    props = top.get("properties")
    if not isinstance(props, dict):
        raise RoleFormatError(f"{top.loc('properties')} must be an object, got {_jtype(props)}")
    top.get("systemData")
    d = _Doc(props, where, f"{prefix}/properties", case_insensitive=False)
    d.check_unknown(_ARM_PROP_KEYS)
    rtype = d.str_field("type") if d.has("type") else d.str_field("roleType")
    _check_resource_type(top, where)
    resource_id = top.str_field("id")
    guid = top.str_field("name") or guid_from_id(resource_id)
    return RoleDefinition(
        name=d.str_field("roleName", required=True) or "",
        description=d.str_field("description") or "",
        permissions=_permission_blocks(
            d.get("permissions", []), d.loc("permissions"), where, f"{prefix}/properties/permissions", False
        ),
        assignable_scopes=d.str_list("assignableScopes"),
        role_id=guid,
        resource_id=resource_id,
        is_custom=_is_custom_from_type(rtype, where, d.loc("type")),
        **_metadata(d),
        shape=SHAPE_ARM,
        source=source,
        pointer_prefix=prefix,
    )


def _check_resource_type(d: _Doc, where: str) -> None:
    t = d.str_field("type")
    if t is not None and t.lower() != ROLE_DEFINITION_TYPE.lower():
        raise RoleFormatError(f"{d.loc('type')}: expected {ROLE_DEFINITION_TYPE}, got {clip(t)}")


def _from_flattened(doc: dict, where: str, source: str | None, prefix: str) -> RoleDefinition:
    d = _Doc(doc, where, prefix, case_insensitive=False)
    d.check_unknown(_FLAT_KEYS)
    d.get("systemData")
    _check_resource_type(d, where)
    resource_id = d.str_field("id")
    return RoleDefinition(
        name=d.str_field("roleName", required=True) or "",
        description=d.str_field("description") or "",
        permissions=_permission_blocks(
            d.get("permissions", []), d.loc("permissions"), where, f"{prefix}/permissions", False
        ),
        assignable_scopes=d.str_list("assignableScopes"),
        role_id=d.str_field("name") or guid_from_id(resource_id),
        resource_id=resource_id,
        is_custom=_is_custom_from_type(d.str_field("roleType"), where, d.loc("roleType")),
        **_metadata(d),
        shape=SHAPE_AZ_LIST,
        source=source,
        pointer_prefix=prefix,
    )


# --------------------------------------------------------------------------- writing


def _permission_dict(p: Permission, *, keep_condition_nulls: bool) -> dict[str, Any]:
    out: dict[str, Any] = {camel: list(getattr(p, attr)) for attr, camel, _ in PERMISSION_FIELDS}
    if p.condition is not None or keep_condition_nulls:
        out["condition"] = p.condition
    if p.condition_version is not None or keep_condition_nulls:
        out["conditionVersion"] = p.condition_version
    return out


def to_az_dict(role: RoleDefinition) -> dict[str, Any]:
    """The az CLI shape (``az role definition create --role-definition``)."""
    role = role.deduplicated()
    out: dict[str, Any] = {"Name": role.name}
    if role.resource_id or role.role_id:
        out["Id"] = role.resource_id or role.role_id
    out["IsCustom"] = role.is_custom
    out["Description"] = role.description
    if len(role.permissions) == 1 and role.permissions[0].is_flat:
        p = role.permissions[0]
        for attr, _, pascal in PERMISSION_FIELDS:
            out[pascal] = list(getattr(p, attr))
    else:
        out["Permissions"] = [_permission_dict(p, keep_condition_nulls=False) for p in role.permissions]
    out["AssignableScopes"] = list(role.assignable_scopes)
    return out


def _metadata_items(role: RoleDefinition) -> dict[str, str]:
    return {key: getattr(role, attr) for attr, key in _METADATA_FIELDS if getattr(role, attr) is not None}


def to_arm_dict(role: RoleDefinition) -> dict[str, Any]:
    """The ARM resource shape (REST body of GET/PUT roleDefinitions)."""
    role = role.deduplicated()
    out: dict[str, Any] = {}
    if role.resource_id:
        out["id"] = role.resource_id
    if role.role_id:
        out["name"] = role.role_id
    out["type"] = ROLE_DEFINITION_TYPE
    props: dict[str, Any] = {
        "roleName": role.name,
        "description": role.description,
        "type": role.role_type,
        "permissions": [_permission_dict(p, keep_condition_nulls=False) for p in role.permissions],
        "assignableScopes": list(role.assignable_scopes),
    }
    props.update(_metadata_items(role))
    out["properties"] = props
    return out


def to_flat_dict(role: RoleDefinition) -> dict[str, Any]:
    """One item of the ``az role definition list`` shape."""
    role = role.deduplicated()
    out: dict[str, Any] = {"assignableScopes": list(role.assignable_scopes)}
    out.update(_metadata_items(role))
    out["description"] = role.description
    if role.resource_id:
        out["id"] = role.resource_id
    if role.role_id:
        out["name"] = role.role_id
    out["permissions"] = [_permission_dict(p, keep_condition_nulls=True) for p in role.permissions]
    out["roleName"] = role.name
    out["roleType"] = role.role_type
    out["type"] = ROLE_DEFINITION_TYPE
    return out


def to_dict(role: RoleDefinition, shape: str = SHAPE_AZ) -> dict[str, Any]:
    if shape == SHAPE_AZ:
        return to_az_dict(role)
    if shape == SHAPE_ARM:
        return to_arm_dict(role)
    if shape == SHAPE_AZ_LIST:
        return to_flat_dict(role)
    raise InputError(f"unknown role shape {clip(shape)} (one of {', '.join(SHAPES)})")


def dumps_json(obj: Any) -> str:
    """Canonical JSON text: 2-space indent, non-ASCII kept, trailing newline."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def dumps_role(role: RoleDefinition, shape: str = SHAPE_AZ) -> str:
    return dumps_json(to_dict(role, shape))


def canonical_text(text: str, source: str, shape: str | None = None) -> str:
    """The canonical form of a role document (what `rbactool convert` writes): fixed key order,
    2-space indent, permission strings de-duplicated; *shape* None keeps the shape it was read in."""
    roles = parse_roles(text, source=source)
    if not roles:
        raise RoleFormatError(f"{source}: the file holds an empty list: no role definition to convert")
    target = shape or roles[0].shape
    if text.lstrip().startswith("[") or len(roles) != 1:
        return dumps_json([to_dict(r, target) for r in roles])
    return dumps_role(roles[0], target)


def dumps_roles(roles: Iterable[RoleDefinition], shape: str = SHAPE_AZ_LIST) -> str:
    """A list of roles; ``az-list`` by default, as ``az role definition list`` prints."""
    return dumps_json([to_dict(r, shape) for r in roles])
