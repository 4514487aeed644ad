"""`rbactool usage` and `rbactool rightsize` over 1,000,000 generated Activity Log events (issue 17).

Targets: 1,000,000 events streamed through `usage` <= 30 s with memory that does not grow with the
number of events (<= 300 MB; peak RSS printed for 100,000 and 1,000,000 events to show it flat);
`rightsize` for one principal over the same input <= 30 s. Each figure is one fresh CLI process (wall and CPU seconds:
the machine may be shared).
The events are in the `az monitor activity-log list` shape (a JSON array, about 1.9 KB per event,
claims and all), over 1,000 service principals holding Contributor, Reader or a custom role on 50
resource groups. Prints figures; asserts nothing.

    python bench/bench_usage.py            # 100,000 and 1,000,000 events
    python bench/bench_usage.py --small    # 10,000 and 100,000
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rbactool

SUB = "11111111-1111-1111-1111-111111111111"
ML = "Microsoft.MachineLearningServices/workspaces"
OPS = [f"{ML}/onlineEndpoints/write", f"{ML}/onlineEndpoints/deployments/write", f"{ML}/onlineEndpoints/delete",
       f"{ML}/onlineEndpoints/listKeys/action", f"{ML}/onlineEndpoints/token/action", f"{ML}/jobs/write",
       "Microsoft.Storage/storageAccounts/write", "Microsoft.Storage/storageAccounts/listKeys/action",
       "Microsoft.Resources/deployments/write", "Microsoft.Compute/virtualMachines/write",
       "Microsoft.Compute/virtualMachines/start/action", "Microsoft.Network/networkInterfaces/write"]
PRINCIPALS = 1000
RGS = 50
CHILD = "import resource, sys\nfrom rbactool.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n" \
        "    code = e.code\nelse:\n    code = 0\nprint(f'peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}'," \
        " file=sys.stderr)\nsys.exit(code or 0)\n"


def pid(i: int) -> str:
    return f"5e000000-0000-4000-8000-{i:012d}"


def seed() -> dict:
    roles = ["Contributor", "Reader", "Custom ML deployer"]
    return {
        "subscriptions": [SUB],
        "principals": [{"id": pid(i), "type": "ServicePrincipal", "name": f"sp-{i}"} for i in range(PRINCIPALS)],
        "role_definitions": [{"Name": "Custom ML deployer", "IsCustom": True, "Description": "bench",
                              "Actions": [f"{ML}/onlineEndpoints/*", f"{ML}/read"],
                              "AssignableScopes": [f"/subscriptions/{SUB}"]}],
        "role_assignments": [{"principal": pid(i), "role": roles[i % 3],
                              "scope": f"/subscriptions/{SUB}/resourceGroups/rg-{i % RGS}"} for i in range(PRINCIPALS)],
    }


TEMPLATE = json.dumps({
    "authorization": {"action": "@OP", "scope": "@SCOPE"}, "caller": "@PID", "channels": "Operation",
    "claims": {"aud": "https://management.core.windows.net/", "iss": "https://sts.windows.net/t/",
               "iat": "1700000000", "nbf": "1700000000", "exp": "1700003600", "appid": "@PID",
               "http://schemas.microsoft.com/identity/claims/objectidentifier": "@PID",
               "http://schemas.microsoft.com/identity/claims/tenantid": "00000000-0000-0000-0000-0000000000aa",
               "ipaddr": "10.0.0.1", "ver": "1.0"},
    "category": {"value": "Administrative", "localizedValue": "Administrative"},
    "correlationId": "@N", "description": "", "eventDataId": "@N",
    "eventName": {"value": "EndRequest", "localizedValue": "End request"},
    "eventTimestamp": "@TIME", "httpRequest": {"clientIpAddress": "10.0.0.1", "clientRequestId": "@N", "method": "PUT"},
    "id": "@SCOPE/events/@N", "level": "Informational", "operationId": "@N",
    "operationName": {"value": "@OP", "localizedValue": "@OP"},
    "properties": {"statusCode": "OK", "serviceRequestId": "@N", "eventCategory": "Administrative"},
    "resourceGroupName": "rg", "resourceId": "@SCOPE",
    "resourceProviderName": {"value": "Microsoft.MachineLearningServices", "localizedValue": "ML"},
    "status": {"value": "Succeeded", "localizedValue": "Succeeded"}, "subStatus": {"value": "OK", "localizedValue": "OK"},
    "submissionTimestamp": "@TIME", "subscriptionId": SUB, "tenantId": "00000000-0000-0000-0000-0000000000aa"},
    indent=None)
for key in ("@OP", "@SCOPE", "@PID", "@N", "@TIME"):
    TEMPLATE = TEMPLATE.replace(key, f"%({key[1:].lower()})s")


def write_events(path: Path, n: int) -> int:
    rnd = random.Random(17)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for k in range(n):
            i = rnd.randrange(PRINCIPALS)
            rg = i % RGS
            scope = (f"/subscriptions/{SUB}/resourceGroups/rg-{rg}/providers/{ML}/ws/onlineEndpoints/"
                     f"ep{rnd.randrange(10)}")
            op = OPS[(i + rnd.randrange(4)) % len(OPS)]
            text = TEMPLATE % {"op": op, "scope": scope, "pid": pid(i), "n": k,
                               "time": f"2026-10-{1 + k % 28:02d}T{k % 24:02d}:00:00.1234567Z"}
            f.write(text)
            f.write(",\n" if k + 1 < n else "\n")
        f.write("]\n")
    return path.stat().st_size


def child(argv: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS (MB), stdout and CPU seconds of one fresh CLI process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = next((float(x.split("=")[1]) for x in r.stderr.split() if x.startswith("peak_rss_mb=")), float("nan"))
    if r.returncode != 0:
        print(r.stderr[-400:], file=sys.stderr)
    return wall, rss, r.stdout, cpu


def main() -> None:
    sizes = (10_000, 100_000) if "--small" in sys.argv else (100_000, 1_000_000)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include waiting for them)")
    with tempfile.TemporaryDirectory(prefix="rbactool-bench-usage-") as tmp:
        d = Path(tmp)
        seed_path = d / "seed.json"
        seed_path.write_text(json.dumps(seed()))
        db = rbactool.write_snapshot(rbactool.load_seed(seed_path), d / "estate.db")
        for n in sizes:
            log = d / f"events-{n}.json"
            t0 = time.perf_counter()
            size = write_events(log, n)
            print(f"{n:>9,} events: {size / 1e6:,.0f} MB written in {time.perf_counter() - t0:.1f} s "
                  f"({size / n:,.0f} bytes/event)")
            wall, rss, out, cpu = child(["usage", str(log), "--snapshot", str(db), "--format", "json"])
            doc = json.loads(out) if out else {"log": {"counted": 0}, "identities": []}
            print(f"{n:>9,} events: usage     {wall:6.1f} s (cpu {cpu:5.1f} s)  peak RSS {rss:6.1f} MB  "
                  f"({n / wall:,.0f} events/s; counted {doc['log']['counted']:,}, "
                  f"{len(doc['identities']):,} identities)   targets: 30 s, 300 MB")
            wall, rss, out, cpu = child(["rightsize", "--principal", pid(0), str(log), "--snapshot", str(db),
                                         "--format", "json"])
            doc = json.loads(out) if out else {"role": {"Actions": []}}
            print(f"{n:>9,} events: rightsize {wall:6.1f} s (cpu {cpu:5.1f} s)  peak RSS {rss:6.1f} MB  "
                  f"(proposed {len(doc['role']['Actions'])} actions for {pid(0)})   target: 30 s")
            log.unlink()


if __name__ == "__main__":
    main()
