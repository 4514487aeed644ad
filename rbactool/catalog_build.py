"""Build the catalog documents (operations and built-in roles) that ``catalog.py`` loads.

Used by ``scripts/build_data.py`` (from the reference snapshots in ../shared/data) and by
``rbactool catalog refresh`` (``refresh_cache``, from a live tenant through a gateway). Pure except
``write_gz``/``write_json`` and ``refresh_cache``.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rbactool.errors import CatalogError

SCHEMA_VERSION = 1
# Source tags of azure-provider-operations.json, with the date of the snapshot each stands for.
# "fresh": the namespace's operations list was complete at that date (see the data README).
SOURCES = {
    "iam-dataset-2026-08": {"date": "2026-08-22", "fresh": True,
                            "what": "complete az provider operation list of the namespace (overlay)"},
    "awsles-2024-11-22": {"date": "2024-11-22", "fresh": False,
                          "what": "Get-AzProviderOperation change log, namespaces S-Z"},
    "awsles-2023-08-12": {"date": "2023-08-12", "fresh": False,
                          "what": "Get-AzProviderOperation export of every provider"},
    "builtin-role-reference": {"date": "2026-08-22", "fresh": False,
                               "what": "named by a 2026 built-in role; no texts"},
}
ROLES_SNAPSHOT = "2026-08-22"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write *data* to *path* atomically: a temp file in the same directory, then rename."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            raw.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_gz(path: Path, obj) -> None:
    """Write *obj* as gzipped compact JSON, reproducibly (mtime 0) and atomically (temp + rename)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    # no file name and mtime 0 in the gzip header: the bytes depend on the content only
    _write_atomic(path, gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def write_json(path: Path, obj) -> None:
    """A small JSON file, indented, atomically (temp + rename)."""
    _write_atomic(path, (json.dumps(obj, indent=2) + "\n").encode("utf-8"))


def build_operations(ops: list[dict], roles: list[dict], sources: dict | None = None) -> dict:
    sources = SOURCES if sources is None else sources
    source_index = {tag: i for i, tag in enumerate(sources)}
    by_ns: dict[str, list[dict]] = defaultdict(list)
    spellings: dict[str, set[str]] = defaultdict(set)
    for op in ops:
        if op["source"] not in source_index:
            raise CatalogError(f"unknown source tag {op['source']!r} in operations; add it to SOURCES")
        ns = op["name"].split("/", 1)[0]
        by_ns[ns.lower()].append(op)
        spellings[ns.lower()].add(ns)
        spellings[ns.lower()].add(op["provider"])

    # Namespaces named by built-in roles (wildcards included) count as known.
    role_namespaces: dict[str, str] = {}
    for role in roles:
        for block in role["permissions"]:
            for key in ("actions", "notActions", "dataActions", "notDataActions"):
                for s in block[key]:
                    ns = s.split("/", 1)[0]
                    if "*" not in ns:
                        role_namespaces.setdefault(ns.lower(), ns)

    providers = []
    for ns_low in sorted(by_ns):
        rows = sorted(by_ns[ns_low], key=lambda o: (o["name"].lower(), o["isDataAction"]))
        names = sorted(spellings[ns_low])
        # Canonical spelling: the provider field most operations carry.
        counts: dict[str, int] = defaultdict(int)
        for o in rows:
            counts[o["provider"]] += 1
        canonical = max(sorted(counts), key=lambda n: counts[n])
        providers.append({
            "name": canonical,
            "spellings": [n for n in names if n != canonical],
            "ops": [
                [
                    o["name"],
                    1 if o["isDataAction"] else 0,
                    o.get("displayName", ""),
                    # description is usually the displayName: store null then
                    None if o.get("description", "") == o.get("displayName", "") else o.get("description", ""),
                    source_index[o["source"]],
                ] + ([o["altNames"]] if o.get("altNames") else [])
                for o in rows
            ],
        })
    extra = sorted(v for k, v in role_namespaces.items() if k not in by_ns)
    return {
        "schema_version": SCHEMA_VERSION,
        "snapshot_date": max(s["date"] for s in sources.values()),
        "generated_from": "shared/data/azure-provider-operations.json (see its README for provenance)",
        "sources": [{"tag": tag, **meta} for tag, meta in sources.items()],
        "row_format": ["name", "isDataAction", "displayName", "description|null=displayName", "source", "altNames?"],
        "providers": providers,
        "namespaces_from_builtin_roles": extra,
    }


def build_roles(raw_roles: list[dict], snapshot_date: str = ROLES_SNAPSHOT, origin: str | None = None) -> dict:
    roles = sorted(raw_roles, key=lambda r: r["roleName"].lower())
    return {
        "schema_version": SCHEMA_VERSION,
        "snapshot_date": snapshot_date,
        "generated_from": origin or "shared/data/sources/built-in-roles-raw.json (az role definition list)",
        "roles": roles,
    }


def operations_from_provider_list(providers: list[dict], source_tag: str) -> list[dict]:
    """Flatten ``GET /providers/Microsoft.Authorization/providerOperations?$expand=resourceTypes``
    items (top-level and per-resource-type operations) into catalog rows."""
    seen: dict[tuple[str, bool], dict] = {}
    for p in providers:
        namespace = p.get("name") or ""
        groups = [p.get("operations") or []] + [rt.get("operations") or [] for rt in p.get("resourceTypes") or []]
        for ops in groups:
            for op in ops:
                name = op.get("name")
                if not isinstance(name, str) or "/" not in name:
                    continue
                key = (name.lower(), bool(op.get("isDataAction")))
                seen.setdefault(key, {
                    "name": name,
                    "isDataAction": bool(op.get("isDataAction")),
                    "displayName": op.get("displayName") or "",
                    "description": op.get("description") or "",
                    "provider": namespace or name.split("/", 1)[0],
                    "source": source_tag,
                })
    return sorted(seen.values(), key=lambda o: (o["name"].lower(), o["isDataAction"]))


# --------------------------------------------------------------------------- refresh from a tenant


@dataclass(frozen=True)
class Refreshed:
    """What ``refresh_cache`` wrote, and where."""

    target: Path
    operations: int
    namespaces: int
    builtin_roles: int
    #: Offline commands use this cache too (refreshed into the cache from a public Azure cloud's
    #: own endpoint); otherwise only commands against that endpoint do.
    offline: bool = False


def _tenant_of(gw) -> str | None:
    import os

    from rbactool.errors import RbactoolError

    try:
        tenant = gw.caller().get("tid")
    except RbactoolError:
        tenant = None
    return tenant if isinstance(tenant, str) and tenant else os.environ.get("AZURE_TENANT_ID") or None


def refresh_cache(gw, output_dir: Path | None = None, *, progress: Callable[[str], None] = lambda _: None) -> Refreshed:
    """Read provider operations and built-in roles through the gateway *gw* and write the two
    catalog files: into *output_dir*, or into the cache folder of *gw*'s endpoint and tenant with
    the source record (cloud, endpoint, tenant, when) that makes commands use it."""
    import datetime as dt

    from rbactool.catalog import (
        CACHED_BUILTIN_ROLES,
        CACHED_OPERATIONS,
        CACHED_SOURCE,
        cache_dir,
        cache_folder,
        public_cloud_of,
        source_record,
    )
    from rbactool.errors import OutputError
    from rbactool.model import to_flat_dict

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    today = now.date().isoformat()
    tag = f"tenant-{today}"
    progress(f"reading provider operations from {gw.conn.endpoint}")
    ops = operations_from_provider_list(gw.list_provider_operations(), tag)
    progress("reading built-in roles")
    roles = [to_flat_dict(r) for r in gw.list_role_definitions("/", "type eq 'BuiltInRole'") if not r.is_custom]
    for r in roles:  # the flattened shape keeps nulls for conditions; permissions must all be present
        r.pop("id", None)
    tenant = _tenant_of(gw)
    record = source_record(cloud=gw.conn.cloud.name, endpoint=gw.conn.endpoint, tenant=tenant,
                           refreshed_at=now.isoformat().replace("+00:00", "Z"))
    sources = {tag: {"date": today, "fresh": True, "what": f"az provider operation list from {gw.conn.endpoint}"}}
    catalog = {**build_operations(ops, roles, sources), "refreshed_from": record}
    roles_doc = {**build_roles(roles, today, f"role definitions from {gw.conn.endpoint}"), "refreshed_from": record}
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
    return Refreshed(target, len(ops), len(catalog["providers"]), len(roles),
                     offline=output_dir is None and public_cloud_of(gw.conn.endpoint) == gw.conn.cloud.name)
