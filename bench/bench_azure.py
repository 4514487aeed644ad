"""Cold-process wall time and HTTP requests of `rbactool create` and `rbactool assign` against
the local emulator (static token), next to az's recorded figure (~0.7 s per az process for
`az role definition create` / `az role assignment create` on this class of machine; az itself is
not installed here). Target: each rbactool command at most half of az's time, minimum requests.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from rbactool.emulator.testing import start_emulator

AZ_RECORDED_S = 0.7
RUNS = 7


def timed(argv, env) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv[3:])} failed: {r.stderr.strip()}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as state:
        emu = start_emulator(state)
        env = {**os.environ, **emu.env()}
        rbactool = [sys.executable, "-m", "rbactool"]
        sub = emu.subscription_id
        rg = f"/subscriptions/{sub}/resourceGroups/ml-rg"
        rows = []

        def measure(label, make_argv, fresh=True):
            times, requests = [], []
            for i in range(RUNS):
                emu.clear_requests()
                times.append(timed(rbactool + make_argv(i), env))
                requests.append(len(emu.requests()))
            rows.append((label, statistics.median(times), max(times), statistics.median(requests)))

        measure("create (new role, --no-wait)", lambda i: [
            "create", "online-endpoint-scoring", "-s", sub, "-g", "ml-rg", "--no-wait", "--set", f"name=bench-{i}"])
        measure("create (new role, --wait)", lambda i: [
            "create", "online-endpoint-scoring", "-s", sub, "-g", "ml-rg", "--set", f"name=bench-wait-{i}"])
        measure("create (re-run, unchanged)", lambda i: [
            "create", "online-endpoint-scoring", "-s", sub, "-g", "ml-rg", "--set", "name=bench-0"])
        measure("assign (built-in role by name)", lambda i: [
            "assign", "-i", str(uuid.uuid4()), "--principal-type", "ServicePrincipal",
            "--role", "AzureML Data Scientist", "--scope", rg])
        measure("assign (custom role by name)", lambda i: [
            "assign", "-i", str(uuid.uuid4()), "--principal-type", "ServicePrincipal",
            "--role", "bench-0", "--scope", rg])
        emu.stop()
    print(f"{'command':<34} {'median':>8} {'max':>8} {'requests':>9}   (az recorded: {AZ_RECORDED_S:.1f} s)")
    for label, med, mx, req in rows:
        verdict = "ok" if med <= AZ_RECORDED_S / 2 else "over target"
        print(f"{label:<34} {med * 1000:>6.0f}ms {mx * 1000:>6.0f}ms {req:>9.0f}   {verdict}")


if __name__ == "__main__":
    main()
