"""Checks against the operations catalog: existence, placement, case, NotActions that do nothing.

The shipped catalog is partly stale (see the data README's freshness table), so the severity of
"not found" depends on the provider: an ERROR only where the catalog's data for the provider is
fresh, else a WARNING (UNVERIFIED_*) that says the catalog may be behind Azure. A namespace one
or two edits away from a known one is always an ERROR with a "did you mean".
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from rbactool.catalog import close_namespace, did_you_mean, namespace_of, stale_note
from rbactool.checks.context import CheckContext, PermissionString, q
from rbactool.checks.grammar import well_formed
from rbactool.findings import Finding

if TYPE_CHECKING:
    from rbactool.catalog import Catalog, Operation

#: What a step answers: (code, message, operations) of each finding (none or one).
_Verdict = tuple[tuple[str, str, tuple[str, ...]], ...]

#: Operations the catalog knows only because a built-in role names them: their kind is a guess.
ROLE_REFERENCE_SOURCE = "builtin-role-reference"


def catalog_is_fresh(catalog: Catalog) -> bool:
    """True when every snapshot the catalog was built from is complete and current."""
    return bool(catalog.sources) and all(s.fresh for s in catalog.sources)


def _kind(data: bool) -> str:
    return "data action" if data else "action"


@dataclass
class _Checked:
    """One permission string being checked, with what the catalog says about it (looked up once).

    The verdict depends only on the catalog, the list and the stripped string, so it is cached
    (``_verdict``): built-in and real-world roles repeat the same strings over and over."""

    catalog: Catalog
    s: PermissionString  # index 0, block 0: the verdict never depends on where the string is
    value: str
    fresh_catalog: bool

    @property
    def data(self) -> bool:
        return self.s.is_data

    @cached_property
    def ns(self) -> str:
        return namespace_of(self.value)

    @cached_property
    def fresh(self) -> bool:
        """The catalog's data for this provider is complete and current."""
        info = self.catalog.provider(self.ns)
        return bool(info and info.fresh)

    @cached_property
    def ops(self) -> tuple[Operation, ...]:
        return self.catalog.expand(self.value, data_action=self.data)

    @cached_property
    def other(self) -> tuple[Operation, ...]:
        """What it matches in the other plane (a data action in Actions, or the reverse)."""
        return self.catalog.expand(self.value, data_action=not self.data)

    @property
    def wildcard(self) -> bool:
        return "*" in self.value

    def finding(self, code: str, message: str, operations: tuple[str, ...] = ()) -> _Verdict:
        return ((code, message, tuple(operations)),)

    def stale(self) -> str:
        return stale_note(self.catalog, self.ns)


# Each step answers for the strings it is about (a tuple: no finding or one) or passes (None);
# _check_one runs them in order and the first answer is the answer.


def _wildcard_namespace(c: _Checked) -> _Verdict | None:
    if "*" not in c.ns:
        return None
    if c.catalog.expand(c.value, data_action=c.data):
        return ()
    return c.finding("UNVERIFIED_WILDCARD", f"{q(c.value)} matches no {_kind(c.data)} in the catalog")


def _unknown_namespace(c: _Checked) -> _Verdict | None:
    if c.catalog.is_known_namespace(c.ns):
        return None
    close = close_namespace(c.catalog, c.ns)
    if close is not None:
        return c.finding("NAMESPACE_TYPO",
                         f"unknown provider namespace {q(c.ns)} in {c.s.list_name} (did you mean {q(close)}?)")
    if c.fresh_catalog:
        return c.finding("UNKNOWN_NAMESPACE", f"unknown provider namespace {q(c.ns)} in {c.s.list_name}")
    return c.finding(
        "UNVERIFIED_NAMESPACE",
        f"provider namespace {q(c.ns)} is not in the catalog nor used by any built-in role; it may be "
        f"new or misspelt: check with `az provider operation show --namespace {c.ns}`",
    )


def _known_operation(c: _Checked) -> _Verdict | None:
    if not c.ops:
        return None
    if not c.wildcard and not any(o.name == c.value for o in c.ops):
        return c.finding("CASE_MISMATCH", f"Azure spells {q(c.value)} as {q(c.ops[0].name)}",
                         operations=(c.ops[0].name,))
    return ()


def _other_plane(c: _Checked) -> _Verdict | None:
    if not c.other:
        return None
    other_kind, names = _kind(not c.data), tuple(o.name for o in c.other)
    if c.wildcard and not c.fresh:
        return c.finding("UNVERIFIED_WILDCARD",
                         f"{q(c.value)} in {c.s.list_name} matches only {other_kind}s in the catalog; {c.stale()}")
    if all(o.source == ROLE_REFERENCE_SOURCE for o in c.other):
        return c.finding("UNVERIFIED_OPERATION",
                         f"{q(c.value)} is in {c.s.list_name}, but the catalog knows it only as a {other_kind}, "
                         f"from built-in roles that disagree; {c.stale()}")
    if c.data:
        target = "Actions" if c.s.attr == "data_actions" else "NotActions"
        return c.finding("ACTION_IN_DATA_ACTIONS", f"{q(c.value)} is a control-plane action: move it from "
                         f"{c.s.list_name} to {target}", operations=names)
    target = "DataActions" if c.s.attr == "actions" else "NotDataActions"
    return c.finding("DATA_ACTION_IN_ACTIONS", f"{q(c.value)} is a data action: move it from {c.s.list_name} to "
                     f"{target}", operations=names)


def _wildcard_matching_nothing(c: _Checked) -> _Verdict | None:
    if not c.wildcard:
        return None
    kind = _kind(c.data)
    if c.fresh and c.s.attr.startswith("not_"):
        return c.finding(
            "NOT_ACTION_MATCHES_NOTHING",
            f"{q(c.value)} in {c.s.list_name} matches no {kind}: it protects nothing; check the pattern "
            "(a `*` between two slashes needs at least one segment there)",
        )
    if c.fresh:
        return c.finding("WILDCARD_MATCHES_NOTHING", f"{q(c.value)} in {c.s.list_name} matches no {kind}")
    return c.finding("UNVERIFIED_WILDCARD",
                     f"{q(c.value)} in {c.s.list_name} matches no {kind} in the catalog; {c.stale()}")


def _unknown_operation(c: _Checked) -> _Verdict:
    hint = did_you_mean(c.catalog, c.value, c.data)
    if c.fresh:
        return c.finding("UNKNOWN_OPERATION", f"unknown {_kind(c.data)} {q(c.value)} in {c.s.list_name}{hint}")
    return c.finding("UNVERIFIED_OPERATION",
                     f"{q(c.value)} in {c.s.list_name} is not in the catalog{hint}; {c.stale()}")


_STEPS = (_wildcard_namespace, _unknown_namespace, _known_operation, _other_plane, _wildcard_matching_nothing,
          _unknown_operation)


@functools.lru_cache(maxsize=32768)
def _verdict(catalog: Catalog, attr: str, value: str, fresh_catalog: bool) -> _Verdict:
    """(code, message, operations) of the finding for one stripped string in one list, or ()."""
    checked = _Checked(catalog, PermissionString(0, attr, 0, value), value, fresh_catalog)
    for step in _STEPS:
        found = step(checked)
        if found is not None:
            return found
    return ()


def _check_one(ctx: CheckContext, s: PermissionString, fresh_catalog: bool) -> Iterator[Finding]:
    value = s.value.strip()
    if value == "*":
        return
    for code, message, operations in _verdict(ctx.catalog, s.attr, value, fresh_catalog):
        yield ctx.finding(code, message, pointer=ctx.pointer(s), value=s.value, operations=operations)


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
