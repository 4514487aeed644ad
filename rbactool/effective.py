"""Effective permissions: what a role grants, per the catalog, block by block.

Per permission block, Actions minus NotActions and DataActions minus NotDataActions, each
pattern expanded against the operations catalog (pure: no I/O; expansions are cached)::

    from rbactool.catalog import load_catalog
    from rbactool.effective import effective_operations

    eff = effective_operations(role, load_catalog())   # EffectivePermissions
    eff.actions, eff.data_actions, eff.risky()

The validator's checks (``CheckContext.effective``), ``explain``, ``diff`` and ``plan`` all read a
role's effective operations from here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rbactool.model import DATA_ATTRS, RoleDefinition
from rbactool.risk import RISK_CLASSES, risk_classes

if TYPE_CHECKING:
    from rbactool.catalog import Catalog, Operation

__all__ = ["EffectivePermissions", "NotGrant", "PatternGrant", "effective_operations"]


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
