"""Risk classes of operations: which concrete operations escalate privilege, expose credentials,
run code or destroy (pure data and one cached classifier; no catalog, no role).

The classes are reviewed data, ``rbactool/data/risk-classes.json``: one entry per operation
pattern, with its class, kind, a one-line justification and a source (``tests/test_risk_data.py``
checks every entry against the catalog). A pattern follows ARM's matching (case-insensitive,
``*`` = any run of characters including ``/``, whole name); kind is ``"action"``, ``"data"`` or
``"any"``. To add a risky operation, add an entry. The risk checks (``rbactool.checks.risk``),
``explain`` and ``diff`` all classify through ``risk_classes``.

The file is read once, on the first classification, into an index (exact names, ``*/suffix``
patterns by suffix, the few others as prefix and suffix), so classifying an operation is a
handful of dict lookups and no regular expression.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "CREDENTIAL_EXPOSURE", "DESTRUCTIVE", "PRIVILEGE_ESCALATION", "REMOTE_EXECUTION", "RISK_CLASSES", "RiskEntry",
    "risk_classes", "risk_entries",
]

PRIVILEGE_ESCALATION = "privilege-escalation"
CREDENTIAL_EXPOSURE = "credential-exposure"
REMOTE_EXECUTION = "remote-execution"
DESTRUCTIVE = "destructive"

#: Risk classes in reporting order.
RISK_CLASSES = (PRIVILEGE_ESCALATION, CREDENTIAL_EXPOSURE, REMOTE_EXECUTION, DESTRUCTIVE)
_KINDS = ("action", "data", "any")
DATA_FILE = "risk-classes.json"


@dataclass(frozen=True)
class RiskEntry:
    pattern: str
    cls: str
    kind: str  # "action" | "data" | "any"
    why: str
    source: str
    forward_looking: bool = False


def _read() -> dict:
    return json.loads((resources.files("rbactool") / "data" / DATA_FILE).read_text("utf-8"))


def load_entries(doc: dict) -> tuple[RiskEntry, ...]:
    """The entries of a risk-classes document; ValueError naming the entry when one is malformed."""
    if doc.get("schema_version") != 1:
        raise ValueError(f"{DATA_FILE}: schema_version {doc.get('schema_version')!r} is not supported")
    out = []
    for i, row in enumerate(doc["entries"]):
        entry = RiskEntry(row["pattern"], row["class"], row["kind"], row["why"], row["source"],
                          bool(row.get("forward_looking", False)))
        if entry.cls not in RISK_CLASSES or entry.kind not in _KINDS or entry.pattern.count("*") > 1:
            raise ValueError(f"{DATA_FILE}: entry {i} ({entry.pattern}) has an unknown class or kind, or two '*'")
        out.append(entry)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def risk_entries() -> tuple[RiskEntry, ...]:
    """Every entry of the shipped risk-classes file (read once)."""
    return load_entries(_read())


class _Index:
    """Entries of one kind (actions or data actions), by how their pattern can match a name."""

    def __init__(self, entries: tuple[RiskEntry, ...], data: bool):
        self.exact: dict[str, set[str]] = {}
        self.suffix: dict[str, set[str]] = {}  # "*/listkeys/action" -> {"/listkeys/action": ...}
        self.other: list[tuple[str, str, str]] = []  # (prefix, suffix, class) for "pre*suf"
        for e in entries:
            if e.kind != "any" and (e.kind == "data") != data:
                continue
            low = e.pattern.lower()
            if "*" not in low:
                self.exact.setdefault(low, set()).add(e.cls)
                continue
            pre, suf = low.split("*")
            if not pre and suf.startswith("/"):
                self.suffix.setdefault(suf, set()).add(e.cls)
            else:
                self.other.append((pre, suf, e.cls))
        #: The most segments a suffix pattern has: only that many trailing segments are looked up.
        self.depth = max((k.count("/") for k in self.suffix), default=0)

    def classes(self, low: str) -> set[str]:
        hit = self.exact.get(low)
        found: set[str] = set(hit) if hit else set()
        j = len(low)
        for _ in range(self.depth):  # "/c", "/b/c", "/a/b/c": the suffixes starting at a segment boundary
            j = low.rfind("/", 0, j)
            if j < 0:
                break
            hit = self.suffix.get(low[j:])
            if hit:
                found |= hit
        for pre, suf, cls in self.other:
            if len(low) >= len(pre) + len(suf) and low.startswith(pre) and low.endswith(suf):
                found.add(cls)
        return found


@functools.lru_cache(maxsize=2)
def _index(data: bool) -> _Index:
    return _Index(risk_entries(), data)


@functools.lru_cache(maxsize=65536)
def risk_classes(operation_name: str, is_data_action: bool = False) -> tuple[str, ...]:
    """The risk classes of one concrete operation (case-insensitive), in ``RISK_CLASSES`` order."""
    found = _index(bool(is_data_action)).classes(operation_name.lower())
    return tuple(c for c in RISK_CLASSES if c in found) if found else ()
