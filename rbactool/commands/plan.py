"""`rbactool plan`, `rbactool apply` and `rbactool export`: declarative RBAC from a roles spec."""

from __future__ import annotations

import json
import re
import sys
import threading
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import click
from click.core import ParameterSource

from rbactool.commands.arm import connection_options
from rbactool.commands.render import scope_values, template_dir_option
from rbactool.commands.validate import config_options, gate_config
from rbactool.errors import EXIT_AZURE, EXIT_INTERRUPTED, SpecError

SYMBOL = {"create": "+", "update": "~", "delete": "-", "no-op": "="}


def spec_options(fn):
    for decorator in reversed(
        (
            click.option("--roles", "roles_spec", required=True, type=click.Path(dir_okay=False, path_type=Path),
                         metavar="SPEC", help="The roles spec (roles/*.yaml) that says what should exist."),
            click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID",
                         help="Replaces the spec's default subscription."),
            click.option("--resource-group", "-g", metavar="NAME", help="Replaces the spec's default resource group."),
            click.option("--management-group", "-m", metavar="ID",
                         help="Replaces the spec's default scope with a management group."),
            click.option("--prune", is_flag=True,
                         help="Also delete managed assignments and roles the spec no longer has."),
            click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
                         help="Concurrent requests."),
            click.option("--take-over", is_flag=True,
                         help="Change objects another spec manages (moves them to this spec) instead of refusing."),
        )
    ):
        fn = decorator(fn)
    fn = config_options("Refuse the spec when validation finds this type or worse")(fn)
    return template_dir_option(connection_options(fn))


def _build(ctx, roles_spec, subscription, resource_group, management_group, fail_on, prune, parallelism,
           template_dirs, cloud, arm_endpoint, ca_bundle, *, take_over=False, writes=False, config_path=None,
           no_config=False):
    """Validate the spec offline (the same gate and .rbactool.yaml as `rbactool validate`), read
    Azure, compute the plan. Returns (plan, gateway factory, gateways)."""
    import os

    from rbactool.builtins import load_builtin_roles
    from rbactool.catalog import resolve_source
    from rbactool.commands.validate import run_gate
    from rbactool.plan import ThrottleGate, desired_state, make_plan, read_current
    from rbactool.spec import load_spec, render_spec

    config = gate_config(config_path, no_config, fail_on)
    scope = scope_values(ctx, subscription, resource_group, management_group)
    # As for render: $AZURE_SUBSCRIPTION_ID only fills in where the spec names no subscription.
    fallbacks = {}
    if ctx.get_parameter_source("subscription") == ParameterSource.ENVIRONMENT:
        fallbacks["subscription"] = scope.pop("subscription")
    spec = load_spec(roles_spec)
    if spec.name is None and (writes or prune):
        raise SpecError(f"{roles_spec}: give the spec a `name:` (e.g. name: {spec.spec_id}) before apply or --prune: "
                        "apply marks what it writes with it, and --prune deletes only what carries it")
    rendered = render_spec(spec, extra_template_dirs=tuple(template_dirs), overrides=scope, fallbacks=fallbacks)
    desired = desired_state(spec, rendered, scope, fallbacks)

    from rbactool.azure_adapter import AzureGateway, connection_settings

    conn = connection_settings(cloud=cloud, endpoint=arm_endpoint, ca_bundle=ca_bundle, subscription=subscription)
    source = resolve_source(endpoint=conn.endpoint, tenant=os.environ.get("AZURE_TENANT_ID"))
    # each role is validated once per run: here (make_plan's diff asks for effective operations only)
    _, catalog = run_gate([r.role for r in rendered], source, config, no_config=no_config,
                          what="the spec's roles")
    gate = ThrottleGate(ctx.meta.setdefault("rbactool.cancel", threading.Event()))
    gateways = []

    def factory():
        gw = AzureGateway(conn, gate=gate)
        gateways.append(gw)
        return gw

    current = read_current(factory, desired, parallelism=min(parallelism, 8))
    builtins = load_builtin_roles()

    def builtin_name(guid):
        role = builtins.by_id(guid)
        return role.name if role else None

    plan = make_plan(desired, current, prune=prune, catalog=catalog, builtin_name=builtin_name, take_over=take_over)
    return plan, factory, gateways


