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
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from rbactool.builtins import load_builtin_roles
from rbactool.errors import InputError, RbactoolError, SpecError
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
    #: the directory every ``file:`` and ``templates:`` path of the spec must stay inside (its git
    #: work tree, else its own directory; a revision's snapshot for ``diff --roles --base``)
    root: Path | None = None

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


def spec_root(path: Path) -> Path:
    """Where a spec's paths may point: the git work tree holding it, else the spec's directory."""
    start = Path(os.path.realpath(path)).parent
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return start


def contained(path: Path, root: Path, where: str) -> Path:
    """*path* if it (after every symlink) is inside *root*; a pull request's spec cannot make
    rbactool read a file elsewhere on the machine (``../../etc/...``, ``/home/...``, a symlink)."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    if os.path.commonpath([real, top]) != top:
        raise SpecError(f"{where}: {clip(str(path))} is outside {top}: a spec's paths must stay inside its "
                        "repository (or its directory when it is not in a git repository)")
    return path


def load_spec(path: str | os.PathLike, *, root: str | os.PathLike | None = None) -> RolesSpec:
    """Read and check a roles spec. Every problem is a one-line SpecError naming file and key.

    ``file:`` and ``templates:`` paths must stay inside *root* (default: ``spec_root``)."""
    p = Path(path)
    top = Path(root) if root is not None else spec_root(p)
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
    for r in roles:
        if r.file is not None:
            contained(p.parent / r.file, top, f"{p}: {r.pointer}/file")
    for i, t in enumerate(doc.get("templates") or ()):
        contained(p.parent / t, top, f"{p}: /templates/{i}")
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
        root=top,
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
                _check_template_place(spec, template.path, extra_template_dirs, where)
                role = render_role(template, entry.values, **_scope_args(entry, defaults))
            elif entry.definition is not None:
                role = role_from_dict(entry.definition, source=f"{spec.path}:{entry.pointer}/definition",
                                      pointer_prefix=f"{entry.pointer}/definition")
            else:
                role = load_role(contained(spec.path.parent / entry.file, spec.root or spec_root(spec.path),
                                           f"{where}/file"))
        except InputError as e:
            raise type(e)(f"{where}: {e}") from e
        out.append(RenderedRole(entry.key, role, entry))
    _check_names(spec, out)
    return out


def _check_template_place(spec: RolesSpec, path: Path, trusted: tuple, where: str) -> None:
    """A template found through the spec's own ``templates:`` dirs must be a file inside the spec's
    root (a symlink in a pull request must not point at ``/etc/...``); --templates dirs, the
    environment's and the shipped ones are the user's own."""
    from rbactool.render import shipped_templates_dir

    real = os.path.realpath(path)
    allowed = [spec.root or spec_root(spec.path), shipped_templates_dir(), *map(Path, trusted),
               *(Path(d) for d in os.environ.get("RBACTOOL_TEMPLATES", "").split(os.pathsep) if d)]
    for top in allowed:
        t = os.path.realpath(top)
        if os.path.commonpath([real, t]) == t:
            return
    contained(path, spec.root or spec_root(spec.path), f"{where}/template")


# --------------------------------------------------------------------------- specs at a git revision


def _spec_paths(doc: object, spec_rel: str) -> list[str]:
    """Repository paths a spec needs besides itself: its template dirs and role files."""
    out: list[str] = []
    if not isinstance(doc, dict):
        return out
    parent = PurePosixPath(spec_rel).parent
    entries = list(doc.get("templates") or []) if isinstance(doc.get("templates"), list) else []
    roles = doc.get("roles") if isinstance(doc.get("roles"), list) else []
    entries += [r["file"] for r in roles if isinstance(r, dict) and isinstance(r.get("file"), str)]
    for entry in entries:
        if isinstance(entry, str):
            norm = os.path.normpath((parent / entry).as_posix()).replace(os.sep, "/")
            if not norm.startswith(".."):
                out.append(norm)
    return out


def render_spec_at_revision(spec_path: Path, rev: str, *, overrides: dict, fallbacks: dict,
                            template_dirs: tuple) -> list[RoleDefinition]:
    """Render a roles spec with the spec, its template dirs, its role files, --templates dirs
    inside the repository and (when rbactool runs from the repository) the shipped templates, all
    as they are at *rev*. Each role's source is ``REV:SPEC#key`` (see ``spec_key``)."""
    from rbactool import gitio
    from rbactool.render import ENV_TEMPLATES, shipped_templates_dir

    root = gitio.repo_root()
    rel = gitio.repo_relative(spec_path, root)
    if rel is None:
        raise gitio.GitInputError(f"{spec_path} is outside the git repository {root}")
    label = f"{rev}:{rel}"
    if not gitio.exists_at(gitio.resolve_revision(rev, root), rel, root):
        raise gitio.GitInputError(f"roles spec {rel} does not exist at revision {rev!r}")
    text = gitio.read_at_revision(rev, rel, cwd=root)
    paths = [rel, *_spec_paths(parse_yaml(text, label), rel)]
    cli_dirs = [(d, gitio.repo_relative(d, root)) for d in template_dirs]
    env_dirs = [Path(d) for d in os.environ.get(ENV_TEMPLATES, "").split(os.pathsep) if d]
    env_rel = [r for r in (gitio.repo_relative(d, root) for d in env_dirs) if r is not None]
    shipped_rel = gitio.repo_relative(shipped_templates_dir().resolve(), root)
    paths += [r for _, r in cli_dirs if r is not None] + env_rel + ([shipped_rel] if shipped_rel else [])
    with gitio.snapshot(rev, paths, cwd=root) as tmp:
        try:
            spec = load_spec(tmp / rel, root=tmp)
            mapped = tuple(tmp / r if r is not None and (tmp / r).is_dir() else d for d, r in cli_dirs)
            at_rev = [tmp / r for r in (*env_rel, *([shipped_rel] if shipped_rel else ())) if (tmp / r).is_dir()]
            spec = replace(spec, templates=(*spec.templates, *at_rev))
            rendered = render_spec(spec, extra_template_dirs=mapped, overrides=overrides, fallbacks=fallbacks)
        except RbactoolError as e:
            raise type(e)(str(e).replace(f"{tmp}{os.sep}", f"{rev}:")) from e
    return [replace(r.role, source=f"{label}#{r.key}") for r in rendered]


def spec_key(role: RoleDefinition) -> str | None:
    """The roles-spec key of a role from ``render_spec_at_revision`` or ``render_spec_working_tree``
    (its source ends in ``#key``): ``diff --roles`` pairs roles by it, so a renamed role is one change."""
    source = role.source or ""
    return source.rsplit("#", 1)[1] if "#" in source else None


def render_spec_working_tree(spec_path: Path, *, overrides: dict, fallbacks: dict,
                             template_dirs: tuple) -> list[RoleDefinition]:
    """Render a roles spec as it is on disk; each role's source is ``SPEC#key`` (see ``spec_key``)."""
    spec = load_spec(spec_path)
    rendered = render_spec(spec, extra_template_dirs=tuple(template_dirs), overrides=overrides, fallbacks=fallbacks)
    return [replace(r.role, source=f"{spec_path}#{r.key}") for r in rendered]


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
