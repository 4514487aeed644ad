"""The validator: run every check on roles, apply the config, and build a Report.

Library API (no I/O, no printing)::

    from rbactool.catalog import load_catalog
    from rbactool.validate import validate

    report = validate(role, load_catalog())          # Report; report.failed() -> bool

Effective permissions are ``rbactool.effective.effective_operations``; risk classes are
``rbactool.risk.risk_classes``.

``validate_roles`` / ``validate_text`` handle many roles and whole documents (schema findings,
catalog age). ``gate`` is the one decision every command makes before it trusts roles:
``validate``, ``create``, ``plan`` and ``apply`` all go through it, with the same ``.rbactool.yaml``
(suppressions, severity overrides, ``fail_on``).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rbactool.checks import CheckContext, all_checks
from rbactool.config import Config, Ignore
from rbactool.errors import ValidationRefused
from rbactool.findings import TYPES, WARNING, Finding, at_or_above, make_finding, sort_findings
from rbactool.model import RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog

logger = logging.getLogger(__name__)

__all__ = [
    "CheckContext", "InputFile", "Report", "Suppressed", "ValidationRefused", "apply_config", "gate", "role_findings",
    "RoleDocuments", "read_role_documents", "run_checks", "validate", "validate_roles", "validate_text",
]


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str
    by: str  # where the ignore entry comes from ("path: ignore[2]" or "--ignore")


USE_FAIL_ON = "fail_on"


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    roles_checked: int = 0
    files: tuple[str, ...] = ()
    fail_on: str | None = "ERROR"
    catalog_snapshot: str | None = None
    #: What each input was read as (``InputFile``); empty for reports not built from files.
    inputs: tuple = ()

    @property
    def unreadable(self) -> tuple:
        """The inputs that could not be read (FILE_UNREADABLE): the run exits 3."""
        return tuple(i for i in self.inputs if i.shape is None)

    def failed(self, threshold: str | None = USE_FAIL_ON) -> bool:
        """True when a (non-suppressed) finding is at or above *threshold*: a finding type, None for
        never, or by default the report's ``fail_on`` (from the config or ``--fail-on``)."""
        t = self.fail_on if threshold == USE_FAIL_ON else threshold
        return any(at_or_above(f.type, t) for f in self.findings)

    def blocking(self) -> tuple[Finding, ...]:
        """The findings at or above the report's threshold: what makes ``failed()`` true."""
        return tuple(f for f in self.findings if at_or_above(f.type, self.fail_on))

    def notable(self) -> tuple[Finding, ...]:
        """The findings below the threshold that are ERROR, SECURITY_WARNING or WARNING (the gate shows
        them: a WARNING such as an operation the catalog does not know, with its did-you-mean, is often
        what ARM then rejects)."""
        return tuple(f for f in self.findings
                     if not at_or_above(f.type, self.fail_on) and at_or_above(f.type, WARNING))

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def counts(self) -> dict[str, int]:
        return {t: sum(1 for f in self.findings if f.type == t) for t in TYPES}

    def merged(self, other: Report) -> Report:
        return Report(
            findings=sort_findings((*self.findings, *other.findings)),
            suppressed=tuple(sorted((*self.suppressed, *other.suppressed), key=lambda s: s.finding.sort_key())),
            roles_checked=self.roles_checked + other.roles_checked,
            files=tuple(dict.fromkeys((*self.files, *other.files))),
            fail_on=self.fail_on,
            catalog_snapshot=self.catalog_snapshot or other.catalog_snapshot,
            inputs=(*self.inputs, *other.inputs),
        )


def run_checks(ctx: CheckContext) -> list[Finding]:
    """Every check on one context (raw findings, no config). A crashing check becomes INTERNAL_ERROR.

    Build the context with ``CheckContext(role, catalog)``; ``ctx.effective`` is then the role's
    ``EffectivePermissions``, computed once and shared with the checks.
    """
    out: list[Finding] = []
    for name, check in all_checks():
        try:
            out.extend(check(ctx))
        except Exception as e:  # a crashing check must not crash the run
            logger.debug("check %s crashed", name, exc_info=True)
            out.append(ctx.finding(
                "INTERNAL_ERROR",
                f"check {name} crashed ({type(e).__name__}: {e}); the other checks still ran",
                pointer=ctx.role.pointer_prefix or None,
            ))
    return out


