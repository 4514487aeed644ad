"""Structure checks on the parsed role: required fields, Azure's length limits, duplicates."""

from __future__ import annotations

from collections.abc import Iterator

from rbactool.checks.context import LIST_NAMES, PERMISSION_ATTRS, CheckContext, q
from rbactool.findings import Finding

MAX_NAME = 512
MAX_DESCRIPTION = 2048


def check_required_fields(ctx: CheckContext) -> Iterator[Finding]:
    role = ctx.role
    if not role.name.strip():
        yield ctx.finding("MISSING_NAME", "give the role a non-empty name", pointer=role.field_pointer("name"),
                          value=role.name)
    if role.is_custom and not role.assignable_scopes:
        yield ctx.finding(
            "MISSING_ASSIGNABLE_SCOPES",
            "add at least one assignable scope, e.g. /subscriptions/{subscriptionId}",
            pointer=role.field_pointer("assignable_scopes"),
        )
    if role.is_custom and not any(p.actions or p.data_actions for p in role.permissions):
        yield ctx.finding(
            "NO_PERMISSIONS",
            "the role grants nothing: add Actions or DataActions",
            pointer=role.pointer(0, "actions") if role.permissions else role.pointer(0),
        )


def check_is_custom(ctx: CheckContext) -> Iterator[Finding]:
    written = ctx.role.is_custom_written
    if written is not None:
        yield ctx.finding(
            "IS_CUSTOM_NOT_BOOLEAN",
            f"IsCustom is {q(written)}, not true or false: the az CLI ignores the field and creates a custom role; "
            "write true",
            pointer=f"{ctx.role.pointer_prefix}/IsCustom",
            value=written,
        )


def check_lengths(ctx: CheckContext) -> Iterator[Finding]:
    role = ctx.role
    if len(role.name) > MAX_NAME:
        yield ctx.finding(
            "NAME_TOO_LONG", f"role name is {len(role.name)} characters; Azure allows at most {MAX_NAME}",
            pointer=role.field_pointer("name"),
        )
    if len(role.description) > MAX_DESCRIPTION:
        yield ctx.finding(
            "DESCRIPTION_TOO_LONG",
            f"description is {len(role.description)} characters; Azure allows at most {MAX_DESCRIPTION}",
            pointer=role.field_pointer("description"),
        )


def check_duplicates(ctx: CheckContext) -> Iterator[Finding]:
    role = ctx.role
    for b, block in enumerate(role.permissions):
        for attr in PERMISSION_ATTRS:
            seen: dict[str, int] = {}
            for i, value in enumerate(getattr(block, attr)):
                key = value.strip().lower()
                if not key:
                    yield ctx.finding(
                        "EMPTY_PERMISSION_STRING",
                        f"remove the empty string from {LIST_NAMES[attr]}",
                        pointer=role.pointer(b, attr, i), value=value,
                    )
                    continue
                if key in seen:
                    yield ctx.finding(
                        "DUPLICATE_PERMISSION",
                        f"{q(value)} repeats {LIST_NAMES[attr]} entry {seen[key]}; remove it",
                        pointer=role.pointer(b, attr, i), value=value,
                    )
                else:
                    seen[key] = i
    seen_scopes: dict[str, int] = {}
    for i, scope in enumerate(role.assignable_scopes):
        key = scope.rstrip("/").lower() or "/"
        if key in seen_scopes:
            yield ctx.finding(
                "DUPLICATE_ASSIGNABLE_SCOPE",
                f"scope {q(scope)} repeats assignable scope {seen_scopes[key]}; remove it",
                pointer=f"{role.field_pointer('assignable_scopes')}/{i}", value=scope,
            )
        else:
            seen_scopes[key] = i


def check_conditions(ctx: CheckContext) -> Iterator[Finding]:
    role = ctx.role
    for b, block in enumerate(role.permissions):
        if block.condition and not block.condition_version:
            yield ctx.finding(
                "CONDITION_WITHOUT_VERSION",
                'add "conditionVersion": "2.0" next to the condition',
                pointer=role.pointer(b),
            )
