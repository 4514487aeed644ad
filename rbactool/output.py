"""Formatters for validation reports and the rules registry: text, JSON, SARIF 2.1.0.

Pure functions returning strings; nothing here prints. The JSON output is a public API: it has a
top-level ``schema_version``, sorted keys and a stable order of findings.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from rbactool import __version__
from rbactool.findings import RULES, TYPES, Finding, rules_table
from rbactool.validate import Report

REPORT_SCHEMA_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/rbactool/rbactool"

Style = Callable[[str, str], str]  # (text, finding type or "dim"/"bold") -> styled text


def _plain(text: str, _kind: str) -> str:
    return text


def _finding_dict(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "code": f.code,
        "type": f.type,
        "title": f.title,
        "message": f.message,
        "file": loc.file,
        "role": loc.role,
        "pointer": loc.pointer,
        "value": loc.value,
        "operations": list(f.operations),
    }


def report_dict(report: Report, *, catalog_origin: str | None = None) -> dict[str, Any]:
    counts = report.counts()
    summary = {t.lower(): counts[t] for t in TYPES}
    summary.update(files=len(report.files), roles=report.roles_checked, suppressed=len(report.suppressed),
                   unreadable=len(report.unreadable))
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "rbactool", "version": __version__},
        "catalog": {"snapshot_date": report.catalog_snapshot, "origin": catalog_origin},
        "fail_on": report.fail_on.lower().replace("_", "-") if report.fail_on else "none",
        "failed": report.failed(),
        "summary": summary,
        "files": list(report.files),
        "inputs": [{"file": i.file, "shape": i.shape, "roles": i.roles, "error": i.error,
                    "role_definitions": [{"name": n, "pointer": p} for n, p in i.pointers]} for i in report.inputs],
        "findings": [_finding_dict(f) for f in report.findings],
        "suppressed": [
            {**_finding_dict(s.finding), "reason": s.reason, "suppressed_by": s.by} for s in report.suppressed
        ],
    }


def format_json(report: Report, *, catalog_origin: str | None = None) -> str:
    return json.dumps(report_dict(report, catalog_origin=catalog_origin), indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: Report) -> str:
    counts = report.counts()
    parts = [_plural(counts[t], t.lower().replace("_", " ")) for t in TYPES]
    line = f"{_plural(len(report.files), 'file')}, {_plural(report.roles_checked, 'role')}: {', '.join(parts)}"
    if report.suppressed:
        line += f" ({len(report.suppressed)} suppressed)"
    if report.unreadable:
        line += f"; {_plural(len(report.unreadable), 'file')} could not be read"
    return line


def shape_words(shape: str | None) -> str:
    """How a document shape (``documents.DOCUMENT_SHAPES``) reads in text output."""
    from rbactool.documents import SHAPE_WORDS

    return "unreadable" if shape is None else SHAPE_WORDS.get(shape, shape)


def input_lines(report: Report, style: Style = _plain) -> list[str]:
    """One line per input that is not a plain role file (templates, Terraform, unreadable files)."""
    out = []
    for i in report.inputs:
        if i.shape in ("az", "az-list", "roles-spec"):
            continue
        detail = f"{_plural(i.roles, 'role')}" if i.shape is not None else "could not be read"
        out.append(style(f"{i.file}: {shape_words(i.shape)}, {detail}", "dim"))
    return out


def format_text(report: Report, *, style: Style = _plain, show_suppressed: bool = False) -> str:
    """What each non-role-file input was read as, findings grouped by file and role, then one
    summary line."""
    lines: list[str] = input_lines(report, style)
    at = {(i.file, name): p for i in report.inputs for name, p in i.pointers if p != "/"}
    last_file: object = object()
    last_role: object = object()
    for f in report.findings:
        loc = f.location
        if loc.file != last_file:
            lines.append(style(loc.file or "(run)", "bold"))
            last_file, last_role = loc.file, object()
        if loc.role != last_role:
            if loc.role is not None:
                where_role = f" at {at[loc.file, loc.role]}" if (loc.file, loc.role) in at else ""
                lines.append("  " + style(f"role {loc.role!r}", "bold") + style(where_role, "dim"))
            last_role = loc.role
        where = f" {loc.pointer}" if loc.pointer else ""
        lines.append(f"    {style(f.type, f.type)} {f.code}{style(where, 'dim')}: {f.message}")
    if show_suppressed and report.suppressed:
        lines.append(style("suppressed:", "bold"))
        for s in report.suppressed:
            f = s.finding
            lines.append(f"    {f.type} {f.code} {f.location.file or ''}{f.location.pointer or ''}: {s.reason}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def format_rules_text() -> str:
    out = []
    for r in rules_table():
        out.append(f"{r['code']}  [{r['type']}, {r['group']}]  {r['title']}")
        out.append(f"    {r['explanation']}")
        out.append(f"    based on: {r['basis']}: {r['based_on']}")
    return "\n".join(out) + "\n"


def format_rules_json() -> str:
    return json.dumps({"schema_version": REPORT_SCHEMA_VERSION, "rules": rules_table()}, indent=2,
                      sort_keys=True) + "\n"


# --------------------------------------------------------------------------- SARIF

_SARIF_LEVEL = {"ERROR": "error", "SECURITY_WARNING": "warning", "WARNING": "warning", "SUGGESTION": "note"}
_SECURITY_SEVERITY = {"ERROR": "7.0", "SECURITY_WARNING": "8.0", "WARNING": "4.0", "SUGGESTION": "1.0"}


def format_sarif(
    report: Report,
    *,
    texts: Mapping[str, str] | None = None,
    uri_of: Callable[[str], str] | None = None,
) -> str:
    """SARIF 2.1.0 for GitHub code scanning. *texts* maps a file to its JSON text (for line numbers)."""
    texts = texts or {}
    uri_of = uri_of or file_uri
    used = sorted({f.code for f in report.findings} | {s.finding.code for s in report.suppressed})
    rule_index = {code: i for i, code in enumerate(used)}
    rules = []
    for code in used:
        r = RULES[code]
        rules.append({
            "id": code,
            "name": "".join(w.capitalize() for w in code.split("_")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.explanation},
            "help": {"text": r.explanation, "markdown": f"**{r.title}** ({r.type})\n\n{r.explanation}"},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.type]},
            "properties": {"tags": [r.group, r.type.lower()], "security-severity": _SECURITY_SEVERITY[r.type],
                           "basis": r.basis, "based_on": r.based_on},
        })
    line_maps: dict[str, dict[str, tuple[int, int]]] = {}
    fallback_file = next((f for f in report.files if f != "-"), None)

    def result(f: Finding, suppression: tuple[str, str] | None) -> dict[str, Any]:
        loc = f.location
        res: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": rule_index[f.code],
            "level": _SARIF_LEVEL[f.type],
            "message": {"text": f.message},
            "properties": {"type": f.type, "role": loc.role, "pointer": loc.pointer, "value": loc.value,
                           "operations": list(f.operations)},
            "partialFingerprints": {"rbactool/v1": _fingerprint(f)},
        }
        # GitHub code scanning wants a location on every result: run-level findings (catalog age)
        # and findings on standard input are placed at line 1 of the first named input file.
        file = loc.file if loc.file and loc.file != "-" else fallback_file
        if file:
            region = {"startLine": 1}
            text = texts.get(file) if file == loc.file else None
            if text is not None and loc.pointer:
                if file not in line_maps:
                    line_maps[file] = json_pointer_positions(text)
                pos = _nearest(line_maps[file], loc.pointer)
                if pos:
                    region = {"startLine": pos[0], "startColumn": pos[1]}
            res["locations"] = [{
                "physicalLocation": {"artifactLocation": {"uri": uri_of(file)}, "region": region},
                "logicalLocations": [{"name": loc.role or "", "kind": "object"}] if loc.role else [],
            }]
            if not res["locations"][0]["logicalLocations"]:
                del res["locations"][0]["logicalLocations"]
        if suppression is not None:
            res["suppressions"] = [{"kind": "external", "justification": suppression[0],
                                    "properties": {"suppressed_by": suppression[1]}}]
        return res

    results = [result(f, None) for f in report.findings]
    results += [result(s.finding, (s.reason, s.by)) for s in report.suppressed]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rbactool", "version": __version__, "informationUri": INFORMATION_URI,
                                "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
            # A file that could not be read makes the run unsuccessful (exit 3), after every result.
            "invocations": [{
                "executionSuccessful": not report.unreadable,
                "toolExecutionNotifications": [{
                    "level": "error", "descriptor": {"id": "FILE_UNREADABLE"},
                    "message": {"text": f"{i.file}: {i.error}"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri_of(i.file)}}}],
                } for i in report.unreadable],
            }],
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def file_uri(path: str) -> str:
    """A SARIF artifact URI: relative to the current directory when the file is below it (what GitHub
    code scanning maps to the repository), else an absolute file:// URI."""
    from pathlib import Path
    from urllib.parse import quote

    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return p.resolve().as_uri() if p.is_absolute() else quote(p.as_posix())
    return quote(rel.as_posix())


