"""The one role-document reader: what shape a document is, and every role in it.

``read_roles(text, name=..., where=...)`` reads any document rbactool takes roles from, and says
which shape it saw (``Document.shape``, one of ``DOCUMENT_SHAPES``):

=================  ===================================================================
``az``             ``az role definition create`` JSON (one role, or a list of them)
``arm``            the ARM resource (``type``, ``apiVersion``, ``name``, ``properties``), alone or in a list
``az-list``        what ``az role definition list`` prints (or a REST ``value`` page)
``arm-template``   a deployment template: every roleDefinitions resource, nested inline deployments
                   and the language-version-2.0 ``resources`` object included (``rbactool.arm_templates``)
``bicep``          a ``.bicep`` file compiled by ``bicep`` on PATH, then read as a template
``terraform``      ``azurerm_role_definition`` resources of a ``.tf`` file (``rbactool.terraform``)
``terraform-json`` ``terraform show -json`` output (a plan or a state)
=================  ===================================================================

JSON is read by ``rbactool.readers`` with every limit; comments and trailing commas are read too
(``JSON_NOT_STRICT``: ``az`` would reject the file as written). Problems with the document's
structure are ``Problem``s (findings for ``validate``), never a stop: each role is read on its own
(``rbactool.lenient``). What cannot be read at all (invalid JSON or HCL, limits) raises
RoleFormatError.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rbactool.errors import InputError, RoleFormatError
from rbactool.lenient import Problem, read_role, shape_of
from rbactool.model import SHAPE_ARM, SHAPE_TERRAFORM, RoleDefinition

__all__ = [
    "BICEP_TIMEOUT", "DOCUMENT_SHAPES", "ROLE_FILE_SUFFIXES", "Document", "bicep_executable", "compile_bicep",
    "read_roles", "suffix_of",
]

DOCUMENT_SHAPES = ("az", "arm", "az-list", "arm-template", "bicep", "terraform", "terraform-json")
SHAPE_WORDS = {
    "az": "az CLI role JSON", "arm": "ARM roleDefinitions resource", "az-list": "az role definition list output",
    "arm-template": "ARM deployment template", "bicep": "Bicep (compiled by bicep)",
    "terraform": "Terraform azurerm_role_definition", "terraform-json": "terraform show -json output",
}
#: What a directory run reads (``.bicep`` only when ``bicep`` is on PATH; else one finding per file).
ROLE_FILE_SUFFIXES = (".json", ".jsonc", ".tf")
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][\w.\-\[\]\"' ]*\}")
BICEP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Document:
    """What one document holds: its shape, its roles, the problems found reading it, and the JSON
    text positions refer to (comments blanked; None for HCL)."""

    shape: str
    roles: tuple[RoleDefinition, ...]
    problems: tuple[Problem, ...]
    text: str | None = None


def suffix_of(name: str) -> str:
    """The lower-case suffix of a path or of ``REV:path`` (``.tf``, ``.json``; ``""`` for none)."""
    rel = name.rsplit(":", 1)[-1] if ":" in name and not Path(name).exists() else name
    base = rel.replace("\\", "/").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def read_roles(text: str, *, name: str, where: str | None = None,
               scope: Mapping[str, str | None] | None = None, pending: Any = None) -> Document:
    """Every role of one document. *name* (a path, ``REV:path`` or ``-``) picks HCL for ``.tf``;
    *where* names it in errors; *scope* (``subscription``, ``resource_group``,
    ``management_group``) resolves the ARM and Terraform expressions that need it; *pending* is a
    ``.tf`` file's parse started earlier (``terraform.start_parse``)."""
    from rbactool.arm_templates import ExpressionContext

    where = where or name
    ctx = ExpressionContext.from_scope(scope)
    if suffix_of(name) == ".tf":
        from rbactool.terraform import hcl_roles

        return _collect("terraform", hcl_roles(text, where, ctx, pending), SHAPE_TERRAFORM, [], None,
                        source=name, what="azurerm_role_definition resource")
    return read_json_roles(text, name=name, where=where, ctx=ctx,
                           shape="bicep" if suffix_of(name) == ".bicep" else None)


