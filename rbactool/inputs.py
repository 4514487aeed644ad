"""What does this argument name? One answer for every command that takes roles.

A command argument can name, tried in this order:

=============  =====================================================================
``-``          standard input (read by ``rbactool.readers.read_stream``, the one stdin reader)
a file         a role document of any shape ``rbactool.documents`` reads (az CLI, ARM resource,
               ``az role definition list``, ARM template, ``.bicep`` with ``bicep`` on PATH,
               Terraform ``.tf``, ``terraform show -json``)
a directory    every ``*.json``, ``*.jsonc``, ``*.tf`` (and ``*.bicep``) under it, recursively, sorted
``REV:path``   a file at a git revision (``origin/main:roles/scoring.json``, ``rbactool.gitio``)
a template     a template name, rendered with the ``--set`` values and the scope options
a built-in     a built-in role name or GUID (the offline snapshot of Azure's built-in roles)
a pattern      a permission string such as ``Microsoft.Storage/*/read`` (for ``explain``)
=============  =====================================================================

Each command says which *kinds* it accepts (``validate`` files, directories and stdin; ``diff``
all but patterns; ``explain`` files, stdin, templates, built-ins and patterns; ``create``
files and templates). An argument that looks like a path (``x.json``, ``./x``, ``/x``, ``~/x``)
and is not one is ``no such file``; anything else that matches nothing is one error naming
what was tried, with the closest built-in role or template.

Library API (no printing)::

    from rbactool.inputs import DIFF_KINDS, RenderOptions, resolve

    resolve("roles/scoring.json", DIFF_KINDS).roles
    resolve("online-endpoint-scoring", DIFF_KINDS, RenderOptions(scope={"subscription": sub})).roles
    resolve("Reader", DIFF_KINDS).kind            # 'builtin'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rbactool.errors import InputError, RoleFormatError
from rbactool.model import RoleDefinition

__all__ = [
    "BUILTIN", "CREATE_KINDS", "DIFF_KINDS", "DIRECTORY", "EXPLAIN_KINDS", "FILE", "KINDS", "PATTERN",
    "PLACEHOLDER_SUBSCRIPTION", "REVISION", "STDIN", "TEMPLATE", "VALIDATE_KINDS", "Document", "RenderOptions",
    "Resolved", "classify", "document_entries", "document_names", "read_document", "read_documents", "resolve",
    "role_reference",
]

STDIN = "stdin"
FILE = "file"
DIRECTORY = "directory"
REVISION = "revision"
TEMPLATE = "template"
BUILTIN = "builtin"
PATTERN = "pattern"

#: In the order they are tried.
KINDS = (STDIN, FILE, DIRECTORY, REVISION, TEMPLATE, BUILTIN, PATTERN)

VALIDATE_KINDS = frozenset({STDIN, FILE, DIRECTORY})
DIFF_KINDS = frozenset({STDIN, FILE, DIRECTORY, REVISION, TEMPLATE, BUILTIN})
EXPLAIN_KINDS = frozenset({STDIN, FILE, TEMPLATE, BUILTIN, PATTERN})
CREATE_KINDS = frozenset({FILE, TEMPLATE})

#: The subscription a template is rendered at when the command is given no scope (its roles are
#: only looked at, never created).
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

_WORDS = {
    STDIN: "'-'", FILE: "a file", DIRECTORY: "a directory", REVISION: "REV:path",
    TEMPLATE: "a template (see `rbactool templates`)", BUILTIN: "a built-in role", PATTERN: "a permission string",
}
_PATH_SUFFIXES = (".json", ".jsonc", ".yaml", ".yml", ".tf", ".bicep")
_PATH_PREFIXES = ("./", "../", "/", "~")


@dataclass(frozen=True)
class Document:
    """One role document as read: the argument as given (``-`` for stdin), how errors name it
    (the path, or ``<stdin>``), and its text."""

    name: str
    where: str
    text: str


@dataclass(frozen=True)
class RenderOptions:
    """How a template argument is rendered: values (and ``--set`` KEY=VALUE strings, parsed only
    when a template is rendered), scope options, template dirs.

    With ``placeholder`` (the default) a template given no scope is rendered at
    ``PLACEHOLDER_SUBSCRIPTION``; ``schema=False`` skips the rendered-role JSON Schema for callers
    that validate the role right after (``create``).
    """

    values: Mapping[str, str] = field(default_factory=dict)
    set_values: Sequence[str] = ()
    scope: Mapping[str, str | None] = field(default_factory=dict)
    template_dirs: Sequence[str | os.PathLike] = ()
    placeholder: bool = True
    schema: bool = True


@dataclass(frozen=True)
class Resolved:
    """What an argument named: its kind, and the roles it holds (or, for a pattern, the pattern)."""

    kind: str
    argument: str
    roles: tuple[RoleDefinition, ...] = ()
    pattern: str | None = None
    #: The document shape read (``documents.DOCUMENT_SHAPES``) for files, stdin and revisions.
    shape: str | None = None

    def single(self) -> RoleDefinition:
        """The one role the argument names; a document holding several is refused."""
        if len(self.roles) != 1:
            raise RoleFormatError(f"{self.argument}: expected one role definition, found {len(self.roles)}")
        return self.roles[0]


# --------------------------------------------------------------------------- documents


def read_document(name: str, *, what: str = "role file") -> Document:
    """``-`` (standard input) or a file, read once with the readers' size limit; a ``.bicep`` file
    is compiled by ``bicep`` on PATH (``documents.compile_bicep``; without it, InputError)."""
    from rbactool.readers import read_file, read_stream

    if name == "-":
        return Document(name, "<stdin>", read_stream(what="standard input", error=RoleFormatError))
    if name.lower().endswith(".bicep"):
        from rbactool.documents import compile_bicep

        return Document(name, name, compile_bicep(name))
    return Document(name, name, read_file(name, what=what, error=RoleFormatError))


def _directory_files(path: Path, given: str) -> list[str]:
    from rbactool.documents import ROLE_FILE_SUFFIXES
    from rbactool.readers import files_under

    found = [str(f) for f in files_under(path, (*ROLE_FILE_SUFFIXES, ".bicep"))]
    if not found:
        raise InputError(f"{given}: directory contains no role files (*.json, *.jsonc, *.tf, *.bicep)")
    return found


def document_entries(arguments: Sequence[str]) -> list[tuple[str, bool]]:
    """(name, found in a directory) for every document the arguments name: files as given,
    directories searched recursively (``*.json``, ``*.jsonc``, ``*.tf``, ``*.bicep``; sorted), ``-``."""
    out: list[tuple[str, bool]] = []
    for item in arguments:
        if item != "-" and Path(item).is_dir():
            out.extend((f, True) for f in _directory_files(Path(item), item))
        else:
            out.append((item, False))
    return out


def document_names(arguments: Sequence[str]) -> list[str]:
    """Files as given; directories searched recursively (``document_entries``); ``-`` for stdin."""
    return [name for name, _ in document_entries(arguments)]


def read_documents(arguments: Sequence[str]) -> list[Document]:
    """Every document the arguments name (``document_names``), each read once."""
    return [read_document(name) for name in document_names(arguments)]


# --------------------------------------------------------------------------- one argument


def _looks_like_path(argument: str, kinds: frozenset[str]) -> bool:
    if argument.lower().endswith(_PATH_SUFFIXES) or argument.startswith(_PATH_PREFIXES):
        return True
    # A template name never holds a slash; a built-in role name or a permission string can.
    return not kinds & {BUILTIN, PATTERN} and ("/" in argument or os.sep in argument)


def classify(argument: str, kinds: frozenset[str] = DIFF_KINDS, *,
             template_dirs: Sequence[str | os.PathLike] = ()) -> str | None:
    """The kind of thing *argument* names, among *kinds*, without reading it; None when nothing
    matches (a path that does not exist, an unknown name)."""
    if argument == "-":
        return STDIN if STDIN in kinds else None
    path = Path(argument)
    if FILE in kinds and (path.is_file() or (path.exists() and not path.is_dir())):
        return FILE  # a FIFO or device too: the reader refuses it in one line (never waits on it)
    if DIRECTORY in kinds and path.is_dir():
        return DIRECTORY
    if REVISION in kinds:
        from rbactool.gitio import split_rev_path

        if split_rev_path(argument) is not None:
            return REVISION
    if FILE in kinds and _looks_like_path(argument, kinds):
        return None
    if TEMPLATE in kinds:
        from rbactool.render import discover
        from rbactool.render import template_dirs as search_path

        if argument in discover(search_path(template_dirs)):
            return TEMPLATE
    if BUILTIN in kinds:
        from rbactool.builtins import load_builtin_roles

        if load_builtin_roles().resolve(argument) is not None:
            return BUILTIN
    if PATTERN in kinds and ("/" in argument or argument.strip() == "*"):
        return PATTERN
    return None


def resolve(argument: str, kinds: frozenset[str] = DIFF_KINDS, options: RenderOptions | None = None) -> Resolved:
    """Read the roles *argument* names (see the module docstring for the order). Raises
    InputError (exit 3) when it names nothing of *kinds*."""
    options = options or RenderOptions()
    kind = classify(argument, kinds, template_dirs=options.template_dirs)
    if kind is None:
        raise _unresolved(argument, kinds, options)
    roles, pattern, shape = _read(kind, argument, options)
    return Resolved(kind, argument, roles, pattern, shape)


def _read(kind: str, argument: str,
          options: RenderOptions) -> tuple[tuple[RoleDefinition, ...], str | None, str | None]:
    from rbactool.documents import REFUSED, strict_roles

    refuse = REFUSED if options.placeholder else None  # create (no placeholder) refuses every problem
    scope = dict(options.scope)

    def roles_of(text: str, name: str, where: str) -> tuple[tuple[RoleDefinition, ...], str]:
        doc = strict_roles(text, name=name, where=where, scope=scope, refuse=refuse)
        return doc.roles, doc.shape

    if kind in (STDIN, FILE):
        doc = read_document(argument)
        return _pair(roles_of(doc.text, doc.where, doc.where))
    if kind == DIRECTORY:
        files = _directory_files(Path(argument), argument)
        roles: list[RoleDefinition] = []
        for f in files:
            doc = read_document(f)
            roles.extend(roles_of(doc.text, doc.name, doc.where)[0])
        return tuple(roles), None, "directory"
    if kind == REVISION:
        from rbactool import gitio

        rev, rel = gitio.split_rev_path(argument)  # type: ignore[misc]
        if rel.lower().endswith(".bicep"):
            from rbactool.documents import bicep_hint

            raise InputError(bicep_hint(argument))
        return _pair(roles_of(gitio.read_at_revision(rev, rel), argument, argument))
    if kind == TEMPLATE:
        return (_render_template(argument, options),), None, None
    if kind == BUILTIN:
        from rbactool.builtins import load_builtin_roles

        return (load_builtin_roles().resolve(argument),), None, None  # type: ignore[return-value]
    return (), argument.strip(), None


def _pair(found: tuple[tuple[RoleDefinition, ...], str]) -> tuple[tuple[RoleDefinition, ...], None, str]:
    return found[0], None, found[1]


def _render_template(name: str, options: RenderOptions) -> RoleDefinition:
    from rbactool import render as rendering

    template = rendering.load_template(name, rendering.template_dirs(options.template_dirs))
    scope = dict(options.scope)
    if options.placeholder and not any(scope.values()):
        scope = {"subscription": PLACEHOLDER_SUBSCRIPTION}
    values = {**options.values, **rendering.parse_set_options(options.set_values)}
    return rendering.render_role(template, values, schema=options.schema, **scope)


def _unresolved(argument: str, kinds: frozenset[str], options: RenderOptions) -> InputError:
    if FILE in kinds and _looks_like_path(argument, kinds):
        return InputError(f"{argument}: no such file")
    close: list[str] = []
    if BUILTIN in kinds:
        from rbactool.builtins import load_builtin_roles

        close = load_builtin_roles().closest_names(argument)
    if not close and TEMPLATE in kinds:
        import difflib

        from rbactool import render as rendering

        names = list(rendering.discover(rendering.template_dirs(options.template_dirs)))
        close = difflib.get_close_matches(argument, names, n=1, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    words = [_WORDS[k] for k in KINDS if k in kinds]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    return InputError(f"{argument!r} is not {listed}{hint}")


def role_reference(argument: str, scope: str, *,
                   template_dirs: Sequence[str | os.PathLike] = ()) -> str | RoleDefinition:
    """``assign --role``: a role file or a template name (rendered at *scope*'s subscription and
    resource group) as the role it holds; anything else (a built-in or custom role's name, GUID
    or id) as given, for Azure to answer."""
    from rbactool.scopes import parse_scope

    kind = classify(argument, CREATE_KINDS, template_dirs=template_dirs)
    if kind is None:
        return argument
    s = parse_scope(scope)
    if kind == TEMPLATE and s.subscription is None:
        raise InputError(f"--role {argument}: rendering a template needs a subscription scope")
    options = RenderOptions(scope={"subscription": s.subscription, "resource_group": s.resource_group},
                            template_dirs=template_dirs, placeholder=False, schema=False)
    return resolve(argument, CREATE_KINDS, options).single()
