"""Explain: what a permission string or a role grants, operation by operation (pure; no printing).

::

    from rbactool.catalog import load_catalog
    from rbactool.explain import explain_data
    from rbactool.output import format_explain_text

    data = explain_data("Microsoft.Storage/storageAccounts/*/action", load_catalog())   # JSON-ready dict
    data = explain_data("AzureML Data Scientist", load_catalog())    # a built-in role, a file, a template
    print(format_explain_text(data))

The target is resolved by ``rbactool.inputs`` (``EXPLAIN_KINDS``); effective operations come from
``rbactool.effective`` and risk classes from ``rbactool.risk``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rbactool.errors import InputError
from rbactool.model import Permission, RoleDefinition

if TYPE_CHECKING:
    from rbactool.catalog import Catalog, Operation
    from rbactool.inputs import RenderOptions

__all__ = ["checked_pattern", "explain_data", "explain_role", "pattern_role"]


def checked_pattern(pattern: str, catalog: Catalog) -> str:
    """A permission string worth explaining: Azure's grammar, and it must match something
    (else InputError, with the suggestions the validator's catalog checks make)."""
    from rbactool.catalog import close_namespace, did_you_mean, namespace_of, stale_note

    if pattern.count("*") > 1:
        raise InputError(f"{pattern!r} has {pattern.count('*')} wildcards; Azure allows one '*' per permission string")
    if any(ch.isspace() for ch in pattern):
        raise InputError(f"{pattern!r} contains white space")
    if pattern == "*" or catalog.expand(pattern):
        return pattern
    ns = namespace_of(pattern)
    if "*" not in ns and not catalog.is_known_namespace(ns):
        close = close_namespace(catalog, ns)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise InputError(f"{pattern!r}: unknown provider namespace {ns!r}{hint}")
    info = catalog.provider(ns) if "*" not in ns else None
    hint = ""
    if info is not None and "*" not in pattern:
        hint = did_you_mean(catalog, pattern, False) or did_you_mean(catalog, pattern, True)
    stale = f"; {stale_note(catalog, ns)}" if info is not None and not info.fresh else ""
    raise InputError(f"{pattern!r} matches no operation in the catalog{hint}{stale}")


def _operation(op: Operation) -> dict:
    from rbactool.risk import risk_classes

    return {"name": op.name, "display_name": op.display_name, "data_action": op.is_data_action,
            "risk_classes": list(risk_classes(op.name, op.is_data_action)), "source": op.source}


def explain_role(role: RoleDefinition, catalog: Catalog) -> dict:
    """One role's explanation: each pattern's effective operations (with what its block's Not*
    removes), what the catalog does not know, the risk classes, and totals."""
    from rbactool.effective import effective_operations

    eff = effective_operations(role, catalog)
    patterns = [{
        "block": g.block, "list": "DataActions" if g.is_data else "Actions", "pattern": g.pattern,
        "operations": [_operation(o) for o in g.effective],
        "removed": [{"name": o.name, "data_action": o.is_data_action} for o in g.removed],
        "matched": len(g.operations), "condition": g.condition,
    } for g in eff.grants]
    risky = eff.risky()
    return {
        "role": role.name, "source": role.source, "pointer": role.pointer_prefix or None, "builtin": not role.is_custom,
        "patterns": patterns,
        "not_patterns": [{"block": n.block, "pattern": n.pattern, "removed": len(n.removed)} for n in eff.not_grants],
        "unresolved": [*eff.unresolved_actions, *eff.unresolved_data_actions],
        "risk": {cls: [o.name for o in ops] for cls, ops in risky.items()},
        "totals": {"actions": len(eff.actions), "data_actions": len(eff.data_actions),
                   "removed": len({(o.name.lower(), o.is_data_action) for g in eff.grants for o in g.removed}),
                   **{cls: len(ops) for cls, ops in risky.items()}},
    }


def pattern_role(pattern: str) -> RoleDefinition:
    """A bare permission string as a role granting it both as an Action and as a DataAction."""
    return RoleDefinition(name=pattern, permissions=(Permission(actions=(pattern,), data_actions=(pattern,)),),
                          source=None)


def explain_data(target: str, catalog: Catalog, options: RenderOptions | None = None) -> dict:
    """The JSON-ready explanation of a permission string or of every role *target* names (a file,
    ``-``, a built-in role, a template rendered with *options*: ``rbactool.inputs.EXPLAIN_KINDS``)."""
    from rbactool.inputs import EXPLAIN_KINDS, PATTERN, resolve

    found = resolve(target, EXPLAIN_KINDS, options)
    if found.kind == PATTERN:
        kind, roles = "pattern", [pattern_role(checked_pattern(found.pattern or "", catalog))]
    else:
        kind, roles = "roles", list(found.roles)
    return {"schema_version": 1, "target": target, "kind": kind, "shape": found.shape,
            "catalog": {"snapshot_date": catalog.snapshot_date, "origin": catalog.origin},
            "roles": [explain_role(r, catalog) for r in roles]}
