"""What `rbactool catalog info` reports: which catalog each command uses (packaged, or a cache
refreshed from which cloud, endpoint and tenant), its date, and each namespace's freshness.

``catalog_info(...)`` -> ``CatalogInfo``; ``info.doc`` is the JSON document (``schema_version`` 1).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from rbactool.catalog import CatalogSource

OFFLINE_COMMANDS = "validate, diff, explain"
ENDPOINT_COMMANDS = "create, plan, apply"


@dataclass(frozen=True)
class CatalogInfo:
    source: CatalogSource  # the catalog asked about
    used_by: str  # which commands use it
    caches: tuple[tuple[CatalogSource, str], ...]  # every usable cache, with which commands use it
    ignored: tuple[tuple[str, str], ...]  # (path, reason) of caches that are not used
    doc: dict  # everything, JSON-ready


def _used_by(source: CatalogSource, arm_endpoint: str | None) -> str:
    from rbactool.catalog import normalize_endpoint

    if source.kind == "option":
        return "commands given this --catalog"
    if source.kind == "env":
        return "every command ($RBACTOOL_CATALOG is set)"
    if arm_endpoint:
        return f"commands against {normalize_endpoint(arm_endpoint)} ({ENDPOINT_COMMANDS})"
    return f"offline commands ({OFFLINE_COMMANDS}) and commands against an endpoint with no cache of its own"


def _cache_users(cache: CatalogSource, offline: CatalogSource) -> str:
    users = [f"commands against {cache.endpoint}"]
    if cache == offline:
        users.insert(0, "offline commands")
    return " and ".join(users)


def _namespace(catalog, ns: str, names: dict[str, str]) -> dict:
    info = catalog.provider(ns)
    known = catalog.is_known_namespace(ns)
    close = [] if known else difflib.get_close_matches(ns.lower(), list(names), n=1)
    return {"namespace": ns, "known": known, "operations": info.operation_count if info else 0,
            "fresh": bool(info and info.fresh), "as_of": info.as_of if info else None,
            "did_you_mean": names[close[0]] if close else None}


def catalog_info(catalog_path: str | None = None, *, arm_endpoint: str | None = None,
                 namespaces: Sequence[str] = ()) -> CatalogInfo:
    """The catalog a command given *catalog_path* / *arm_endpoint* uses, the caches, and the
    freshness of each of *namespaces* (with a did-you-mean for an unknown one)."""
    from rbactool.builtins import load_builtin_roles
    from rbactool.catalog import builtin_roles_source, cached_sources, load_source, resolve_source

    source = resolve_source(catalog_path, endpoint=arm_endpoint)
    catalog = load_source(source)
    builtins = load_builtin_roles()
    used_by = _used_by(source, arm_endpoint)
    found, ignored = cached_sources()
    offline = resolve_source(None, explicit=False)
    caches = tuple((c, _cache_users(c, offline)) for c in found)
    providers = catalog.providers()
    by_source: dict[str, int] = {}
    for p in providers:
        for s in p.sources:
            by_source[s.tag] = by_source.get(s.tag, 0) + 1
    names = {n.lower(): n for n in catalog.namespace_names()}
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
        "caches": [{**c.to_dict(), "used_by": users} for c, users in caches],
        "ignored_caches": [{"path": path, "reason": reason} for path, reason in ignored],
        "namespace_details": [_namespace(catalog, ns, names) for ns in namespaces],
    }
    return CatalogInfo(source, used_by, caches, tuple(ignored), doc)
