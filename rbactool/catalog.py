"""The offline catalog of Azure resource-provider operations.

Loaded once from package data (``rbactool/data/operations.json.gz``, rebuilt by
``scripts/build_data.py``) or from ``--catalog PATH`` / ``RBACTOOL_CATALOG``.

Matching follows ARM: names compare case-insensitively; in a pattern only ``*`` is special and
stands for any run of characters *including* ``/``; a pattern must match the whole name.
Lookups go through a per-namespace index, so a pattern that names its namespace scans only
that namespace (and only the names sharing its literal prefix).
"""

from __future__ import annotations

import bisect
import functools
import gzip
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rbactool.errors import CatalogError
from rbactool.readers import shorten

SCHEMA_VERSION = 1
ENV_CATALOG = "RBACTOOL_CATALOG"
ENV_CACHE_DIR = "RBACTOOL_CACHE_DIR"
CACHED_OPERATIONS = "operations.json.gz"
CACHED_BUILTIN_ROLES = "builtin-roles.json.gz"


@dataclass(frozen=True)
class Operation:
    name: str
    is_data_action: bool
    display_name: str
    description: str
    provider: str
    source: str


@dataclass(frozen=True)
class SourceInfo:
    tag: str
    date: str
    fresh: bool
    what: str


@dataclass(frozen=True)
class ProviderInfo:
    name: str  # canonical spelling
    operation_count: int
    sources: tuple[SourceInfo, ...]  # the snapshots its operations come from, newest first

    @property
    def fresh(self) -> bool:
        """True when the namespace's operation list was complete at a recent snapshot."""
        return any(s.fresh for s in self.sources)

    @property
    def as_of(self) -> str | None:
        dates = [s.date for s in self.sources if s.tag != "builtin-role-reference"]
        return max(dates) if dates else None


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A case-insensitive whole-name regex for an Azure permission pattern (only ``*`` is special)."""
    return re.compile("\\A" + ".*".join(re.escape(p) for p in pattern.lower().split("*")) + "\\Z", re.DOTALL)


def namespace_of(name: str) -> str:
    return name.split("/", 1)[0]


class _Provider:
    __slots__ = ("name", "rows", "lower_names", "_ops", "info")

    def __init__(self, name: str, rows: list, info: ProviderInfo):
        self.name = name
        self.rows = rows
        self.lower_names = [r[0].lower() for r in rows]  # sorted by the build script
        self._ops: tuple[Operation, ...] | None = None
        self.info = info


class Catalog:
    """Read-only view of the operations catalog. Returned tuples are safe to share."""

    def __init__(self, doc: dict, *, origin: str = "<packaged>"):
        if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
            got = doc.get("schema_version") if isinstance(doc, dict) else None
            raise CatalogError(f"{origin}: catalog schema_version {got!r} is not supported (want {SCHEMA_VERSION})")
        self.origin = origin
        self.schema_version: int = doc["schema_version"]
        self.snapshot_date: str = doc["snapshot_date"]
        self.sources = tuple(SourceInfo(s["tag"], s["date"], s["fresh"], s["what"]) for s in doc["sources"])
        self._providers: dict[str, _Provider] = {}
        self._alt: dict[str, str] = {}  # lower alt spelling -> lower canonical name
        for p in doc["providers"]:
            tags = sorted({r[4] for r in p["ops"]}, key=lambda i: self.sources[i].date, reverse=True)
            info = ProviderInfo(p["name"], len(p["ops"]), tuple(self.sources[i] for i in tags))
            self._providers[p["name"].lower()] = _Provider(p["name"], p["ops"], info)
            for row in p["ops"]:
                for alt in row[5] if len(row) > 5 else ():
                    self._alt[alt.lower()] = row[0].lower()
        self._role_only_namespaces = {n.lower(): n for n in doc.get("namespaces_from_builtin_roles", ())}
        self._expand = functools.lru_cache(maxsize=16384)(self._expand_uncached)

    # ---------------------------------------------------------------- providers
    def __len__(self) -> int:
        return sum(p.info.operation_count for p in self._providers.values())

    def providers(self) -> tuple[ProviderInfo, ...]:
        return tuple(self._providers[k].info for k in sorted(self._providers))

    def provider(self, namespace: str) -> ProviderInfo | None:
        """The catalog's data on a namespace (case-insensitive), or None."""
        p = self._providers.get(namespace.lower())
        return p.info if p else None

    def is_known_namespace(self, namespace: str) -> bool:
        """A namespace with operations in the catalog, or one that built-in roles name."""
        low = namespace.lower()
        return low in self._providers or low in self._role_only_namespaces

    def namespace_names(self) -> tuple[str, ...]:
        """Every known namespace spelling (catalog and built-in roles), sorted."""
        names = [p.name for p in self._providers.values()] + list(self._role_only_namespaces.values())
        return tuple(sorted(names, key=str.lower))

    # ---------------------------------------------------------------- operations
    def _ops_of(self, prov: _Provider) -> tuple[Operation, ...]:
        if prov._ops is None:
            src = self.sources
            prov._ops = tuple(
                Operation(r[0], bool(r[1]), r[2], r[2] if r[3] is None else r[3], prov.name, src[r[4]].tag)
                for r in prov.rows
            )
        return prov._ops

    def get(self, name: str, *, data_action: bool | None = None) -> tuple[Operation, ...]:
        """Operations named exactly *name* (case-insensitive; alt spellings too).

        Usually one; two when Azure lists the name both as an action and as a data action.
        """
        low = self._alt.get(name.lower(), name.lower())
        prov = self._providers.get(namespace_of(low))
        if prov is None:
            return ()
        ops = self._ops_of(prov)
        i = bisect.bisect_left(prov.lower_names, low)
        out = []
        while i < len(ops) and prov.lower_names[i] == low:
            if data_action is None or ops[i].is_data_action == data_action:
                out.append(ops[i])
            i += 1
        return tuple(out)

    def expand(self, pattern: str, *, data_action: bool | None = None) -> tuple[Operation, ...]:
        """Every operation a permission string grants, in catalog order.

        A string without ``*`` expands to its exact match (or nothing). ``data_action`` picks
        the kind: False for Actions/NotActions, True for DataActions/NotDataActions.
        """
        return self._expand(pattern.lower(), data_action)

    def _expand_uncached(self, low: str, data_action: bool | None) -> tuple[Operation, ...]:
        if "*" not in low:
            return self.get(low, data_action=data_action)
        ns = namespace_of(low)
        regex = compile_pattern(low)
        prefix = low.split("*", 1)[0]
        if "*" in ns:
            candidates = [self._providers[k] for k in sorted(self._providers) if k.startswith(prefix)]
        else:
            prov = self._providers.get(ns)
            candidates = [prov] if prov else []
        out: list[Operation] = []
        for prov in candidates:
            ops = self._ops_of(prov)
            names = prov.lower_names
            lo = bisect.bisect_left(names, prefix)
            hi = bisect.bisect_left(names, prefix + "\uffff")
            for i in range(lo, hi):
                if regex.match(names[i]) and (data_action is None or ops[i].is_data_action == data_action):
                    out.append(ops[i])
        return tuple(out)

    def matches(self, pattern: str, name: str) -> bool:
        """Whether a permission pattern covers an operation name (ARM's rule, no catalog needed)."""
        return bool(compile_pattern(pattern).match(name.lower()))


