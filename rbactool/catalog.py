"""The offline catalog of Azure resource-provider operations.

Loaded once from package data (``rbactool/data/operations.json.gz``, rebuilt by
``scripts/build_data.py``), from ``--catalog PATH`` / ``RBACTOOL_CATALOG``, or from a cache that
``rbactool catalog refresh`` wrote. Each cache records where it came from (cloud, ARM endpoint,
tenant, time) and lives in its own folder: a cache refreshed from public Azure is what offline
commands prefer over the packaged snapshot; a cache from any other endpoint (the emulator, a
private ``--arm-endpoint``) is used only by commands talking to that same endpoint.

Matching follows ARM: names compare case-insensitively; in a pattern only ``*`` is special and
stands for any run of characters *including* ``/``; a pattern must match the whole name.
Lookups go through a per-namespace index, so a pattern that names its namespace scans only
that namespace (and only the names sharing its literal prefix).
"""

from __future__ import annotations

import bisect
import functools
import gzip
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rbactool.errors import CatalogError
from rbactool.readers import clip, shorten

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ENV_CATALOG = "RBACTOOL_CATALOG"
ENV_CACHE_DIR = "RBACTOOL_CACHE_DIR"
CACHED_OPERATIONS = "operations.json.gz"
CACHED_BUILTIN_ROLES = "builtin-roles.json.gz"
CACHED_SOURCE = "source.json"  # where a cache folder's catalog came from (written last)
CACHE_SOURCES_DIR = "sources"  # one folder per (endpoint, tenant) under the cache dir
#: The ARM endpoints of the public Azure clouds (as ``azure_adapter.CLOUDS`` has them). A catalog
#: refreshed from any other endpoint is never used by offline commands or for another endpoint.
PUBLIC_ARM_ENDPOINTS = {
    "https://management.azure.com": "AzureCloud",
    "https://management.usgovcloudapi.net": "AzureUSGovernment",
    "https://management.chinacloudapi.cn": "AzureChinaCloud",
}
#: Offline commands know no endpoint: they trust a cache refreshed from public Azure only.
OFFLINE_ENDPOINT = "https://management.azure.com"


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


@functools.lru_cache(maxsize=16384)
def pattern_matcher(pattern: str):
    """``matches(lowercased_name) -> bool`` for a permission pattern (ARM's rule, as ``compile_pattern``).

    Patterns with at most one ``*`` (every well-formed one) are matched with ``startswith`` /
    ``endswith``: compiling thousands of regular expressions was most of a large validation run.
    """
    parts = pattern.lower().split("*")
    if len(parts) == 1:
        return parts[0].__eq__
    if len(parts) == 2:
        pre, suf = parts
        need = len(pre) + len(suf)
        return lambda name: len(name) >= need and name.startswith(pre) and name.endswith(suf)
    rx = compile_pattern(pattern)
    return lambda name: rx.match(name) is not None


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
        self.refreshed_from = doc.get("refreshed_from") if isinstance(doc.get("refreshed_from"), dict) else None
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
            new = object.__new__
            ops = []
            for r in prov.rows:  # as Operation(...) would, without the frozen __init__'s setattr calls
                op = new(Operation)
                vars(op).update(name=r[0], is_data_action=bool(r[1]), display_name=r[2],
                                description=r[2] if r[3] is None else r[3], provider=prov.name, source=src[r[4]].tag)
                ops.append(op)
            prov._ops = tuple(ops)
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

    def provider_operations(self, namespace: str) -> tuple[Operation, ...]:
        """Every operation of one provider namespace (case-insensitive), in catalog order; () if unknown."""
        prov = self._providers.get(namespace.lower())
        return self._ops_of(prov) if prov else ()

    def namespaces_for(self, pattern: str) -> tuple[str, ...]:
        """The catalog namespaces (lower-cased, sorted) whose operations a pattern can match."""
        low = pattern.lower()
        ns = namespace_of(low)
        if "*" not in ns:
            return (ns,) if ns in self._providers else ()
        prefix = low.split("*", 1)[0]
        return tuple(k for k in sorted(self._providers) if k.startswith(prefix))

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
        prefix, rest = low.split("*", 1)
        # names in [lo, hi) start with the prefix; what is left to check is the rest of the pattern
        if "*" in rest:
            regex = compile_pattern(low)

            def match(name: str) -> bool:
                return regex.match(name) is not None
        else:
            need = len(prefix) + len(rest)

            def match(name: str) -> bool:
                return len(name) >= need and name.endswith(rest)
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
                if match(names[i]) and (data_action is None or ops[i].is_data_action == data_action):
                    out.append(ops[i])
        return tuple(out)

    def matches(self, pattern: str, name: str) -> bool:
        """Whether a permission pattern covers an operation name (ARM's rule, no catalog needed)."""
        return pattern_matcher(pattern)(name.lower())


