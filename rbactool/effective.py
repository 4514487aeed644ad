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
    diff still shows them); wildcard patterns that match nothing grant nothing known. ``actions``
    and ``data_actions`` (the union over blocks, sorted by name, case-insensitive) are computed on
    first use: the validator's checks read the grants only, and a ``*/read`` role's union is ten
    thousand operations to sort.
    """

    grants: tuple[PatternGrant, ...]
    not_grants: tuple[NotGrant, ...]
    unresolved_actions: tuple[str, ...] = ()
    unresolved_data_actions: tuple[str, ...] = ()

    def _union(self) -> tuple[tuple[Operation, ...], tuple[Operation, ...]]:
        cached = self.__dict__.get("_union_cache")
        if cached is None:
            # Operations are the catalog's own (cached) objects, so identity is a cheap, exact key.
            union: dict[int, Operation] = {}
            for g in self.grants:
                if g.removed:
                    gone = {id(o) for o in g.removed}
                    union.update((id(o), o) for o in g.operations if id(o) not in gone)
                else:
                    union.update((id(o), o) for o in g.operations)
            ordered = sorted(union.values(), key=lambda o: o.name.lower())
            cached = (tuple(o for o in ordered if not o.is_data_action), tuple(o for o in ordered if o.is_data_action))
            self.__dict__["_union_cache"] = cached  # frozen: not through __setattr__
        return cached

    @property
    def actions(self) -> tuple[Operation, ...]:
        """Effective control-plane operations: union over blocks, sorted by name (case-insensitive)."""
        return self._union()[0]

    @property
    def data_actions(self) -> tuple[Operation, ...]:
        return self._union()[1]

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


def effective_operations(role: RoleDefinition, catalog: Catalog) -> EffectivePermissions:
    """Expand every permission block of *role* against *catalog* (no I/O; expansions are cached)."""
    from rbactool.catalog import pattern_matcher

    grants: list[PatternGrant] = []
    not_grants: list[NotGrant] = []
    unresolved: dict[bool, dict[str, str]] = {False: {}, True: {}}
    for b, block in enumerate(role.permissions):
        for grant_attr, not_attr, data in (("actions", "not_actions", False),
                                           ("data_actions", "not_data_actions", True)):
            pats = [(i, p.strip()) for i, p in enumerate(getattr(block, grant_attr)) if p.strip()]
            nots = [(i, p.strip()) for i, p in enumerate(getattr(block, not_attr)) if p.strip()]
            expanded = [(i, p, catalog.expand(p, data_action=data)) for i, p in pats]
            removed_ids: set[int] = set()
            if nots:
                granted: set[int] = {id(op) for _, _, ops in expanded for op in ops}
                grant_regexes = None
                for i, n in nots:
                    sub = tuple(op for op in catalog.expand(n, data_action=data) if id(op) in granted)
                    removed_ids.update(id(op) for op in sub)
                    if sub:
                        covered = True
                    else:
                        if grant_regexes is None:
                            grant_regexes = [(p.lower(), pattern_matcher(p)) for _, p in pats]
                        n_match, n_low = pattern_matcher(n), n.lower()
                        covered = any(match(n_low) or n_match(low) for low, match in grant_regexes)
                    not_grants.append(NotGrant(b, not_attr, i, n, sub, covered))
            not_rxs = [pattern_matcher(n) for _, n in nots]
            for i, p, ops in expanded:
                removed = tuple(op for op in ops if id(op) in removed_ids) if removed_ids else ()
                grants.append(PatternGrant(b, grant_attr, i, p, ops, removed, block.condition))
                if not ops and "*" not in p and not any(match(p.lower()) for match in not_rxs):
                    unresolved[data].setdefault(p.lower(), p)
    return EffectivePermissions(
        grants=tuple(grants),
        not_grants=tuple(not_grants),
        unresolved_actions=tuple(sorted(unresolved[False].values(), key=str.lower)),
        unresolved_data_actions=tuple(sorted(unresolved[True].values(), key=str.lower)),
    )
