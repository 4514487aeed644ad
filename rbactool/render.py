"""Templates -> role definitions.

A template is ``<name>.json.j2`` that renders one role in the az CLI shape. It starts with a
front matter block inside a Jinja comment, in YAML::

    {#---
    summary: One line shown by `rbactool templates`.
    name: Default role name            # overridable with --set name=...
    description: Default description   # overridable with --set description=...
    parameters:
      auth_mode: {type: choice, choices: [key, aml_token, aad_token], default: key, help: ...}
    ---#}

Every template also gets ``subscription``, ``resource_group``, ``management_group`` (type-checked
before rendering), and the computed ``assignable_scope`` / ``assignable_scopes``.

Safety: templates are untrusted input and render in rbactool's Jinja sandbox (rbactool.sandbox:
no Python objects, no file access, bounded time, size and recursion). Jinja runs with
StrictUndefined and autoescaping off, and *every* ``{{ ... }}`` must end in ``| tojson``
(enforced at render time), so no value can break out of its JSON string.
The rendered text is parsed, checked against a JSON Schema, and read into the role model.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rbactool.errors import ParameterError, RoleFormatError, TemplateError
from rbactool.model import RoleDefinition, role_from_dict
from rbactool.readers import clip
from rbactool.scopes import (
    check_guid,
    check_management_group_id,
    check_resource_group_name,
    management_group_scope,
    parse_scope,
    resource_group_scope,
    subscription_scope,
)

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIX = ".json.j2"
ENV_TEMPLATES = "RBACTOOL_TEMPLATES"
_FRONT_MATTER_RE = re.compile(r"\A\s*\{#-?---\s*\n(.*?)\n---\s*-?#\}\s*\n?", re.DOTALL)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PARAM_TYPES = ("string", "bool", "int", "choice", "guid", "scope", "list")
SCOPE_PARAMS = ("subscription", "resource_group", "management_group")
RESERVED = (*SCOPE_PARAMS, "assignable_scope", "assignable_scopes", "name", "description")
MAX_NAME = 512
MAX_DESCRIPTION = 2048
#: Largest template file (role templates are 1-3 KB; this stops a hostile one before it is read).
MAX_TEMPLATE_BYTES = 256 * 1024
#: Most Jinja tags (``{%``, ``{{``, ``{#``) and tokens inside them in a template body, counted
#: before it is compiled: compiling is not bounded by the sandbox's clock, so its size is bounded
#: here instead (a shipped template has under 10 tags and 30 tokens).
MAX_TEMPLATE_TAGS = 2_000
MAX_TEMPLATE_TOKENS = 10_000
#: Largest front matter (YAML is parsed in pure Python: 256 KiB of it takes over a second).
MAX_FRONT_MATTER = 16 * 1024


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str = "string"
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()

    def convert(self, value: Any, template: str) -> Any:
        """Type-check one value (strings from --set are converted)."""
        where = f"parameter {self.name!r} of template {template!r}"
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
                return value.lower() in ("true", "yes", "1", "on")
            raise ParameterError(f"{where} must be true or false, got {value!r}")
        if self.type == "int":
            if isinstance(value, bool):
                raise ParameterError(f"{where} must be an integer, got {value!r}")
            try:
                return int(value)
            except (TypeError, ValueError) as e:
                raise ParameterError(f"{where} must be an integer, got {value!r}") from e
        if self.type == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ParameterError(f"{where} must be a list of strings, got {value!r}")
            return value
        if not isinstance(value, str):
            raise ParameterError(f"{where} must be a string, got {value!r}")
        if self.type == "choice" and value not in self.choices:
            raise ParameterError(f"{where} must be one of {', '.join(self.choices)}, got {value!r}")
        if self.type == "guid":
            check_guid(value, where)
        if self.type == "scope":
            parse_scope(value)
        return value


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    summary: str
    default_name: str
    default_description: str
    params: tuple[ParamSpec, ...]
    body: str
    #: lines of the file before the body (the front matter), so errors name file lines
    line_offset: int = 0

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


def _parse_front_matter(name: str, path: Path, text: str) -> Template:
    from rbactool.readers import loads_yaml

    m = _FRONT_MATTER_RE.match(text)
    if not m:
        raise TemplateError(f"template {name!r} ({path}): missing front matter '{{#--- ... ---#}}' at the top")
    if len(m.group(1)) > MAX_FRONT_MATTER:
        raise TemplateError(f"template {name!r} ({path}): refused: the front matter is {len(m.group(1)):,} "
                            f"characters (at most {MAX_FRONT_MATTER:,})")
    meta = loads_yaml(m.group(1), f"template {name!r} ({path}): front matter", TemplateError) or {}
    if not isinstance(meta, dict):
        raise TemplateError(f"template {name!r} ({path}): front matter must be a mapping")
    unknown = set(meta) - {"summary", "name", "description", "parameters"}
    if unknown:
        raise TemplateError(f"template {name!r} ({path}): unknown front matter key(s): {', '.join(sorted(unknown))}")
    params = []
    declared = meta.get("parameters") or {}
    if not isinstance(declared, dict):
        raise TemplateError(f"template {name!r} ({path}): front matter 'parameters' must be a mapping of name -> spec")
    for pname, spec in declared.items():
        if not isinstance(pname, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", pname):
            raise TemplateError(f"template {name!r}: parameter name {pname!r} must be an identifier")
        if pname in RESERVED:
            raise TemplateError(f"template {name!r}: parameter {pname!r} is reserved")
        if not isinstance(spec, dict):
            raise TemplateError(f"template {name!r}: parameter {pname!r} must be a mapping")
        bad = set(spec) - {"type", "default", "required", "help", "choices"}
        ptype = spec.get("type", "string")
        if bad:
            raise TemplateError(f"template {name!r} ({path}): parameter {pname!r} has unknown key(s) "
                                f"{', '.join(sorted(map(str, bad)))} (known: type, default, required, help, choices)")
        if ptype not in PARAM_TYPES:
            raise TemplateError(f"template {name!r} ({path}): parameter {pname!r} has unknown type {clip(ptype)} "
                                f"(one of {', '.join(PARAM_TYPES)})")
        params.append(
            ParamSpec(
                name=pname,
                type=ptype,
                default=spec.get("default"),
                required=bool(spec.get("required", "default" not in spec)),
                help=str(spec.get("help", "")),
                choices=tuple(spec.get("choices", ())),
            )
        )
    for key in ("name", "description"):
        if not isinstance(meta.get(key), str):
            raise TemplateError(f"template {name!r} ({path}): front matter needs a default {key!r} (a string)")
    return Template(
        name=name,
        path=path,
        summary=str(meta.get("summary", "")),
        default_name=meta["name"],
        default_description=meta["description"],
        params=tuple(params),
        body=text[m.end():],
        line_offset=text[:m.end()].count("\n"),
    )


# --------------------------------------------------------------------------- discovery


def shipped_templates_dir() -> Path:
    """The templates that come with rbactool (the repository's top-level templates/)."""
    return Path(__file__).resolve().parent / "templates"


def template_dirs(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Search path: --templates DIRs, then $RBACTOOL_TEMPLATES (os.pathsep-separated), then shipped."""
    dirs = [Path(d) for d in extra]
    env = os.environ.get(ENV_TEMPLATES)
    if env:
        dirs += [Path(d) for d in env.split(os.pathsep) if d]
    for d in dirs:
        if not d.is_dir():
            raise TemplateError(f"templates directory {d} does not exist")
    return [*dirs, shipped_templates_dir()]


def discover(dirs: Sequence[Path]) -> dict[str, Path]:
    """name -> path; a directory earlier in *dirs* wins."""
    found: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.glob(f"*{TEMPLATE_SUFFIX}")):
            found.setdefault(p.name[: -len(TEMPLATE_SUFFIX)], p)
    return found


@functools.lru_cache(maxsize=64)
def _load_template_file(name: str, path: Path, mtime: float | None) -> Template:
    from rbactool.readers import read_file

    try:
        text = read_file(path, what="template", limit=MAX_TEMPLATE_BYTES, error=TemplateError)
    except TemplateError as e:
        raise TemplateError(f"template {name!r}: {e}") from e
    return _parse_front_matter(name, path, text)


def _mtime(path: Path) -> float | None:
    """The file's modification time (the cache key), or None when it cannot be stat'ed (a dangling
    symlink): the read then fails with one line."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def load_template(name: str, dirs: Sequence[Path]) -> Template:
    found = discover(dirs)
    path = found.get(name)
    if path is None:
        close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(sorted(found)) or "none"
        raise TemplateError(f"unknown template {name!r}{hint}; known templates: {known}")
    logger.info("template %s: %s", name, path)
    return _load_template_file(name, path, _mtime(path))


def list_templates(dirs: Sequence[Path]) -> list[Template]:
    return [_load_template_file(n, p, _mtime(p)) for n, p in sorted(discover(dirs).items())]


@dataclass(frozen=True)
class TemplateEntry:
    """One template found on the search path: the template, or why it cannot be used."""

    name: str
    path: Path
    template: Template | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry as `rbactool templates --format json` lists it."""
        t = self.template
        if t is None:
            return {"name": self.name, "path": str(self.path), "error": self.error}
        return {
            "name": t.name, "path": str(t.path), "summary": t.summary, "name_default": t.default_name,
            "description_default": t.default_description,
            "parameters": [{"name": p.name, "type": p.type, "default": p.default, "required": p.required,
                            "choices": list(p.choices), "help": p.help} for p in t.params],
            "error": None,
        }


def scan_templates(dirs: Sequence[Path]) -> list[TemplateEntry]:
    """Every template on the search path, each loaded and compiled in the sandbox on its own: a
    broken one (front matter, syntax, a refused statement) carries its error, the others list."""
    out = []
    for name, path in sorted(discover(dirs).items()):
        try:
            template = _load_template_file(name, path, _mtime(path))
            compile_template(template)
        except OSError as e:
            out.append(TemplateEntry(name, path, error=f"template {name!r} ({path}): cannot read: {e}"))
        except TemplateError as e:
            out.append(TemplateEntry(name, path, error=str(e)))
        else:
            out.append(TemplateEntry(name, path, template))
    return out


# --------------------------------------------------------------------------- scopes and values


def assignable_scope(
    subscription: str | None = None, resource_group: str | None = None, management_group: str | None = None
) -> str:
    """The resource group when given, else the subscription, else the management group."""
    if management_group and (subscription or resource_group):
        raise ParameterError("give a subscription (and resource group) or a management group, not both")
    if resource_group:
        if not subscription:
            raise ParameterError("resource_group needs a subscription (--subscription or AZURE_SUBSCRIPTION_ID)")
        return resource_group_scope(subscription, resource_group)
    if subscription:
        return subscription_scope(subscription)
    if management_group:
        return management_group_scope(management_group)
    raise ParameterError("missing scope: give --subscription (or AZURE_SUBSCRIPTION_ID) or --management-group")


def parse_set_options(items: Iterable[str]) -> dict[str, str]:
    """``key=value`` strings (from --set) into a dict; the value is taken literally."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--set {item!r}: expected key=value")
        if key in out:
            raise ParameterError(f"--set {key!r} given twice")
        out[key] = value
    return out


def resolve_values(template: Template, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check every value against the template's declared parameters; fill defaults."""
    declared = {p.name for p in template.params} | {"name", "description"}
    unknown = sorted(set(values) - declared)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(declared), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        params = ", ".join(sorted(declared))
        raise ParameterError(f"template {template.name!r} has no parameter {unknown[0]!r}{hint}; parameters: {params}")
    out: dict[str, Any] = {}
    for p in template.params:
        if p.name in values:
            out[p.name] = p.convert(values[p.name], template.name)
        elif p.required:
            raise ParameterError(f"template {template.name!r} needs parameter {p.name!r} (--set {p.name}=...)")
        else:
            out[p.name] = p.convert(p.default, template.name) if p.default is not None else None
    name = values.get("name", template.default_name)
    description = values.get("description", template.default_description)
    for key, val, limit in (("name", name, MAX_NAME), ("description", description, MAX_DESCRIPTION)):
        if not isinstance(val, str):
            raise ParameterError(f"parameter {key!r} must be a string, got {val!r}")
        if key == "name" and not val.strip():
            raise ParameterError("parameter 'name' must not be empty")
        if len(val) > limit:
            raise ParameterError(f"parameter {key!r} is {len(val)} characters; Azure allows at most {limit}")
    out["name"] = name
    out["description"] = description
    return out


# --------------------------------------------------------------------------- rendering


def _json_markup_class():
    from markupsafe import Markup

    class JsonText(Markup):
        """What rbactool's ``tojson`` returns: the only thing ``{{ ... }}`` may print."""

    return JsonText


_JsonText = None


def _tojson(value: Any) -> Any:
    return _JsonText(json.dumps(value, ensure_ascii=False))


def _finalize(value: Any) -> Any:
    if _JsonText is not None and isinstance(value, _JsonText):
        return value
    raise _UnsafeInterpolation(value)


class _UnsafeInterpolation(Exception):
    pass


@functools.lru_cache(maxsize=1)
def _environment():
    """The one Jinja environment every template renders in: rbactool's sandbox (rbactool.sandbox)."""
    import jinja2

    from rbactool.sandbox import environment_class

    global _JsonText
    _JsonText = _json_markup_class()
    env = environment_class()(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["tojson"] = _tojson
    for name in ("safe", "forceescape", "escape", "e"):  # nothing may smuggle raw text past tojson
        env.filters.pop(name, None)
    return env


@functools.lru_cache(maxsize=64)
def _compiled(body: str):
    from rbactool.sandbox import TEMPLATE_FILENAME

    env = _environment()
    code = env.compile(body, filename=TEMPLATE_FILENAME)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _template_error(template: Template, e: Exception) -> TemplateError:
    """One line naming the template, the line (in the template file) and what went wrong."""
    import jinja2

    from rbactool.sandbox import refused_class, refused_statement_class, template_line

    where = f"template {template.name!r} ({template.path})"
    line = template_line(e)
    at = f" line {line + template.line_offset}" if line else ""
    if isinstance(e, _UnsafeInterpolation):
        return TemplateError(
            f"{where}{at}: every {{{{ ... }}}} must end in '| tojson' (a value was interpolated raw: "
            f"{e.args[0]!r:.60})"
        )
    if isinstance(e, (refused_class(), refused_statement_class())):
        message = str(e.message if isinstance(e, jinja2.TemplateSyntaxError) else e)
        return TemplateError(f"{where}{at}: {message if message.startswith('refused') else 'refused: ' + message}")
    if isinstance(e, jinja2.TemplateSyntaxError):
        return TemplateError(f"{where}: syntax error at line {(e.lineno or 0) + template.line_offset}: {e.message}")
    if isinstance(e, jinja2.UndefinedError):
        return TemplateError(f"{where}{at}: {e.message}")
    if isinstance(e, jinja2.TemplateError):
        return TemplateError(f"{where}{at}: {e}")
    if isinstance(e, RecursionError):
        return TemplateError(f"{where}{at}: refused: recursion too deep")
    if isinstance(e, MemoryError):
        return TemplateError(f"{where}{at}: refused: out of memory")
    if isinstance(e, TypeError):
        # tojson of an undefined name (StrictUndefined) or of a value JSON cannot hold
        undefined = "StrictUndefined" in str(e)
        what = "uses an undefined variable inside '| tojson'" if undefined else str(e)
        return TemplateError(f"{where}{at}: {what}")
    return TemplateError(f"{where}{at}: rendering failed: {type(e).__name__}: {e}")


@functools.lru_cache(maxsize=64)
def _code_tokens(body: str) -> int:
    """Tokens inside the tags of *body* (not text, whitespace or comments), counted up to
    MAX_TEMPLATE_TOKENS + 1 (the lexer stops there); a syntax error stops the count (compiling
    reports it)."""
    import jinja2

    n = 0
    try:
        for _, kind, _ in _environment().lex(body):
            if kind not in ("data", "whitespace", "comment_begin", "comment", "comment_end", "raw_begin",
                            "raw_end"):
                n += 1
                if n > MAX_TEMPLATE_TOKENS:
                    break
    except jinja2.TemplateSyntaxError:
        pass
    return n


def _check_compile_size(template: Template) -> None:
    """Refuse a template too large to compile quickly (Jinja's compiler has no time bound)."""
    body = template.body
    where = f"template {template.name!r} ({template.path})"
    if len(body) > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"{where}: refused: the body is {len(body):,} characters "
                            f"(at most {MAX_TEMPLATE_BYTES:,})")
    tags = body.count("{%") + body.count("{{") + body.count("{#")
    if tags > MAX_TEMPLATE_TAGS:
        raise TemplateError(f"{where}: refused: {tags:,} Jinja tags ({{% %}}, {{{{ }}}}, {{# #}}); "
                            f"a template may have at most {MAX_TEMPLATE_TAGS:,}")
    if _code_tokens(body) > MAX_TEMPLATE_TOKENS:
        raise TemplateError(f"{where}: refused: more than {MAX_TEMPLATE_TOKENS:,} tokens inside its Jinja tags "
                            f"(names, operators, literals); a template may have at most {MAX_TEMPLATE_TOKENS:,}")


def compile_template(template: Template):
    """The template's body compiled in the sandbox; a syntax error or refused statement is a TemplateError.
    A body with more than MAX_TEMPLATE_TAGS tags is refused before it is compiled."""
    _check_compile_size(template)
    try:
        return _compiled(template.body)
    except Exception as e:  # noqa: BLE001 - any error compiling template code is the template's fault
        raise _template_error(template, e) from e


@functools.lru_cache(maxsize=1)
def _rendered_schema_validator():
    import jsonschema

    schema = json.loads((Path(__file__).parent / "schemas" / "rendered-role.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def render_text(
    template: Template,
    values: Mapping[str, Any] | None = None,
    *,
    subscription: str | None = None,
    resource_group: str | None = None,
    management_group: str | None = None,
    assignable_scopes: Sequence[str] | None = None,
) -> str:
    """Render a template to JSON text (before canonicalisation), in the sandbox. Parameters are
    checked first."""
    if subscription is not None:
        check_guid(subscription, "subscription")
    if resource_group is not None:
        check_resource_group_name(resource_group)
    if management_group is not None:
        check_management_group_id(management_group)
    if assignable_scopes:
        scopes = [str(parse_scope(s)) for s in assignable_scopes]
    else:
        scopes = [assignable_scope(subscription, resource_group, management_group)]
    context = resolve_values(template, values or {})
    context.update(
        subscription=subscription,
        resource_group=resource_group,
        management_group=management_group,
        assignable_scope=scopes[0],
        assignable_scopes=scopes,
    )
    logger.debug("rendering %s with parameters %s, assignable scopes %s", template.name, sorted(context), scopes)
    from rbactool.sandbox import bounded

    compiled = compile_template(template)
    try:
        with bounded():
            return compiled.render(context)
    except Exception as e:  # noqa: BLE001 - any error raised by template code is the template's fault
        raise _template_error(template, e) from e


def render_role(template: Template, values: Mapping[str, Any] | None = None, *, schema: bool = True,
                **scope: Any) -> RoleDefinition:
    """Render, parse, schema-check and read one role. A broken template is reported as such.

    ``schema=False`` skips the JSON Schema (and the ~70 ms import of jsonschema) for callers that
    run the full validator on the role right after, as ``create`` does; the strict model parse
    still reports a broken template as the template's fault.
    """
    from rbactool.readers import loads_json

    text = render_text(template, values, **scope)
    where = f"template {template.name!r} ({template.path})"
    doc = loads_json(text, f"{where} rendered", TemplateError)
    errors = sorted(_rendered_schema_validator().iter_errors(doc), key=lambda e: list(e.absolute_path)) \
        if schema else []
    if errors:
        err = errors[0]
        pointer = "/" + "/".join(str(p) for p in err.absolute_path)
        raise TemplateError(f"{where} rendered a role that breaks the role schema at {pointer}: {err.message}")
    try:
        role = role_from_dict(doc, source=f"template:{template.name}")
    except RoleFormatError as e:
        raise TemplateError(f"{where} rendered an invalid role: {e}") from e
    return replace(role, source=f"template:{template.name}")