# --------------------------------------------------------------------------- suggestions


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, or ``limit + 1`` once it exceeds *limit*."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def close_namespace(catalog: Catalog, namespace: str) -> str | None:
    """The catalog namespace within a small edit distance of *namespace* (a typo), or None."""
    low = namespace.lower()
    limit = 2 if len(low) < 16 else 3
    best: tuple[int, str] | None = None
    for name in catalog.namespace_names():
        d = levenshtein(low, name.lower(), limit)
        if d <= limit and (best is None or (d, name) < best):
            best = (d, name)
    return best[1] if best else None


def stale_note(catalog: Catalog, namespace: str) -> str:
    """Why the catalog may not know an operation of *namespace*, and how to check or refresh it."""
    info = catalog.provider(namespace)
    if info is None:
        where = f"the catalog has no operations for {namespace} (only built-in roles name it)"
    else:
        where = f"the catalog's data for {info.name} is as of {info.as_of or 'an unknown date'}"
    return (f"{where} and may be stale: check with `az provider operation show --namespace {namespace}` "
            "or refresh the catalog from your tenant (`rbactool catalog refresh`)")


def did_you_mean(catalog: Catalog, value: str, data: bool) -> str:
    """`` (did you mean 'X'?)`` naming the catalog operation closest to *value* in its namespace, or ''."""
    import difflib

    ns = namespace_of(value)
    names = {o.name.lower(): o.name for o in catalog.expand(f"{ns}/*", data_action=data)}
    match = difflib.get_close_matches(value.lower(), list(names), n=1, cutoff=0.85)
    return f" (did you mean {clip(names[match[0]], 256)}?)" if match else ""


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


def load_packaged_catalog() -> Catalog:
    """The packaged snapshot, whatever the cache or the environment say."""
    return _load(None)