def apply_config(
    findings: Iterable[Finding], config: Config, extra_ignores: Sequence[Ignore] = ()
) -> tuple[tuple[Finding, ...], tuple[Suppressed, ...]]:
    """Severity overrides, then suppressions. Returns (active, suppressed), both sorted."""
    active: list[Finding] = []
    suppressed: list[Suppressed] = []
    for f in findings:
        if f.code in config.severity:
            f = replace(f, type=config.severity[f.code])
        ign = config.suppression(f) or next((i for i in extra_ignores if i.matches(f)), None)
        if ign is None:
            active.append(f)
        else:
            suppressed.append(Suppressed(f, ign.reason, ign.origin))
    suppressed.sort(key=lambda s: s.finding.sort_key())
    return sort_findings(active), tuple(suppressed)


#: Findings about a missing value, not made for a field whose value is an unresolved expression.
_MISSING_CODES = {"name": "MISSING_NAME", "permissions": "NO_PERMISSIONS",
                  "assignable_scopes": "MISSING_ASSIGNABLE_SCOPES"}


def role_findings(role: RoleDefinition, catalog: Catalog, *, file: str | None = None) -> list[Finding]:
    """Raw findings of every check on one role (no config applied)."""
    found = run_checks(CheckContext(role, catalog, file=file))
    if role.unresolved:
        skip = {_MISSING_CODES[f] for f in role.unresolved if f in _MISSING_CODES}
        found = [f for f in found if f.code not in skip]
    if role.index_map:
        found = [f.with_location(pointer=role.document_pointer(f.location.pointer)) for f in found]
    return found


def validate(role: RoleDefinition, catalog: Catalog, config: Config | None = None) -> Report:
    """Validate one role. Findings that concern the run (catalog age) come from ``validate_roles``."""
    config = config or Config()
    active, suppressed = apply_config(role_findings(role, catalog), config)
    files = (role.source,) if role.source else ()
    return Report(active, suppressed, 1, files, config.fail_on, catalog.snapshot_date)


def catalog_age_findings(catalog: Catalog, config: Config, today: _dt.date | None = None) -> list[Finding]:
    today = today or _dt.date.today()
    try:
        snap = _dt.date.fromisoformat(catalog.snapshot_date)
    except (TypeError, ValueError):
        return []
    age = (today - snap).days
    if age <= config.catalog_max_age_days:
        return []
    return [make_finding(
        "CATALOG_OUTDATED",
        f"the operations catalog ({catalog.origin}) is from {catalog.snapshot_date}, {age} days old "
        f"(limit {config.catalog_max_age_days}); refresh it or raise catalog_max_age_days",
        value=catalog.snapshot_date,
    )]


def validate_roles(
    roles: Iterable[RoleDefinition],
    catalog: Catalog,
    config: Config | None = None,
    *,
    extra_findings: Iterable[Finding] = (),
    extra_ignores: Sequence[Ignore] = (),
    files: Sequence[str] = (),
    today: _dt.date | None = None,
    inputs: Sequence = (),
) -> Report:
    """Validate many roles in one report, plus the run-level catalog-age check. *inputs*
    (``RoleDocuments.inputs``) says what each file was read as."""
    from rbactool.builtins import pinned

    config = config or Config()
    raw: list[Finding] = list(extra_findings)
    n = 0
    with pinned():  # the built-in roles are looked up once for the run, not once per role
        for role in roles:
            n += 1
            raw.extend(role_findings(role, catalog))
    raw.extend(catalog_age_findings(catalog, config, today))
    active, suppressed = apply_config(raw, config, extra_ignores)
    return Report(active, suppressed, n, tuple(files), config.fail_on, catalog.snapshot_date, tuple(inputs))


