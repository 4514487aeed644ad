"""The risk checks on a role's *effective* operations (the classes themselves: ``rbactool.risk``)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rbactool.catalog import pattern_matcher
from rbactool.checks.context import CheckContext, q
from rbactool.checks.grammar import well_formed
from rbactool.findings import Finding
from rbactool.risk import CREDENTIAL_EXPOSURE, PRIVILEGE_ESCALATION, REMOTE_EXECUTION, RISK_CLASSES, risk_classes

if TYPE_CHECKING:
    from rbactool.catalog import Catalog, Operation
    from rbactool.effective import PatternGrant

#: The finding each risk class raises (DESTRUCTIVE is informational: shown by explain and diff).
RISK_FINDINGS = {
    PRIVILEGE_ESCALATION: "PRIVILEGE_ESCALATION",
    CREDENTIAL_EXPOSURE: "CREDENTIAL_EXPOSURE",
    REMOTE_EXECUTION: "REMOTE_EXECUTION",
}

_MAX_NAMED = 8


def _named(ops: list[str]) -> str:
    shown = ", ".join(ops[:_MAX_NAMED])
    return shown + (f" and {len(ops) - _MAX_NAMED} more" if len(ops) > _MAX_NAMED else "")


@functools.lru_cache(maxsize=8)
def _risky_by_provider(catalog: Catalog) -> dict[str, tuple[tuple[Operation, tuple[str, ...]], ...]]:
    """namespace -> (operation, finding-raising risk classes) of its risky operations, filled as
    providers are met: each operation is classified once per process."""
    return {}


def _risky_of(catalog: Catalog, namespace: str) -> tuple[tuple[Operation, tuple[str, ...]], ...]:
    memo = _risky_by_provider(catalog)
    found = memo.get(namespace)
    if found is None:
        out = []
        for op in catalog.provider_operations(namespace):
            classes = tuple(c for c in risk_classes(op.name, op.is_data_action) if c in RISK_FINDINGS)
            if classes:
                out.append((op, classes))
        found = memo[namespace] = tuple(out)
    return found


@functools.lru_cache(maxsize=8192)
def _risky_in_expansion(catalog: Catalog, pattern: str, data: bool) -> tuple[tuple[Operation, tuple[str, ...]], ...]:
    """(operation, finding-raising risk classes) for each risky operation a pattern expands to, in
    catalog order, as filtering ``catalog.expand(pattern)`` would give. Cached.

    A wildcard is matched against the risky operations of the providers it can reach only (a few
    hundred at most), not against its whole expansion (``*/read`` is ten thousand operations)."""
    if "*" not in pattern:
        return tuple((op, classes) for op in catalog.expand(pattern, data_action=data)
                     if (classes := tuple(c for c in risk_classes(op.name, op.is_data_action) if c in RISK_FINDINGS)))
    match = pattern_matcher(pattern)
    return tuple((op, classes) for ns in catalog.namespaces_for(pattern) for op, classes in _risky_of(catalog, ns)
                 if op.is_data_action == data and match(op.name.lower()))


def _risky(ctx: CheckContext, grant: PatternGrant) -> list[tuple[Operation, tuple[str, ...]]]:
    risky = _risky_in_expansion(ctx.catalog, grant.pattern.lower(), grant.is_data)
    if grant.removed:
        gone = {id(o) for o in grant.removed}
        return [(op, cls) for op, cls in risky if id(op) not in gone]
    return list(risky)


#: The built-in Reader (the same GUID in every cloud): the baseline for risky reads.
READER_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@functools.lru_cache(maxsize=1)
def _reader_blocks() -> tuple[tuple[bool, tuple, tuple], ...]:
    """(data, grant regexes, not regexes) per kind and block of the built-in Reader's permissions."""
    from rbactool.builtins import load_builtin_roles
    from rbactool.catalog import compile_pattern

    reader = load_builtin_roles().by_id(READER_ID)
    if reader is None:
        return ()
    out = []
    for block in reader.permissions:
        for data, grants, nots in ((False, block.actions, block.not_actions),
                                   (True, block.data_actions, block.not_data_actions)):
            if grants:
                out.append((data, tuple(compile_pattern(p.strip()) for p in grants),
                            tuple(compile_pattern(p.strip()) for p in nots)))
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def reader_grants(name: str, is_data_action: bool) -> bool:
    """Whether the built-in Reader grants this operation (Reader's own patterns, NotActions subtracted)."""
    low = name.lower()
    return any(data == is_data_action and any(rx.match(low) for rx in grants) and not any(rx.match(low) for rx in nots)
               for data, grants, nots in _reader_blocks())


def _beyond_reader(risky: list[tuple[Operation, tuple[str, ...]]]) -> tuple[list, list]:
    """(risky operations Reader does not grant, risky operations Reader grants too)."""
    beyond, like_reader = [], []
    for op, classes in risky:
        (like_reader if reader_grants(op.name, op.is_data_action) else beyond).append((op, classes))
    return beyond, like_reader


