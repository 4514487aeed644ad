"""The validator: run every check on roles, apply the config, and build a Report.

Library API (no I/O, no printing)::

    from rbactool.catalog import load_catalog
    from rbactool.validate import validate, effective_operations, risk_classes

    report = validate(role, load_catalog())          # Report; report.failed() -> bool
    eff = effective_operations(role, load_catalog())  # EffectivePermissions
    risk_classes("Microsoft.Storage/storageAccounts/listKeys/action")  # ('credential-exposure',)

``validate_roles`` / ``validate_text`` handle many roles and whole documents (schema findings,
catalog age). ``gate`` is the one decision every command makes before it trusts roles:
``validate``, ``create``, ``plan`` and ``apply`` all go through it, with the same ``.rbactool.yaml``
(suppressions, severity overrides, ``fail_on``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rbactool.checks import DATA_ATTRS, CheckContext, all_checks
from rbactool.checks.risk import RISK_CLASSES, risk_classes
from rbactool.config import Config, Ignore
from rbactool.errors import InputError
from rbactool.findings import TYPES, Finding, at_or_above, make_finding, sort_findings
from rbactool.model import RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog, Operation

logger = logging.getLogger(__name__)

__all__ = [
    "RISK_CLASSES", "CheckContext", "EffectivePermissions", "NotGrant", "PatternGrant", "Report", "Suppressed",
    "ValidationRefused", "apply_config", "effective_operations", "gate", "risk_classes", "role_findings",
    "run_checks", "validate", "validate_roles", "validate_text",
]


# --------------------------------------------------------------------------- effective permissions


@dataclass(frozen=True)
class PatternGrant:
    """What one Actions/DataActions entry grants, per the catalog, and what its block's Not* removes."""

    block: int
    attr: str  # "actions" | "data_actions"
    index: int
    pattern: str
    operations: tuple[Operation, ...]  # every catalog operation of the right kind the pattern matches
    removed: tuple[Operation, ...]  # the subset the same block's NotActions/NotDataActions subtract
    condition: str | None = None

    @property
    def is_data(self) -> bool:
        return self.attr in DATA_ATTRS

    @property
    def effective(self) -> tuple[Operation, ...]:
        gone = {id(o) for o in self.removed}
        return tuple(o for o in self.operations if id(o) not in gone)


@dataclass(frozen=True)
class NotGrant:
    """One NotActions/NotDataActions entry and what it subtracts from its block."""

    block: int
    attr: str  # "not_actions" | "not_data_actions"
    index: int
    pattern: str
    removed: tuple[Operation, ...]
    covered: bool  # some grant of the block matches the pattern textually (even if not in the catalog)


@dataclass(frozen=True)
class EffectivePermissions:
    """A role's effective operations: per block, Actions minus NotActions, DataActions minus NotDataActions.

    ``unresolved`` are granted strings without a ``*`` that the catalog does not know (kept so a
    diff still shows them); wildcard patterns that match nothing grant nothing known.
    """

    grants: tuple[PatternGrant, ...]
    not_grants: tuple[NotGrant, ...]
    actions: tuple[Operation, ...]  # union over blocks, sorted by name (case-insensitive)
    data_actions: tuple[Operation, ...]
    unresolved_actions: tuple[str, ...] = ()
    unresolved_data_actions: tuple[str, ...] = ()

    def names(self, *, data: bool = False) -> frozenset[str]:
        """Lower-cased names of the effective operations of one kind, including unresolved strings."""
        ops = self.data_actions if data else self.actions
        unresolved = self.unresolved_data_actions if data else self.unresolved_actions
        return frozenset(o.name.lower() for o in ops) | frozenset(u.lower() for u in unresolved)

    def risky(self) -> dict[str, tuple[Operation, ...]]:
        """Risk class -> effective operations carrying it."""
        out: dict[str, list[Operation]] = {}
        for op in (*self.actions, *self.data_actions):
            for cls in risk_classes(op.name, op.is_data_action):
                out.setdefault(cls, []).append(op)
        return {cls: tuple(out[cls]) for cls in RISK_CLASSES if cls in out}


