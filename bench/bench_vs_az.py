"""rbactool next to the Azure CLI, side by side against the same emulator, on this machine.

One process per operation, az and rbactool alternating (which one goes first flips every run),
wall time from spawn to exit. Prints per operation: the median of each, the ratio rbactool / az
(target: at most 0.5), and the requests each made, counted from the emulator's request log.

az is pointed at the emulator with the recipe of docs/emulator.md (cloud register by discovery,
service-principal login at the fake Entra ID) and kept on loopback: throwaway profile, no
telemetry, no instance discovery, a proxy on a closed loopback port, and an audit hook that
refuses any other connection. az comes from ``--az-venv`` / ``$RBACTOOL_AZ_VENV``, or is installed
once into ``$XDG_CACHE_HOME/rbactool/azure-cli-venv`` (bench only, never CI).

    python bench/bench_vs_az.py [--runs 7] [--az-venv DIR] [--only assign_new,create_new]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rbactool.emulator.testing import start_emulator  # noqa: E402

# ---------------------------------------------------------------------------------------------
# The command lines, one table per tool: switch them here when flags change. Placeholders:
# {sub} subscription scope, {sub_id} its GUID, {oid} a principal, {role_file} a role file (az shape),
# {role_name} an existing custom role's name.
RBACTOOL = {
    "assign_new": ["assign", "-i", "{oid}", "--principal-type", "ServicePrincipal", "--role", "Reader",
                   "--scope", "{sub}"],
    "assign_rerun": ["assign", "-i", "{oid}", "--principal-type", "ServicePrincipal", "--role", "Reader",
                     "--scope", "{sub}"],
    "create_new": ["create", "{role_file}", "-s", "{sub_id}"],  # default --wait (propagation handling)
    "list_by_name": ["list", "definitions", "--name", "{role_name}", "-s", "{sub_id}", "--format", "json"],
    "list_custom": ["list", "definitions", "--custom-only", "-s", "{sub_id}", "--format", "json"],
}
AZ = {
    "assign_new": ["role", "assignment", "create", "--role", "Reader", "--scope", "{sub}",
                   "--assignee-object-id", "{oid}", "--assignee-principal-type", "ServicePrincipal"],
    "assign_rerun": ["role", "assignment", "create", "--role", "Reader", "--scope", "{sub}",
                     "--assignee-object-id", "{oid}", "--assignee-principal-type", "ServicePrincipal"],
    "create_new": ["role", "definition", "create", "--role-definition", "@{role_file}"],
    "list_by_name": ["role", "definition", "list", "-n", "{role_name}"],
    "list_custom": ["role", "definition", "list", "--custom-role-only"],
}
LABELS = {
    "assign_new": "assign, new principal",
    "assign_rerun": "assign, re-run",
    "create_new": "definition create, new role",
    "list_by_name": "definition list by name",
    "list_custom": "custom role list",
}
# ---------------------------------------------------------------------------------------------

NET_GUARD = '''
import os, sys
_LOG = os.environ["RBACTOOL_NET_GUARD_LOG"]
def _guard(event, args):
    if event == "socket.connect":
        if not isinstance(args[1], tuple):
            return
        host = args[1][0]
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("127.0.0.1", "::1", "localhost"):
        return
    with open(_LOG, "a") as f:
        f.write(f"{event} {host}\\n")
    raise OSError(f"network guard: {event} to {host} refused (not loopback)")
sys.addaudithook(_guard)
'''


def az_executable(venv: str | None) -> Path:
    if venv:
        az = Path(venv) / "bin" / "az"
        if not az.exists():
            sys.exit(f"bench_vs_az: {venv} has no bin/az")
        return az
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rbactool" / "azure-cli-venv"
    az = cache / "bin" / "az"
    if not az.exists():
        print(f"installing azure-cli into {cache} (once; takes a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(cache)], check=True)
        r = subprocess.run([str(cache / "bin" / "pip"), "install", "-q", "azure-cli"])
        if r.returncode != 0 or not az.exists():
            sys.exit("bench_vs_az: could not install azure-cli (set RBACTOOL_AZ_VENV to a venv that has it)")
    return az


def fill(argv: list[str], values: dict[str, str]) -> list[str]:
    return [a.format(**values) for a in argv]


def count(entries: list[dict]) -> tuple[int, int, int]:
    """(ARM, Graph, Entra) requests."""
    graph = sum(1 for e in entries if e["path"].lower().startswith("/msgraph/"))
    entra = sum(1 for e in entries if "/oauth2/" in e["path"] or "openid-configuration" in e["path"]
                or e["path"].startswith("/metadata/"))
    return len(entries) - graph - entra, graph, entra


class Runner:
    def __init__(self, emu, az: Path, work: Path):
        self.emu, self.work = emu, work
        guard = work / "guard"
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(NET_GUARD)
        self.guard_log = work / "net-guard.log"
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8"}
        self.az_env = {
            **base, "AZURE_CONFIG_DIR": str(work / "az"), "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true", "REQUESTS_CA_BUNDLE": emu.ca_path,
            "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost,::1", "PYTHONPATH": str(guard),
            "RBACTOOL_NET_GUARD_LOG": str(self.guard_log),
        }
        self.rb_env = {**base, **emu.env(), "PYTHONPATH": str(REPO)}
        self.az = [str(az)]
        self.rbactool = [sys.executable, "-m", "rbactool"]

    def run(self, tool: str, argv: list[str]) -> tuple[float, tuple[int, int, int]]:
        cmd = (self.az if tool == "az" else self.rbactool) + argv
        env = self.az_env if tool == "az" else self.rb_env
        self.emu.clear_requests()
        t0 = time.perf_counter()
        r = subprocess.run(cmd, env=env, cwd=self.work, capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"bench_vs_az: {tool} {' '.join(argv)} failed ({r.returncode}):\n{r.stderr[-1500:]}")
        return elapsed, count(self.emu.requests())

    def role_file(self, name: str) -> str:
        path = self.work / f"{name}.json"
        path.write_text(json.dumps({
            "Name": name, "Description": "bench_vs_az",
            "Actions": ["Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/listKeys/action"],
            "AssignableScopes": [f"/subscriptions/{self.emu.subscription_id}"],
        }))
        return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per operation and tool (default 7)")
    ap.add_argument("--az-venv", default=os.environ.get("RBACTOOL_AZ_VENV"), help="venv with azure-cli")
    ap.add_argument("--only", default="", help="comma-separated operations: " + ", ".join(LABELS))
    args = ap.parse_args()
    ops = [o for o in (args.only.split(",") if args.only else LABELS) if o]
    unknown = [o for o in ops if o not in LABELS]
    if unknown:
        sys.exit(f"bench_vs_az: unknown operation {unknown[0]!r} (one of {', '.join(LABELS)})")
    az = az_executable(args.az_venv)
    with tempfile.TemporaryDirectory(prefix="bench-vs-az-") as tmp:
        work = Path(tmp)
        emu = start_emulator(work / "emulator")
        try:
            rows = bench(Runner(emu, az, work), ops, args.runs)
        finally:
            emu.stop()
        guard = (work / "net-guard.log").read_text() if (work / "net-guard.log").exists() else ""
    report(rows, args.runs)
    if guard:
        sys.exit(f"bench_vs_az: az tried to leave loopback:\n{guard}")


def bench(r: Runner, ops: list[str], runs: int) -> list[tuple]:
    sub_id = r.emu.subscription_id
    sub = f"/subscriptions/{sub_id}"
    setup = [
        ["cloud", "register", "-n", "RbactoolEmulator", "--endpoint-resource-manager", r.emu.base_url + "/"],
        ["cloud", "set", "-n", "RbactoolEmulator"],
        ["login", "--service-principal", "-u", "bench-client", "-p", "any-secret", "--tenant", r.emu.tenant_id],
    ]
    for argv in setup:
        r.run("az", argv)
    target = "bench-vs-az list target"
    r.run("rbactool", fill(RBACTOOL["create_new"], {"role_file": r.role_file(target), "sub_id": sub_id}))
    rerun_oid = {"az": str(uuid.uuid4()), "rbactool": str(uuid.uuid4())}
    base = {"sub": sub, "sub_id": sub_id, "role_name": target}
    for tool, table in (("az", AZ), ("rbactool", RBACTOOL)):  # the re-run's first run, and warm-ups
        r.run(tool, fill(table["assign_rerun"], {**base, "oid": rerun_oid[tool]}))
        r.run(tool, fill(table["list_by_name"], base))
    rows = []
    for op in ops:
        samples: dict[str, list[tuple[float, tuple[int, int, int]]]] = {"az": [], "rbactool": []}
        for i in range(runs + 1):  # run 0 warms up (byte code, az's command index) and is not counted
            order = ("az", "rbactool") if i % 2 == 0 else ("rbactool", "az")
            for tool in order:
                values = {**base, "oid": rerun_oid[tool] if op == "assign_rerun" else str(uuid.uuid4())}
                if op == "create_new":
                    values["role_file"] = r.role_file(f"bench-vs-az {tool} {i} {uuid.uuid4().hex[:8]}")
                result = r.run(tool, fill((AZ if tool == "az" else RBACTOOL)[op], values))
                if i:
                    samples[tool].append(result)
        rows.append((op, samples))
    return rows


def report(rows: list[tuple], runs: int) -> None:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"side by side, {runs} alternating runs per tool, one process per operation (wall time, median; "
          f"load average now {load} on {os.cpu_count()} CPUs)")
    print("ratio = median rbactool / median az; paired = median of rbactool/az over the back-to-back pairs "
          "(steadier when the load changes)")
    print(f"{'operation':<30} {'az':>8} {'rbactool':>9} {'ratio':>6} {'paired':>7}  "
          f"{'requests rbactool / az':<24} target")
    for op, samples in rows:
        med = {t: statistics.median(s[0] for s in samples[t]) for t in samples}
        ratio = med["rbactool"] / med["az"]
        paired = statistics.median(b[0] / a[0] for a, b in zip(samples["az"], samples["rbactool"], strict=True))
        reqs = {}
        for t in samples:
            arm, graph, entra = (statistics.median(s[1][k] for s in samples[t]) for k in range(3))
            reqs[t] = f"{arm + graph + entra:.0f}" + (f" ({graph:.0f} Graph)" if graph else "")
        verdict = "ok" if ratio <= 0.5 else "over 0.5"
        print(f"{LABELS[op]:<30} {med['az'] * 1000:>6.0f}ms {med['rbactool'] * 1000:>7.0f}ms {ratio:>6.2f} "
              f"{paired:>7.2f}  "
              f"{reqs['rbactool'] + ' / ' + reqs['az']:<24} {verdict}")
    spread = {op: {t: (min(s[0] for s in samples[t]), max(s[0] for s in samples[t])) for t in samples}
              for op, samples in rows}
    print("ranges (min-max, ms): " + "; ".join(
        f"{op} az {v['az'][0] * 1000:.0f}-{v['az'][1] * 1000:.0f}, rbactool "
        f"{v['rbactool'][0] * 1000:.0f}-{v['rbactool'][1] * 1000:.0f}" for op, v in spread.items()))


if __name__ == "__main__":
    main()
