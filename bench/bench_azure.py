"""Cold-process wall time and HTTP requests of rbactool's Azure commands against the local emulator
(static token), side by side with az when it is installed: every operation runs as one process,
rbactool and az alternating, in the same run, on this machine. Prints medians, the ratio
rbactool / az (target: at most 0.5) and the requests each sent (from the emulator's log).

    python bench/bench_azure.py                      # rbactool alone if az is not found
    RBACTOOL_BENCH_AZ=/path/to/az python bench/bench_azure.py
    RBACTOOL_BENCH_BASELINE=/work/main python bench/bench_azure.py   # also an older rbactool tree

az is looked for at $RBACTOOL_BENCH_AZ, then ../venvs/az/bin/az next to the worktree (a bench-only
venv: `python -m venv venvs/az && venvs/az/bin/pip install azure-cli`), then on PATH. It is
pointed at the emulator through a custom cloud registered without discovery and a service-
principal login against the emulator's fake Entra endpoint, all in a throwaway AZURE_CONFIG_DIR.
Both tools run with bytecode caching on (as installed packages have it; this machine sets
PYTHONDONTWRITEBYTECODE, under which every run would recompile rbactool from source).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rbactool.emulator.testing import start_emulator

RUNS = int(os.environ.get("RBACTOOL_BENCH_RUNS", "9"))
HERE = Path(__file__).resolve().parent
ROLE_ACTIONS = ["Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action"]


def find_az() -> str | None:
    for candidate in (os.environ.get("RBACTOOL_BENCH_AZ"), str(HERE.parent.parent / "venvs" / "az" / "bin" / "az"),
                      shutil.which("az")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def run(argv: list[str], env: dict, *, check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    # cwd: not a source tree (python -m puts the working directory first on sys.path)
    r = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=env["RBACTOOL_BENCH_CWD"])
    elapsed = time.perf_counter() - t0
    if check and r.returncode != 0:
        sys.exit(f"{' '.join(argv[:6])} ... failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-400:]}")
    return elapsed, r


def az_login(az: str, emu, env: dict) -> None:
    """A custom cloud for the emulator (endpoints discovered from its /metadata/endpoints; without
    that, registered by hand, which leaves az no Microsoft Graph), then a service-principal login
    against the emulator's fake Entra ID."""
    base = emu.base_url
    _, r = run([az, "cloud", "register", "-n", "RbactoolEmulator", "--endpoint-resource-manager", f"{base}/",
                "-o", "none"], env, check=False)
    if r.returncode != 0:
        run([az, "cloud", "register", "-n", "RbactoolEmulator", "--skip-endpoint-discovery",
             "--endpoint-resource-manager", f"{base}/", "--endpoint-active-directory", base,
             "--endpoint-active-directory-resource-id", "https://management.azure.com/",
             "--endpoint-active-directory-graph-resource-id", "https://graph.windows.net/"], env)
    run([az, "cloud", "set", "-n", "RbactoolEmulator"], env)
    run([az, "login", "--service-principal", "-u", "bench-client", "-p", "any-secret", "--tenant", emu.tenant_id,
         "-o", "none"], env)
    run([az, "account", "set", "-s", emu.subscription_id], env)


