"""The real-world agreement corpus (tests/data/realworld): its manifest, and how one rbactool
`validate --format json` answer is turned into the two judgments the corpus records (ERROR and
SECURITY_WARNING). Shared by tests/test_realworld_corpus.py, tests/test_realworld_manifest.py and
bench/bench_agreement.py, so the test and the bench count agreement the same way."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

CORPUS = Path(__file__).resolve().parent / "data" / "realworld"
MANIFEST = CORPUS / "MANIFEST.yaml"
REDISTRIBUTABLE = {"MIT", "Apache-2.0", "MPL-2.0", "CC-BY-4.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD"}
JUDGMENTS = ("error", "security")
MIN_AGREEMENT = 0.95


def load_manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def entries() -> list[dict]:
    return load_manifest()["entries"]


def verdict(exit_code: int, stdout: str) -> dict:
    """rbactool's judgments for one file. A file rbactool refuses to read (exit 3, no JSON report)
    counts as an ERROR judgment: rbactool said the file is not acceptable."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return {"error": exit_code != 0, "security": False, "codes": set(), "unreadable": True}
    findings = report.get("findings", [])
    return {
        "error": any(f.get("type") == "ERROR" for f in findings),
        "security": any(f.get("type") == "SECURITY_WARNING" for f in findings),
        "codes": {f.get("code") for f in findings},
        "unreadable": False,
    }


def disagreements(entry: dict, got: dict) -> list[str]:
    """Which expectations of one entry rbactool's verdict does not meet."""
    expect = entry["expect"]
    out = [f"{j}: expected {expect[j]}, got {got[j]}" for j in JUDGMENTS if expect[j] != got[j]]
    missing = sorted(set(expect.get("codes", [])) - got["codes"])
    if missing:
        out.append(f"codes missing: {missing}")
    return out


def confusion(pairs: list[tuple[bool, bool]]) -> dict:
    """pairs of (expected, predicted) -> TP/FP/TN/FN and agreement."""
    tp = sum(1 for e, p in pairs if e and p)
    fp = sum(1 for e, p in pairs if not e and p)
    tn = sum(1 for e, p in pairs if not e and not p)
    fn = sum(1 for e, p in pairs if e and not p)
    return {"TP": tp, "FP": fp, "TN": tn, "FN": fn, "agreement": (tp + tn) / len(pairs) if pairs else 1.0}
