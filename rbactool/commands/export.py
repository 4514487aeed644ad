"""`rbactool export`: the roles and assignments at a scope as a roles spec (rbactool.export)."""

from __future__ import annotations

from pathlib import Path

import click

from rbactool.commands.azure_options import connection, connection_options


@click.command("export")
@click.option("--scope", required=True, metavar="SCOPE", help="Export what is defined and assigned at or below here.")
@click.option("--custom-only", is_flag=True, help="Only custom roles and their assignments.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the spec here (default: stdout).")
@connection_options
def export_command(scope, custom_only, output, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Write the custom roles and role assignments at a scope as a roles spec, so an existing
    estate can be brought under management (`export`, then `plan`, shows no changes)."""
    from rbactool import api

    azure = connection(cloud, arm_endpoint, ca_bundle, subscription=api.parse_scope(scope).subscription)
    doc = azure.export(scope, custom_only=custom_only)
    text = api.dumps_spec(doc)
    if output is None:
        click.echo(text, nl=False)
    else:
        api.write_files({output: text})
        click.echo(f"wrote {output}: {len(doc['roles'])} roles, {len(doc['assignments'])} assignments", err=True)
