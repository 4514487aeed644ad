"""What a check sees: ``CheckContext`` (one role, the catalog, shared derived data) and the
small helpers every check module uses. The check modules import this module, never the
``rbactool.checks`` package (whose registry imports them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from rbactool.findings import Finding, make_finding
from rbactool.model import DATA_ATTRS, PERMISSION_FIELDS, RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog
    from rbactool.effective import EffectivePermissions

__all__ = ["DATA_ATTRS", "LIST_NAMES", "PERMISSION_ATTRS", "CheckContext", "PermissionString", "q"]

T = TypeVar("T")

#: Model attributes of the permission lists, in document order.
PERMISSION_ATTRS = tuple(attr for attr, _, _ in PERMISSION_FIELDS)
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
        self._memo: dict[str, Any] = {}

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
    def effective(self) -> EffectivePermissions:
        """The role's effective operations, expanded once and shared by every check."""
        from rbactool.effective import effective_operations

        return effective_operations(self.role, self.catalog)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """*compute()* once per context under *key*: derived data a check module shares with the
        others (``grammar.well_formed``) without the context importing that module."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
