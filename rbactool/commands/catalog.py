"""`rbactool catalog info` and `rbactool catalog refresh`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from rbactool.commands.arm import connection_options, gateway


@click.group("catalog")
def catalog_group():
    """The offline catalog of Azure operations and built-in roles: what is in use, and refreshing it."""


@catalog_group.command("info")
@click.option("--namespace", "namespaces", multiple=True, metavar="NS",
              help="Show this namespace's freshness (repeatable); default: a summary.")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Another catalog file (default: $RBACTOOL_CATALOG, a refreshed cache, or the packaged one).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def info_command(namespaces, catalog_path, fmt):
    """Which catalog is in use, its date, and how fresh each namespace's data is."""
    from rbactool.builtins import load_builtin_roles
    from rbactool.catalog import catalog_source, load_catalog

    source = catalog_source(catalog_path)
    catalog = load_catalog(catalog_path)
    builtins = load_builtin_roles()
    providers = catalog.providers()
    by_source: dict[str, int] = {}
    for p in providers:
        for s in p.sources:
            by_source[s.tag] = by_source.get(s.tag, 0) + 1
    import difflib

    names = {n.lower(): n for n in catalog.namespace_names()}
    picked = []
    for ns in namespaces:
        info = catalog.provider(ns)
        known = catalog.is_known_namespace(ns)
        close = [] if known else difflib.get_close_matches(ns.lower(), list(names), n=1)
        picked.append({"namespace": ns, "known": known,
                       "operations": info.operation_count if info else 0,
                       "fresh": bool(info and info.fresh), "as_of": info.as_of if info else None,
                       "did_you_mean": names[close[0]] if close else None})
    doc = {
        "schema_version": 1,
        "catalog": source or "packaged",
        "catalog_schema_version": catalog.schema_version,
        "snapshot_date": catalog.snapshot_date,
        "operations": len(catalog),
        "namespaces": len(providers),
        "fresh_namespaces": sum(p.fresh for p in providers),
        "sources": [{"tag": s.tag, "date": s.date, "fresh": s.fresh, "what": s.what,
                     "namespaces": by_source.get(s.tag, 0)} for s in catalog.sources],
        "builtin_roles": len(builtins),
        "builtin_roles_date": builtins.snapshot_date,
        "namespace_details": picked,
    }
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"catalog:        {doc['catalog']}")
    click.echo(f"snapshot:       {doc['snapshot_date']} ({doc['operations']:,} operations, {doc['namespaces']} "
               f"namespaces, {doc['fresh_namespaces']} fresh)")
    click.echo(f"built-in roles: {doc['builtin_roles']} (as of {doc['builtin_roles_date']})")
    for s in doc["sources"]:
        click.echo(f"  {s['tag']:<24} {s['date']}  {'fresh' if s['fresh'] else 'stale':<5}  "
                   f"{s['namespaces']:>4} namespaces  {s['what']}")
    for p in picked:
        hint = f" (did you mean {p['did_you_mean']}?)" if p["did_you_mean"] else ""
        state = f"unknown{hint}" if not p["known"] else ("fresh" if p["fresh"] else f"stale (as of {p['as_of']})")
        click.echo(f"{p['namespace']}: {p['operations']} operations, {state}")


@catalog_group.command("refresh")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Where to write (default: $RBACTOOL_CACHE_DIR or ~/.cache/rbactool).")
@connection_options
def refresh_command(output_dir, cloud, arm_endpoint, ca_bundle, retry_timeout):
    """Download provider operations and built-in roles from the connected tenant into the cache
    that `validate` and the other commands then prefer over the shipped snapshot."""
    from rbactool.catalog import CACHED_BUILTIN_ROLES, CACHED_OPERATIONS, cache_dir
    from rbactool.catalog_build import build_operations, build_roles, operations_from_provider_list, write_gz
    from rbactool.errors import OutputError
    from rbactool.model import to_flat_dict

    gw = gateway(cloud, arm_endpoint, ca_bundle)
    today = dt.date.today().isoformat()
    tag = f"tenant-{today}"
    click.echo(f"... reading provider operations from {gw.conn.endpoint}", err=True)
    ops = operations_from_provider_list(gw.list_provider_operations(), tag)
    click.echo("... reading built-in roles", err=True)
    roles = [to_flat_dict(r) for r in gw.list_role_definitions("/", "type eq 'BuiltInRole'") if not r.is_custom]
    for r in roles:  # the flattened shape keeps nulls for conditions; permissions must all be present
        r.pop("id", None)
    sources = {tag: {"date": today, "fresh": True, "what": f"az provider operation list from {gw.conn.endpoint}"}}
    catalog = build_operations(ops, roles, sources)
    target = output_dir or cache_dir()
    try:
        write_gz(target / CACHED_OPERATIONS, catalog)
        write_gz(target / CACHED_BUILTIN_ROLES, build_roles(roles, today, f"role definitions from {gw.conn.endpoint}"))
    except OSError as e:
        raise OutputError(f"cannot write the catalog to {target}: {e.strerror or e}") from e
    click.echo(f"wrote {len(ops):,} operations in {len(catalog['providers'])} namespaces and "
               f"{len(roles)} built-in roles to {target}")