def cache_dir() -> Path:
    """Where ``rbactool catalog refresh`` writes: $RBACTOOL_CACHE_DIR, else $XDG_CACHE_HOME/rbactool,
    else ~/.cache/rbactool."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rbactool"


# --------------------------------------------------------------------------- where a catalog comes from


def normalize_endpoint(endpoint: str) -> str:
    """An ARM endpoint as compared and recorded: scheme and host lower-cased, no trailing '/'."""
    from urllib.parse import urlsplit

    e = endpoint.strip().rstrip("/")
    parts = urlsplit(e)
    if not parts.scheme or not parts.netloc:
        return e.lower()
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def public_cloud_of(endpoint: str | None) -> str | None:
    """The public Azure cloud whose ARM endpoint this is, or None (the emulator, a private endpoint)."""
    return PUBLIC_ARM_ENDPOINTS.get(normalize_endpoint(endpoint)) if endpoint else None


def cache_folder(endpoint: str, tenant: str | None, base: Path | None = None) -> Path:
    """The cache folder of one (endpoint, tenant): readable, and unique through a short hash."""
    ep = normalize_endpoint(endpoint)
    t = (tenant or "unknown").lower()
    host = re.sub(r"[^a-z0-9.-]+", "_", ep.split("://", 1)[-1]).strip("_")[:60] or "endpoint"
    digest = hashlib.sha256(f"{ep}\n{t}".encode()).hexdigest()[:12]
    return (base or cache_dir()) / CACHE_SOURCES_DIR / f"{host}-{re.sub(r'[^a-z0-9-]+', '_', t)[:36]}-{digest}"


@dataclass(frozen=True)
class CatalogSource:
    """Which catalog a command uses, and why: ``--catalog``, ``$RBACTOOL_CATALOG``, a refreshed
    cache (with the cloud, endpoint, tenant and time it was refreshed from) or the packaged one."""

    kind: str  # "option" | "env" | "cache" | "packaged"
    path: str | None = None  # the operations file; None for packaged
    cloud: str | None = None
    endpoint: str | None = None
    tenant: str | None = None
    refreshed_at: str | None = None
    builtin_roles: str | None = None  # a cache's built-in roles file

    @property
    def public(self) -> bool:
        """Refreshed from the ARM endpoint of a public Azure cloud (the cloud recorded must match it)."""
        return self.kind == "cache" and public_cloud_of(self.endpoint) == self.cloud

    def describe(self) -> str:
        if self.kind == "packaged":
            return "packaged"
        if self.kind == "option":
            return f"--catalog {self.path}"
        if self.kind == "env":
            return f"${ENV_CATALOG} {self.path}"
        origin = f"{self.cloud} {self.endpoint}" if self.public else f"{self.endpoint} (not a public Azure endpoint)"
        return f"cache from {origin} tenant {self.tenant or 'unknown'} at {self.refreshed_at}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "path": self.path, "cloud": self.cloud, "endpoint": self.endpoint,
                "tenant": self.tenant, "refreshed_at": self.refreshed_at, "public": self.public,
                "description": self.describe()}


PACKAGED = CatalogSource("packaged")


def source_record(*, cloud: str, endpoint: str, tenant: str | None, refreshed_at: str) -> dict:
    """What ``catalog refresh`` writes into ``source.json`` and into the catalog documents."""
    return {"schema_version": 1, "cloud": cloud, "endpoint": normalize_endpoint(endpoint),
            "tenant": (tenant or "unknown").lower(), "refreshed_at": refreshed_at}


def _record_of(doc: object) -> tuple[str, str, str, str] | None:
    if not isinstance(doc, dict) or doc.get("schema_version") != 1:
        return None
    fields = tuple(doc.get(k) for k in ("cloud", "endpoint", "tenant", "refreshed_at"))
    if not all(isinstance(f, str) and f and len(f) <= 2048 for f in fields):
        return None
    return fields  # type: ignore[return-value]


@functools.lru_cache(maxsize=256)
def _read_record(path: str, mtime_ns: int, size: int) -> tuple[str, str, str, str] | None:
    """A cache folder's source record (cached by file identity: commands ask often)."""
    from rbactool.readers import loads_json

    if size > 64 * 1024:
        return None
    try:
        return _record_of(loads_json(Path(path).read_text("utf-8"), path, CatalogError))
    except (OSError, UnicodeDecodeError, CatalogError):
        return None


@functools.lru_cache(maxsize=64)
def _warn_once(message: str) -> None:
    logger.warning("%s", message)


