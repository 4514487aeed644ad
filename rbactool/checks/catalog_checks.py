"""Checks against the operations catalog: existence, placement, case, NotActions that do nothing.

The shipped catalog is partly stale (see the data README's freshness table), so the severity of
"not found" depends on the provider: an ERROR only where the catalog's data for the provider is
fresh, else a WARNING (UNVERIFIED_*) that says the catalog may be behind Azure. A namespace one
or two edits away from a known one is always an ERROR with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rbactool.catalog import close_namespace, did_you_mean, namespace_of, stale_note
from rbactool.checks.context import CheckContext, PermissionString, q
from rbactool.checks.grammar import well_formed
from rbactool.findings import Finding

if TYPE_CHECKING:
    from rbactool.catalog import Catalog, Operation

#: Operations the catalog knows only because a built-in role names them: their kind is a guess.
ROLE_REFERENCE_SOURCE = "builtin-role-reference"


def catalog_is_fresh(catalog: Catalog) -> bool:
    """True when every snapshot the catalog was built from is complete and current."""
    return bool(catalog.sources) and all(s.fresh for s in catalog.sources)


def _kind(data: bool) -> str:
    return "data action" if data else "action"


def _check_one(ctx: CheckContext, s: PermissionString, fresh_catalog: bool) -> Iterator[Finding]:
    catalog = ctx.catalog
    value = s.value.strip()
    if value == "*":
        return
    ptr = ctx.pointer(s)
    ns = namespace_of(value)
    data = s.is_data
    if "*" in ns:
        if not catalog.expand(value, data_action=data):
            yield ctx.finding("UNVERIFIED_WILDCARD", f"{q(value)} matches no {_kind(data)} in the catalog",
                              pointer=ptr, value=s.value)
        return
    if not catalog.is_known_namespace(ns):
        close = close_namespace(catalog, ns)
        if close is not None:
            yield ctx.finding(
                "NAMESPACE_TYPO", f"unknown provider namespace {q(ns)} in {s.list_name} (did you mean {q(close)}?)",
                pointer=ptr, value=s.value,
            )
        elif fresh_catalog:
            yield ctx.finding("UNKNOWN_NAMESPACE", f"unknown provider namespace {q(ns)} in {s.list_name}",
                              pointer=ptr, value=s.value)
        else:
            yield ctx.finding(
                "UNVERIFIED_NAMESPACE",
                f"provider namespace {q(ns)} is not in the catalog nor used by any built-in role; it may be "
                f"new or misspelt: check with `az provider operation show --namespace {ns}`",
                pointer=ptr, value=s.value,
            )
        return
    info = catalog.provider(ns)
    fresh = bool(info and info.fresh)
    ops = catalog.expand(value, data_action=data)
    if ops:
        if "*" not in value and not any(o.name == value for o in ops):
            yield ctx.finding(
                "CASE_MISMATCH", f"Azure spells {q(value)} as {q(ops[0].name)}", pointer=ptr, value=s.value,
                operations=(ops[0].name,),
            )
        return
    other: tuple[Operation, ...] = catalog.expand(value, data_action=not data)
    if other and "*" in value and not fresh:
        yield ctx.finding(
            "UNVERIFIED_WILDCARD",
            f"{q(value)} in {s.list_name} matches only {_kind(not data)}s in the catalog; "
            f"{stale_note(catalog, ns)}",
            pointer=ptr, value=s.value,
        )
        return
    if other:
        if all(o.source == ROLE_REFERENCE_SOURCE for o in other):
            yield ctx.finding(
                "UNVERIFIED_OPERATION",
                f"{q(value)} is in {s.list_name}, but the catalog knows it only as a {_kind(not data)}, from "
                f"built-in roles that disagree; {stale_note(catalog, ns)}",
                pointer=ptr, value=s.value,
            )
        elif data:
            yield ctx.finding(
                "ACTION_IN_DATA_ACTIONS",
                f"{q(value)} is a control-plane action: move it from {s.list_name} to "
                f"{'Actions' if s.attr == 'data_actions' else 'NotActions'}",
                pointer=ptr, value=s.value, operations=tuple(o.name for o in other),
            )
        else:
            yield ctx.finding(
                "DATA_ACTION_IN_ACTIONS",
                f"{q(value)} is a data action: move it from {s.list_name} to "
                f"{'DataActions' if s.attr == 'actions' else 'NotDataActions'}",
                pointer=ptr, value=s.value, operations=tuple(o.name for o in other),
            )
        return
    if "*" in value:
        if fresh and s.attr.startswith("not_"):
            yield ctx.finding(
                "NOT_ACTION_MATCHES_NOTHING",
                f"{q(value)} in {s.list_name} matches no {_kind(data)}: it protects nothing; check the pattern "
                "(a `*` between two slashes needs at least one segment there)",
                pointer=ptr, value=s.value,
            )
        elif fresh:
            yield ctx.finding("WILDCARD_MATCHES_NOTHING", f"{q(value)} in {s.list_name} matches no {_kind(data)}",
                              pointer=ptr, value=s.value)
        else:
            yield ctx.finding(
                "UNVERIFIED_WILDCARD",
                f"{q(value)} in {s.list_name} matches no {_kind(data)} in the catalog; {stale_note(catalog, ns)}",
                pointer=ptr, value=s.value,
            )
        return
    hint = did_you_mean(catalog, value, data)
    if fresh:
        yield ctx.finding("UNKNOWN_OPERATION", f"unknown {_kind(data)} {q(value)} in {s.list_name}{hint}",
                          pointer=ptr, value=s.value)
    else:
        yield ctx.finding(
            "UNVERIFIED_OPERATION",
            f"{q(value)} in {s.list_name} is not in the catalog{hint}; {stale_note(catalog, ns)}",
            pointer=ptr, value=s.value,
        )


def check_operations(ctx: CheckContext) -> Iterator[Finding]:
    fresh_catalog = catalog_is_fresh(ctx.catalog)
    ok = well_formed(ctx)
    for s in ctx.strings():
        if (s.block, s.attr, s.index) in ok:
            yield from _check_one(ctx, s, fresh_catalog)


def check_not_actions(ctx: CheckContext) -> Iterator[Finding]:
    ok = well_formed(ctx)
    for ng in ctx.effective.not_grants:
        if (ng.block, ng.attr, ng.index) not in ok or ng.removed or ng.covered:
            continue
        grants = "DataActions" if ng.attr == "not_data_actions" else "Actions"
        yield ctx.finding(
            "NOT_ACTION_SUBTRACTS_NOTHING",
            f"{q(ng.pattern)} removes nothing: no {grants} entry of the same permission block grants it "
            "(NotActions are not deny rules); remove it",
            pointer=ctx.role.pointer(ng.block, ng.attr, ng.index), value=ng.pattern,
        )
