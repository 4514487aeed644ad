"""Roles specs (``roles/*.yaml``): which templates to render with which values and scopes, and
which role assignments should exist. The format is documented in README.md and checked with
``schemas/roles-spec.schema.json`` before anything is rendered.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbactool.builtins import load_builtin_roles
from rbactool.errors import InputError, SpecError
from rbactool.model import RoleDefinition, load_role, read_text_file, role_from_dict
from rbactool.readers import clip, clip_pointer, pointer_token, shorten
from rbactool.render import load_template, render_role, template_dirs
from rbactool.scopes import is_guid, parse_scope

MAX_SPEC_BYTES = 4 * 1024 * 1024
_PLACEHOLDER_RE = re.compile(r"\$\{([a-z_]+)\}")


@dataclass(frozen=True)
class RoleEntry:
    key: str
    template: str | None = None
    file: str | None = None
    definition: Mapping[str, Any] | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    subscription: str | None = None
    resource_group: str | None = None
    management_group: str | None = None
    assignable_scopes: tuple[str, ...] = ()
    pointer: str = ""


@dataclass(frozen=True)
class AssignmentEntry:
    role: str
    principal_id: str
    principal_type: str
    scope: str
    principal_name: str | None = None
    description: str | None = None
    condition: str | None = None
    condition_version: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class RolesSpec:
    path: Path
    roles: tuple[RoleEntry, ...]
    assignments: tuple[AssignmentEntry, ...]
    defaults: Mapping[str, str] = field(default_factory=dict)
    templates: tuple[Path, ...] = ()
    description: str = ""
    name: str | None = None

    @property
    def spec_id(self) -> str:
        """The spec's ``name``, else a suggestion made from its file name."""
        return self.name or self.path.name.split(".")[0]


@dataclass(frozen=True)
class RenderedRole:
    key: str
    role: RoleDefinition
    entry: RoleEntry


# --------------------------------------------------------------------------- YAML


def parse_yaml(text: str, where: str) -> Any:
    from rbactool.readers import loads_yaml

    return loads_yaml(text, where, SpecError)


@functools.lru_cache(maxsize=1)
def _spec_validator():
    import jsonschema

    path = Path(__file__).parent / "schemas" / "roles-spec.schema.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text("utf-8")))


def _schema_message(err) -> str:
    pointer = clip_pointer("".join(f"/{pointer_token(p)}" for p in err.absolute_path))
    if err.validator == "additionalProperties":
        extra = sorted(str(k) for k in set(err.instance) - set(err.schema.get("properties", {})))
        return f"unknown key {clip(extra[0])} at {pointer}" if extra else f"{pointer}: {shorten(err.message)}"
    if err.validator == "oneOf" and isinstance(err.instance, dict):
        return f"{pointer}: give exactly one of 'template', 'file' or 'definition'"
    if err.validator == "anyOf" and not err.absolute_path:
        return "give 'roles' (custom roles), 'assignments' or both"
    return f"{pointer}: {shorten(err.message)}"


# --------------------------------------------------------------------------- loading


