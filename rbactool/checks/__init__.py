"""Pure checks over one role definition.

Every check is a function ``check(ctx: CheckContext) -> Iterable[Finding]``: it reads the role,
the catalog and the options from the context and returns findings; it changes nothing.
``ALL_CHECKS`` lists them in run order; ``rbactool.validate`` runs each one and turns a check
that raises into an ``INTERNAL_ERROR`` finding naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from rbactool.findings import Finding, make_finding
from rbactool.model import PERMISSION_FIELDS, RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog
    from rbactool.validate import EffectivePermissions

#: Model attributes of the permission lists, in document order.
PERMISSION_ATTRS = tuple(attr for attr, _, _ in PERMISSION_FIELDS)
#: Which lists hold data actions.
DATA_ATTRS = frozenset({"data_actions", "not_data_actions"})
#: Azure's spelling of each list, for messages.
LIST_NAMES = {attr: pascal for attr, _, pascal in PERMISSION_FIELDS}


def q(value: object) -> str:
    """A value from the role, quoted for a finding message: cut to a prefix when it is long (a
    hostile file's megabyte-long permission string is not echoed whole), control characters escaped."""
    from rbactool.readers import clip

    return clip(value, 256)


@dataclass(frozen=True)
class PermissionString:
    block: int
    attr: str
    index: int
    value: str

    @property
    def is_data(self) -> bool:
        return self.attr in DATA_ATTRS

    @property
    def list_name(self) -> str:
        return LIST_NAMES[self.attr]


class CheckContext:
    """What a check may look at. Built once per role; lazily computes shared derived data."""

    def __init__(self, role: RoleDefinition, catalog: Catalog, *, file: str | None = None):
        self.role = role
        self.catalog = catalog
        self.file = file if file is not None else role.source

    def finding(
        self,
        code: str,
        message: str,
        *,
        pointer: str | None = None,
        value: str | None = None,
        operations: Iterable[str] = (),
    ) -> Finding:
        return make_finding(
            code, message, file=self.file, role=self.role.name, pointer=pointer, value=value,
            operations=operations,
        )

    def pointer(self, s: PermissionString) -> str:
        return self.role.pointer(s.block, s.attr, s.index)

    def strings(self) -> Iterator[PermissionString]:
        for b, block in enumerate(self.role.permissions):
            for attr in PERMISSION_ATTRS:
                for i, value in enumerate(getattr(block, attr)):
                    yield PermissionString(b, attr, i, value)

    @cached_property
    def well_formed(self) -> frozenset[tuple[int, str, int]]:
        """(block, attr, index) of the strings that pass the grammar (catalog checks skip the rest)."""
        from rbactool.checks.grammar import grammar_problem

        return frozenset(
            (s.block, s.attr, s.index) for s in self.strings() if grammar_problem(s.value.strip(), s.attr) is None
        )

    @cached_property
    def effective(self) -> EffectivePermissions:
        from rbactool.validate import effective_operations

        return effective_operations(self.role, self.catalog)


Check = Callable[[CheckContext], Iterable[Finding]]


def all_checks() -> tuple[tuple[str, Check], ...]:
    """(name, function) of every check, in run order."""
    from rbactool.checks import catalog_checks, grammar, naming, risk, scopes, structure

    return (
        ("structure.required_fields", structure.check_required_fields),
        ("structure.lengths", structure.check_lengths),
        ("structure.duplicates", structure.check_duplicates),
        ("structure.conditions", structure.check_conditions),
        ("grammar.permission_strings", grammar.check_permission_strings),
        ("catalog.operations", catalog_checks.check_operations),
        ("catalog.not_actions", catalog_checks.check_not_actions),
        ("scopes.assignable_scopes", scopes.check_assignable_scopes),
        ("risk.risk_classes", risk.check_risk_classes),
        ("risk.owner_clone", risk.check_owner_clone),
        ("risk.narrower_wildcards", risk.check_narrower_wildcards),
        ("naming.entra_role_name", naming.check_entra_role_name),
        ("naming.builtin_name_clash", naming.check_builtin_name_clash),
        ("naming.control_characters", naming.check_control_characters),
    )
