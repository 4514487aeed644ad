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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rbactool.checks import CheckContext, all_checks
from rbactool.config import Config, Ignore
from rbactool.errors import ValidationRefused
from rbactool.findings import SECURITY_WARNING, TYPES, Finding, at_or_above, make_finding, sort_findings
from rbactool.model import RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog

logger = logging.getLogger(__name__)

__all__ = [
    "CheckContext", "Report", "Suppressed", "ValidationRefused", "apply_config", "gate", "role_findings",
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

    def failed(self, threshold: str | None = USE_FAIL_ON) -> bool:
        """True when a (non-suppressed) finding is at or above *threshold*: a finding type, None for
        never, or by default the report's ``fail_on`` (from the config or ``--fail-on``)."""
        t = self.fail_on if threshold == USE_FAIL_ON else threshold
        return any(at_or_above(f.type, t) for f in self.findings)

    def blocking(self) -> tuple[Finding, ...]:
        """The findings at or above the report's threshold: what makes ``failed()`` true."""
        return tuple(f for f in self.findings if at_or_above(f.type, self.fail_on))

    def notable(self) -> tuple[Finding, ...]:
        """The findings below the threshold that are still ERROR or SECURITY_WARNING (the gate shows them)."""
        return tuple(f for f in self.findings
                     if not at_or_above(f.type, self.fail_on) and at_or_above(f.type, SECURITY_WARNING))

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


def role_findings(role: RoleDefinition, catalog: Catalog, *, file: str | None = None) -> list[Finding]:
    """Raw findings of every check on one role (no config applied)."""
    return run_checks(CheckContext(role, catalog, file=file))


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
) -> Report:
    """Validate many roles in one report, plus the run-level catalog-age check."""
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
    return Report(active, suppressed, n, tuple(files), config.fail_on, catalog.snapshot_date)


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
                            files=files, today=today)
    if refuse and report.failed():
        raise ValidationRefused(report, what, bypass)
    return report


def validate_text(text: str, source: str, *, where: str | None = None) -> tuple[list[RoleDefinition], list[Finding]]:
    """Parse a JSON document into roles; structure problems become findings, not exceptions.

    The document is read once, by the one JSON reader (``rbactool.readers``): invalid JSON, an
    empty file or input beyond its limits (nesting, numbers, sizes) raises RoleFormatError, which
    is invalid input (exit 3). A key given twice in one object is a DUPLICATE_KEY finding (the
    other checks still run, on the last value, which is what the az CLI would send). Each item of
    a role list is read on its own, so one broken item does not hide the others. *where* names
    the input in error messages (default: *source*, which names it in findings).
    """
    from rbactool.errors import RoleFormatError
    from rbactool.model import parse_document, role_from_dict, roles_from_document
    from rbactool.readers import clip, clip_pointer, duplicate_keys

    doc = parse_document(text, source=where or source, duplicates=False)
    findings: list[Finding] = [
        make_finding("DUPLICATE_KEY", f"key {clip(key)} is given twice in one object: JSON readers disagree on "
                     "which one counts (rbactool and the az CLI keep the last); remove one",
                     file=source, pointer=clip_pointer(pointer))
        for pointer, key in duplicate_keys(doc)
    ]
    try:
        roles = roles_from_document(doc, source=source)
    except RoleFormatError:
        items: list[tuple[str, object]]
        if isinstance(doc, list):
            items = [(f"/{i}", item) for i, item in enumerate(doc)]
        elif isinstance(doc.get("value"), list) and set(doc) <= {"value", "nextLink"}:
            items = [(f"/value/{i}", item) for i, item in enumerate(doc["value"])]
        else:
            items = [("", doc)]
        roles = []
        for prefix, item in items:
            problems = schema_findings(item, source=source, prefix=prefix)
            if problems:
                findings.extend(problems)
                continue
            try:
                role = role_from_dict(item, source=source, pointer_prefix=prefix)
            except RoleFormatError as e:
                message = str(e).removeprefix(f"{source}: ")
                findings.append(make_finding("ROLE_UNREADABLE", message, file=source, pointer=prefix or "/"))
                continue
            roles.append(role)  # keep the item's own shape: its pointers must match the document
        return roles, findings
    if not roles:
        return [], [*findings, make_finding("EMPTY_DOCUMENT", "the file holds an empty list: no role to validate",
                                            file=source, pointer="/")]
    return roles, findings


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
class RoleDocuments:
    """What ``rbactool validate`` reads before the gate: the roles, the findings about the
    documents' structure, each document's text (for SARIF regions) and every input's name."""

    roles: tuple[RoleDefinition, ...]
    findings: tuple[Finding, ...]
    texts: dict[str, str]
    files: tuple[str, ...]


def read_role_documents(names: Sequence[str], specs: Sequence[str | os.PathLike] = ()) -> RoleDocuments:
    """Read each document (a file, or ``-`` for stdin; see ``inputs.document_names``) with
    ``validate_text`` (structure problems become findings), then render each roles spec; a spec's
    roles are named after the spec."""
    from rbactool.inputs import read_document

    roles: list[RoleDefinition] = []
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    for doc in map(read_document, names):
        texts[doc.name] = doc.text
        file_roles, problems = validate_text(doc.text, source=doc.name, where=doc.where)
        roles.extend(file_roles)
        findings.extend(problems)
    files = list(names)
    if specs:  # the spec and template machinery (Jinja) is imported only when a spec is given
        from rbactool.spec import load_spec, render_spec
    for spec_path in specs:
        roles.extend(replace(r.role, source=str(spec_path)) for r in render_spec(load_spec(spec_path)))
        files.append(str(spec_path))
    return RoleDocuments(tuple(roles), tuple(findings), texts, tuple(files))