def check_risk_classes(ctx: CheckContext) -> Iterator[Finding]:
    """One finding per (risk class, granting pattern), naming the effective operations.

    An operation granted by several patterns is attributed to the first one only. Risky operations
    the built-in Reader grants too (reads whose answer can hold secrets) are one WARNING per
    granting pattern, READS_SECRETS_LIKE_READER: a SECURITY_WARNING needs more than Reader gives.
    """
    seen: set[tuple[str, int]] = set()
    ok = well_formed(ctx)  # a malformed string is an ERROR already; ARM rejects the role
    for grant in ctx.effective.grants:
        if (grant.block, grant.attr, grant.index) not in ok:
            continue
        by_class: dict[str, list[str]] = {}
        beyond, like_reader = _beyond_reader(_risky(ctx, grant))
        for op, classes in beyond:
            for cls in classes:
                if (cls, id(op)) not in seen:
                    seen.add((cls, id(op)))
                    by_class.setdefault(cls, []).append(op.name)
        reads = []
        for op, _ in like_reader:
            if ("reader", id(op)) not in seen:
                seen.add(("reader", id(op)))
                reads.append(op.name)
        if reads:
            yield ctx.finding(
                "READS_SECRETS_LIKE_READER",
                f"{q(grant.pattern)} grants {len(reads)} read(s) whose answer can hold secrets: {_named(reads)}; "
                "same exposure as the built-in Reader (subtract them with NotActions if holders should not see them)",
                pointer=ctx.role.pointer(grant.block, grant.attr, grant.index),
                value=grant.pattern,
                operations=sorted(reads, key=str.lower),
            )
        for cls in RISK_CLASSES:
            ops = by_class.get(cls)
            if not ops:
                continue
            what = {PRIVILEGE_ESCALATION: "let a holder raise their own access",
                    CREDENTIAL_EXPOSURE: "return or rotate keys, secrets or tokens",
                    REMOTE_EXECUTION: "run code on compute"}[cls]
            yield ctx.finding(
                RISK_FINDINGS[cls],
                f"{q(grant.pattern)} grants {len(ops)} {cls} operation(s) that {what}: {_named(ops)}; "
                "remove them (or subtract them with NotActions) unless the role needs them",
                pointer=ctx.role.pointer(grant.block, grant.attr, grant.index),
                value=grant.pattern,
                operations=sorted(ops, key=str.lower),
            )


_ROLE_ASSIGNMENT_WRITE = "microsoft.authorization/roleassignments/write"


def check_all_data_actions(ctx: CheckContext) -> Iterator[Finding]:
    """`*` alone in DataActions: ARM accepts it, and it is every data action of every provider."""
    for b, block in enumerate(ctx.role.permissions):
        for i, value in enumerate(block.data_actions):
            if value.strip() == "*":
                yield ctx.finding(
                    "ALL_DATA_ACTIONS",
                    "'*' in DataActions grants all data access (every blob, queue, secret, key... at the assigned "
                    "scope, and every data action Azure adds later): list the data actions the role needs",
                    pointer=ctx.role.pointer(b, "data_actions", i), value=value,
                )


def check_owner_clone(ctx: CheckContext) -> Iterator[Finding]:
    from rbactool.scopes import MANAGEMENT_GROUP, ROOT, SUBSCRIPTION, parse_scope

    wide = []
    for s in ctx.role.assignable_scopes:
        try:
            kind = parse_scope(s.strip()).kind
        except ValueError:
            continue
        if kind in (ROOT, SUBSCRIPTION, MANAGEMENT_GROUP):
            wide.append(s)
    if not wide:
        return
    writes = ctx.catalog.get(_ROLE_ASSIGNMENT_WRITE, data_action=False)
    for grant in ctx.effective.grants:
        if grant.attr != "actions" or grant.pattern.strip() != "*":
            continue
        removed = {id(o) for o in grant.removed}
        if any(id(op) not in removed for op in writes):  # '*' grants every catalog action
            yield ctx.finding(
                "OWNER_CLONE",
                f"'*' at {q(wide[0])} is not restricted by NotActions from writing role assignments: this role "
                "is Owner under another name; subtract Microsoft.Authorization/*/Write (as Contributor does) "
                "or list the operations needed",
                pointer=ctx.role.pointer(grant.block, grant.attr, grant.index),
                value=grant.pattern,
            )


_MAX_SUGGESTED = 10


def check_narrower_wildcards(ctx: CheckContext) -> Iterator[Finding]:
    ok = well_formed(ctx)
    for grant in ctx.effective.grants:
        if "*" not in grant.pattern or grant.pattern.strip() == "*" or (grant.block, grant.attr, grant.index) not in ok:
            continue
        risky, _ = _beyond_reader(_risky(ctx, grant))  # what Reader grants too is not worth narrowing for
        if not risky:
            continue
        effective = grant.effective
        if len(effective) == len(risky):
            continue
        risky_ids = {id(op) for op, _ in risky}
        harmless = [op.name for op in effective if id(op) not in risky_ids]
        if len(harmless) <= _MAX_SUGGESTED:
            listed = ", ".join(sorted(harmless, key=str.lower))
            message = (f"{q(grant.pattern)} also grants {len(risky)} risky operation(s); if the role needs only "
                       f"the others, list them instead: {listed}")
        else:
            message = (f"{q(grant.pattern)} also grants {len(risky)} risky operation(s) among {len(harmless)} "
                       f"others; run `rbactool explain` on the role and list the operations it needs")
        yield ctx.finding(
            "NARROWER_THAN_WILDCARD", message,
            pointer=ctx.role.pointer(grant.block, grant.attr, grant.index),
            value=grant.pattern,
            operations=sorted(harmless, key=str.lower),
        )
