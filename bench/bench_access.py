"""Access analysis on the bench estate of issue 15: 100,000 role assignments over 2,000 scopes
(5 management groups, 50 subscriptions), 500 custom roles, 20,000 principals, 2,000 groups
(``rbactool.emulator.synthetic``). Targets: snapshot <= 60 s (ARM path, against the emulator),
file <= 200 MB; who-can cold process <= 1.0 s, access <= 1.0 s; escalations over the whole estate
<= 10 s; peak memory <= 500 MB. Prints figures; asserts nothing.

    python bench/bench_access.py            # the full estate
    python bench/bench_access.py --small    # a quick run
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rbactool
from rbactool.builtins import load_builtin_roles
from rbactool.emulator.synthetic import EstateSize, generate_estate
from rbactool.emulator.testing import start_emulator
from rbactool.estate import estate_from_seed


def cli(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one CLI process (a fresh process per call)."""
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "maxrss-kb=%M", sys.executable, "-m", "rbactool", *argv],
                       capture_output=True, text=True, env=env or os.environ.copy())
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        print(r.stderr, file=sys.stderr)
    rss = next((int(x.split("=")[1]) for x in reversed(r.stderr.splitlines()) if x.startswith("maxrss-kb=")), 0)
    return wall, rss / 1024, r.returncode  # this process's own peak (GNU time), not the children's maximum


def median_cli(argv: list[str], n: int = 5, env: dict | None = None) -> tuple[float, float]:
    runs = [cli(argv, env) for _ in range(n)]
    return statistics.median(w for w, _, _ in runs), max(m for _, m, _ in runs)


def main() -> None:
    small = "--small" in sys.argv
    size = EstateSize(subscriptions=5, scopes=200, role_assignments=5_000, custom_roles=50, principals=2_000,
                      groups=200) if small else EstateSize()
    t0 = time.perf_counter()
    seed = generate_estate(size, seed=0)
    print(f"estate: {len(seed['role_assignments']):,} assignments, {len(seed['principals']):,} principals, "
          f"{len(seed['groups']):,} groups, {len(seed['role_definitions']):,} custom roles "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "estate.db"
        t0 = time.perf_counter()
        rbactool.write_snapshot(estate_from_seed(seed, builtin_roles=load_builtin_roles().all()), db)
        print(f"snapshot from the seed: {time.perf_counter() - t0:.1f} s, file {db.stat().st_size / 1e6:.0f} MB "
              "(target <= 200 MB)")
        con = sqlite3.connect(db)
        scope = con.execute("SELECT scope FROM role_assignments WHERE scope LIKE '%/providers/Microsoft.Storage/%' "
                            "ORDER BY scope LIMIT 1").fetchone()[0]
        busiest = con.execute("SELECT principal_id FROM role_assignments GROUP BY principal_id "
                              "ORDER BY count(*) DESC, principal_id LIMIT 1").fetchone()[0]
        group = con.execute("SELECT group_id FROM group_members GROUP BY group_id ORDER BY count(*) DESC "
                            "LIMIT 1").fetchone()[0]
        con.close()
        emu = start_emulator(Path(tmp) / "emulator-state", seed=seed)
        try:
            env = {**os.environ, **emu.env()}
            for source in ("arm", "resource-graph"):
                out = Path(tmp) / f"{source}.db"
                wall, rss, rc = cli(["snapshot", "-o", str(out), "--groups", "--source", source], env)
                target = "60" if source == "arm" else "30"
                print(f"snapshot --source {source} --groups against the emulator: {wall:.1f} s, peak {rss:.0f} MiB, "
                      f"file {out.stat().st_size / 1e6:.0f} MB, exit {rc} (target <= {target} s)")
        finally:
            emu.stop()
        wall, rss = median_cli(["who-can", "Microsoft.Storage/storageAccounts/listKeys/action", "--scope", scope,
                                "--snapshot", str(db), "--format", "json"])
        print(f"who-can (cold process, median of 5): {wall:.2f} s, peak {rss:.0f} MiB (target <= 1.0 s)")
        wall, rss = median_cli(["access", busiest, "--snapshot", str(db), "--format", "json"])
        print(f"access, the principal with the most assignments (cold, median of 5): {wall:.2f} s "
              f"(target <= 1.0 s)")
        wall, rss = median_cli(["access", group, "--snapshot", str(db), "--format", "json"])
        print(f"access, the largest group (cold, median of 5): {wall:.2f} s")
        wall, rss, _ = cli(["escalations", "--snapshot", str(db), "--format", "json"])
        print(f"escalations over the whole estate (cold process): {wall:.1f} s, peak {rss:.0f} MiB "
              "(targets <= 10 s, <= 500 MB)")
        report = rbactool.find_escalations(db)
        print(f"  {len(report.found):,} escalation paths for {len(report.principals()):,} principals")


if __name__ == "__main__":
    main()