def load_spec(path: str | os.PathLike) -> RolesSpec:
    """Read and check a roles spec. Every problem is a one-line SpecError naming file and key."""
    p = Path(path)
    try:
        text = read_text_file(p, limit=MAX_SPEC_BYTES, what="roles spec")
    except InputError as e:
        raise SpecError(str(e)) from e
    doc = parse_yaml(text, str(p))
    if doc is None:
        raise SpecError(f"{p}: roles spec is empty")
    if not isinstance(doc, dict):
        raise SpecError(f"{p}: a roles spec must be a mapping with 'version' and 'roles' or 'assignments'")
    errors = sorted(
        _spec_validator().iter_errors(doc), key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path])
    )
    if errors:
        raise SpecError(f"{p}: {_schema_message(errors[0])}")
    roles = tuple(
        RoleEntry(
            key=r["key"],
            template=r.get("template"),
            file=r.get("file"),
            definition=r.get("definition"),
            values=dict(r.get("values") or {}),
            subscription=r.get("subscription"),
            resource_group=r.get("resource_group"),
            management_group=r.get("management_group"),
            assignable_scopes=tuple(r.get("assignable_scopes") or ()),
            pointer=f"/roles/{i}",
        )
        for i, r in enumerate(doc.get("roles") or ())
    )
    seen: dict[str, str] = {}
    for r in roles:
        if r.key in seen:
            raise SpecError(f"{p}: {r.pointer}/key {clip(r.key)} is already used at {seen[r.key]}")
        seen[r.key] = r.pointer
    assignments = tuple(
        AssignmentEntry(
            role=a["role"],
            principal_id=a["principal"]["id"],
            principal_type=a["principal"]["type"],
            principal_name=a["principal"].get("name"),
            scope=a["scope"],
            description=a.get("description"),
            condition=a.get("condition"),
            condition_version=a.get("condition_version"),
            pointer=f"/assignments/{i}",
        )
        for i, a in enumerate(doc.get("assignments") or ())
    )
    for a in assignments:
        if not is_guid(a.principal_id):
            raise SpecError(f"{p}: {a.pointer}/principal/id must be an object id (GUID), got {clip(a.principal_id)}")
    return RolesSpec(
        path=p,
        roles=roles,
        assignments=assignments,
        defaults=dict(doc.get("defaults") or {}),
        templates=tuple((p.parent / t) for t in doc.get("templates") or ()),
        description=doc.get("description", ""),
        name=doc.get("name"),
    )


# --------------------------------------------------------------------------- rendering


def _scope_args(entry: RoleEntry, defaults: Mapping[str, str | None]) -> dict[str, Any]:
    if entry.assignable_scopes:
        return {"assignable_scopes": list(entry.assignable_scopes)}
    own = {k: getattr(entry, k) for k in ("subscription", "resource_group", "management_group")}
    if any(own.values()):
        if own["resource_group"] and not own["subscription"] and not own["management_group"]:
            own["subscription"] = defaults.get("subscription")
        return own
    return {k: defaults.get(k) for k in ("subscription", "resource_group", "management_group")}


