"""`rbactool who-can`, `rbactool access` and `rbactool escalations`: thin click shells over
``rbactool.api`` (``who_can``, ``principal_access``, ``find_escalations``) reading a snapshot."""

from __future__ import annotations

import click

from rbactool.commands.azure_options import connection, connection_options
from rbactool.errors import EXIT_FINDINGS

FORMATS = ("text", "json", "markdown")


def _snapshot_option(fn, required=True):
    return click.option("--snapshot", "snapshot", required=required, metavar="FILE", envvar="RBACTOOL_SNAPSHOT",
                        show_envvar=True, help="The snapshot file to read (from `rbactool snapshot -o FILE`).")(fn)


def _format_option(fn):
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                        help="Output format.")(fn)


@click.command("who-can")
@click.argument("operation")
@click.option("--scope", required=True, metavar="SCOPE", help="Where: a resource, resource group, subscription, "
              "management group or /.")
@click.option("--live", is_flag=True, help="Ask Azure directly (only the reads this scope needs) instead of a "
              "snapshot.")
@lambda fn: _snapshot_option(fn, required=False)
@_format_option
@connection_options
def who_can_command(operation, scope, live, snapshot, fmt, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Every principal that can perform OPERATION (an action or a data action, e.g.
    Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action) at SCOPE: through
    assignments at the scope or any ancestor, groups expanded, deny assignments subtracted, each
    with its path. PIM-eligible principals and denied grants are listed apart."""
    from rbactool import api
    from rbactool.access_format import to_json, who_can_markdown, who_can_text

    if live == bool(snapshot):
        raise click.UsageError("give --snapshot FILE or --live (one of them)")
    if live:
        azure = connection(cloud, arm_endpoint, ca_bundle, retry_timeout,
                           subscription=api.parse_scope(scope).subscription)
        result = azure.who_can_live(operation, scope)
    else:
        result = api.who_can(snapshot, operation, scope)
    text = {"json": lambda: to_json(result.to_dict()), "markdown": lambda: who_can_markdown(result)}.get(
        fmt, lambda: who_can_text(result))()
    click.echo(text, nl=False)


@click.command("access")
@click.argument("principal")
@click.option("--scope", metavar="SCOPE", help="Only what applies at SCOPE (assignments at or above it) and "
              "within it (below it).")
@_snapshot_option
@_format_option
def access_command(principal, scope, snapshot, fmt):
    """Everything PRINCIPAL (an object id, or a name the snapshot knows) can do, via its groups
    too: each role assignment with its scope, effective operation counts and risk classes, and the
    deny assignments that name it."""
    from rbactool import api
    from rbactool.access_format import access_markdown, access_text, to_json

    result = api.principal_access(snapshot, principal, scope=scope)
    text = {"json": lambda: to_json(result.to_dict()), "markdown": lambda: access_markdown(result)}.get(
        fmt, lambda: access_text(result))()
    click.echo(text, nl=False)


@click.command("escalations")
@_snapshot_option
@click.option("--format", "fmt", type=click.Choice((*FORMATS, "sarif")), default="text", show_default=True,
              help="Output format (sarif: for code scanning).")
@click.pass_context
def escalations_command(ctx, snapshot, fmt):
    """Principals who can give themselves or others more access: they can write role assignments
    (delegation conditions evaluated) or change custom roles that are assigned. Exit 1 when any
    path is found, 0 when none."""
    from rbactool import api
    from rbactool.access_format import escalations_markdown, escalations_sarif, escalations_text, to_json

    report = api.find_escalations(snapshot)
    text = {"json": lambda: to_json(report.to_dict()), "markdown": lambda: escalations_markdown(report),
            "sarif": lambda: escalations_sarif(report)}.get(fmt, lambda: escalations_text(report))()
    click.echo(text, nl=False)
    if report.found:
        ctx.exit(EXIT_FINDINGS)
