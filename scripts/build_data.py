#!/usr/bin/env python3
"""Rebuild rbactool's packaged data from the reference snapshots in ../shared/data.

    python scripts/build_data.py [--shared-data DIR] [--out DIR]

Writes, deterministically (same inputs -> same bytes):
  rbactool/data/operations.json.gz     the provider-operations catalog, grouped by namespace
  rbactool/data/builtin-roles.json.gz  the built-in role definitions (az role definition list shape)

Not imported by the package.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

SCHEMA_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent

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


def _write_gz(path: Path, obj) -> None:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the bytes reproducible.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as f:
        f.write(text.encode("utf-8"))


def build_operations(ops: list[dict], roles: list[dict]) -> dict:
    source_index = {tag: i for i, tag in enumerate(SOURCES)}
    by_ns: dict[str, list[dict]] = defaultdict(list)
    spellings: dict[str, set[str]] = defaultdict(set)
    for op in ops:
        if op["source"] not in source_index:
            sys.exit(f"unknown source tag {op['source']!r} in operations; add it to SOURCES")
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
        "snapshot_date": max(s["date"] for s in SOURCES.values()),
        "generated_from": "shared/data/azure-provider-operations.json (see its README for provenance)",
        "sources": [{"tag": tag, **meta} for tag, meta in SOURCES.items()],
        "row_format": ["name", "isDataAction", "displayName", "description|null=displayName", "source", "altNames?"],
        "providers": providers,
        "namespaces_from_builtin_roles": extra,
    }


def build_roles(raw_roles: list[dict]) -> dict:
    roles = sorted(raw_roles, key=lambda r: r["roleName"].lower())
    return {
        "schema_version": SCHEMA_VERSION,
        "snapshot_date": ROLES_SNAPSHOT,
        "generated_from": "shared/data/sources/built-in-roles-raw.json (az role definition list)",
        "roles": roles,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "rbactool" / "data")
    args = ap.parse_args(argv)
    ops = json.loads((args.shared_data / "azure-provider-operations.json").read_text(encoding="utf-8"))
    raw_roles = json.loads(
        (args.shared_data / "sources" / "built-in-roles-raw.json").read_text(encoding="utf-8")
    )
    catalog = build_operations(ops, raw_roles)
    _write_gz(args.out / "operations.json.gz", catalog)
    _write_gz(args.out / "builtin-roles.json.gz", build_roles(raw_roles))
    n_ops = sum(len(p["ops"]) for p in catalog["providers"])
    print(f"operations: {n_ops} in {len(catalog['providers'])} namespaces "
          f"(+{len(catalog['namespaces_from_builtin_roles'])} known from built-in roles only); "
          f"built-in roles: {len(raw_roles)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
