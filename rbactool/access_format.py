"""Text, markdown and JSON renderings of access analysis (who-can, access, escalations).

Every string that came from Azure or a snapshot (names, scopes, conditions) is shown as data:
markdown cells have ``|``, backticks and newlines neutralised; text has control characters removed.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rbactool.access import EscalationReport, Grant, PrincipalAccess, WhoCan

__all__ = ["who_can_text", "who_can_markdown", "access_text", "access_markdown", "escalations_text",
           "escalations_markdown", "escalations_sarif", "to_json"]

#: C0/C1 controls, and the invisible characters that reorder or hide text (bidi overrides and
#: isolates, zero-width characters, line/paragraph separators): a name must read as it is stored.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
#: Markdown that would make a name a link, an image or emphasis in a PR comment.
_MD_PUNCT = re.compile(r"([\\\[\]*_~|])")


def _t(value: object) -> str:
    return _CONTROL.sub("?", str(value))


def _md(value: object) -> str:
    return _MD_PUNCT.sub(r"\\\1", _t(value)).replace("`", "'").replace("<", "&lt;")


def _code(value: object) -> str:
    """Inside a code span nothing is markdown: only a backtick could end it."""
    return _t(value).replace("`", "'")


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _who(g: Grant) -> str:
    name = f"{g.principal_name} " if g.principal_name else ""
    return f"{_t(name)}({_t(g.principal_type or 'unknown type')} {_t(g.principal_id)})"


def _via(g: Grant) -> tuple[str, ...]:
    return g.via_names or g.via


def _path(g: Grant) -> str:
    via = "".join(f" <- group {_t(v)}" for v in reversed(_via(g)))
    return f"{via} <- {_t(g.role)} at {_t(g.assignment_scope)}"


def _gaps_line(snapshot: dict) -> list[str]:
    gaps = snapshot.get("gaps") or []
    if not gaps:
        return []
    return [f"note: the snapshot could not read {len(gaps)} scope(s)/API(s); answers there may be incomplete "
            f"(first: {_t(gaps[0]['api'])} at {_t(gaps[0]['scope'])}, "
            f"{_t(gaps[0].get('status') or gaps[0].get('code'))})"]


def who_can_text(r: WhoCan) -> str:
    kind = "data action" if r.is_data_action else "action"
    lines = [f"who can {_t(r.operation)} ({kind}) at {_t(r.scope)}:"]
    if not r.grants:
        lines.append("  nobody")
    for g in r.grants:
        cond = f"  [conditional: {_t(g.condition)}]" if g.condition else ""
        lines.append(f"  {_who(g)}{_path(g)}{cond}")
    if r.eligible:
        lines.append("can activate (PIM eligible):")
        lines += [f"  {_who(g)}{_path(g)}" for g in r.eligible]
    if r.denied:
        lines.append("granted but blocked by a deny assignment:")
        lines += [f"  {_who(g)}{_path(g)}  [denied by {_t(g.denied_by)}]" for g in r.denied]
    lines += [f"note: {_t(n)}" for n in r.notes] + _gaps_line(r.snapshot)
    n = len(r.principals())
    lines.append(f"{n} principal(s) can, {len({g.principal_id for g in r.eligible})} can activate, "
                 f"{len({g.principal_id for g in r.denied})} denied")
    return "\n".join(lines) + "\n"


def _grant_rows(grants: list[Grant], extra: str = "") -> list[str]:
    rows = []
    for g in grants:
        via = " → ".join(_md(v) for v in _via(g)) or "direct"
        cond = "yes" if g.condition else ""
        rows.append(f"| {_md(g.principal_name or g.principal_id)} | {_md(g.principal_type)} | {_md(g.role)} | "
                    f"{_md(g.assignment_scope)} | {via} | {cond}{extra} |")
    return rows


def who_can_markdown(r: WhoCan) -> str:
    head = "| principal | type | role | assignment scope | via groups | conditional |\n|---|---|---|---|---|---|"
    out = [f"### Who can `{_code(r.operation)}` at `{_code(r.scope)}`", "", head, *(_grant_rows(r.grants) or
           ["| nobody | | | | | |"])]
    if r.eligible:
        out += ["", "**Can activate (PIM eligible)**", "", head, *_grant_rows(r.eligible)]
    if r.denied:
        out += ["", "**Blocked by a deny assignment**", "", head, *_grant_rows(r.denied)]
    out += [""] + [f"> {_md(n)}" for n in r.notes + _gaps_line(r.snapshot)]
    return "\n".join(out).rstrip() + "\n"


def access_text(a: PrincipalAccess) -> str:
    name = f"{_t(a.principal_name)} " if a.principal_name else ""
    lines = [f"{name}({_t(a.principal_type or 'unknown type')} {_t(a.principal_id)})"
             + (f" at {_t(a.scope)}" if a.scope else "") + ":"]
    if a.groups:
        names = a.group_names or {}
        lines.append(f"  member of {len(a.groups)} group(s): "
                     f"{'; '.join(_t(names.get(g) or g) for g in a.groups)}")
    if not a.held:
        lines.append("  no role assignments")
    for h in a.held:
        g = h.grant
        flags = [f for f, on in (("eligible", g.eligible), ("conditional", g.condition is not None)) if on]
        via = f" via {' <- '.join(_t(v) for v in reversed(_via(g)))}" if g.via else ""
        risks = f"  risks: {', '.join(h.risks)}" if h.risks else ""
        lines.append(f"  {_t(g.assignment_scope)}: {_t(g.role)}{via} — {h.actions} actions, {h.data_actions} data "
                     f"actions{risks}" + (f"  [{', '.join(flags)}]" if flags else ""))
    for d in a.denies:
        lines.append(f"  denied at {_t(d['scope'])}: {', '.join(_t(x) for x in d['actions'] + d['dataActions'])}")
    lines += _gaps_line(a.snapshot)
    return "\n".join(lines) + "\n"


def access_markdown(a: PrincipalAccess) -> str:
    out = [f"### Access of `{_code(a.principal_name or a.principal_id)}` ({_md(a.principal_type)})", "",
           "| scope | role | via groups | actions | data actions | risk classes | eligible | conditional |",
           "|---|---|---|---|---|---|---|---|"]
    for h in a.held:
        g = h.grant
        out.append(f"| {_md(g.assignment_scope)} | {_md(g.role)} | {' → '.join(_md(v) for v in _via(g)) or 'direct'} | "
                   f"{h.actions} | {h.data_actions} | {', '.join(h.risks)} | {'yes' if g.eligible else ''} | "
                   f"{'yes' if g.condition else ''} |")
    return "\n".join(out) + "\n"


def escalations_text(report: EscalationReport) -> str:
    found = report.found
    if not found:
        return "\n".join(["no escalation paths found", *_gaps_line(report.snapshot)]) + "\n"
    lines = []
    for e in found:
        g = e.grant
        tag = " (after PIM activation)" if g.eligible else ""
        roles = f": {'; '.join(_t(r) for r in e.roles[:5])}{' …' if len(e.roles) > 5 else ''}" if e.roles else ""
        lines.append(f"{_who(g)}{tag} {e.kind} at {_t(g.assignment_scope)} — {_t(e.detail)}{roles}")
        lines.append(f"    path: {_t(g.principal_name or g.principal_id)}{_path(g)}"
                     + (f"  [condition: {_t(g.condition)}]" if g.condition else ""))
    lines += _gaps_line(report.snapshot)
    lines.append(f"{len(report.principals())} principal(s), {len(found)} escalation path(s)")
    return "\n".join(lines) + "\n"


def escalations_markdown(report: EscalationReport) -> str:
    found = report.found
    out = ["### Escalation paths", "", "| principal | kind | scope | role | via groups | can hand out / edit | note |",
           "|---|---|---|---|---|---|---|"]
    for e in found:
        g = e.grant
        roles = "; ".join(_md(r) for r in e.roles[:5]) + (" …" if len(e.roles) > 5 else "")
        out.append(f"| {_md(g.principal_name or g.principal_id)} | {e.kind}{' (eligible)' if g.eligible else ''} | "
                   f"{_md(g.assignment_scope)} | {_md(g.role)} | {' → '.join(_md(v) for v in _via(g)) or 'direct'} | "
                   f"{roles} | {_md(e.detail)} |")
    if not found:
        out.append("| none | | | | | | |")
    return "\n".join(out) + "\n"




_ESCALATION_RULES = {
    "assign-roles": ("RBACESC001", "Can assign privileged roles",
                     "The principal can write role assignments at this scope and may hand out privileged roles "
                     "(to itself too, unless a delegation condition says otherwise)."),
    "edit-assigned-role": ("RBACESC002", "Can change an assigned custom role",
                           "The principal can write role definitions covering every assignable scope of a custom "
                           "role that is assigned: widening the role widens every assignment of it."),
}


def escalations_sarif(report: EscalationReport) -> str:
    """SARIF 2.1.0: one result per escalation path, located at its assignment (a logical location:
    an estate has no source file); fingerprints are stable across runs."""
    import hashlib

    from rbactool import __version__
    from rbactool.output import INFORMATION_URI

    kinds = sorted({e.kind for e in report.found})
    rules = [{"id": _ESCALATION_RULES[k][0], "name": _ESCALATION_RULES[k][1].title().replace(" ", ""),
              "shortDescription": {"text": _ESCALATION_RULES[k][1]},
              "fullDescription": {"text": _ESCALATION_RULES[k][2]},
              "defaultConfiguration": {"level": "error"},
              "properties": {"tags": ["security", "privilege-escalation"], "security-severity": "8.8"}}
             for k in kinds]
    results = []
    for e in report.found:
        g = e.grant
        key = f"{e.kind}|{g.principal_id}|{g.assignment_id}".lower()
        results.append({
            "ruleId": _ESCALATION_RULES[e.kind][0], "ruleIndex": kinds.index(e.kind), "level": "error",
            "message": {"text": f"{g.principal_name or g.principal_id} ({g.principal_type or 'unknown type'}) "
                                f"{e.detail}" + (f": {', '.join(e.roles[:5])}" if e.roles else "")},
            "locations": [{"logicalLocations": [{"fullyQualifiedName": g.assignment_id, "kind": "resource"}]}],
            "partialFingerprints": {"rbactool/escalation/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
            "properties": e.to_dict(),
        })
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "rbactool", "version": __version__,
                                         "informationUri": INFORMATION_URI, "rules": rules}},
                     "results": results}]}
    return to_json(doc)
