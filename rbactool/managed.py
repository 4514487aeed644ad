"""Which spec manages an object in Azure: a marker in its description, ``[managed by rbactool: <spec>]``.

``apply`` writes the marker (for the spec it applies) into the descriptions of the role
definitions and role assignments it creates or updates; ``plan --prune`` only ever deletes objects
carrying *its own* spec's marker, so two specs (or imperative ``rbactool create``/``assign``) in one
subscription never delete each other's work. No state file is needed.
"""

from __future__ import annotations

import re

_MARKER_RE = re.compile(r"\s*\[managed by rbactool(?::\s*([^\]]*))?\]")


def marker(spec_id: str) -> str:
    return f"[managed by rbactool: {spec_id}]"


def strip_marker(description: str | None) -> str:
    return _MARKER_RE.sub("", description or "").strip()


def with_marker(description: str | None, spec_id: str) -> str:
    text = strip_marker(description)
    return f"{text} {marker(spec_id)}" if text else marker(spec_id)


def owner(description: str | None) -> str | None:
    """The spec named by the marker, "" for an unnamed marker, None without one."""
    m = _MARKER_RE.search(description or "")
    return None if m is None else (m.group(1) or "").strip()


def carry_marker(description: str | None, previous: str | None) -> str | None:
    """*description* keeping the marker *previous* carries, if any: a new text never drops the owner."""
    m = _MARKER_RE.search(previous or "")
    if m is None:
        return description
    text = strip_marker(description)
    mark = m.group(0).strip()
    return f"{text} {mark}" if text else mark