def _fingerprint(f: Finding) -> str:
    import hashlib

    loc = f.location
    key = "|".join([f.code, loc.role or "", loc.pointer or "", loc.value or ""])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _nearest(positions: Mapping[str, tuple[int, int]], pointer: str) -> tuple[int, int] | None:
    p = pointer
    while True:
        if p in positions:
            return positions[p]
        if "/" not in p:
            return positions.get("")
        p = p.rsplit("/", 1)[0]


# --------------------------------------------------------------------------- JSON positions

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


def json_pointer_positions(text: str) -> dict[str, tuple[int, int]]:
    """JSON pointer -> (line, column), both 1-based, of every value in a JSON document.

    Best effort: on malformed input it returns what it found so far.
    """
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    out: dict[str, tuple[int, int]] = {}

    def pos(i: int) -> tuple[int, int]:
        line = bisect.bisect_left(newlines, i)
        start = newlines[line - 1] + 1 if line else 0
        return (line + 1, i - start + 1)

    def ws(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr]

    def value(i: int, ptr: str) -> int:
        i = ws(i)
        out[ptr] = pos(i)
        ch = text[i]
        if ch == "{":
            i = ws(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                i = ws(i)
                key, i = json.decoder.scanstring(text, i + 1)
                i = ws(i)
                i = value(i + 1, ptr + "/" + key.replace("~", "~0").replace("/", "~1"))  # skip ':'
                i = ws(i)
                if text[i] == "}":
                    return i + 1
                i += 1  # ','
        if ch == "[":
            i = ws(i + 1)
            if text[i] == "]":
                return i + 1
            n = 0
            while True:
                i = value(i, f"{ptr}/{n}")
                n += 1
                i = ws(i)
                if text[i] == "]":
                    return i + 1
                i += 1
        if ch == '"':
            return json.decoder.scanstring(text, i + 1)[1]
        m = _SCALAR.match(text, i)
        if not m:
            raise ValueError(f"unexpected {ch!r} at {i}")
        return m.end()

    try:
        start = 1 if text.startswith("\ufeff") else 0
        value(start, "")
    except (ValueError, IndexError):
        pass
    return out


# --------------------------------------------------------------------------- the gate (stderr lines)

#: How many blocking or notable findings the gate lists before '... and N more'.
GATE_MAX_SHOWN = 10


def gate_announcement(config, *, no_config: bool = False, catalog_source=None) -> str:
    """The gate's one line, the same for every command: ``using config .rbactool.yaml (2 ignores,
    0 severity overrides), fail-on error, catalog packaged``."""
    from rbactool.config import describe_config
    from rbactool.errors import fail_on_label

    catalog = f", catalog {catalog_source.describe()}" if catalog_source is not None else ""
    return f"using {describe_config(config, no_config=no_config)}, fail-on {fail_on_label(config.fail_on)}{catalog}"


def format_gate_findings(report: Report, max_shown: int = GATE_MAX_SHOWN) -> list[str]:
    """What blocks, then any other ERROR, SECURITY_WARNING or WARNING, one line each (at most *max_shown*),
    and how many the config suppressed."""
    shown = [*report.blocking(), *report.notable()]
    lines = []
    for f in shown[:max_shown]:
        role = f" [{f.location.role}]" if f.location.role else ""
        lines.append(f"{f.type} {f.code}{role}: {f.message}")
    if len(shown) > max_shown:
        lines.append(f"  ... and {len(shown) - max_shown} more (see `rbactool validate`)")
    if report.suppressed:
        lines.append(f"  ({len(report.suppressed)} finding(s) suppressed by the config)")
    return lines


def format_gate_forced(report: Report) -> str:
    from rbactool.errors import fail_on_label

    return f"--force: going on despite {len(report.blocking())} finding(s) at or above {fail_on_label(report.fail_on)}"


# --------------------------------------------------------------------------- explain


def format_explain_text(data: dict) -> str:
    """The text form of ``explain_data``'s result (what `rbactool explain` prints)."""
    lines = []
    if data.get("shape") and data["shape"] not in ("az", "arm", "az-list"):
        lines.append(f"{data['target']}: {shape_words(data['shape'])}, {len(data['roles'])} role(s)")
    for r in data["roles"]:
        title = r["role"] if data["kind"] == "roles" else f"permission string {r['role']!r}"
        at = f"  at {r['pointer']}" if r.get("pointer") else ""
        lines.append(f"{title}{' (built-in)' if r['builtin'] else ''}{at}")
        for p in r["patterns"]:
            if data["kind"] == "pattern" and not p["operations"] and not p["removed"]:
                continue
            cond = " [conditional]" if p["condition"] else ""
            lines.append(f"  {p['list']}: {p['pattern']}{cond}  -> {len(p['operations'])} operation(s)"
                         + (f", {len(p['removed'])} removed by Not{p['list']}" if p["removed"] else ""))
            for op in p["operations"]:
                risk = f"  [{', '.join(op['risk_classes'])}]" if op["risk_classes"] else ""
                kind = "data" if op["data_action"] else "action"
                name = f"  {op['display_name']}" if op["display_name"] else ""
                lines.append(f"      {op['name']}  ({kind}){risk}{name}")
            for op in p["removed"]:
                lines.append(f"    - {op['name']}  (removed)")
        if data["kind"] == "pattern" and not any(p["operations"] or p["removed"] for p in r["patterns"]):
            lines.append(f"  matches no operation in the catalog (snapshot {data['catalog']['snapshot_date']}); "
                         "check the spelling, or the provider may have operations the catalog lacks")
        if r["unresolved"]:
            lines.append("  not in the catalog (granted as written if Azure knows them):")
            lines.extend(f"      {u}" for u in r["unresolved"])
        t = r["totals"]
        risk = "".join(f", {n} {cls}" for cls, n in t.items() if cls not in ("actions", "data_actions", "removed"))
        lines.append(f"  total: {t['actions']} action(s), {t['data_actions']} data action(s), "
                     f"{t['removed']} removed by NotActions{risk}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