@functools.lru_cache(maxsize=16384)
def _pattern(text: str) -> re.Pattern[str]:
    from rbactool.catalog import compile_pattern

    return compile_pattern(text)


def effective_operations(role: RoleDefinition, catalog: Catalog) -> EffectivePermissions:
    """Expand every permission block of *role* against *catalog* (no I/O; expansions are cached)."""
    compile_pattern = _pattern

    grants: list[PatternGrant] = []
    not_grants: list[NotGrant] = []
    # Operations are the catalog's own (cached) objects, so identity is a cheap, exact key.
    union: dict[int, Operation] = {}
    unresolved: dict[bool, dict[str, str]] = {False: {}, True: {}}
    for b, block in enumerate(role.permissions):
        for grant_attr, not_attr, data in (("actions", "not_actions", False),
                                           ("data_actions", "not_data_actions", True)):
            pats = [(i, p.strip()) for i, p in enumerate(getattr(block, grant_attr)) if p.strip()]
            nots = [(i, p.strip()) for i, p in enumerate(getattr(block, not_attr)) if p.strip()]
            expanded = [(i, p, catalog.expand(p, data_action=data)) for i, p in pats]
            granted: dict[int, Operation] = {}
            for _, _, ops in expanded:
                for op in ops:
                    granted[id(op)] = op
            removed_ids: set[int] = set()
            grant_regexes = None
            for i, n in nots:
                sub = tuple(op for op in catalog.expand(n, data_action=data) if id(op) in granted)
                removed_ids.update(id(op) for op in sub)
                if sub:
                    covered = True
                else:
                    if grant_regexes is None:
                        grant_regexes = [(p.lower(), compile_pattern(p)) for _, p in pats]
                    n_rx = compile_pattern(n)
                    covered = any(rx.match(n.lower()) or n_rx.match(low) for low, rx in grant_regexes)
                not_grants.append(NotGrant(b, not_attr, i, n, sub, covered))
            not_rxs = [compile_pattern(n) for _, n in nots]
            for i, p, ops in expanded:
                removed = tuple(op for op in ops if id(op) in removed_ids) if removed_ids else ()
                grants.append(PatternGrant(b, grant_attr, i, p, ops, removed, block.condition))
                if not ops and "*" not in p and not any(rx.match(p.lower()) for rx in not_rxs):
                    unresolved[data].setdefault(p.lower(), p)
            if removed_ids:
                union.update((k, op) for k, op in granted.items() if k not in removed_ids)
            else:
                union.update(granted)
    ordered = sorted(union.values(), key=lambda o: o.name.lower())
    return EffectivePermissions(
        grants=tuple(grants),
        not_grants=tuple(not_grants),
        actions=tuple(o for o in ordered if not o.is_data_action),
        data_actions=tuple(o for o in ordered if o.is_data_action),
        unresolved_actions=tuple(sorted(unresolved[False].values(), key=str.lower)),
        unresolved_data_actions=tuple(sorted(unresolved[True].values(), key=str.lower)),
    )


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
    config = config or Config()
    raw: list[Finding] = list(extra_findings)
    n = 0
    for role in roles:
        n += 1
        raw.extend(role_findings(role, catalog))
    raw.extend(catalog_age_findings(catalog, config, today))
    active, suppressed = apply_config(raw, config, extra_ignores)
    return Report(active, suppressed, n, tuple(files), config.fail_on, catalog.snapshot_date)


class ValidationRefused(InputError):
    """The gate refused the roles: a finding at or above the threshold (exit 3)."""

    def __init__(self, report: Report, what: str = "the roles", bypass: str = "--fail-on none"):
        self.report = report
        n = sum(1 for f in report.findings if at_or_above(f.type, report.fail_on))
        threshold = (report.fail_on or "none").lower().replace("_", "-")
        super().__init__(f"{n} finding(s) at or above {threshold} in {what} (see `rbactool validate`): fix them, "
                         f"suppress them in .rbactool.yaml (with a reason), or pass {bypass}")


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