# --------------------------------------------------------------------------- output


def plan_dict(plan) -> dict:
    def role(c):
        return {"action": c.action, "type": "roleDefinition", "key": c.key, "name": c.label,
                "id": (c.desired or c.current).role_id, "effective": c.diff_summary or None, "risk": list(c.risky),
                "note": c.note or None}

    def assignment(c):
        return {"action": c.action, "type": "roleAssignment", "scope": c.scope, "role": c.role_label,
                "roleDefinitionGuid": c.role_guid, "principalId": c.principal_id, "principalType": c.principal_type,
                "name": c.name, "note": c.note or None}

    return {
        "schema_version": 1,
        "summary": plan.counts(),
        "has_changes": plan.has_changes,
        "reads": plan.reads,
        "changes": [role(c) for c in plan.roles] + [assignment(c) for c in plan.assignments],
        "unmanaged_assignments": [a.to_dict() for a in plan.unmanaged],
        "orphans": [o.to_dict() if hasattr(o, "principal_id") else {"roleName": o.name, "id": o.role_id}
                    for o in plan.orphans],
        "scopes_read": list(plan.scopes),
    }


def _line(c) -> str:
    from rbactool.plan import RoleChange

    if isinstance(c, RoleChange):
        extra = f"  ({c.diff_summary})" if c.diff_summary else ""
        risk = f"  [{', '.join(c.risky)}]" if c.risky else ""
        note = f"  ({c.note})" if c.note else ""
        return f"{SYMBOL[c.action]} {c.action:<6} role        {c.label}{extra}{risk}{note}"
    note = f"  ({c.note})" if c.note else ""
    return f"{SYMBOL[c.action]} {c.action:<6} assignment  {c.label}{note}"


def _orphan_line(plan, o) -> str:
    if hasattr(o, "principal_id"):
        return f"  ! assignment  {plan.role_label(o.role_guid)} -> {o.principal_id} at {o.scope}"
    return f"  ! role        {o.name}  ({o.role_id})"


def format_plan_text(plan, *, verbose: bool = False) -> str:
    lines = [f"Azure read at: {', '.join(plan.scopes)}"] if plan.scopes else []
    lines += [_line(c) for c in (*plan.roles, *plan.assignments) if verbose or c.action != "no-op"]
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


def format_plan_markdown(plan, spec_path: str) -> str:
    n = plan.counts()
    verdict = "no changes" if not plan.has_changes else \
        f"{n['create']} to create, {n['update']} to update, {n['delete']} to delete"
    out = [f"**rbactool plan** for `{spec_path}`: {verdict} ({n['no-op']} unchanged)", ""]
    changes = plan.changes()
    if changes:
        out += ["| | action | object | details |", "|---|---|---|---|"]
        for c in changes:
            kind = "role" if hasattr(c, "diff_summary") else "assignment"
            details = " ".join(x for x in (getattr(c, "diff_summary", ""), c.note) if x)
            risk = getattr(c, "risky", ())
            if risk:
                details += f" **{', '.join(risk)}**"
            out.append(f"| {SYMBOL[c.action]} | {c.action} | {kind}: {c.label.replace('|', '/')} | {details} |")
    if plan.orphans:
        out += ["", f"Managed by rbactool but no longer in the spec: {len(plan.orphans)} "
                "(kept; `--prune` deletes them)"]
    if plan.unmanaged:
        out += ["", "<details><summary>Not managed by rbactool, at the spec's scopes (never touched): "
                f"{len(plan.unmanaged)}</summary>", ""]
        out += [f"- {plan.role_label(a.role_guid)} → `{a.principal_id}` at `{a.scope}`" for a in plan.unmanaged]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- commands


