"""`rbactool catalog info` and `rbactool catalog refresh`."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click

from rbactool.commands.azure_options import connection_options, gateway


@click.group("catalog")
def catalog_group():
    """The offline catalog of Azure operations and built-in roles: what is in use, and refreshing it."""


OFFLINE_COMMANDS = "validate, diff, explain"
ENDPOINT_COMMANDS = "create, plan, apply"


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
    from rbactool.builtins import load_builtin_roles
    from rbactool.catalog import builtin_roles_source, cached_sources, load_source, normalize_endpoint, resolve_source

    source = resolve_source(catalog_path, endpoint=arm_endpoint)
    catalog = load_source(source)
    builtins = load_builtin_roles()
    if source.kind == "option":
        used_by = "commands given this --catalog"
    elif source.kind == "env":
        used_by = "every command ($RBACTOOL_CATALOG is set)"
    elif arm_endpoint:
        used_by = f"commands against {normalize_endpoint(arm_endpoint)} ({ENDPOINT_COMMANDS})"
    else:
        used_by = f"offline commands ({OFFLINE_COMMANDS}) and commands against an endpoint with no cache of its own"
    caches, ignored = cached_sources()
    offline = resolve_source(None, explicit=False)

    def cache_users(c) -> str:
        users = [f"commands against {c.endpoint}"]
        if c == offline:
            users.insert(0, "offline commands")
        return " and ".join(users)

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
        "catalog": source.path or "packaged",
        "source": {**source.to_dict(), "used_by": used_by},
        "catalog_schema_version": catalog.schema_version,
        "snapshot_date": catalog.snapshot_date,
        "operations": len(catalog),
        "namespaces": len(providers),
        "fresh_namespaces": sum(p.fresh for p in providers),
        "sources": [{"tag": s.tag, "date": s.date, "fresh": s.fresh, "what": s.what,
                     "namespaces": by_source.get(s.tag, 0)} for s in catalog.sources],
        "builtin_roles": len(builtins),
        "builtin_roles_date": builtins.snapshot_date,
        "builtin_roles_source": builtin_roles_source() or "packaged",
        "caches": [{**c.to_dict(), "used_by": cache_users(c)} for c in caches],
        "ignored_caches": [{"path": path, "reason": reason} for path, reason in ignored],
        "namespace_details": picked,
    }
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
    for c in caches:
        click.echo(f"cached:         {c.describe()}: used by {cache_users(c)}")
    for path, reason in ignored:
        click.echo(f"ignored:        {path}: {reason}")
    for p in picked:
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
    from rbactool.catalog import (
        CACHED_BUILTIN_ROLES,
        CACHED_OPERATIONS,
        CACHED_SOURCE,
        cache_dir,
        cache_folder,
        public_cloud_of,
        source_record,
    )
    from rbactool.catalog_build import build_operations, build_roles, operations_from_provider_list, write_gz
    from rbactool.errors import OutputError, RbactoolError
    from rbactool.model import to_flat_dict

    gw = gateway(cloud, arm_endpoint, ca_bundle)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    today = now.date().isoformat()
    tag = f"tenant-{today}"
    click.echo(f"... reading provider operations from {gw.conn.endpoint}", err=True)
    ops = operations_from_provider_list(gw.list_provider_operations(), tag)
    click.echo("... reading built-in roles", err=True)
    roles = [to_flat_dict(r) for r in gw.list_role_definitions("/", "type eq 'BuiltInRole'") if not r.is_custom]
    for r in roles:  # the flattened shape keeps nulls for conditions; permissions must all be present
        r.pop("id", None)
    try:
        tenant = gw.caller().get("tid")
    except RbactoolError:
        tenant = None
    tenant = tenant if isinstance(tenant, str) and tenant else os.environ.get("AZURE_TENANT_ID") or None
    record = source_record(cloud=gw.conn.cloud.name, endpoint=gw.conn.endpoint, tenant=tenant,
                           refreshed_at=now.isoformat().replace("+00:00", "Z"))
    sources = {tag: {"date": today, "fresh": True, "what": f"az provider operation list from {gw.conn.endpoint}"}}
    catalog = build_operations(ops, roles, sources)
    catalog["refreshed_from"] = record
    roles_doc = build_roles(roles, today, f"role definitions from {gw.conn.endpoint}")
    roles_doc["refreshed_from"] = record
    target = output_dir or cache_folder(gw.conn.endpoint, tenant)
    try:
        write_gz(target / CACHED_OPERATIONS, catalog)
        write_gz(target / CACHED_BUILTIN_ROLES, roles_doc)
        if output_dir is None:  # the source record last: a folder without one is never used
            write_json(target / CACHED_SOURCE, record)
            for legacy in (CACHED_OPERATIONS, CACHED_BUILTIN_ROLES):  # superseded, would only be warned about
                (cache_dir() / legacy).unlink(missing_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write the catalog to {target}: {e.strerror or e}") from e
    click.echo(f"wrote {len(ops):,} operations in {len(catalog['providers'])} namespaces and "
               f"{len(roles)} built-in roles to {target}")
    if output_dir is None:
        if public_cloud_of(gw.conn.endpoint) == gw.conn.cloud.name:
            click.echo(f"offline commands and commands against {gw.conn.endpoint} now use it", err=True)
        else:
            click.echo(f"only commands against {gw.conn.endpoint} use it ({gw.conn.endpoint} is not a public "
                       "Azure endpoint: offline commands keep their catalog)", err=True)


def write_json(path: Path, obj) -> None:
    """A small JSON file, atomically (temp + rename)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
