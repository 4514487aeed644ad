"""Benchmark the emulator through the real SDK (azure-mgmt-authorization) over HTTPS with keep-alive.

Prints requests/s and median/p95 latency for GET role definition and PUT role assignment at 1 and 8
client threads, and the time from process start to the first accepted request (cold: new
certificates; warm: certificates reused). The emulator runs as a separate process
(``python -m rbactool emulator``), as a user would run it.

    .venv/bin/python bench/bench_emulator.py [--requests N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


class StaticTokenCredential:
    def __init__(self, token: str):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def start(state_dir: str) -> tuple[subprocess.Popen, dict[str, str], float]:
    """Start the emulator; return (process, exports, seconds from spawn to first accepted request)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rbactool", "emulator", "--port", "0", "--state-dir", state_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    exports: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("export "):
            k, _, v = line[7:].strip().partition("=")
            exports[k] = v.strip("'")
        if "AZURE_TENANT_ID" in exports:
            break
    if "RBACTOOL_ARM_ENDPOINT" not in exports:
        proc.kill()
        raise SystemExit("the emulator did not start (no exports printed)")
    host, port = exports["RBACTOOL_ARM_ENDPOINT"].removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=exports["RBACTOOL_CA_BUNDLE"])
    deadline = time.monotonic() + 30
    while True:
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the emulator accepted no request within 30 s")
        try:
            conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=5)
            conn.request("GET", f"/providers/Microsoft.Authorization/roleDefinitions/{READER}?api-version=2022-04-01",
                         headers={"Authorization": f"Bearer {exports['RBACTOOL_ACCESS_TOKEN']}"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                break
        except OSError:
            time.sleep(0.005)
    return proc, exports, time.perf_counter() - t0


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def client(exports):
    from azure.mgmt.authorization import AuthorizationManagementClient

    return AuthorizationManagementClient(
        StaticTokenCredential(exports["RBACTOOL_ACCESS_TOKEN"]), exports["AZURE_SUBSCRIPTION_ID"],
        base_url=exports["RBACTOOL_ARM_ENDPOINT"], connection_verify=exports["RBACTOOL_CA_BUNDLE"],
    )


def run(exports, op: str, threads: int, per_thread: int) -> tuple[float, float, float]:
    """Return (requests/s, median ms, p95 ms) for *op* ("get" or "put")."""
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    sub = f"/subscriptions/{exports['AZURE_SUBSCRIPTION_ID']}"
    role_id = f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker():
        c = client(exports)
        c.role_definitions.get(sub, READER)  # warm: connection, TLS, token, lazy imports
        mine = []
        barrier.wait()
        for _ in range(per_thread):
            t = time.perf_counter()
            if op == "get":
                c.role_definitions.get(sub, READER)
            else:
                oid = str(uuid.uuid4())
                c.role_assignments.create(sub, oid, RoleAssignmentCreateParameters(
                    role_definition_id=role_id, principal_id=oid, principal_type="ServicePrincipal"))
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)
        c.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for th in pool:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    for th in pool:
        th.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return (len(latencies) / elapsed, statistics.median(latencies) * 1000,
            latencies[int(len(latencies) * 0.95) - 1] * 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=400, help="requests per measurement (default 400)")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as state_dir:
        proc, _, cold = start(state_dir)
        stop(proc)
        warm_starts = []
        for _ in range(3):
            proc, _, t = start(state_dir)
            stop(proc)
            warm_starts.append(t)
        print(f"start -> first accepted request: cold (new certificates) {cold:.3f} s; "
              f"warm (certificates reused) median {statistics.median(warm_starts):.3f} s "
              f"(min {min(warm_starts):.3f})")
        proc, exports, _ = start(state_dir)
        try:
            print(f"{'operation':<28}{'threads':>8}{'req/s':>10}{'median ms':>11}{'p95 ms':>9}")
            for op, label in (("get", "GET role definition"), ("put", "PUT role assignment")):
                for threads in (1, 8):
                    rps, med, p95 = run(exports, op, threads, max(1, args.requests // threads))
                    print(f"{label:<28}{threads:>8}{rps:>10.0f}{med:>11.2f}{p95:>9.2f}")
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
