"""Role-name checks: Entra directory role names, clashes with built-in role names."""

from __future__ import annotations

from collections.abc import Iterator

from rbactool.checks.context import CheckContext, q
from rbactool.findings import Finding

#: Microsoft Entra (directory) built-in role names that people mistake for Azure RBAC roles.
#: Names that are *also* Azure RBAC built-in roles (e.g. "Security Reader") are excluded at runtime.
ENTRA_ROLE_NAMES = (
    "Global Administrator", "Global Reader", "Company Administrator", "Directory Readers",
    "Directory Writers", "Directory Synchronization Accounts", "User Administrator",
    "Privileged Role Administrator", "Privileged Authentication Administrator", "Application Administrator",
    "Cloud Application Administrator", "Application Developer", "Authentication Administrator",
    "Groups Administrator", "Helpdesk Administrator", "Password Administrator", "Exchange Administrator",
    "SharePoint Administrator", "Teams Administrator", "Intune Administrator", "Billing Administrator",
    "Conditional Access Administrator", "Security Operator", "Compliance Administrator",
    "Hybrid Identity Administrator", "License Administrator", "Guest Inviter", "Reports Reader",
)
#: Distinctive Entra phrases matched anywhere in a name.
_ENTRA_PHRASES = ("global administrator", "global admin", "global reader", "directory reader",
                  "directory writer", "company administrator", "privileged role administrator")


#: Bidirectional-text controls: they reorder how a name or description displays.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(c: str) -> bool:
    import unicodedata

    return unicodedata.category(c) == "Cc"


def _codepoints(chars: list[str]) -> str:
    return ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in chars))


def check_control_characters(ctx: CheckContext) -> Iterator[Finding]:
    """Names: any control or invisible formatting character (Cc, Cf) is an ERROR. Descriptions:
    control characters other than tab and line breaks, and direction overrides, are a WARNING
    (zero-width joiners are legitimate in some scripts and emoji)."""
    import unicodedata

    role = ctx.role
    if role.name.isprintable() and role.description.isprintable():
        return  # no Cc or Cf character in either (str.isprintable is False for both categories)
    bad = [c for c in role.name if unicodedata.category(c) in ("Cc", "Cf")]
    if bad:
        yield ctx.finding(
            "NAME_CONTROL_CHARACTER",
            f"the role name {q(role.name)} holds {len(bad)} control or invisible character(s) "
            f"({_codepoints(bad)}): remove them",
            pointer=role.field_pointer("name"), value=role.name,
        )
    bad = [c for c in role.description if _is_control(c) and c not in "\t\n\r" or c in _BIDI]
    if bad:
        yield ctx.finding(
            "DESCRIPTION_CONTROL_CHARACTER",
            f"the description holds {len(bad)} control character(s) ({_codepoints(bad)}): remove them",
            pointer=role.field_pointer("description"),
        )


def _builtin_names() -> frozenset[str]:
    from rbactool.builtins import load_builtin_roles

    return load_builtin_roles().names()


def check_entra_role_name(ctx: CheckContext) -> Iterator[Finding]:
    name = " ".join(ctx.role.name.split()).lower()
    if not name or not ctx.role.is_custom:
        return
    exact = next((n for n in ENTRA_ROLE_NAMES if n.lower() == name), None)
    phrase = next((p for p in _ENTRA_PHRASES if p in name), None)
    if exact is None and phrase is None:
        return
    if exact is not None and name in _builtin_names():
        return
    like = exact or phrase
    yield ctx.finding(
        "ENTRA_ROLE_NAME",
        f"{q(ctx.role.name)} reads like the Microsoft Entra directory role {q(like)}: an Azure RBAC role "
        "grants access to Azure resources, not to the directory; rename it, or assign the Entra role in "
        "Microsoft Entra ID instead",
        pointer=ctx.role.field_pointer("name"), value=ctx.role.name,
    )


def check_builtin_name_clash(ctx: CheckContext) -> Iterator[Finding]:
    role = ctx.role
    if not role.is_custom or not role.name.strip():
        return
    from rbactool.builtins import load_builtin_roles

    builtins = load_builtin_roles()
    if not builtins.has_name(role.name.strip()):
        return
    builtin_id = builtins.id_of(role.name.strip())
    if role.role_id and builtin_id and role.role_id.lower() == builtin_id.lower():
        return
    yield ctx.finding(
        "BUILTIN_NAME_CLASH",
        f"{q(role.name)} is the name of a built-in role; ARM refuses a custom role with it: choose another name",
        pointer=role.field_pointer("name"), value=role.name,
    )
