"""The grammar of a permission string (Azure's rules, no catalog needed)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from rbactool.checks.context import CheckContext, q
from rbactool.findings import Finding

_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+$")
_WILD_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9.*-]+$")
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9._\-:{}$*]+$")
_SPACE_RE = re.compile(r"\s")


@functools.lru_cache(maxsize=16384)
def grammar_problem(value: str, attr: str) -> tuple[str, str] | None:
    """(code, message) for the first grammar problem of a stripped permission string, else None.

    Empty strings are reported by the structure checks and return None here only when not empty.
    """
    if not value:
        return ("EMPTY_PERMISSION_STRING", "empty permission string")
    if _SPACE_RE.search(value):
        return ("WHITESPACE_IN_PERMISSION", f"remove the whitespace from {q(value)}")
    if value.count("*") > 1:
        return ("MULTIPLE_WILDCARDS", f"{q(value)} has {value.count('*')} wildcards; Azure allows one per string")
    if value == "*":
        if attr.startswith("not_"):  # `*` in DataActions is all data access: ALL_DATA_ACTIONS (risk checks)
            return (
                "BARE_WILDCARD_OUTSIDE_ACTIONS",
                "`*` alone subtracts everything its permission block grants of that kind; list what to subtract",
            )
        return None
    segments = value.split("/")
    namespace = segments[0]
    ns_ok = _WILD_NAMESPACE_RE.match(namespace) if "*" in namespace else _NAMESPACE_RE.match(namespace)
    if not ns_ok:
        return (
            "ACTION_SYNTAX",
            f"{q(value)} must start with a provider namespace such as Microsoft.Compute/",
        )
    if len(segments) < 2:
        return ("ACTION_SYNTAX", f"{q(value)} names a namespace but no operation: add /resourceType/operation or /*")
    if segments[-1] == "" and "" not in segments[1:-1] and len(segments) > 2:
        return ("TRAILING_SLASH", f"{q(value)} ends with '/': it names no operation; remove the slash or "
                "complete the operation name")
    for seg in segments[1:]:
        if seg == "":
            return ("ACTION_SYNTAX", f"{q(value)} has an empty segment ('//' or a trailing '/')")
        if not _SEGMENT_RE.match(seg):
            return ("ACTION_SYNTAX", f"{q(value)} has an invalid segment {q(seg)}")
    return None


def well_formed(ctx: CheckContext) -> frozenset[tuple[int, str, int]]:
    """(block, attr, index) of the role's strings that pass the grammar (catalog and risk checks
    skip the rest: a malformed string is an ERROR already). Computed once per context."""
    return ctx.memo("grammar.well_formed", lambda: frozenset(
        (s.block, s.attr, s.index) for s in ctx.strings() if grammar_problem(s.value.strip(), s.attr) is None
    ))


def check_permission_strings(ctx: CheckContext) -> Iterator[Finding]:
    for s in ctx.strings():
        stripped = s.value.strip()
        if not stripped:
            continue  # EMPTY_PERMISSION_STRING comes from the structure checks
        if stripped != s.value:
            yield ctx.finding(
                "SURROUNDING_WHITESPACE", f"remove the blanks around {q(stripped)} in {s.list_name}",
                pointer=ctx.pointer(s), value=s.value,
            )
        problem = grammar_problem(stripped, s.attr)
        if problem is not None:
            code, message = problem
            yield ctx.finding(code, f"{s.list_name}: {message}", pointer=ctx.pointer(s), value=s.value)
