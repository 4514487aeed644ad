"""Validator benchmark (issues 4 and 13): prints figures, asserts nothing.

Targets:
* 928 role files (the built-in roles written as separate az-CLI custom-role files) validated in
  one cold process, every check on, JSON output: <= 1.0 s wall (issue 13), <= 200 MB peak RSS;
* one small role file, cold process (``rbactool validate x.json``): <= 0.35 s wall;
* the 928 built-in roles as one file (``built-in-roles-raw.json``), JSON and SARIF.

Each figure is the median wall time of cold processes, with the CPU time (user + system) next to
it: on a shared machine the wall time includes waiting for a core, the CPU time does not. The
children run with byte-code caching on (as after ``pip install``), whatever the environment says.

``--baseline DIR`` (e.g. ``--baseline /work/main``) also runs another checkout of rbactool, run for
run alternating with this one, and prints both: before/after figures from the same minutes on the
same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"


def write_role_files(raw: Path, out: Path) -> int:
    """The built-in roles as separate az-CLI custom-role files (a subscription as assignable scope)."""
    roles = json.loads(raw.read_text("utf-8"))
    for i, r in enumerate(roles):
        doc = {"Name": r["roleName"], "IsCustom": True, "Description": r.get("description") or ""}
        perms = r["permissions"]
        if len(perms) == 1 and not perms[0].get("condition"):
            p = perms[0]
            doc.update(Actions=p.get("actions", []), NotActions=p.get("notActions", []),
                       DataActions=p.get("dataActions", []), NotDataActions=p.get("notDataActions", []))
        else:
            doc["Permissions"] = perms
        doc["AssignableScopes"] = [SUB]
        name = re.sub(r"[^A-Za-z0-9]+", "-", r["roleName"]).strip("-").lower() or "role"
        (out / f"{i:03d}-{name}.json").write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    return len(roles)


def _run(argv: list[str], tree: Path) -> tuple[float, float, float, int, int]:
    """(wall s, CPU s, peak RSS MiB, exit code, stdout bytes) of one child process."""
    # As installed (pip byte-compiles on install): .pyc files are written and used, whatever the
    # calling environment says (PYTHONDONTWRITEBYTECODE would make every run compile ~30 modules).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=tree, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        size = out.tell()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), size


def bench(label: str, argv: list[str], runs: int, target_s: float, trees: dict[str, Path],
          target_mib: float | None = None) -> None:
    results: dict[str, list] = {name: [] for name in trees}
    for tree in trees.values():
        _run(argv, tree)  # warm the OS file cache and the .pyc files
    for _ in range(runs):
        for name, tree in trees.items():  # alternating, so both see the same load
            results[name].append(_run(argv, tree))
    for name, rs in results.items():
        walls, cpus = [r[0] for r in rs], [r[1] for r in rs]
        peak = max(r[2] for r in rs)
        code, size = rs[-1][3], rs[-1][4]
        wall = statistics.median(walls)
        verdict = "meets" if wall <= target_s and (target_mib is None or peak <= target_mib) else "MISSES"
        mem = f", target <= {target_mib:.0f} MiB" if target_mib else ""
        who = f" [{name}]" if len(trees) > 1 else ""
        print(f"{label}{who}: median {wall * 1000:.0f} ms wall (min {min(walls) * 1000:.0f}, max "
              f"{max(walls) * 1000:.0f}; target <= {target_s * 1000:.0f} ms), CPU median "
              f"{statistics.median(cpus) * 1000:.0f} ms (min {min(cpus) * 1000:.0f}) over {runs} runs; peak RSS "
              f"{peak:.1f} MiB{mem}; exit {code}; {size:,} bytes of output -> {verdict}", flush=True)


def bench_in_process(files: Path, trees: dict[str, Path]) -> None:
    code = r"""
import sys, time
t0 = time.process_time()
from rbactool import api, output
catalog = api.load_catalog()
t1 = time.process_time()
docs = api.read_role_documents(api.document_names([sys.argv[1]]), [])
t2 = time.process_time()
report = api.validate_roles(docs.roles, catalog=catalog, config=api.load_config(None, no_config=True, fail_on="none"),
                            extra_findings=docs.findings, files=docs.files)
t3 = time.process_time()
out = output.format_json(report, catalog_origin=catalog.origin)
t4 = time.process_time()
c = report.counts()
print(f"in-process CPU, {len(docs.roles)} role files{sys.argv[2]}: imports+catalog {1000*(t1-t0):.0f} ms, read "
      f"{1000*(t2-t1):.0f} ms, checks {1000*(t3-t2):.0f} ms, JSON {1000*(t4-t3):.0f} ms; findings {c}")
"""
    for name, tree in trees.items():
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = str(tree)
        who = f" [{name}]" if len(trees) > 1 else ""
        subprocess.run([sys.executable, "-c", code, str(files), who], check=True, cwd=tree, env=env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=Path, help="another rbactool checkout to run alternately (before/after)")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if not RAW.exists():
        sys.exit(f"{RAW} not found (the bench needs the shared data beside the repository)")
    trees = {"this tree": ROOT}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), "this tree": ROOT}
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp) / "roles"
        files.mkdir()
        n = write_role_files(RAW, files)
        bench(f"validate {n} role files (a directory), JSON, cold process",
              [py, "-m", "rbactool", "validate", str(files), "--format", "json", "--fail-on", "none", "--no-config"],
              runs=args.runs, target_s=1.0, trees=trees, target_mib=200)
        bench("validate one small role file, cold process",
              [py, "-m", "rbactool", "validate", str(SMALL), "--no-config"], runs=args.runs * 2, target_s=0.35,
              trees=trees)
        bench("validate 928 built-in roles in one file, JSON, cold process",
              [py, "-m", "rbactool", "validate", str(RAW), "--format", "json", "--fail-on", "none", "--no-config"],
              runs=max(3, args.runs // 2), target_s=1.0, trees=trees, target_mib=200)
        bench("validate 928 built-in roles in one file, SARIF, cold process",
              [py, "-m", "rbactool", "validate", str(RAW), "--format", "sarif", "--fail-on", "none", "--no-config"],
              runs=3, target_s=1.5, trees=trees)
        bench_in_process(files, trees)


if __name__ == "__main__":
    main()
