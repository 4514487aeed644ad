"""`rbactool snapshot`: read the estate from Azure into one SQLite file (``Azure.snapshot`` +
``write_snapshot``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rbactool.commands.azure_options import connection, connection_options


@click.command("snapshot")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="The snapshot file to write (SQLite, mode 0600; replaced atomically).")
@click.option("--subscription", "-s", "subscriptions", multiple=True, metavar="GUID",
              help="A subscription to read (repeatable; default: every subscription the credential can see).")
@click.option("--management-group", "-m", "management_groups", multiple=True, metavar="ID",
              help="Also read what is assigned at this management group itself (repeatable).")
@click.option("--groups", is_flag=True, help="Also read principals' names and group memberships from Microsoft "
              "Graph (needs Directory.Read.All or GroupMember.Read.All + User.Read.All + Application.Read.All).")
@click.option("--source", type=click.Choice(["arm", "resource-graph"]), default="arm", show_default=True,
              help="arm: per subscription; resource-graph: tenant-wide through Azure Resource Graph (deny "
              "assignments and PIM eligibility still from ARM).")
@click.option("--parallelism", type=click.IntRange(1, 32), default=8, show_default=True,
              help="Scopes read at once.")
@connection_options
def snapshot_command(output, subscriptions, management_groups, groups, source, parallelism, cloud, arm_endpoint,
                     ca_bundle, retry_timeout):
    """Read role definitions, role assignments (management groups, subscriptions, resource groups,
    resources), deny assignments, PIM eligible assignments and the management-group hierarchy into
    one SQLite file for `who-can`, `access` and `escalations` (schema: docs/snapshot.md). Scopes or
    APIs that cannot be read are recorded in the file as gaps, and counted here."""
    from rbactool import api

    for sub in subscriptions:
        api.parse_scope(f"/subscriptions/{sub}")  # a GUID, or one error line (exit 3)
    azure = connection(cloud, arm_endpoint, ca_bundle, retry_timeout,
                       subscription=subscriptions[0] if subscriptions else None)
    done = [0]

    def progress(scope: str) -> None:
        done[0] += 1
        if sys.stderr.isatty():
            click.echo(f"\rread {done[0]} scope(s)", err=True, nl=False)

    estate = azure.snapshot(subscriptions=subscriptions, management_groups=management_groups,
                            parallelism=parallelism, groups=groups, source=source,
                            progress=progress)
    if sys.stderr.isatty() and done[0]:
        click.echo(err=True)
    api.write_snapshot(estate, output)
    counts = estate.counts()
    click.echo(f"wrote {output}: {counts['role_assignments']:,} role assignments, "
               f"{counts['eligible_assignments']:,} eligible, {counts['deny_assignments']:,} deny assignments, "
               f"{counts['role_definitions']:,} role definitions over {counts['scopes']:,} scopes; "
               f"{azure.requests} requests", err=True)
    for gap in estate.gaps[:10]:
        click.echo(f"gap: {gap.api} at {gap.scope}: {gap.code or gap.status}", err=True)
    if len(estate.gaps) > 10:
        click.echo(f"gap: ... and {len(estate.gaps) - 10} more (table 'gaps' in {output})", err=True)
