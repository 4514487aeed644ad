"""Validator benchmark (issue 4): prints figures, asserts nothing.

Targets: validate all 928 built-in roles (``../shared/data/sources/built-in-roles-raw.json``) in
one process, every check on, JSON output: <= 1.0 s wall for the whole process and <= 200 MB
peak RSS; one small role file <= 0.35 s wall cold.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared", Path("/work/shared"))
            if (p / "data").is_dir()), Path("/work/shared")) / "data" / "sources" / "built-in-roles-raw.json"
SMALL = ROOT / "tests" / "data" / "validate" / "seeds" / "custom-role-for-scoring.json"


def _run(argv: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, peak RSS MiB, exit code, stdout bytes) of one child process."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        size = out.tell()
    return wall, usage.ru_maxrss / 1024, proc.returncode, size


def bench(label: str, argv: list[str], runs: int, target_s: float, target_mib: float | None = None) -> None:
    _run(argv)  # warm the OS file cache and the .pyc files
    results = [_run(argv) for _ in range(runs)]
    walls = [r[0] for r in results]
    peak = max(r[1] for r in results)
    code, size = results[-1][2], results[-1][3]
    verdict = "meets" if statistics.median(walls) <= target_s and (target_mib is None or peak <= target_mib) \
        else "MISSES"
    mem_target = f", target <= {target_mib:.0f} MiB" if target_mib else ""
    print(f"{label}: median {statistics.median(walls) * 1000:.0f} ms, min {min(walls) * 1000:.0f} ms, "
          f"max {max(walls) * 1000:.0f} ms over {runs} runs (target <= {target_s * 1000:.0f} ms); "
          f"peak RSS {peak:.1f} MiB{mem_target}; exit {code}; {size:,} bytes of output -> {verdict}")


def bench_in_process() -> None:
    code = r"""
import sys, time
t0 = time.perf_counter()
from rbactool.catalog import load_catalog
from rbactool.validate import validate_roles, validate_text
from rbactool.output import format_json
catalog = load_catalog()
t1 = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8").read()
roles, problems = validate_text(text, source="raw")
t2 = time.perf_counter()
report = validate_roles(roles, catalog, extra_findings=problems)
t3 = time.perf_counter()
out = format_json(report)
t4 = time.perf_counter()
c = report.counts()
print(f"in-process: imports+catalog {1000*(t1-t0):.0f} ms, parse {len(roles)} roles {1000*(t2-t1):.0f} ms, "
      f"checks {1000*(t3-t2):.0f} ms, JSON {1000*(t4-t3):.0f} ms; findings {c}")
"""
    subprocess.run([sys.executable, "-c", code, str(RAW)], check=True, cwd=ROOT)


if __name__ == "__main__":
    if not RAW.exists():
        sys.exit(f"{RAW} not found (the bench needs ../shared beside the repository)")
    py = sys.executable
    bench("validate 928 built-in roles, JSON, cold process",
          [py, "-m", "rbactool", "validate", str(RAW), "--format", "json", "--fail-on", "none", "--no-config"],
          runs=7, target_s=1.0, target_mib=200)
    bench("validate one small role file, cold process",
          [py, "-m", "rbactool", "validate", str(SMALL), "--no-config"], runs=15, target_s=0.35)
    bench("validate 928 built-in roles, SARIF, cold process",
          [py, "-m", "rbactool", "validate", str(RAW), "--format", "sarif", "--fail-on", "none", "--no-config"],
          runs=3, target_s=1.5)
    bench_in_process()
