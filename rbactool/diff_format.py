"""Formatters for role diffs: text (terminal, optional colour), markdown (pull-request comment)
and JSON (a public API with ``schema_version``). Pure functions returning strings.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

from rbactool.diff import (
    ADDED,
    REMOVED,
    SCHEMA_VERSION,
    UNCHANGED,
    CatalogNote,
    ConditionChange,
    DiffReport,
    EffectiveOperation,
    FieldChange,
    ListChange,
    RoleDiff,
    ScopeWidening,
)
from rbactool.model import PERMISSION_FIELDS

#: Lists longer than this are folded into <details> in markdown.
DETAILS_THRESHOLD = 10
#: Longest value (name, description, condition, permission string, scope) the text and markdown
#: formats show whole, and the JSON format. Longer ones (a hostile file's megabyte description)
#: are cut: an excerpt from just before the first difference, with both lengths.
TEXT_VALUE_LIMIT = 512
JSON_VALUE_LIMIT = 4096

_LISTS = tuple((attr, pascal) for attr, _, pascal in PERMISSION_FIELDS)

Style = Callable[[str, str], str]  # (text, kind) -> styled text


def _printable(text: str) -> str:
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


def _cut(text: str | None, n: int = TEXT_VALUE_LIMIT) -> str:
    """One value for display: control characters escaped, and cut to *n* characters (saying how long)."""
    if text is None:
        return ""
    if len(text) > n:
        return f"{_printable(text[:n])}... ({len(text):,} characters)"
    return _printable(text)


def _pair(old: str | None, new: str | None, n: int) -> tuple[str, str, str]:
    """An old and a new value for display: (old, new, "") whole when both are short; else excerpts
    of *n* characters starting a little before the first difference, and a note with the lengths."""
    old, new = old or "", new or ""
    if len(old) <= n and len(new) <= n:
        return _printable(old), _printable(new), ""
    first = len(os.path.commonprefix([old, new]))
    start = max(0, first - n // 4)

    def excerpt(text: str) -> str:
        part = _printable(text[start:start + n])
        return ("..." if start else "") + part + ("..." if start + n < len(text) else "")

    note = f"{len(old):,} -> {len(new):,} characters, first difference at character {first + 1:,}"
    return excerpt(old), excerpt(new), note


def _plain(text: str, _kind: str) -> str:
    return text


def click_style(text: str, kind: str) -> str:
    """Colours for the text format (only used when colour is asked for or stdout is a terminal)."""
    import click

    if kind == "add":
        return click.style(text, fg="green")
    if kind == "remove":
        return click.style(text, fg="red")
    if kind == "warn":
        return click.style(text, fg="yellow")
    if kind == "risk":
        return click.style(text, fg="magenta", bold=True)
    if kind == "dim":
        return click.style(text, dim=True)
    if kind == "bold":
        return click.style(text, bold=True)
    return text


# --------------------------------------------------------------------------- JSON


def _field_dict(fc: FieldChange | None) -> dict | None:
    if fc is None:
        return None
    out: dict[str, Any] = {"old": fc.old, "new": fc.new, "cosmetic": fc.cosmetic}
    if len(fc.old or "") > JSON_VALUE_LIMIT or len(fc.new or "") > JSON_VALUE_LIMIT:
        old, new, _ = _pair(fc.old, fc.new, JSON_VALUE_LIMIT)
        out.update(old=old, new=new, truncated=True, old_length=len(fc.old or ""), new_length=len(fc.new or ""))
    return out


def _list_dict(ch: ListChange) -> dict:
    return {
        "added": list(ch.added),
        "removed": list(ch.removed),
        "cosmetic": [{"old": c.old, "new": c.new} for c in ch.cosmetic],
    }


def _condition_dict(cc: ConditionChange | None) -> dict | None:
    if cc is None:
        return None
    out: dict[str, Any] = {
        "block": cc.block, "kind": cc.kind, "old": cc.old, "new": cc.new,
        "old_version": cc.old_version, "new_version": cc.new_version,
        "possibly_new_access": cc.possibly_new_access,
    }
    if len(cc.old or "") > JSON_VALUE_LIMIT or len(cc.new or "") > JSON_VALUE_LIMIT:
        old, new, _ = _pair(cc.old, cc.new, JSON_VALUE_LIMIT)
        out.update(old=old if cc.old is not None else None, new=new if cc.new is not None else None,
                   truncated=True, old_length=len(cc.old or ""), new_length=len(cc.new or ""))
    return out


def _op_dict(op: EffectiveOperation) -> dict:
    return {
        "name": op.name, "display_name": op.display_name, "data_action": op.data_action,
        "risk_classes": list(op.risk_classes), "provider": op.provider, "known": op.known,
        "conditional": op.conditional, "note": op.note or None,
    }


def _note_dict(n: CatalogNote) -> dict:
    return {
        "pattern": n.pattern, "list": n.list, "change": n.change, "namespace": n.namespace, "as_of": n.as_of,
        "reason": n.reason, "message": n.message, "may_grant_more": n.may_grant_more,
    }


def role_diff_dict(d: RoleDiff) -> dict[str, Any]:
    sc = d.assignable_scopes
    return {
        "name": d.display_name,
        "old_name": d.old.name if d.old else None,
        "new_name": d.new.name if d.new else None,
        "role_id": (d.new.role_id if d.new and d.new.role_id else d.old.role_id if d.old else None),
        "source": {"old": d.old.source if d.old else None, "new": d.new.source if d.new else None},
        "status": d.status,
        "verdict": d.verdict,
        "grants_new_access": d.grants_new_access,
        "possible_new_access": list(d.possible_new_access),
        "removes_access": d.removes_access,
        "cosmetic_only": d.cosmetic_only,
        "summary": d.summary(),
        "literal": {
            "name": _field_dict(d.name),
            "description": _field_dict(d.description),
            "role_id": _field_dict(d.role_id),
            "permissions": [
                {
                    "block": b.block,
                    "lists": {pascal: _list_dict(b.get(attr)) for attr, pascal in _LISTS if b.get(attr)},
                    "condition": _condition_dict(b.condition),
                }
                for b in d.permissions
            ],
            "assignable_scopes": {
                "added": list(sc.added),
                "removed": list(sc.removed),
                "cosmetic": [{"old": c.old, "new": c.new} for c in sc.cosmetic],
                "widened": [
                    {"scope": w.scope, "kind": w.kind, "covers": list(w.covers), "message": w.message}
                    for w in sc.widened
                ],
                "narrowed": list(sc.narrowed),
            },
        },
        "effective": {
            "added": [_op_dict(o) for o in d.effective.added],
            "removed": [_op_dict(o) for o in d.effective.removed],
            "old_count": d.effective.old_count,
            "new_count": d.effective.new_count,
            "risk_added": d.effective.risk_counts(ADDED),
            "risk_removed": d.effective.risk_counts(REMOVED),
        },
        "catalog_notes": [_note_dict(n) for n in d.catalog_notes],
        "new_findings": [
            {"code": f.code, "type": f.type, "title": f.title, "message": f.message,
             "pointer": f.location.pointer, "value": f.location.value}
            for f in d.new_findings
        ],
    }


def report_dict(report: DiffReport, *, old_label: str | None = None, new_label: str | None = None) -> dict[str, Any]:
    eff = report.effective
    return {
        "schema_version": SCHEMA_VERSION,
        "old": old_label,
        "new": new_label,
        "verdict": report.verdict,
        "grants_new_access": report.grants_new_access,
        "removes_access": report.removes_access,
        "differs": report.differs,
        "summary": report.summary(),
        "counts": report.counts(),
        "effective": {
            "operations_added": len(eff.added),
            "operations_removed": len(eff.removed),
            "risk_added": eff.risk_counts(ADDED),
            "risk_removed": eff.risk_counts(REMOVED),
        },
        "catalog": {"snapshot_date": report.catalog_snapshot, "origin": report.catalog_origin},
        "roles": [role_diff_dict(d) for d in report.roles],
    }


def format_json(report: DiffReport, *, old_label: str | None = None, new_label: str | None = None) -> str:
    return json.dumps(report_dict(report, old_label=old_label, new_label=new_label), indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- text


def _op_qualifier(op: EffectiveOperation) -> str:
    if op.note:
        return f"  ({op.note})"
    return "  (under an ABAC condition)" if op.conditional else ""


def _risk_suffix(op: EffectiveOperation) -> str:
    return f"  [{', '.join(op.risk_classes)}]" if op.risk_classes else ""


def _notes_for(d: RoleDiff, list_name: str, pattern: str) -> list[CatalogNote]:
    return [n for n in d.catalog_notes if n.list == list_name and n.pattern.lower() == pattern.strip().lower()]


def _note_text(n: CatalogNote) -> str:
    text = n.message
    if n.may_grant_more:
        text += "; this wildcard may grant operations the catalog does not list (and any Azure adds later)"
    return text


def _condition_text(cc: ConditionChange) -> str:
    where = f"condition (block {cc.block})"
    if cc.kind == ADDED:
        return f"{where} added (restricts the block): {_cut(cc.new)}"
    if cc.kind == REMOVED:
        return f"{where} removed: the block now applies unconditionally (new access): was {_cut(cc.old)}"
    old, new, note = _pair(cc.old, cc.new, TEXT_VALUE_LIMIT)
    return (f"{where} changed (possibly new access; ABAC conditions are not evaluated): {old} -> {new}"
            + (f" ({note})" if note else ""))


def _role_text(d: RoleDiff, s: Style) -> list[str]:
    head = f"{_cut(d.display_name)}: {d.status}"
    if d.status != UNCHANGED:
        head += f" ({d.verdict}{'; cosmetic only' if d.cosmetic_only else ''})"
    lines = [s(head, "bold")]
    if d.status == UNCHANGED:
        return lines
    lines += [s(f"  possible new access: {reason}", "risk") for reason in d.possible_new_access]
    for label, fc in (("name", d.name), ("description", d.description), ("id", d.role_id)):
        if fc is not None:
            old, new, note = _pair(fc.old, fc.new, TEXT_VALUE_LIMIT)
            shown = f"'{old}' -> '{new}' ({note})" if note else f"{fc.old!r} -> {fc.new!r}"
            lines.append(f"  {label}: {shown}" + (" (case only)" if fc.cosmetic else ""))
    multi = len(d.permissions) > 1 or any(b.block for b in d.permissions)
    for b in d.permissions:
        indent = "  "
        if multi:
            lines.append(f"  permissions block {b.block}:")
            indent = "    "
        for attr, pascal in _LISTS:
            ch = b.get(attr)
            if not ch:
                continue
            lines.append(f"{indent}{pascal}:")
            for p in ch.removed:
                lines.append(s(f"{indent}  - {_cut(p)}", "remove"))
                lines += [s(f"{indent}      note: {_note_text(n)}", "warn") for n in _notes_for(d, pascal, p)]
            for p in ch.added:
                lines.append(s(f"{indent}  + {_cut(p)}", "add"))
                lines += [s(f"{indent}      note: {_note_text(n)}", "warn") for n in _notes_for(d, pascal, p)]
            for c in ch.cosmetic:
                lines.append(s(f"{indent}  ~ {_cut(c.old)} -> {_cut(c.new)} (cosmetic: case only)", "dim"))
        if b.condition is not None:
            kind = "add" if b.condition.kind == ADDED else "warn"
            lines.append(s(f"{indent}{_condition_text(b.condition)}", kind))
    sc = d.assignable_scopes
    if sc:
        widened = {w.scope: w for w in sc.widened}
        lines.append("  AssignableScopes:")
        for scope in sc.removed:
            lines.append(s(f"    - {_cut(scope)}", "remove"))
        for scope in sc.added:
            lines.append(s(f"    + {_cut(scope)}", "add"))
            if scope in widened:
                lines.append(s(f"      {widened[scope].message}", "warn"))
        for c in sc.cosmetic:
            lines.append(s(f"    ~ {_cut(c.old)} -> {_cut(c.new)} (cosmetic: case only)", "dim"))
    eff = d.effective
    lines.append(f"  effective: {eff.summary()}  ({eff.old_count} -> {eff.new_count} operations)")
    for op in eff.added:
        text = f"    + {op.name}" + (f"  {op.display_name}" if op.display_name else "")
        text += "" if op.known else "  (not in the catalog)"
        text += _op_qualifier(op)
        lines.append(s(text, "add") + (s(_risk_suffix(op), "risk") if op.risk_classes else ""))
    for op in eff.removed:
        text = f"    - {op.name}" + (f"  {op.display_name}" if op.display_name else "") + _op_qualifier(op)
        lines.append(s(text, "remove") + (s(_risk_suffix(op), "dim") if op.risk_classes else ""))
    if d.new_findings:
        lines.append("  new findings:")
        for f in d.new_findings:
            lines.append(f"    {f.type} {f.code}: {f.message}")
    return lines


def format_text(
    report: DiffReport, *, style: Style | None = None, old_label: str | None = None, new_label: str | None = None
) -> str:
    s = style or _plain
    lines: list[str] = []
    if old_label or new_label:
        lines.append(s(f"--- {old_label}", "dim"))
        lines.append(s(f"+++ {new_label}", "dim"))
    for d in report.roles:
        lines += _role_text(d, s)
    verdict_kind = "risk" if report.grants_new_access else "bold"
    lines.append(s(f"Verdict: {report.verdict}", verdict_kind) + f" ({report.summary()})")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- markdown


_MD_PUNCT = re.compile(r"([\\\[\]*_~|])")


def _md_cell(text: str) -> str:
    """Text from a role file as markdown text (a table cell, a heading): markdown punctuation
    escaped, no HTML, no code span, one line -- a name such as ``[Approved](https://x)`` shows as
    written instead of becoming a link in a pull-request comment."""
    return _MD_PUNCT.sub(r"\\\1", " ".join(text.splitlines())).replace("`", "'").replace("<", "&lt;")


def _md_code(text: str) -> str:
    """*text* as one markdown code span, whatever backticks it holds (the fence is one backtick longer
    than its longest run, as CommonMark requires), on one line: a role name from a pull request
    cannot close the span and write markdown of its own."""
    text = " ".join(str(text).splitlines())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fold(summary: str, body: list[str], count: int) -> list[str]:
    """Body as is when short; inside <details> when longer than DETAILS_THRESHOLD items."""
    if count <= DETAILS_THRESHOLD:
        return [f"**{summary}**", "", *body, ""]
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _op_table(ops: tuple[EffectiveOperation, ...]) -> list[str]:
    rows = ["| Operation | Display name | Risk |", "| --- | --- | --- |"]
    for op in ops:
        name = _md_code(op.name) + (" (data action)" if op.data_action else "")
        display = _md_cell(op.display_name) if op.known else "_not in the catalog_"
        if op.note or op.conditional:
            display += f" _({_op_qualifier(op).strip()[1:-1]})_"
        risk = ", ".join(f"**{c}**" for c in op.risk_classes)
        rows.append(f"| {name} | {display} | {risk} |")
    return rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _role_markdown(d: RoleDiff) -> list[str]:
    out = [f"### {_md_cell(_cut(d.display_name))} ({d.status})", ""]
    verdict = d.verdict + ("; cosmetic changes only" if d.cosmetic_only else "")
    out += [f"{verdict}: `{d.summary()}`", ""]
    eff = d.effective
    if eff.added:
        out += _fold(f"Grants {_plural(len(eff.added), 'operation')}", _op_table(eff.added), len(eff.added))
    if eff.removed:
        out += _fold(f"Removes {_plural(len(eff.removed), 'operation')}", _op_table(eff.removed),
                     len(eff.removed))
    warnings = []
    for w in d.assignable_scopes.widened:
        warnings.append(f"- Assignable scope {_md_code(_cut(w.scope))} **widens** the role: {_md_widening(w)}")
    for b in d.permissions:
        if b.condition is not None:
            warnings.append(f"- {_md_condition(b.condition)}")
    for n in d.catalog_notes:
        warnings.append(f"- {_md_code(n.pattern)} ({n.list}, {n.change}): {_note_text(n)}")
    for reason in d.possible_new_access:
        warnings.append(f"- **Possible new access**: {reason}")
    if warnings:
        out += ["**Notes**", "", *warnings, ""]
    literal = _literal_lines(d)
    if literal:
        out += _fold(f"Literal changes ({_plural(sum(1 for x in literal if x[:1] in '+-~'), 'line')})",
                     ["```diff", *literal, "```"], sum(1 for x in literal if x[:1] in "+-~"))
    if d.new_findings:
        body = [f"- `{f.code}` ({f.type}): {_md_cell(f.message)}" for f in d.new_findings]
        out += _fold(f"New findings ({len(d.new_findings)})", body, len(body))
    return out


def _md_widening(w: ScopeWidening) -> str:
    if w.kind == "broader":
        return "it covers " + ", ".join(_md_code(c) for c in w.covers)
    if w.kind == "new-management-group":
        return "a new management group (every subscription under it; the hierarchy is not known offline)"
    return "a scope the old role could not be assigned at"


def _md_condition(cc: ConditionChange) -> str:
    where = f"Condition of permissions block {cc.block}"
    if cc.kind == ADDED:
        return f"{where} added (restricts the block): {_md_code(_cut(cc.new))}"
    if cc.kind == REMOVED:
        return f"{where} **removed**: the block now applies unconditionally (new access); was {_md_code(_cut(cc.old))}"
    old, new, note = _pair(cc.old, cc.new, TEXT_VALUE_LIMIT)
    return (f"{where} **changed** (possibly new access; rbactool does not evaluate ABAC conditions): "
            f"{_md_code(old)} -> {_md_code(new)}" + (f" ({note})" if note else ""))


def _literal_lines(d: RoleDiff) -> list[str]:
    lines: list[str] = []
    for label, fc in (("Name", d.name), ("Description", d.description), ("Id", d.role_id)):
        if fc is not None:
            old, new, note = _pair(fc.old, fc.new, TEXT_VALUE_LIMIT)
            lines += [f"  {label}" + (f" ({note})" if note else ""), f"- {old}", f"+ {new}"]
    multi = len(d.permissions) > 1 or any(b.block for b in d.permissions)
    for b in d.permissions:
        for attr, pascal in _LISTS:
            ch = b.get(attr)
            if not ch:
                continue
            lines.append(f"  {pascal}" + (f" (block {b.block})" if multi else ""))
            lines += [f"- {_cut(p)}" for p in ch.removed]
            lines += [f"+ {_cut(p)}" for p in ch.added]
            lines += [f"~ {_cut(c.old)} -> {_cut(c.new)} (case only)" for c in ch.cosmetic]
    sc = d.assignable_scopes
    if sc:
        lines.append("  AssignableScopes")
        lines += [f"- {_cut(x)}" for x in sc.removed]
        lines += [f"+ {_cut(x)}" for x in sc.added]
        lines += [f"~ {_cut(c.old)} -> {_cut(c.new)} (case only)" for c in sc.cosmetic]
    return lines


def format_markdown(
    report: DiffReport, *, old_label: str | None = None, new_label: str | None = None
) -> str:
    out = [f"**rbactool diff: {report.verdict}** ({_md_cell(report.summary())})", ""]
    if old_label or new_label:
        out += [f"Comparing {_md_code(old_label or '?')} -> {_md_code(new_label or '?')}; catalog snapshot "
                f"{report.catalog_snapshot}.", ""]
    unchanged = [d for d in report.roles if d.status == UNCHANGED]
    order = {"changed": 0, ADDED: 1, REMOVED: 2}
    changed = sorted((d for d in report.roles if d.status != UNCHANGED),
                     key=lambda d: (not d.grants_new_access, order[d.status]))
    for d in changed:
        out += _role_markdown(d)
    if unchanged:
        out += [f"Unchanged: {', '.join(_md_code(_cut(d.display_name)) for d in unchanged)}", ""]
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


__all__ = [
    "DETAILS_THRESHOLD", "click_style", "format_json", "format_markdown", "format_text", "report_dict",
    "role_diff_dict",
]
