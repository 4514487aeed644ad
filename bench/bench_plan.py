"""Declarative workload against the local emulator: 10 custom roles and 1,000 assignments over
20 resource groups. Targets (issue 8): first apply <= 15 s wall; no-op plan <= 2 s; requests =
lists + changes; peak memory <= 250 MB. Also the first apply with --parallelism 1.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rbactool.emulator.testing import start_emulator

ROLES, GROUPS, PER_GROUP = 10, 20, 50


def make_spec(path: Path, subscription: str) -> None:
    lines = ["version: 1", "name: bench", f"defaults: {{subscription: {subscription}}}", "roles:"]
    for i in range(ROLES):
        lines += [f"  - key: role-{i}", "    template: online-endpoint-scoring-strict",
                  f"    values: {{name: 'Bench scoring role {i}'}}"]
    lines.append("assignments:")
    for g in range(GROUPS):
        for j in range(PER_GROUP):
            principal = uuid.uuid5(uuid.NAMESPACE_OID, f"{g}-{j}")
            lines.append(f"  - {{role: role-{(g + j) % ROLES}, principal: {{id: {principal}, type: ServicePrincipal}}, "
                         f"scope: /subscriptions/{subscription}/resourceGroups/rg-{g:02d}}}")
    path.write_text("\n".join(lines) + "\n")


def run(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one CLI process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "rbactool", *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"rbactool {' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        emu = start_emulator(Path(tmp) / "state")
        env = {**os.environ, **emu.env()}
        spec = Path(tmp) / "spec.yaml"
        make_spec(spec, emu.subscription_id)
        print(f"workload: {ROLES} custom roles, {GROUPS * PER_GROUP} assignments over {GROUPS} resource groups")
        for parallelism in (8, 1):
            emu.reset()
            wall, rss = run(["apply", "--roles", str(spec), "--auto-approve", "--parallelism", str(parallelism)], env)
            reqs = emu.requests()
            lists = sum(r["method"] == "GET" for r in reqs)
            writes = sum(r["method"] in ("PUT", "DELETE") for r in reqs)
            print(f"first apply, --parallelism {parallelism}: {wall:.2f} s wall (target <= 15 s), "
                  f"{len(reqs)} requests = {lists} lists + {writes} writes, peak RSS {rss:.0f} MiB")
        emu.clear_requests()
        wall, rss = run(["plan", "--roles", str(spec)], env)
        print(f"no-op plan: {wall:.2f} s wall (target <= 2 s), {len(emu.requests())} requests, peak RSS {rss:.0f} MiB")
        emu.clear_requests()
        wall, _ = run(["apply", "--roles", str(spec), "--auto-approve"], env)
        writes = sum(r["method"] in ("PUT", "DELETE") for r in emu.requests())
        print(f"re-apply: {wall:.2f} s wall, {len(emu.requests())} requests, {writes} writes")
        emu.stop()


if __name__ == "__main__":
    main()
