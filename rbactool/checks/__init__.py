"""Pure checks over one role definition.

Every check is a function ``check(ctx: CheckContext) -> Iterable[Finding]``: it reads the role,
the catalog and the options from the context and returns findings; it changes nothing.
``all_checks()`` lists them in run order; ``rbactool.validate`` runs each one and turns a check
that raises into an ``INTERNAL_ERROR`` finding naming it. The context and its helpers live in
``rbactool.checks.context`` (re-exported here), which the check modules import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rbactool.checks.context import DATA_ATTRS, LIST_NAMES, PERMISSION_ATTRS, CheckContext, PermissionString, q
from rbactool.findings import Finding

__all__ = [
    "DATA_ATTRS", "LIST_NAMES", "PERMISSION_ATTRS", "Check", "CheckContext", "PermissionString", "all_checks", "q",
]

Check = Callable[[CheckContext], Iterable[Finding]]


def all_checks() -> tuple[tuple[str, Check], ...]:
    """(name, function) of every check, in run order."""
    from rbactool.checks import catalog_checks, grammar, naming, risk, scopes, structure

    return (
        ("structure.required_fields", structure.check_required_fields),
        ("structure.is_custom", structure.check_is_custom),
        ("structure.lengths", structure.check_lengths),
        ("structure.duplicates", structure.check_duplicates),
        ("structure.conditions", structure.check_conditions),
        ("grammar.permission_strings", grammar.check_permission_strings),
        ("catalog.operations", catalog_checks.check_operations),
        ("catalog.not_actions", catalog_checks.check_not_actions),
        ("scopes.assignable_scopes", scopes.check_assignable_scopes),
        ("risk.risk_classes", risk.check_risk_classes),
        ("risk.all_data_actions", risk.check_all_data_actions),
        ("risk.owner_clone", risk.check_owner_clone),
        ("risk.narrower_wildcards", risk.check_narrower_wildcards),
        ("naming.entra_role_name", naming.check_entra_role_name),
        ("naming.builtin_name_clash", naming.check_builtin_name_clash),
        ("naming.control_characters", naming.check_control_characters),
    )
