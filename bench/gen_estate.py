"""Write a synthetic estate as an emulator seed file (JSON), the same for the same --seed.

    .venv/bin/python bench/gen_estate.py estate.json            # the bench estate (100,000 assignments)
    .venv/bin/python bench/gen_estate.py small.json --small      # a few hundred assignments
    .venv/bin/python bench/gen_estate.py e.json --role-assignments 20000 --seed 7

Then: ``rbactool emulator --seed estate.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rbactool.emulator.synthetic import EstateSize, generate_estate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0, help="random seed (same seed, same estate)")
    ap.add_argument("--small", action="store_true", help="a small estate (tests, demos)")
    for f in dataclasses.fields(EstateSize):
        ap.add_argument("--" + f.name.replace("_", "-"), type=int, default=None)
    args = ap.parse_args()
    size = EstateSize.small() if args.small else EstateSize()
    size = dataclasses.replace(size, **{f.name: getattr(args, f.name) for f in dataclasses.fields(EstateSize)
                                        if getattr(args, f.name) is not None})
    t = time.perf_counter()
    doc = generate_estate(size, seed=args.seed)
    args.out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    print(f"{args.out}: {len(doc['role_assignments']):,} role assignments, {len(doc['principals']):,} principals, "
          f"{len(doc['groups']):,} groups, {len(doc['role_definitions']):,} custom roles, "
          f"{args.out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