def read_json_roles(text: str, *, name: str, where: str, ctx: Any, shape: str | None = None) -> Document:
    from rbactool.arm_templates import is_template, template_roles
    from rbactool.readers import clip, clip_pointer, duplicate_keys, loads_json_lenient
    from rbactool.terraform import is_terraform_json, plan_roles

    if not text.strip():
        raise RoleFormatError(f"{where}: file is empty, expected a role definition in JSON")
    try:
        doc, notes = loads_json_lenient(text, where, RoleFormatError, duplicates=False)
    except RoleFormatError:
        if suffix_of(name) in (".yaml", ".yml"):  # a roles spec given where a role file goes
            raise RoleFormatError(f"{where}: a YAML file, not a role definition in JSON (a roles spec? "
                                  f"`validate --roles`, `diff --roles`, `render --roles` and `plan` take it)") from None
        raise
    problems: list[Problem] = []
    used = text
    if notes:
        from rbactool.readers import strip_json_extensions

        used = strip_json_extensions(text)[0]
        problems.append(Problem("JSON_NOT_STRICT", "/", f"the file holds {' and '.join(notes)}: rbactool reads it, "
                                "but `az` and ARM reject JSON with comments or trailing commas as written"))
    problems.extend(Problem("DUPLICATE_KEY", clip_pointer(p), f"key {clip(k)} is given twice in one object: JSON "
                            "readers disagree on which one counts (rbactool and the az CLI keep the last); "
                            "remove one", k) for p, k in duplicate_keys(doc))
    if not isinstance(doc, (dict, list)):
        raise RoleFormatError(f"{where}: a role definition must be a JSON object or array, got a "
                              f"{type(doc).__name__.replace('str', 'string')}")
    if "${" in text:
        doc = _placeholders(doc)
    if is_template(doc):
        items = [(t.pointer, t.resource) for t in template_roles(doc, ctx)]
        return _collect(shape or "arm-template", items, SHAPE_ARM, problems, used, source=name,
                        what="Microsoft.Authorization/roleDefinitions resource")
    if is_terraform_json(doc):
        return _collect("terraform-json", plan_roles(doc), SHAPE_TERRAFORM, problems, used, source=name,
                        what="azurerm_role_definition resource")
    if isinstance(doc, list):
        items = [(f"/{i}", item) for i, item in enumerate(doc)]
    elif isinstance(doc.get("value"), list) and set(doc) <= {"value", "nextLink"}:
        items = [(f"/value/{i}", item) for i, item in enumerate(doc["value"])]
    else:
        items = [("", doc)]
    items = [(p, _resolved(item, ctx)) for p, item in items]
    shapes = {shape_of(item) for _, item in items if isinstance(item, dict)}
    if isinstance(doc, dict) and len(items) == 1 and not items[0][0]:
        found = shape_of(doc)
    elif isinstance(doc, list) and len(shapes) == 1 and shapes <= {"az", SHAPE_ARM}:
        found = shapes.pop()
    else:
        found = "az-list"
    out = _collect(found, items, None, problems, used, source=name, what="role")
    if not items:
        out = Document(found, (), (*problems, Problem("EMPTY_DOCUMENT", "/", "the file holds an empty list: no role "
                                                      "to validate")), used)
    return out


def _placeholders(value: Any) -> Any:
    """*value* with every string holding a ``${...}`` placeholder (a JSON file rendered by Terraform's
    ``templatefile``, envsubst, the ALZ library...) as an Unresolved value: filled in by whatever
    renders the file, so it is an unresolved expression, not a malformed value."""
    from rbactool.arm_templates import Unresolved

    if isinstance(value, str):
        return Unresolved(value, "a ${...} placeholder, filled in by whatever renders this file") \
            if _PLACEHOLDER.search(value) else value
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _resolved(item: Any, ctx: Any) -> Any:
    """A lone ARM resource as a template holds it (``apiVersion``): its expressions resolved."""
    if isinstance(item, dict) and "apiVersion" in item and "properties" in item:
        return {k: (v if k in ("type", "apiVersion") else ctx.resolve(v)) for k, v in item.items()}
    return item


def _collect(shape: str, items: list[tuple[str, Any]], role_shape: str | None, problems: list[Problem],
             text: str | None, *, source: str, what: str) -> Document:
    roles = []
    problems = list(problems)
    for pointer, item in items:
        role, found = read_role(item, source=source, prefix=pointer, shape=role_shape)
        problems.extend(found)
        if role is not None:
            roles.append(role)
    if not items and shape != "az-list":
        problems.append(Problem("NO_ROLE_DEFINITIONS", "/", f"the {SHAPE_WORDS[shape]} holds no {what}"))
    return Document(shape, tuple(roles), tuple(problems), text)


# --------------------------------------------------------------------------- Bicep


#: What makes `bicep build` read another file or a registry: load*() functions (loadTextContent,
#: loadFileAsBase64, loadJsonContent, ... also as sys.load...), modules, compile-time imports,
#: extensions. Case-insensitive and anywhere (a comment or string too): refusing errs on the safe side.
_BICEP_OUTSIDE = re.compile(r"\bload\w*\s*\(|^\s*(?:module|import|extension|provider|using|extends)\b",
                            re.IGNORECASE | re.MULTILINE)


def bicep_executable() -> str | None:
    return shutil.which("bicep")


def bicep_hint(path: str) -> str:
    return (f"{path}: a Bicep file; compile it to ARM JSON first (`az bicep build --file {path}` or "
            f"`bicep build {path}`) and pass the .json, or put `bicep` on PATH")


