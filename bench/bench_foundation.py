"""Render (cold process) and catalog load + expansion of every built-in role pattern.

Targets (issue 3): render cold process <= 0.25 s; catalog load + expansion of every built-in
role's patterns <= 0.5 s in-process.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time

SUB = "00000000-0000-0000-0000-000000000000"


def bench_render_cold(runs: int = 15) -> None:
    argv = [sys.executable, "-m", "rbactool", "render", "online-endpoint-scoring", "-s", SUB, "-g", "ml-rg"]
    subprocess.run(argv, check=True, capture_output=True)  # warm the OS file cache and .pyc files
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"render cold process: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {runs} runs; peak RSS {peak_kib / 1024:.1f} MiB (target <= 250 ms)")


def bench_catalog_expansion() -> None:
    # A fresh interpreter, so nothing is cached yet.
    code = r"""
import resource, time
t0 = time.perf_counter()
from rbactool.catalog import load_catalog
from rbactool.builtins import load_builtin_roles
catalog = load_catalog()
t1 = time.perf_counter()
roles = load_builtin_roles()
t2 = time.perf_counter()
patterns = granted = 0
for role in roles.all():
    for p in role.permissions:
        for s in p.actions + p.not_actions:
            granted += len(catalog.expand(s, data_action=False)); patterns += 1
        for s in p.data_actions + p.not_data_actions:
            granted += len(catalog.expand(s, data_action=True)); patterns += 1
t3 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"catalog load {1000*(t1-t0):.0f} ms; built-in roles load {1000*(t2-t1):.0f} ms; "
      f"expansion of {patterns} patterns ({granted} grants) {1000*(t3-t2):.0f} ms; "
      f"total {1000*(t3-t0):.0f} ms (target <= 500 ms); peak RSS of the process {peak/2**20:.1f} MiB")
"""
    subprocess.run([sys.executable, "-c", code], check=True)


if __name__ == "__main__":
    bench_render_cold()
    bench_catalog_expansion()
