"""rbactool: Azure RBAC as code.

The library API (``rbactool.api``, documented in docs/api.md) is re-exported here, imported on
first use so that ``import rbactool`` and the offline commands stay fast::

    import rbactool
    report = rbactool.validate_roles(rbactool.load_roles("role.json"))
"""

import logging

__version__ = "0.1.0"

logging.getLogger("rbactool").addHandler(logging.NullHandler())

_API = (
    "Azure", "canonical_text", "catalog_info", "catalog_source", "connect", "desired_state", "diff_role_sets",
    "diff_roles", "document_names", "dumps_role", "dumps_roles", "dumps_spec", "effective_operations",
    "explain_target", "find_escalations", "ignore_codes", "list_templates", "load_catalog", "load_config",
    "load_role", "load_roles", "load_seed", "load_spec", "open_snapshot", "parse_roles", "parse_scope",
    "principal_access", "read_activity_logs", "read_document", "read_role_documents", "render_spec",
    "render_spec_by_key", "render_spec_revision", "render_template", "report", "resolve_role_argument",
    "resolve_roles", "rightsize", "usage", "validate_roles", "who_can", "write_files", "write_snapshot",
    "write_spec",
)
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from rbactool import api

        return getattr(api, name)
    raise AttributeError(f"module 'rbactool' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