def gate(
    roles: Iterable[RoleDefinition],
    catalog: Catalog,
    config: Config | None = None,
    *,
    fail_on: str | None = USE_FAIL_ON,
    extra_findings: Iterable[Finding] = (),
    extra_ignores: Sequence[Ignore] = (),
    files: Sequence[str] = (),
    refuse: bool = False,
    what: str = "the roles",
    bypass: str = "--fail-on none",
    today: _dt.date | None = None,
    inputs: Sequence = (),
) -> Report:
    """The validation gate: every check on every role (once), the config's severity overrides and
    suppressions, and the threshold (*fail_on*: a finding type, None for never, or by default the
    config's ``fail_on``). ``report.failed()`` is the verdict; with ``refuse=True`` a failed report
    raises ``ValidationRefused`` (carrying the report) instead of being returned.
    """
    config = config or Config()
    if fail_on != USE_FAIL_ON:
        config = replace(config, fail_on=fail_on)
    report = validate_roles(roles, catalog, config, extra_findings=extra_findings, extra_ignores=extra_ignores,
                            files=files, today=today, inputs=inputs)
    if refuse and report.failed():
        raise ValidationRefused(report, what, bypass)
    return report


def validate_text(text: str, source: str, *, where: str | None = None,
                  scope: Mapping[str, str | None] | None = None) -> tuple[list[RoleDefinition], list[Finding]]:
    """Parse a document into roles; structure problems become findings, not exceptions.

    The document is read once, by the one reader (``rbactool.documents``: any shape it knows, JSON
    through ``rbactool.readers`` with its limits). Invalid JSON or HCL, an empty file or input beyond
    the limits raises RoleFormatError, which is invalid input (exit 3). Everything else is a finding
    and never a stop: each role, and each field of it, is read on its own (``rbactool.lenient``), so
    one broken field or item does not hide the others. *where* names the input in error messages
    (default: *source*, which names it in findings); *scope* resolves template expressions.
    """
    doc = read_document_roles(text, source, where=where, scope=scope)
    return list(doc.roles), document_findings(doc, source)


def read_document_roles(text: str, source: str, *, where: str | None = None,
                        scope: Mapping[str, str | None] | None = None, pending=None):
    """``rbactool.documents.read_roles`` (the Document: shape, roles, problems)."""
    from rbactool.documents import read_roles

    return read_roles(text, name=source, where=where or source, scope=scope, pending=pending)


#: .tf files whose parse starts before the others are read (each a child process; 2 cores).
PREFETCH_TF = 4


def _prefetch(entries: Sequence[tuple[str, bool]]) -> dict:
    """name -> (document, pending parse) for the first .tf files: they parse while the rest is read."""
    from rbactool.documents import suffix_of
    from rbactool.errors import InputError
    from rbactool.inputs import read_document
    from rbactool.terraform import start_parse

    out = {}
    for name, _ in entries:
        if len(out) >= PREFETCH_TF:
            break
        if name != "-" and suffix_of(name) == ".tf":
            try:
                doc = read_document(name)
            except InputError:
                continue  # read again, and reported, in order
            out[name] = (doc, start_parse(doc.text, doc.where))
    return out


def document_findings(doc, source: str) -> list[Finding]:
    """The Problems of a ``documents.Document`` as findings, each naming the role it is in."""
    prefixes = sorted(((r.pointer_prefix, r.name) for r in doc.roles), key=lambda x: -len(x[0]))
    out = []
    for p in doc.problems:
        role = next((name for prefix, name in prefixes if prefix and (p.pointer == prefix or
                     p.pointer.startswith(prefix + "/"))), None)
        if role is None and len(doc.roles) == 1 and not doc.roles[0].pointer_prefix and p.pointer != "/":
            role = doc.roles[0].name
        out.append(make_finding(p.code, p.message, file=source, role=role, pointer=p.pointer, value=p.value))
    return out


def schema_findings(item: object, *, source: str, prefix: str = "") -> list[Finding]:
    """SCHEMA_VIOLATION findings for one role object (see ``rbactool/schemas/role.schema.json``)."""
    from rbactool.checks.schema import schema_errors

    out = []
    for pointer, message, value in schema_errors(item):
        role = None
        if isinstance(item, dict):
            props = item.get("properties")
            name = item.get("roleName") or (props.get("roleName") if isinstance(props, dict) else None)
            name = name or next((v for k, v in item.items() if k.lower() in ("name", "rolename")), None)
            role = name if isinstance(name, str) else None
        out.append(make_finding("SCHEMA_VIOLATION", message, file=source, role=role,
                                pointer=(prefix + pointer) or "/", value=value))
    return out