def effective_defaults(
    spec: RolesSpec,
    overrides: Mapping[str, str | None] | None = None,
    fallbacks: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    """Spec defaults, with command-line scope options on top (key by key; a management group
    replaces subscription and resource group) and *fallbacks* (e.g. $AZURE_SUBSCRIPTION_ID)
    filling only what neither sets."""
    keys = ("subscription", "resource_group", "management_group")
    out = {k: spec.defaults.get(k) for k in keys}
    given = {k: v for k, v in (overrides or {}).items() if v}
    if given.get("management_group"):
        out = {"subscription": None, "resource_group": None}
    elif given:
        out["management_group"] = None
    out.update(given)
    if not out.get("management_group"):
        for k, v in (fallbacks or {}).items():
            if v and not out.get(k):
                out[k] = v
    return {k: out.get(k) for k in keys}


def render_spec(
    spec: RolesSpec,
    *,
    extra_template_dirs: tuple[str | os.PathLike, ...] = (),
    overrides: Mapping[str, str | None] | None = None,
    fallbacks: Mapping[str, str | None] | None = None,
) -> list[RenderedRole]:
    """Render every role of a spec and check its assignments (nothing is written). Errors name the
    spec and the role."""
    rendered = render_roles(spec, extra_template_dirs=extra_template_dirs, overrides=overrides, fallbacks=fallbacks)
    check_assignments(spec, rendered, effective_defaults(spec, overrides, fallbacks))
    return rendered


def render_roles(
    spec: RolesSpec,
    *,
    extra_template_dirs: tuple[str | os.PathLike, ...] = (),
    overrides: Mapping[str, str | None] | None = None,
    fallbacks: Mapping[str, str | None] | None = None,
) -> list[RenderedRole]:
    """Render every role of a spec, its assignments not checked (``plan.desired_state`` checks them
    once). Errors name the spec and the role."""
    dirs = template_dirs((*extra_template_dirs, *spec.templates))
    defaults = effective_defaults(spec, overrides, fallbacks)
    out: list[RenderedRole] = []
    for entry in spec.roles:
        where = f"{spec.path}: {entry.pointer} ({entry.key})"
        try:
            if entry.template:
                template = load_template(entry.template, dirs)
                role = render_role(template, entry.values, **_scope_args(entry, defaults))
            elif entry.definition is not None:
                role = role_from_dict(entry.definition, source=f"{spec.path}:{entry.pointer}/definition",
                                      pointer_prefix=f"{entry.pointer}/definition")
            else:
                role = load_role(spec.path.parent / entry.file)
        except InputError as e:
            raise type(e)(f"{where}: {e}") from e
        out.append(RenderedRole(entry.key, role, entry))
    _check_names(spec, out)
    return out


def _check_names(spec: RolesSpec, rendered: list[RenderedRole]) -> None:
    seen: dict[str, str] = {}
    for r in rendered:
        low = r.role.name.lower()
        if low in seen:
            raise SpecError(
                f"{spec.path}: roles {clip(seen[low])} and {clip(r.key)} render the same role name "
                f"{clip(r.role.name, 200)} (role names are unique per tenant)"
            )
        seen[low] = r.key


def substitute(text: str, values: Mapping[str, str | None], where: str) -> str:
    """Replace ``${subscription}`` / ``${resource_group}`` / ``${management_group}`` in a scope."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        value = values.get(name)
        if not value:
            option = "--" + name.replace("_", "-")
            raise SpecError(f"{where}: ${{{name}}} is used but no {name} is set (spec defaults or {option})")
        return value

    return _PLACEHOLDER_RE.sub(repl, text)


def check_assignments(
    spec: RolesSpec, rendered: list[RenderedRole], defaults: Mapping[str, str | None]
) -> list[tuple[AssignmentEntry, str, RoleDefinition | None]]:
    """Resolve each assignment's role and scope; returns (entry, scope, role or None for a GUID)."""
    by_key = {r.key: r.role for r in rendered}
    builtins = load_builtin_roles()
    resolved = []
    seen: dict[tuple[str, str, str], str] = {}
    for a in spec.assignments:
        where = f"{spec.path}: {a.pointer}"
        scope_text = substitute(a.scope, defaults, f"{where}/scope")
        try:
            scope = parse_scope(scope_text)
        except InputError as e:
            raise SpecError(f"{where}/scope: {e}") from e
        role = by_key.get(a.role) or builtins.resolve(a.role)
        if role is None and not is_guid(a.role.rstrip("/").rsplit("/", 1)[-1]):
            close = builtins.closest_names(a.role)
            keys = ", ".join(sorted(by_key)) or "none"
            hint = f" (did you mean {clip(close[0])}?)" if close else ""
            raise SpecError(
                f"{where}/role: {clip(a.role, 200)} is neither a role key of this spec ({keys}) "
                f"nor a built-in role{hint}"
            )
        if role is not None and role.is_custom:
            scopes = [parse_scope(s) for s in role.assignable_scopes]
            if not any(scope.may_be_at_or_below(s) for s in scopes):
                raise SpecError(
                    f"{where}/scope: {scope_text} is not at or below any assignable scope of role "
                    f"{clip(role.name, 200)} ({', '.join(role.assignable_scopes)})"
                )
        ident = (role.name.lower() if role else a.role.lower(), a.principal_id.lower(), scope.key)
        if ident in seen:
            raise SpecError(f"{where}: the same role, principal and scope are already assigned at {seen[ident]}")
        seen[ident] = a.pointer
        resolved.append((a, str(scope), role))
    return resolved
