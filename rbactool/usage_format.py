"""Text, markdown and JSON renderings of ``rbactool usage`` and ``rbactool rightsize`` results."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rbactool.rightsizing import Rightsizing
    from rbactool.usage_analysis import UsageReport

__all__ = ["to_json", "usage_text", "usage_markdown", "rightsize_text", "rightsize_markdown"]

MAX_LISTED = 50


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _t(value: object) -> str:
    text = str(value)
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


_MD_PUNCT = re.compile(r"([\\\[\]*_~|])")


def _md(value: object) -> str:
    """Prose or a table cell: no link, image, emphasis or HTML from a name in the logs or snapshot."""
    return _MD_PUNCT.sub(r"\\\1", _t(value)).replace("`", "'").replace("<", "&lt;")


def _mdc(value: object) -> str:
    """Inside a code span (in a table): only a backtick or a pipe could end it."""
    return _t(value).replace("|", "\\|").replace("`", "'")


def _ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.1%}"


def _window(log: dict) -> str:
    since = f" (since {log['since']})" if log.get("since") else ""
    return f"{log.get('firstEvent') or '?'} .. {log.get('lastEvent') or '?'}{since}"


def _log_lines(log: dict) -> list[str]:
    skipped = ", ".join(f"{n:,} {why}" for why, n in sorted(log["skipped"].items())) or "none"
    lines = [f"Logs: {len(log['files'])} file(s), {log['events']:,} events, {log['counted']:,} counted, "
             f"skipped: {skipped}, malformed: {log['malformed']:,}; window {_window(log)}"]
    lines += [f"  malformed: {_t(p)}" for p in log["problems"][:5]]
    return lines


def usage_text(r: UsageReport) -> str:
    lines = _log_lines(r.log)
    for i in r.identities:
        who = f"{_t(i.principal_name)} ({_t(i.principal_id)})" if i.principal_name else _t(i.principal_id)
        kind = f" {i.principal_type}" if i.principal_type else ""
        lines.append("")
        lines.append(f"{who}{kind}: used {i.used_observable:,} of {i.observable:,} observable operations granted "
                     f"({_ratio(i.ratio)}); granted {i.granted_actions:,} actions, {i.granted_data_actions:,} data "
                     "actions" + ("" if i.in_snapshot else "; not in the snapshot"))
        for o in i.operations[:MAX_LISTED]:
            mark = "" if o.granted or not o.calls else "  [not granted by the snapshot]"
            denied = f", {o.denied:,} denied" if o.denied else ""
            lines.append(f"  {_t(o.operation)}: {o.calls:,} call(s){denied}, last {o.last or '?'}{mark}")
        if len(i.operations) > MAX_LISTED:
            lines.append(f"  ... and {len(i.operations) - MAX_LISTED:,} more (--format json lists all)")
    unobserved = r.unobserved_assignments()
    lines.append("")
    lines.append(f"Assignments with no use in the logs (unobserved, not unused): {len(unobserved):,} of "
                 f"{len(r.assignments):,}")
    for a in unobserved[:MAX_LISTED]:
        cover = "" if a.covered else "  [logs do not cover its subscription]"
        lines.append(f"  {_t(a.role)} at {_t(a.assignment.scope)} -> {_t(a.assignment.principal_id)}{cover}")
    if len(unobserved) > MAX_LISTED:
        lines.append(f"  ... and {len(unobserved) - MAX_LISTED:,} more")
    lines.append("")
    lines.append("Limits:")
    lines += [f"  - {t}" for t in r.limits]
    return "\n".join(lines) + "\n"


def usage_markdown(r: UsageReport) -> str:
    out = ["## Used vs granted (Activity Log)", "", f"Window: {_window(r.log)}; {r.log['counted']:,} events counted, "
           f"{r.log['malformed']:,} malformed.", "",
           "| identity | type | observable granted | used | ratio | granted actions | data actions |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for i in r.identities:
        out.append(f"| {_md(i.principal_name or i.principal_id)} | {_md(i.principal_type)} | {i.observable:,} | "
                   f"{i.used_observable:,} | {_ratio(i.ratio)} | {i.granted_actions:,} | {i.granted_data_actions:,} |")
    unobserved = r.unobserved_assignments()
    out += ["", f"### Assignments with no use ({len(unobserved):,} of {len(r.assignments):,}: unobserved, not unused)",
            ""]
    if unobserved:
        out += ["| role | scope | principal |", "| --- | --- | --- |"]
        out += [f"| {_md(a.role)} | `{_mdc(a.assignment.scope)}` | {_md(a.assignment.principal_id)} |"
                for a in unobserved[:MAX_LISTED * 4]]
    out += ["", "**Limits**", ""] + [f"- {_md(t)}" for t in r.limits]
    return "\n".join(out) + "\n"


def rightsize_text(r: Rightsizing) -> str:
    who = f"{_t(r.principal_name)} ({_t(r.principal_id)})" if r.principal_name else _t(r.principal_id)
    lines = _log_lines(r.log)
    lines.append("")
    lines.append(f"Proposed role for {who}: {_t(r.role.name)}")
    lines.append(f"  AssignableScopes: {', '.join(map(_t, r.role.assignable_scopes))}")
    lines.append(f"  assign at: {', '.join(map(_t, r.assignment_scopes or [r.assignment_scope]))}")
    lines.append("  kept (used):")
    lines += [f"    {_t(k['operation'])} ({k['calls']:,} call(s))" for k in r.kept]
    for a in r.added:
        lines.append(f"  ADDED {_t(a['operation'])} ({a['calls']:,} call(s)): {a['reason']}")
    for rd in r.reads:
        how = f"all {rd['operations']:,} reads (wildcard)" if rd["kept"] == "all" else f"{rd['operations']:,} reads"
        lines.append(f"  reads kept in {_t(rd['namespace'])}: {how} (reads leave no Activity Log trace)")
    lines.append(f"  data actions: {r.data['count']:,} kept, {r.data['kept']}")
    for d in r.denied:
        lines.append(f"  denied only, not proposed: {_t(d)}")
    lines.append("  replaces:")
    lines += [f"    {_t(x['role'])} at {_t(x['scope'])}" + (f" (via group {x['via'][0]})" if x["via"] else "")
              for x in r.replaces]
    eff = r.diff.effective
    lines.append("")
    lines.append(f"Diff of current effective access -> proposed: {r.diff.verdict} ({r.diff.summary()})")
    lines.append("  " + ("removals only" if r.removals_only else
                         "the proposal adds access: see ADDED above for why"))
    for op in eff.added[:MAX_LISTED]:
        lines.append(f"  + {_t(op.name)}")
    for op in eff.removed[:20]:
        lines.append(f"  - {_t(op.name)}")
    if len(eff.removed) > 20:
        lines.append(f"  - ... and {len(eff.removed) - 20:,} more (--format json lists all)")
    lines.append("")
    lines.append("Limits:")
    lines += [f"  - {t}" for t in r.limits]
    return "\n".join(lines) + "\n"


def rightsize_markdown(r: Rightsizing) -> str:
    eff = r.diff.effective
    out = [f"**rbactool rightsize: {_md(r.principal_name or r.principal_id)}** — {r.diff.verdict} "
           f"({_md(r.diff.summary())})", "",
           f"Proposed `{_mdc(r.role.name)}`, assignable at `{_mdc(r.role.assignable_scopes[0])}`, assigned at "
           f"`{_mdc(r.assignment_scope)}`.", "", "| kept (used) | calls |", "| --- | ---: |"]
    out += [f"| `{_mdc(k['operation'])}` | {k['calls']:,} |" for k in r.kept]
    out += [f"| `{_mdc(a['operation'])}` (added: not granted in the snapshot) | {a['calls']:,} |" for a in r.added]
    out += ["", f"Removed: {len(eff.removed):,} operations; added: {len(eff.added):,}.", "", "**Limits**", ""]
    out += [f"- {_md(t)}" for t in r.limits]
    return "\n".join(out) + "\n"