@dataclass(frozen=True)
class InputFile:
    """One input of a validation run: its name, the shape it was read as (``documents.DOCUMENT_SHAPES``;
    None when it could not be read), how many roles it holds, and why it could not be read."""

    file: str
    shape: str | None
    roles: int = 0
    error: str | None = None
    #: (role name, JSON pointer of the role in the document) for each role read.
    pointers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RoleDocuments:
    """What ``rbactool validate`` reads before the gate: the roles, the findings about the
    documents' structure, each JSON document's text (for SARIF regions), every input's name, and
    what each input was read as (``inputs``; ``unreadable`` names those that could not be read)."""

    roles: tuple[RoleDefinition, ...]
    findings: tuple[Finding, ...]
    texts: dict[str, str]
    files: tuple[str, ...]
    inputs: tuple[InputFile, ...] = ()

    @property
    def unreadable(self) -> tuple[InputFile, ...]:
        return tuple(i for i in self.inputs if i.shape is None)


def read_role_documents(names: Sequence[str], specs: Sequence[str | os.PathLike] = (), *,
                        scope: Mapping[str, str | None] | None = None) -> RoleDocuments:
    """Read each document -- a file, a directory (``inputs.document_entries``: ``*.json``, ``*.jsonc``,
    ``*.tf``, and ``*.bicep`` when ``bicep`` is on PATH) or ``-`` -- with ``validate_text``
    (structure problems become findings), then render each roles spec; a spec's roles are named
    after the spec. A file that cannot be read is a FILE_UNREADABLE finding and every other file is
    still read; only a run of exactly one named file raises (one line, exit 3) instead."""
    from rbactool.documents import bicep_executable, bicep_hint, suffix_of
    from rbactool.errors import InputError
    from rbactool.inputs import document_entries, read_document

    roles: list[RoleDefinition] = []
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    inputs: list[InputFile] = []
    entries = document_entries(names)
    single = len(entries) == 1 and not entries[0][1] and not specs
    prefetched = _prefetch(entries)
    try:
        for name, in_directory in entries:
            if in_directory and suffix_of(name) == ".bicep" and bicep_executable() is None:
                findings.append(make_finding("BICEP_NOT_COMPILED", bicep_hint(name).removeprefix(f"{name}: "),
                                             file=name))
                inputs.append(InputFile(name, "bicep"))
                continue
            where = "<stdin>" if name == "-" else name
            try:
                doc, pending = prefetched.pop(name) if name in prefetched else (read_document(name), None)
                read = read_document_roles(doc.text, doc.name, where=doc.where, scope=scope, pending=pending)
            except InputError as e:
                if single:
                    raise
                message = str(e).removeprefix(f"{where}: ")
                findings.append(make_finding("FILE_UNREADABLE", message, file=name))
                inputs.append(InputFile(name, None, 0, message))
                continue
            if read.text is not None:
                texts[doc.name] = read.text
            roles.extend(read.roles)
            findings.extend(document_findings(read, doc.name))
            inputs.append(InputFile(name, read.shape, len(read.roles),
                                    pointers=tuple((r.name, r.pointer_prefix or "/") for r in read.roles)))
    finally:
        for _, pending in prefetched.values():  # not consumed (an error): no child left running
            pending.cancel()
    files = [name for name, _ in entries]
    if specs:  # the spec and template machinery (Jinja) is imported only when a spec is given
        from rbactool.spec import load_spec, render_spec
    for spec_path in specs:
        spec_roles = [replace(r.role, source=str(spec_path)) for r in render_spec(load_spec(spec_path))]
        roles.extend(spec_roles)
        files.append(str(spec_path))
        inputs.append(InputFile(str(spec_path), "roles-spec", len(spec_roles)))
    return RoleDocuments(tuple(roles), tuple(findings), texts, tuple(files), tuple(inputs))
