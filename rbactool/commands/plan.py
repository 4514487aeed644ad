"""`rbactool plan` and `rbactool apply`: declarative RBAC from a roles spec (rbactool.plan)."""

from __future__ import annotations

import json
import sys
import threading
from contextlib import nullcontext
from pathlib import Path

import click

from rbactool.commands.azure_options import connection_options, progress, stack
from rbactool.commands.options import config_options, run_gate, scope_values, spec_scope, template_dir_option
from rbactool.errors import EXIT_AZURE, EXIT_INTERRUPTED


def spec_options(fn):
    fn = stack(fn, (
        click.option("--roles", "roles_spec", required=True, type=click.Path(dir_okay=False, path_type=Path),
                     metavar="SPEC", help="The roles spec (roles/*.yaml) that says what should exist."),
        click.option("--subscription", "-s", envvar="AZURE_SUBSCRIPTION_ID", metavar="GUID",
                     help="Replaces the spec's default subscription."),
        click.option("--resource-group", "-g", metavar="NAME", help="Replaces the spec's default resource group."),
        click.option("--management-group", "-m", metavar="ID",
                     help="Replaces the spec's default scope with a management group."),
        click.option("--prune", is_flag=True, help="Also delete managed assignments and roles the spec no longer has."),
        click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
                     help="Concurrent requests."),
        click.option("--take-over", is_flag=True,
                     help="Change objects another spec manages (moves them to this spec) instead of refusing."),
    ))
    fn = config_options("Refuse the spec when validation finds this type or worse")(fn)
    return template_dir_option(connection_options(fn))


def _build(ctx, roles_spec, subscription, resource_group, management_group, fail_on, prune, parallelism,
           template_dirs, cloud, arm_endpoint, ca_bundle, retry_timeout, *, take_over=False, writes=False,
           config_path=None, no_config=False):
    """Validate the spec offline (the same gate and .rbactool.yaml as `rbactool validate`; each role
    once), read Azure, compute the plan. Returns (plan, the ``rbactool.api.Azure`` that read it)."""
    from rbactool import api

    config = api.load_config(config_path, no_config=no_config, fail_on=fail_on)
    # As for render: $AZURE_SUBSCRIPTION_ID only fills in where the spec names no subscription.
    overrides, fallbacks = spec_scope(ctx, scope_values(ctx, subscription, resource_group, management_group))
    desired = api.desired_state(roles_spec, template_dirs=template_dirs, overrides=overrides, fallbacks=fallbacks,
                                writes=writes or prune)
    azure = api.connect(cloud=cloud, arm_endpoint=arm_endpoint, ca_bundle=ca_bundle, subscription=subscription,
                        retry_timeout=retry_timeout, progress=progress,
                        cancel=ctx.meta.setdefault("rbactool.cancel", threading.Event()))
    _, catalog = run_gate([r.role for r in desired.roles], azure.catalog_source(), config, no_config=no_config,
                          what="the spec's roles")
    return azure.plan_state(desired, catalog=catalog, prune=prune, take_over=take_over,
                            parallelism=parallelism), azure


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
    from rbactool.plan_format import format_plan_markdown, format_plan_text, plan_dict

    # With --detailed-exitcode every error exits 1 (Terraform's convention; mapped in cli.LazyGroup).
    plan, _ = _build(ctx, roles_spec, subscription, resource_group, management_group, fail_on, prune,
                     parallelism, template_dirs, cloud, arm_endpoint, ca_bundle, retry_timeout, take_over=take_over,
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
    from rbactool import plan_format as out

    plan, azure = _build(ctx, roles_spec, subscription, resource_group, management_group, fail_on, prune,
                         parallelism, template_dirs, cloud, arm_endpoint, ca_bundle, retry_timeout,
                         take_over=take_over, writes=True, config_path=config_path, no_config=no_config)
    if not plan.has_changes:
        click.echo(json.dumps(out.nothing_to_do_dict(plan, azure.requests), indent=2) if fmt == "json"
                   else out.format_plan_text(plan) + "Nothing to do.")
        return
    click.echo(out.format_plan_text(plan), nl=False, err=fmt == "json")
    if not auto_approve:
        if not sys.stdin.isatty():
            raise click.UsageError("not a terminal: pass --auto-approve to apply without confirmation")
        if not click.confirm("Apply these changes?", err=True):
            raise click.Abort()
    tty = sys.stderr.isatty()
    bar_cm = click.progressbar(length=len(plan.changes()), label="applying", file=sys.stderr) if tty \
        else nullcontext()
    with bar_cm as bar:
        report = azure.apply(plan, parallelism=parallelism,
                             on_done=lambda o: bar.update(1) if tty else click.echo(out.outcome_line(o), err=True))
    if not tty:
        for c in report.not_started:
            click.echo(out.not_started_line(c), err=True)
    click.echo(json.dumps(out.apply_dict(plan, report, azure.requests), indent=2) if fmt == "json"
               else out.format_apply_text(plan, report, azure.requests), nl=fmt == "json")
    if report.interrupted:
        ctx.exit(EXIT_INTERRUPTED)
    if report.stopped:
        click.echo(f"Error: {out.stopped_message(report, azure.conn.endpoint)}", err=True)
    if report.count("failed") or report.count("skipped") or report.not_started:
        ctx.exit(EXIT_AZURE)