@click.command("plan")
@spec_options
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error.")
@click.pass_context
def plan_command(ctx, roles_spec, subscription, resource_group, management_group, prune, fail_on, parallelism,
                 take_over, template_dirs, cloud, arm_endpoint, ca_bundle, retry_timeout, fmt, detailed_exitcode,
                 config_path, no_config):
    """Show what `apply` would change in Azure to match a roles spec (reads only).

    Custom roles are matched by name, assignments by scope, role and principal. Managed objects are
    recognised by their deterministic names (and a marker in assignment descriptions); other
    assignments at the spec's scopes are reported as unmanaged and never touched.
    """
    # With --detailed-exitcode every error exits 1 (Terraform's convention; mapped in cli.LazyGroup).
    plan, _, _ = _build(ctx, roles_spec, subscription, resource_group, management_group, fail_on, prune,
                        parallelism, template_dirs, cloud, arm_endpoint, ca_bundle, take_over=take_over,
                        config_path=config_path, no_config=no_config)
    if fmt == "json":
        click.echo(json.dumps(plan_dict(plan), indent=2))
    elif fmt == "markdown":
        click.echo(format_plan_markdown(plan, str(roles_spec)), nl=False)
    else:
        click.echo(format_plan_text(plan), nl=False)
    if detailed_exitcode and plan.has_changes:
        ctx.exit(2)


@click.command("apply")
@spec_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def apply_command(ctx, roles_spec, subscription, resource_group, management_group, prune, fail_on, parallelism,
                  take_over, template_dirs, cloud, arm_endpoint, ca_bundle, retry_timeout, auto_approve, fmt,
                  config_path, no_config):
    """Make Azure match a roles spec: the plan, then its changes, in dependency order.

    Role definitions are written before their assignments; assignments are removed before their
    roles are deleted (--prune). Safe to interrupt and re-run: the next apply completes the work.
    """
    from rbactool.operations import Backoff
    from rbactool.plan import apply_plan

    plan, factory, gateways = _build(ctx, roles_spec, subscription, resource_group, management_group, fail_on,
                                     prune, parallelism, template_dirs, cloud, arm_endpoint, ca_bundle,
                                     take_over=take_over, writes=True, config_path=config_path,
                                     no_config=no_config)
    reads = sum(g.requests for g in gateways)
    if not plan.has_changes:
        if fmt == "json":
            click.echo(json.dumps({"schema_version": 1, "plan": plan_dict(plan), "done": 0, "failed": 0,
                                   "skipped": 0, "requests": reads}, indent=2))
        else:
            click.echo(format_plan_text(plan), nl=False)
            click.echo("Nothing to do.")
        return
    click.echo(format_plan_text(plan), nl=False, err=fmt == "json")
    if not auto_approve:
        if not sys.stdin.isatty():
            raise click.UsageError("not a terminal: pass --auto-approve to apply without confirmation")
        if not click.confirm("Apply these changes?", err=True):
            raise click.Abort()
    changes = plan.changes()
    tty = sys.stderr.isatty()

    def progress(msg: str) -> None:
        click.echo(f"... {msg}", err=True)

    def on_done(outcome) -> None:
        if not tty:
            mark = {"done": "ok", "unchanged": "same", "failed": "FAILED", "skipped": "skipped"}[outcome.status]
            click.echo(f"{mark:<8} {outcome.change.action} {_kind(outcome.change)} {outcome.change.label}", err=True)
        else:
            bar.update(1)

    bar_cm = click.progressbar(length=len(changes), label="applying", file=sys.stderr) if tty else nullcontext()
    with bar_cm as bar:
        report = apply_plan(plan, factory, parallelism=parallelism, backoff=Backoff(timeout=retry_timeout),
                            progress=progress, on_done=on_done, cancel=ctx.meta["rbactool.cancel"])
    done, failed, skipped = report.count("done"), report.count("failed"), report.count("skipped")
    not_started = len(report.not_started)
    if not tty:
        for c in report.not_started:
            click.echo(f"{'not-started':<8} {c.action} {_kind(c)} {c.label}", err=True)
    unchanged = plan.counts()["no-op"] + report.count("unchanged")
    requests = sum(g.requests for g in gateways)
    if fmt == "json":
        click.echo(json.dumps({
            "schema_version": 1, "plan": plan_dict(plan), "done": done, "failed": failed, "skipped": skipped,
            "not_started": not_started,
            "unchanged": unchanged, "interrupted": report.interrupted, "stopped": report.stopped,
            "requests": requests,
            "failures": [{"object": o.change.label, "action": o.change.action, "code": o.code, "error": o.error}
                         for o in report.failed],
        }, indent=2))
    else:
        for o in report.failed:
            click.echo(f"FAILED {o.change.action} {_kind(o.change)} {o.change.label}: {o.error}")
        click.echo(f"Apply: {done} done, {unchanged} unchanged, {failed} failed, {skipped} skipped"
                   + (f", {not_started} not started" if not_started else "")
                   + f" ({requests} requests){' - interrupted' if report.interrupted else ''}.")
    if report.interrupted:
        ctx.exit(EXIT_INTERRUPTED)
    if report.stopped:
        click.echo(f"Error: apply stopped: {report.stopped} ({_endpoint(gateways)}); {not_started} change(s) "
                   "not started. Re-run apply when Azure answers again (re-runs are safe).", err=True)
    if failed or skipped or not_started:
        ctx.exit(EXIT_AZURE)


