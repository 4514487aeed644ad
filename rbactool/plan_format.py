"""Plan and apply output: text, Markdown (for a pull request) and JSON. Pure: strings and dicts,
nothing printed. The JSON shapes (``schema_version`` 1) are a public API."""

from __future__ import annotations

from rbactool.assignments import Assignment
from rbactool.plan import NOOP, ApplyReport, AssignmentChange, Outcome, Plan, RoleChange

SYMBOL = {"create": "+", "update": "~", "delete": "-", "no-op": "="}
MARK = {"done": "ok", "unchanged": "same", "failed": "FAILED", "skipped": "skipped"}


def _role_dict(c: RoleChange) -> dict:
    return {"action": c.action, "type": "roleDefinition", "key": c.key, "name": c.label,
            "id": (c.desired or c.current).role_id, "effective": c.diff_summary or None, "risk": list(c.risky),
            "note": c.note or None}


def _assignment_dict(c: AssignmentChange) -> dict:
    return {"action": c.action, "type": "roleAssignment", "scope": c.scope, "role": c.role_label,
            "roleDefinitionGuid": c.role_guid, "principalId": c.principal_id, "principalType": c.principal_type,
            "name": c.name, "note": c.note or None}


def plan_dict(plan: Plan) -> dict:
    return {
        "schema_version": 1,
        "summary": plan.counts(),
        "has_changes": plan.has_changes,
        "reads": plan.reads,
        "changes": [_role_dict(c) for c in plan.roles] + [_assignment_dict(c) for c in plan.assignments],
        "unmanaged_assignments": [a.to_dict() for a in plan.unmanaged],
        "orphans": [o.to_dict() if isinstance(o, Assignment) else {"roleName": o.name, "id": o.role_id}
                    for o in plan.orphans],
        "scopes_read": list(plan.scopes),
    }


def change_line(c: RoleChange | AssignmentChange) -> str:
    note = f"  ({c.note})" if c.note else ""
    if isinstance(c, RoleChange):
        extra = f"  ({c.diff_summary})" if c.diff_summary else ""
        risk = f"  [{', '.join(c.risky)}]" if c.risky else ""
        return f"{SYMBOL[c.action]} {c.action:<6} role        {c.label}{extra}{risk}{note}"
    return f"{SYMBOL[c.action]} {c.action:<6} assignment  {c.label}{note}"


def _orphan_line(plan: Plan, o) -> str:
    if isinstance(o, Assignment):
        return f"  ! assignment  {plan.role_label(o.role_guid)} -> {o.principal_id} at {o.scope}"
    return f"  ! role        {o.name}  ({o.role_id})"


def format_plan_text(plan: Plan, *, verbose: bool = False) -> str:
    lines = [f"Azure read at: {', '.join(plan.scopes)}"] if plan.scopes else []
    lines += [change_line(c) for c in (*plan.roles, *plan.assignments) if verbose or c.action != NOOP]
    if plan.orphans:
        lines.append(f"managed by rbactool but no longer in the spec: {len(plan.orphans)} (kept; --prune deletes them)")
        lines += [_orphan_line(plan, o) for o in plan.orphans]
    if plan.unmanaged:
        lines.append(f"not managed by rbactool, at the spec's scopes (never touched): {len(plan.unmanaged)}")
        lines += [f"  ? assignment  {plan.role_label(a.role_guid)} -> {a.principal_id} at {a.scope}"
                  for a in plan.unmanaged]
    n = plan.counts()
    lines.append(f"Plan: {n['create']} to create, {n['update']} to update, {n['delete']} to delete, "
                 f"{n['no-op']} unchanged ({plan.reads} list requests).")
    return "\n".join(lines) + "\n"


def _markdown_row(c: RoleChange | AssignmentChange) -> str:
    if isinstance(c, RoleChange):
        details = " ".join(x for x in (c.diff_summary, c.note) if x)
        if c.risky:
            details += f" **{', '.join(c.risky)}**"
    else:
        details = c.note or ""
    return f"| {SYMBOL[c.action]} | {c.action} | {c.kind}: {c.label.replace('|', '/')} | {details} |"


def format_plan_markdown(plan: Plan, spec_path: str) -> str:
    n = plan.counts()
    verdict = "no changes" if not plan.has_changes else \
        f"{n['create']} to create, {n['update']} to update, {n['delete']} to delete"
    out = [f"**rbactool plan** for `{spec_path}`: {verdict} ({n['no-op']} unchanged)", ""]
    changes = plan.changes()
    if changes:
        out += ["| | action | object | details |", "|---|---|---|---|"]
        out += [_markdown_row(c) for c in changes]
    if plan.orphans:
        out += ["", f"Managed by rbactool but no longer in the spec: {len(plan.orphans)} "
                "(kept; `--prune` deletes them)"]
    if plan.unmanaged:
        out += ["", "<details><summary>Not managed by rbactool, at the spec's scopes (never touched): "
                f"{len(plan.unmanaged)}</summary>", ""]
        out += [f"- {plan.role_label(a.role_guid)} → `{a.principal_id}` at `{a.scope}`" for a in plan.unmanaged]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- apply


def outcome_line(outcome: Outcome) -> str:
    """One line per finished change, for a log (stderr that is not a terminal)."""
    c = outcome.change
    return f"{MARK[outcome.status]:<8} {c.action} {c.kind} {c.label}"


def not_started_line(c: RoleChange | AssignmentChange) -> str:
    return f"{'not-started':<8} {c.action} {c.kind} {c.label}"


def nothing_to_do_dict(plan: Plan, requests: int) -> dict:
    return {"schema_version": 1, "plan": plan_dict(plan), "done": 0, "failed": 0, "skipped": 0, "requests": requests}


def _unchanged(plan: Plan, report: ApplyReport) -> int:
    return plan.counts()[NOOP] + report.count("unchanged")


def apply_dict(plan: Plan, report: ApplyReport, requests: int) -> dict:
    return {
        "schema_version": 1, "plan": plan_dict(plan), "done": report.count("done"), "failed": report.count("failed"),
        "skipped": report.count("skipped"), "not_started": len(report.not_started),
        "unchanged": _unchanged(plan, report), "interrupted": report.interrupted, "stopped": report.stopped,
        "requests": requests,
        "failures": [{"object": o.change.label, "action": o.change.action, "code": o.code, "error": o.error}
                     for o in report.failed],
    }


def format_apply_text(plan: Plan, report: ApplyReport, requests: int) -> str:
    """The failures, one line each, then the summary line."""
    lines = [f"FAILED {o.change.action} {o.change.kind} {o.change.label}: {o.error}" for o in report.failed]
    not_started = len(report.not_started)
    lines.append(f"Apply: {report.count('done')} done, {_unchanged(plan, report)} unchanged, "
                 f"{report.count('failed')} failed, {report.count('skipped')} skipped"
                 + (f", {not_started} not started" if not_started else "")
                 + f" ({requests} requests){' - interrupted' if report.interrupted else ''}.")
    return "\n".join(lines) + "\n"


def stopped_message(report: ApplyReport, endpoint: str) -> str:
    return (f"apply stopped: {report.stopped} ({endpoint}); {len(report.not_started)} change(s) "
            "not started. Re-run apply when Azure answers again (re-runs are safe).")
