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
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rbactool.catalog_build import build_operations, build_roles, write_gz  # noqa: E402


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
    write_gz(args.out / "operations.json.gz", catalog)
    write_gz(args.out / "builtin-roles.json.gz", build_roles(raw_roles))
    n_ops = sum(len(p["ops"]) for p in catalog["providers"])
    print(f"operations: {n_ops} in {len(catalog['providers'])} namespaces "
          f"(+{len(catalog['namespaces_from_builtin_roles'])} known from built-in roles only); "
          f"built-in roles: {len(raw_roles)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