def _endpoint(gateways) -> str:
    return gateways[0].conn.endpoint if gateways else "the endpoint"


def _kind(change) -> str:
    return "role" if hasattr(change, "diff_summary") else "assignment"


@click.command("export")
@click.option("--scope", required=True, metavar="SCOPE", help="Export what is defined and assigned at or below here.")
@click.option("--custom-only", is_flag=True, help="Only custom roles and their assignments.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the spec here (default: stdout).")
@connection_options
def export_command(scope, custom_only, output, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Write the custom roles and role assignments at a scope as a roles spec, so an existing
    estate can be brought under management (`export`, then `plan`, shows no changes)."""
    import yaml

    from rbactool.builtins import load_builtin_roles
    from rbactool.commands.arm import gateway
    from rbactool.files import write_files
    from rbactool.managed import strip_marker
    from rbactool.model import to_az_dict
    from rbactool.scopes import parse_scope

    target = parse_scope(scope)
    gw = gateway(cloud, arm_endpoint, ca_bundle, target.subscription)
    list_scope = f"/subscriptions/{target.subscription}" if target.subscription else str(target)
    roles = [r for r in gw.list_role_definitions(list_scope, "type eq 'CustomRole'") if r.is_custom
             and any(parse_scope(s).is_at_or_below(target) or target.is_at_or_below(parse_scope(s))
                     for s in r.assignable_scopes)]
    by_guid = {r.role_id.lower(): r for r in roles}
    keys: dict[str, str] = {}
    for r in sorted(roles, key=lambda r: r.name.lower()):
        base = re.sub(r"[^a-z0-9]+", "-", r.name.lower()).strip("-")[:60].strip("-") or "role"
        key, n = base, 2
        while key in keys.values():
            key, n = f"{base}-{n}", n + 1
        keys[r.role_id.lower()] = key
    builtins = load_builtin_roles()
    assignments = []
    for a in sorted(gw.list_role_assignments(str(target)), key=lambda a: (a.scope.lower(), a.principal_id)):
        if not parse_scope(a.scope).is_at_or_below(target):
            continue
        guid = a.role_guid.lower()
        if guid in keys:
            role_ref = keys[guid]
        elif custom_only:
            continue
        else:
            b = builtins.by_id(guid)
            role_ref = b.name if b else guid
        item = {"role": role_ref, "principal": {"id": a.principal_id, "type": a.principal_type or "User"},
                "scope": a.scope}
        if strip_marker(a.description):
            item["description"] = strip_marker(a.description)
        if a.condition:
            item["condition"] = a.condition
            item["condition_version"] = a.condition_version or "2.0"
        assignments.append(item)
    last = str(target).rstrip("/").rsplit("/", 1)[-1] or "tenant"
    doc = {
        "version": 1,
        "name": ("exported-" + re.sub(r"[^A-Za-z0-9._-]+", "-", last))[:64].rstrip("-."),
        "description": f"Exported from {scope} by rbactool export",
        "roles": [{"key": keys[guid], "definition": _az_definition(to_az_dict(replace(
                      r, description=strip_marker(r.description))))}
                  for guid, r in sorted(by_guid.items(), key=lambda kv: keys[kv[0]])],
        "assignments": assignments,
    }
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_files({output: text})
        click.echo(f"wrote {output}: {len(doc['roles'])} roles, {len(assignments)} assignments", err=True)


def _az_definition(d: dict) -> dict:
    d = dict(d)
    d.pop("Id", None)  # the spec names roles; ids are Azure's business
    return d