def main() -> None:
    az = find_az()
    baseline = os.environ.get("RBACTOOL_BENCH_BASELINE")
    with tempfile.TemporaryDirectory() as tmp:
        emu = start_emulator(Path(tmp) / "state")
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env = {**base_env, **emu.env(), "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc"), "RBACTOOL_BENCH_CWD": tmp}
        sub, rg = emu.subscription_id, f"/subscriptions/{emu.subscription_id}/resourceGroups/ml-rg"
        tools: dict[str, tuple[list[str], dict]] = {
            "rbactool": ([sys.executable, "-m", "rbactool"], {**env, "PYTHONPATH": str(HERE.parent)})}
        if baseline:
            tools["baseline"] = ([sys.executable, "-m", "rbactool"], {**env, "PYTHONPATH": baseline})
        if az:
            az_env = {**env, "AZURE_CONFIG_DIR": str(Path(tmp) / "az"), "REQUESTS_CA_BUNDLE": emu.ca_path,
                      "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_COLLECT_TELEMETRY": "false",
                      "AZURE_CORE_ONLY_SHOW_ERRORS": "true", "AZURE_CORE_NO_COLOR": "true",
                      "AZURE_CORE_SURVEY_MESSAGE": "false",
                      # anything az tries beyond loopback (its version check) fails at once on a closed port
                      "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
                      "NO_PROXY": "127.0.0.1,localhost,::1"}
            az_login(az, emu, az_env)
            tools["az"] = ([az], az_env)

        def role_file(name: str) -> str:
            path = Path(tmp) / f"{uuid.uuid4().hex}.json"
            path.write_text(json.dumps({"Name": name, "IsCustom": True, "Description": "bench",
                                        "Actions": ROLE_ACTIONS, "AssignableScopes": [rg]}))
            return str(path)

        rerun_sp = str(uuid.uuid4())
        # operation -> tool -> argv maker (i: the run): the arguments after the tool ("baseline": an older
        # rbactool, by default with rbactool's arguments)
        ops = {
            "assign, new principal (built-in role)": {
                "rbactool": lambda i: ["assign", "-i", str(uuid.uuid4()), "--principal-type", "ServicePrincipal",
                                       "--role", "AzureML Data Scientist", "--scope", rg],
                "az": lambda i: ["role", "assignment", "create", "--assignee-object-id", str(uuid.uuid4()),
                                 "--assignee-principal-type", "ServicePrincipal", "--role", "AzureML Data Scientist",
                                 "--scope", rg, "-o", "none"]},
            "assign, re-run": {
                "rbactool": lambda i: ["assign", "-i", rerun_sp, "--principal-type", "ServicePrincipal",
                                       "--role", "AzureML Data Scientist", "--scope", rg],
                "az": lambda i: ["role", "assignment", "create", "--assignee-object-id", rerun_sp,
                                 "--assignee-principal-type", "ServicePrincipal", "--role", "AzureML Data Scientist",
                                 "--scope", rg, "-o", "none"]},
            "definition create, new role (file)": {
                "rbactool": lambda i: ["create", role_file(f"bench rb {uuid.uuid4().hex[:8]}")],
                "az": lambda i: ["role", "definition", "create", "--role-definition",
                                 "@" + role_file(f"bench az {uuid.uuid4().hex[:8]}"), "-o", "none"]},
            "definition create, new role (template)": {
                "rbactool": lambda i: ["create", "online-endpoint-scoring", "-s", sub, "-g", "ml-rg",
                                       "--set", f"name=bench tpl {uuid.uuid4().hex[:8]}"]},
            "definition create, re-run": {
                "rbactool": lambda i: ["create", "online-endpoint-scoring", "-s", sub, "-g", "ml-rg",
                                       "--set", "name=bench rerun"]},
            "definition list by name": {
                "rbactool": lambda i: ["list", "definitions", "-n", "Reader"],
                "baseline": lambda i: ["list", "definitions", "--name", "Reader"],
                "az": lambda i: ["role", "definition", "list", "-n", "Reader", "-o", "none"]},
            "custom role list": {
                "rbactool": lambda i: ["list", "definitions", "--custom-role-only"],
                "baseline": lambda i: ["list", "definitions", "--custom-only"],
                "az": lambda i: ["role", "definition", "list", "--custom-role-only", "-o", "none"]},
        }
        # warm-up: bytecode written, the re-run's assignment and role exist
        for prefix, tenv in tools.values():
            run(prefix + ["--version"], tenv, check=False)
        run(tools["rbactool"][0] + ops["assign, re-run"]["rbactool"](0), tools["rbactool"][1])
        run(tools["rbactool"][0] + ops["definition create, re-run"]["rbactool"](0), tools["rbactool"][1])
        rows = []
        for op, makers in ops.items():
            times: dict[str, list[float]] = {}
            requests: dict[str, list[int]] = {}
            failed: dict[str, str] = {}
            for i in range(RUNS):
                for tool, (prefix, tenv) in tools.items():
                    maker = makers.get(tool) or (makers.get("rbactool") if tool == "baseline" else None)
                    if maker is None or tool in failed:
                        continue
                    emu.clear_requests()
                    elapsed, r = run(prefix + maker(i), tenv, check=False)
                    if r.returncode != 0:
                        failed[tool] = (r.stderr or r.stdout).strip().splitlines()[-1][:90] if (r.stderr or r.stdout) \
                            else f"exit {r.returncode}"
                        continue
                    times.setdefault(tool, []).append(elapsed)
                    requests.setdefault(tool, []).append(len(emu.requests()))
            rows.append((op, {t: statistics.median(v) for t, v in times.items()},
                         {t: statistics.median(v) for t, v in requests.items()}, failed))
        emu.stop()

    names = list(tools)
    print(f"{RUNS} runs each, alternating; cold process wall time, median; requests from the emulator's log")
    head = f"{'operation':<40}" + "".join(f"{n:>10}" for n in names) + ("   rbactool/az" if az else "") + "   requests"
    print(head)
    for op, med, req, failed in rows:
        cells = "".join(f"{(f'{med[n] * 1000:.0f} ms' if n in med else ('failed' if n in failed else '-')):>10}"
                        for n in names)
        ratio = f"{med['rbactool'] / med['az']:>13.2f}" if "az" in med and "rbactool" in med else \
            (f"{'-':>13}" if az else "")
        reqs = " / ".join(f"{n} {req[n]:.0f}" for n in names if n in req)
        print(f"{op:<40}{cells}{'   ' + ratio if az else ''}   {reqs}")
        for tool, why in failed.items():
            print(f"    {tool} failed: {why}")


if __name__ == "__main__":
    main()
