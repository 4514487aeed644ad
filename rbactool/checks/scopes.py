"""Assignable-scope rules for custom roles (built-in roles use the tenant root and are exempt)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rbactool.checks.context import CheckContext, q
from rbactool.errors import ScopeError
from rbactool.findings import Finding
from rbactool.scopes import MANAGEMENT_GROUP, RESOURCE, ROOT, parse_scope

MAX_ASSIGNABLE_SCOPES = 2000
_PLACEHOLDER_RE = re.compile(r"\$\{[^}/]*\}|\{\{[^}/]*\}\}|\{[^}/]*\}|<[^>/]*>")
_DUMMY_GUID = "00000000-0000-0000-0000-000000000000"


def _fill_placeholders(scope: str) -> str:
    """Replace placeholders with dummies of the right form, so the rest of the scope can be checked."""
    parts = scope.split("/")
    out = []
    for i, part in enumerate(parts):
        if _PLACEHOLDER_RE.search(part):
            prev = parts[i - 1].lower() if i else ""
            part = _DUMMY_GUID if prev == "subscriptions" else "placeholder"
        out.append(part)
    return "/".join(out)


def check_assignable_scopes(ctx: CheckContext) -> Iterator[Finding]:
    role = ctx.role
    if not role.is_custom:
        return
    base = role.field_pointer("assignable_scopes")
    scopes = role.assignable_scopes
    if len(scopes) > MAX_ASSIGNABLE_SCOPES:
        yield ctx.finding(
            "TOO_MANY_SCOPES",
            f"{len(scopes)} assignable scopes; Azure allows at most {MAX_ASSIGNABLE_SCOPES}: split the role",
            pointer=base,
        )
    mgs: list[str] = []
    mg_pointer = None
    for i, scope in enumerate(scopes):
        ptr = f"{base}/{i}"
        text = scope.strip()
        if text == "/":
            yield ctx.finding(
                "SCOPE_ROOT", "custom roles cannot use the root scope '/': use a management group or subscription",
                pointer=ptr, value=scope,
            )
            continue
        if "*" in text:
            yield ctx.finding("SCOPE_WILDCARD", f"remove the wildcard from scope {q(scope)}", pointer=ptr,
                              value=scope)
            continue
        if text.endswith("/"):
            yield ctx.finding("SCOPE_TRAILING_SLASH", f"remove the trailing '/' from scope {q(scope)}",
                              pointer=ptr, value=scope)
        checked = text
        if _PLACEHOLDER_RE.search(text):
            yield ctx.finding(
                "SCOPE_PLACEHOLDER",
                f"scope {q(scope)} contains a placeholder: replace it with a real id before creating the role",
                pointer=ptr, value=scope,
            )
            checked = _fill_placeholders(text)
        try:
            parsed = parse_scope(checked)
        except ScopeError as e:
            yield ctx.finding("SCOPE_MALFORMED", str(e), pointer=ptr, value=scope)
            continue
        if parsed.kind == ROOT:
            continue
        if parsed.kind == MANAGEMENT_GROUP:
            mgs.append(scope)
            mg_pointer = mg_pointer or ptr
            if len(mgs) == 2:
                yield ctx.finding(
                    "SCOPE_MULTIPLE_MANAGEMENT_GROUPS",
                    f"a custom role may name one management group; {q(mgs[0])} and {q(scope)} are two",
                    pointer=ptr, value=scope,
                )
        elif parsed.kind == RESOURCE:
            yield ctx.finding(
                "SCOPE_RESOURCE_LEVEL",
                f"resource-level scope {q(scope)}: use its resource group as assignable scope and assign the "
                "role at the resource (each resource-scoped role costs one of the tenant's 5000 custom roles)",
                pointer=ptr, value=scope,
            )
    if mgs and any(p.data_actions for p in role.permissions):
        yield ctx.finding(
            "DATA_ACTIONS_WITH_MANAGEMENT_GROUP",
            f"the role has DataActions and management group {q(mgs[0])} as assignable scope: it cannot be "
            "assigned at the management group itself, only at subscriptions and below",
            pointer=mg_pointer, value=mgs[0],
        )
