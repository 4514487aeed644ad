"""Validation of permission strings against the operations catalog (plus per-test extras)."""

from __future__ import annotations

import functools

from rbactool.catalog import Catalog, compile_pattern, load_packaged_catalog, namespace_of
from rbactool.emulator.armerror import ArmError


@functools.lru_cache(maxsize=1)
def packaged_catalog() -> Catalog:
    """The emulator always serves the packaged snapshot, never a cache some command refreshed."""
    return load_packaged_catalog()


class ActionChecker:
    def __init__(self, catalog: Catalog, extra: dict[str, bool]):
        self.catalog = catalog
        self.extra = extra  # operation name -> is_data_action (shared, filled by tests)

    def _extra_match(self, pattern: str, data: bool) -> bool:
        if not self.extra:
            return False
        regex = compile_pattern(pattern)
        return any(is_data == data and regex.match(name.lower()) for name, is_data in tuple(self.extra.items()))

    def _known_namespace(self, ns: str) -> bool:
        low = ns.lower()
        return self.catalog.is_known_namespace(ns) or any(namespace_of(n).lower() == low for n in tuple(self.extra))

    def check(self, pattern: str, *, data: bool) -> None:
        """Raise the ARM error for a permission string that matches no operation of its kind."""
        if data:
            # `*` alone is every data action: Microsoft documents it in all four lists (the
            # validator's ALL_DATA_ACTIONS is a security finding, not a rejection)
            if pattern.strip() != "*" and not self._matches(pattern, data=True):
                raise ArmError(
                    400, "InvalidDataActionOrNotDataAction",
                    f"'{pattern}' does not match any of the actions supported by the providers.",
                )
            return
        if pattern == "*" or pattern.startswith("*/"):
            return
        if self._matches(pattern, data=False):
            return
        ns = namespace_of(pattern)
        if "*" not in ns and not self._known_namespace(ns):
            raise ArmError(
                400, "InvalidActionOrNotAction",
                "The resource provider referenced in the action is not returned in the list of providers "
                "from Azure Resource Manager.",
            )
        raise ArmError(
            400, "InvalidActionOrNotAction",
            f"'{pattern}' does not match any of the actions supported by the providers.",
        )

    def _matches(self, pattern: str, *, data: bool) -> bool:
        return bool(self.catalog.expand(pattern, data_action=data)) or self._extra_match(pattern, data)