def cached_sources(base: Path | None = None) -> tuple[list[CatalogSource], list[tuple[str, str]]]:
    """Every usable refreshed cache (newest first), and the ignored ones as (path, reason).

    A cache without a source record (written by an older rbactool straight into the cache dir, or a
    folder whose ``source.json`` is missing or broken) is ignored, never trusted.
    """
    base = base or cache_dir()
    found: list[CatalogSource] = []
    ignored: list[tuple[str, str]] = []
    legacy = base / CACHED_OPERATIONS
    if legacy.is_file():
        ignored.append((str(legacy), "it records no source (an older rbactool wrote it): run "
                                     "`rbactool catalog refresh` again"))
    root = base / CACHE_SOURCES_DIR
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        ops = folder / CACHED_OPERATIONS
        meta = folder / CACHED_SOURCE
        if not ops.is_file():
            continue
        try:
            st = meta.stat()
            record = _read_record(str(meta), st.st_mtime_ns, st.st_size)
        except OSError:
            record = None
        if record is None:
            ignored.append((str(ops), f"its source record {meta.name} is missing or unreadable"))
            continue
        cloud, endpoint, tenant, at = record
        if folder != cache_folder(endpoint, tenant, base):
            ignored.append((str(ops), f"its source record names another endpoint or tenant ({endpoint})"))
            continue
        roles = folder / CACHED_BUILTIN_ROLES
        found.append(CatalogSource("cache", str(ops), cloud, endpoint, tenant, at,
                                   str(roles) if roles.is_file() else None))
    found.sort(key=lambda s: s.refreshed_at or "", reverse=True)
    return found, ignored


def resolve_source(path: str | os.PathLike | None = None, *, endpoint: str | None = None,
                   tenant: str | None = None, explicit: bool = True) -> CatalogSource:
    """The catalog a command uses.

    ``--catalog`` (*path*) and ``$RBACTOOL_CATALOG`` win (unless *explicit* is False). Then a command
    that talks to *endpoint* uses the newest cache refreshed from that endpoint (and *tenant*, when
    known). Otherwise, and for every offline command, the newest cache refreshed from public Azure
    (AzureCloud's ARM endpoint), else the packaged snapshot. A cache from the emulator or a private
    endpoint never becomes the default for anything else.
    """
    if explicit and path is not None:
        return CatalogSource("option", str(path))
    if explicit and os.environ.get(ENV_CATALOG):
        return CatalogSource("env", os.environ[ENV_CATALOG])
    caches, ignored = cached_sources()
    for where, reason in ignored:
        _warn_once(f"ignoring the catalog cache {where}: {reason}")
    if endpoint:
        ep, t = normalize_endpoint(endpoint), (tenant or "").lower() or None
        for c in caches:
            if c.endpoint == ep and (t is None or c.tenant == t):
                return c
    for c in caches:
        if c.endpoint == OFFLINE_ENDPOINT and c.public:
            return c
    return PACKAGED


def catalog_source(path: str | os.PathLike | None = None, *, endpoint: str | None = None) -> str | None:
    """The catalog file in use (see ``resolve_source``), or None for the packaged snapshot."""
    return resolve_source(path, endpoint=endpoint).path


def load_source(source: CatalogSource) -> Catalog:
    """The catalog a ``CatalogSource`` names. A cache must be the one its source record says."""
    catalog = _load(source.path)
    if source.kind == "cache":
        rec = _record_of(catalog.refreshed_from)
        if rec is None or rec[1] != source.endpoint or rec[2] != source.tenant:
            _warn_once(f"ignoring the catalog cache {source.path}: its contents record another source")
            return _load(None)
    return catalog


def load_catalog(path: str | os.PathLike | None = None, *, endpoint: str | None = None,
                 tenant: str | None = None) -> Catalog:
    """The catalog at *path*, else ``$RBACTOOL_CATALOG``, else a refreshed cache that may be used
    here (see ``resolve_source``), else the packaged snapshot. Cached per file."""
    return load_source(resolve_source(path, endpoint=endpoint, tenant=tenant))


def builtin_roles_source() -> str | None:
    """The built-in roles file offline code uses: a cache refreshed from public Azure, or None
    (the packaged snapshot). Built-in roles never come from the emulator or a private endpoint."""
    source = resolve_source(None, explicit=False)
    return source.builtin_roles if source.kind == "cache" else None
