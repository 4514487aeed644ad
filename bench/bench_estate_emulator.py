"""The emulator with the bench estate of the access-analysis issue (100,000 role assignments over
2,000 scopes, 5 management groups, 50 subscriptions, 500 custom roles, 20,000 principals, 2,000
groups): how long loading the seed takes, and how long reading every assignment back takes.

Prints: generation time and seed size; in-process seed load (read + validate + apply); the
``rbactool emulator --seed`` process from spawn to its first answered request, and its memory;
listing every assignment subscription by subscription through the real SDK
(``role_assignments.list_for_scope``, pages of 1,000 by nextLink), sequentially and with 4
threads; and the same through Resource Graph (``authorizationresources``, $top 1,000, $skipToken).

    .venv/bin/python bench/bench_estate_emulator.py [--role-assignments N] [--page-size N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_emulator import StaticTokenCredential, stop  # noqa: E402

from rbactool.emulator.synthetic import EstateSize, generate_estate  # noqa: E402


def start_seeded(state_dir: str, seed: Path, page_size: int):
    import http.client
    import ssl
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rbactool", "emulator", "--port", "0", "--state-dir", state_dir, "--seed", str(seed),
         "--page-size", str(page_size)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    exports: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("export "):
            k, _, v = line[7:].strip().partition("=")
            exports[k] = v.strip("'")
        if "AZURE_TENANT_ID" in exports:
            break
    if "RBACTOOL_ARM_ENDPOINT" not in exports:
        raise SystemExit(f"the emulator did not start: {proc.stderr.read()[:500]}")
    host, port = exports["RBACTOOL_ARM_ENDPOINT"].removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=exports["RBACTOOL_CA_BUNDLE"])
    while True:
        try:
            conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
            conn.request("GET", "/providers/Microsoft.Management/managementGroups?api-version=2023-04-01",
                         headers={"Authorization": f"Bearer {exports['RBACTOOL_ACCESS_TOKEN']}"})
            if conn.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.01)
    return proc, exports, time.perf_counter() - t0


def list_all(env: dict[str, str], subs: list[str], workers: int, sdk: bool) -> list[str]:
    """Every assignment id, subscription by subscription, following nextLink."""
    if sdk:
        from azure.mgmt.authorization import AuthorizationManagementClient

        clients = [AuthorizationManagementClient(StaticTokenCredential(env["RBACTOOL_ACCESS_TOKEN"]), subs[0],
                                                 base_url=env["RBACTOOL_ARM_ENDPOINT"],
                                                 connection_verify=env["RBACTOOL_CA_BUNDLE"])
                   for _ in range(workers)]

        def one(item: tuple[int, str]) -> list[str]:
            c = clients[item[0] % workers]
            return [a.id for a in c.role_assignments.list_for_scope(f"/subscriptions/{item[1]}")]
    else:
        import requests

        sessions = [requests.Session() for _ in range(workers)]

        def one(item: tuple[int, str]) -> list[str]:
            http, out = sessions[item[0] % workers], []
            url = (f"{env['RBACTOOL_ARM_ENDPOINT']}/subscriptions/{item[1]}/providers/Microsoft.Authorization/"
                   "roleAssignments?api-version=2022-04-01")
            while url:
                body = http.get(url, headers={"Authorization": f"Bearer {env['RBACTOOL_ACCESS_TOKEN']}"},
                                verify=env["RBACTOOL_CA_BUNDLE"]).json()
                out += [a["id"] for a in body["value"]]
                url = body.get("nextLink")
            return out

    with ThreadPoolExecutor(workers) as ex:
        return [i for part in ex.map(one, enumerate(subs)) for i in part]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--role-assignments", type=int, default=100_000)
    ap.add_argument("--page-size", type=int, default=1000)
    args = ap.parse_args()
    size = dataclasses.replace(EstateSize(), role_assignments=args.role_assignments)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        doc = generate_estate(size, seed=0)
        seed = Path(tmp) / "estate.json"
        seed.write_text(json.dumps(doc, separators=(",", ":")))
        n = len(doc["role_assignments"])
        subs = [s["id"] for mg in doc["management_groups"] for s in mg["subscriptions"]]
        print(f"estate: {n:,} role assignments, {len(doc['principals']):,} principals, {len(doc['groups']):,} "
              f"groups, {len(doc['role_definitions'])} custom roles, {len(subs)} subscriptions; seed file "
              f"{seed.stat().st_size / 1e6:.1f} MB, generated in {time.perf_counter() - t:.1f} s")
        del doc

        from rbactool.emulator.seed import apply_seed, parse_seed, read_seed
        from rbactool.emulator.state import State

        t = time.perf_counter()
        parsed = read_seed(seed)
        t_read = time.perf_counter() - t
        s = parse_seed(parsed, str(seed), tenant_id=parsed["tenant"])
        t_parse = time.perf_counter() - t - t_read
        apply_seed(State(), s)
        total = time.perf_counter() - t
        print(f"seed load in process: {total:.2f} s (read {t_read:.2f} s, validate {t_parse:.2f} s, "
              f"apply {total - t_read - t_parse:.2f} s)")
        del parsed, s

        proc, env, startup = start_seeded(tmp, seed, args.page_size)
        try:
            print(f"`rbactool emulator --seed`: first answered request {startup:.2f} s after spawn; "
                  f"emulator RSS {rss_mb(proc.pid):.0f} MB")
            for label, workers, sdk in (("SDK, sequential", 1, True), ("SDK, 4 threads", 4, True),
                                        ("plain HTTPS, sequential", 1, False)):
                t = time.perf_counter()
                ids = list_all(env, subs, workers, sdk)
                print(f"list every assignment by subscription ({label}, pages of {args.page_size}): "
                      f"{time.perf_counter() - t:.2f} s, {len(ids):,} rows ({len(set(ids)):,} distinct; "
                      "management-group ones repeat per subscription)")
            import requests

            t = time.perf_counter()
            rows, token, pages = 0, None, 0
            query = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments'"
            with requests.Session() as http:
                while True:
                    opts = {"$top": 1000, **({"$skipToken": token} if token else {})}
                    r = http.post(f"{env['RBACTOOL_ARM_ENDPOINT']}/providers/Microsoft.ResourceGraph/resources",
                                  params={"api-version": "2022-10-01"}, json={"query": query, "options": opts},
                                  headers={"Authorization": f"Bearer {env['RBACTOOL_ACCESS_TOKEN']}"},
                                  verify=env["RBACTOOL_CA_BUNDLE"])
                    body = r.json()
                    rows += body["count"]
                    pages += 1
                    token = body.get("$skipToken")
                    if not token:
                        break
            print(f"Resource Graph, every assignment ($top 1000): {time.perf_counter() - t:.2f} s, {rows:,} rows in "
                  f"{pages} pages; emulator RSS now {rss_mb(proc.pid):.0f} MB")
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