def compile_bicep(path: str) -> str:
    """The ARM JSON `bicep build` writes for *path* (bounded: a time limit, the readers' size
    limit; no shell). InputError with how to compile it when no `bicep` is on PATH."""
    from rbactool.readers import read_file, shorten

    exe = bicep_executable()
    if exe is None:
        raise InputError(bicep_hint(path))
    found = _BICEP_OUTSIDE.search(read_file(path, what="Bicep file", error=RoleFormatError))
    if found:  # `bicep build` would embed another file (or fetch a module) into the template rbactool reads
        raise RoleFormatError(f"{path}: the Bicep file reads other files or registries ({shorten(found.group(), 40)}): "
                              "not compiled; compile it yourself and pass the .json")
    with tempfile.TemporaryDirectory(prefix="rbactool-bicep-") as tmp:
        out = Path(tmp) / "main.json"
        try:
            proc = subprocess.run([exe, "build", str(path), "--outfile", str(out)], capture_output=True,
                                  timeout=BICEP_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RoleFormatError(f"{path}: bicep build took longer than {BICEP_TIMEOUT:g} s") from None
        except OSError as e:
            raise RoleFormatError(f"{path}: cannot run bicep: {e.strerror or e}") from e
        if proc.returncode != 0 or not out.is_file():
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RoleFormatError(f"{path}: bicep build failed: {shorten(message[0] if message else '', 240)}")
        return read_file(out, what="compiled Bicep", error=RoleFormatError)


#: Problems that make ``strict_roles`` refuse a document (diff, explain, convert): the role as
#: read would not be the role as written. ``create`` refuses every problem (``refuse=None``).
REFUSED = frozenset({"SCHEMA_VIOLATION", "ROLE_UNREADABLE", "DUPLICATE_KEY"})


def strict_roles(text: str, *, name: str, where: str | None = None,
                 scope: Mapping[str, str | None] | None = None,
                 refuse: frozenset[str] | None = REFUSED) -> Document:
    """``read_roles``, refusing (RoleFormatError, one line) a document with a problem in *refuse*
    (None: any problem but NO_ROLE_DEFINITIONS)."""
    where = where or name
    return refuse_problems(read_roles(text, name=name, where=where, scope=scope), where, refuse)


def refuse_problems(doc: Document, where: str, refuse: frozenset[str] | None = REFUSED) -> Document:
    """*doc*, or RoleFormatError for its first problem in *refuse* (None: any but NO_ROLE_DEFINITIONS;
    an unresolved resource ``name``, the GUID a template computes at deployment, is never refused)."""
    from rbactool.readers import clip, clip_pointer

    for p in doc.problems:
        if p.code == "UNRESOLVED_EXPRESSION" and p.pointer.endswith("/name") and doc.shape not in ("terraform",):
            continue
        if (refuse is None and p.code != "NO_ROLE_DEFINITIONS") or (refuse is not None and p.code in refuse):
            if p.code == "DUPLICATE_KEY":
                raise RoleFormatError(f"{where}: duplicate key {clip(p.value)} at {clip_pointer(p.pointer)}")
            at = "" if p.pointer == "/" else f" {clip_pointer(p.pointer)}:"
            message = p.message.split("; the rest of the role is checked")[0]
            raise RoleFormatError(f"{where}:{at} {message}")
    return doc


#: Document shapes ``convert`` rewrites in place (the others it extracts roles from).
ROLE_FILE_SHAPES = frozenset({"az", "arm", "az-list"})


def canonical_text(text: str, source: str, shape: str | None = None, *, extract: bool = True,
                   scope: Mapping[str, str | None] | None = None) -> str:
    """The canonical form of a role document (``rbactool convert``): fixed key order, 2-space
    indent, permission strings de-duplicated; *shape* None keeps the document's own shape. The
    roles of a template, a ``.bicep`` or a Terraform file come out as a list (ARM resources by
    default; az for Terraform); with ``extract=False`` (``--check``, ``--in-place``) such a document
    is refused, since it is not a role file to rewrite. JSON with comments or trailing commas comes
    out as strict JSON (the comments are dropped)."""
    from rbactool.model import dumps_json, dumps_role, to_dict

    doc = read_roles(text, name=source, where=source, scope=scope)
    if doc.shape not in ROLE_FILE_SHAPES and not extract:
        raise InputError(f"{source}: {SHAPE_WORDS[doc.shape]}, not a role file: convert extracts its roles "
                         "(to stdout or -o), it does not rewrite it")
    # convert writes strict JSON: comments and trailing commas are what it removes, not a refusal
    refuse_problems(replace(doc, problems=tuple(p for p in doc.problems if p.code != "JSON_NOT_STRICT")),
                    source, refuse=None)
    roles = doc.roles
    if not roles:
        raise RoleFormatError(f"{source}: the file holds no role definition to convert")
    if doc.shape not in ROLE_FILE_SHAPES:
        target = shape or ("az" if doc.shape.startswith("terraform") else "arm")
        return dumps_json([to_dict(r, target) for r in roles])
    target = shape or roles[0].shape
    if text.lstrip().startswith("[") or len(roles) != 1:
        return dumps_json([to_dict(r, target) for r in roles])
    return dumps_role(roles[0], target)
