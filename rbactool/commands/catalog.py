"""`rbactool catalog info` and `rbactool catalog refresh`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rbactool.commands.azure_options import connection, connection_options


@click.group("catalog")
def catalog_group():
    """The offline catalog of Azure operations and built-in roles: what is in use, and refreshing it."""


@catalog_group.command("info")
@click.option("--namespace", "namespaces", multiple=True, metavar="NS",
              help="Show this namespace's freshness (repeatable); default: a summary.")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Another catalog file (default: $RBACTOOL_CATALOG, a refreshed cache, or the packaged one).")
@click.option("--arm-endpoint", metavar="URL",
              help="Show the catalog that commands talking to this ARM endpoint use "
                   "(default: the one offline commands use).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def info_command(namespaces, catalog_path, arm_endpoint, fmt):
    """Which catalog each command uses (packaged, or a cache refreshed from which cloud, endpoint
    and tenant, and when), its date, and how fresh each namespace's data is."""
    from rbactool.api import catalog_info

    info = catalog_info(catalog_path, arm_endpoint=arm_endpoint, namespaces=namespaces)
    doc, source, used_by = info.doc, info.source, info.used_by
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"catalog:        {source.describe()}")
    click.echo(f"used by:        {used_by}")
    if source.path:
        click.echo(f"file:           {source.path}")
    click.echo(f"snapshot:       {doc['snapshot_date']} ({doc['operations']:,} operations, {doc['namespaces']} "
               f"namespaces, {doc['fresh_namespaces']} fresh)")
    click.echo(f"built-in roles: {doc['builtin_roles']} (as of {doc['builtin_roles_date']}, "
               f"{doc['builtin_roles_source']})")
    for s in doc["sources"]:
        click.echo(f"  {s['tag']:<24} {s['date']}  {'fresh' if s['fresh'] else 'stale':<5}  "
                   f"{s['namespaces']:>4} namespaces  {s['what']}")
    for c, users in info.caches:
        click.echo(f"cached:         {c.describe()}: used by {users}")
    for path, reason in info.ignored:
        click.echo(f"ignored:        {path}: {reason}")
    for p in doc["namespace_details"]:
        hint = f" (did you mean {p['did_you_mean']}?)" if p["did_you_mean"] else ""
        state = f"unknown{hint}" if not p["known"] else ("fresh" if p["fresh"] else f"stale (as of {p['as_of']})")
        click.echo(f"{p['namespace']}: {p['operations']} operations, {state}")


@catalog_group.command("refresh")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write the two files here, for --catalog / $RBACTOOL_CATALOG (default: the cache, "
                   "$RBACTOOL_CACHE_DIR or ~/.cache/rbactool, in a folder of its own for this endpoint and tenant).")
@connection_options
def refresh_command(output_dir, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Download provider operations and built-in roles from the connected tenant into the cache.

    The cache records the cloud, the ARM endpoint and the tenant it came from. A cache refreshed
    from public Azure (AzureCloud) is what `validate`, `diff`, `explain` and the other offline
    commands then prefer over the shipped snapshot; a cache from another endpoint (the emulator,
    --arm-endpoint) is used only by commands that talk to that endpoint. `catalog info` says which
    catalog each command uses.
    """
    azure = connection(cloud, arm_endpoint, ca_bundle)
    done = azure.refresh_catalog(output_dir)
    endpoint, target = azure.conn.endpoint, done.target
    click.echo(f"wrote {done.operations:,} operations in {done.namespaces} namespaces and "
               f"{done.builtin_roles} built-in roles to {target}")
    if output_dir is None:
        if done.offline:
            click.echo(f"offline commands and commands against {endpoint} now use it", err=True)
        else:
            click.echo(f"only commands against {endpoint} use its operations ({endpoint} is not a "
                       "public Azure endpoint: offline commands keep their catalog, and built-in roles always come "
                       "from public Azure or the packaged snapshot)", err=True)