def _read_doc(path: Path, origin: str, *, packaged: bool = False) -> dict:
    if not packaged:  # a --catalog file or the cache: read like any other input (rbactool.readers)
        from rbactool.readers import read_json_file

        doc = read_json_file(path, what="catalog", where=origin, error=CatalogError)
        if not isinstance(doc, dict):
            raise CatalogError(f"{origin}: a catalog is a JSON object")
        return doc
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return json.loads(data)
    except FileNotFoundError as e:
        raise CatalogError(f"{origin}: no such catalog file") from e
    except (OSError, EOFError) as e:
        raise CatalogError(f"{origin}: cannot read catalog: {e}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(f"{origin}: catalog is not valid JSON: {e}") from e


def packaged_data_path(name: str) -> Path:
    return Path(str(resources.files("rbactool") / "data" / name))


@functools.lru_cache(maxsize=8)
def _load(path: str | None) -> Catalog:
    if path is None:
        return Catalog(_read_doc(packaged_data_path("operations.json.gz"), "<packaged catalog>", packaged=True))
    doc = _read_doc(Path(path), path)
    try:
        return Catalog(doc, origin=path)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as e:
        raise CatalogError(f"{path}: catalog is malformed ({type(e).__name__}: {shorten(str(e), 120)})") from e


def cache_dir() -> Path:
    """Where ``rbactool catalog refresh`` writes: $RBACTOOL_CACHE_DIR, else $XDG_CACHE_HOME/rbactool,
    else ~/.cache/rbactool."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rbactool"


def catalog_source(path: str | os.PathLike | None = None) -> str | None:
    """The catalog file in use: *path*, $RBACTOOL_CATALOG, a refreshed cache, or None (packaged)."""
    if path is not None:
        return str(path)
    if os.environ.get(ENV_CATALOG):
        return os.environ[ENV_CATALOG]
    cached = cache_dir() / CACHED_OPERATIONS
    return str(cached) if cached.is_file() else None


def load_catalog(path: str | os.PathLike | None = None) -> Catalog:
    """The catalog at *path*, else ``$RBACTOOL_CATALOG``, else the one ``rbactool catalog refresh``
    cached, else the packaged snapshot. Cached per file."""
    return _load(catalog_source(path))
