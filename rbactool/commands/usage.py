"""`rbactool usage` and `rbactool rightsize`: thin click shells over ``rbactool.api`` (``usage``,
``rightsize``) reading Activity Log exports and a snapshot."""

from __future__ import annotations

from pathlib import Path

import click

FORMATS = ("text", "json", "markdown")


def _common(fn):
    fn = click.argument("logs", nargs=-1, required=True, metavar="LOGS...",
                        type=click.Path(dir_okay=False, path_type=Path))(fn)
    fn = click.option("--snapshot", "snapshot", required=True, metavar="FILE", envvar="RBACTOOL_SNAPSHOT",
                      show_envvar=True, help="The snapshot file (from `rbactool snapshot -o FILE`).")(fn)
    fn = click.option("--since", metavar="DATE", help="Only events at or after DATE (2026-11-01, or a date-time; "
                      "UTC unless it has an offset).")(fn)
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                        help="Output format.")(fn)


@click.command("usage")
@_common
@click.option("--principal", metavar="ID", help="Only this identity (an object id, or a name the snapshot knows).")
def usage_command(logs, snapshot, since, fmt, principal):
    """What identities used against what they are granted: LOGS are Activity Log exports
    (`az monitor activity-log list` JSON, diagnostic-settings JSON lines with records[], Log
    Analytics AzureActivity results as JSON or CSV; gzip or not), read as streams. Per identity:
    the effective operations granted (snapshot) and those used, with a used / granted ratio over
    the observable ones; per assignment its uses, and the assignments with no use at all. Reads and
    data actions are not in the Activity Log: they are unobserved, not unused."""
    from rbactool import api
    from rbactool.usage_format import to_json, usage_markdown, usage_text

    report = api.usage(snapshot, logs, since=since, principal=principal)
    text = {"json": lambda: to_json(report.to_dict()), "markdown": lambda: usage_markdown(report)}.get(
        fmt, lambda: usage_text(report))()
    click.echo(text, nl=False)


@click.command("rightsize")
@_common
@click.option("--principal", required=True, metavar="ID", help="The identity to right-size (an object id, or a "
              "name the snapshot knows).")
@click.option("--data-log", "data_logs", multiple=True, metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="A data-plane log (events naming data actions): data actions are then kept only where used.")
@click.option("--name", metavar="NAME", help="The proposed role's name (default: Right-sized <principal>).")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposed role here (canonical az CLI JSON, for `rbactool validate`/`create`).")
@click.option("--spec", "spec_out", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the roles spec that moves the principal onto the role here (for `rbactool plan`/`apply`).")
def rightsize_command(logs, snapshot, since, fmt, principal, data_logs, name, output, spec_out):
    """Propose a least-privilege custom role for PRINCIPAL from what it did in LOGS: the writes,
    deletes and actions it used, the reads it holds today in the namespaces it used, and its data
    actions (as today, unless --data-log). AssignableScopes and the assignment are the narrowest
    scopes that cover the use. Prints the proposal, the roles spec snippet to move the principal
    onto it, and the diff of its current effective access against the proposal."""
    from rbactool import api
    from rbactool.usage_format import rightsize_markdown, rightsize_text, to_json

    result = api.rightsize(snapshot, principal, logs, since=since, data_logs=list(data_logs) or None, name=name)
    role_text, spec_text = api.dumps_role(result.role), api.dumps_spec(result.spec)
    files = {p: t for p, t in ((output, role_text), (spec_out, spec_text)) if p is not None}
    if files:
        api.write_files(files)
    if fmt == "json":
        click.echo(to_json(result.to_dict()), nl=False)
        return
    if fmt == "markdown":
        click.echo(rightsize_markdown(result), nl=False)
        return
    click.echo(rightsize_text(result), nl=False)
    if output is None:
        click.echo("\nRole (az CLI JSON; -o FILE writes it):")
        click.echo(role_text, nl=False)
    if spec_out is None:
        click.echo("\nRoles spec (--spec FILE writes it; then rbactool plan --roles FILE):")
        click.echo(spec_text, nl=False)
    for p in files:
        click.echo(f"wrote {p}", err=True)
