"""Input-shape benchmark (issue 13): prints figures, asserts nothing.

Targets, each a whole `rbactool validate` process (cold interpreter, JSON output, every check on):
an ARM deployment template with 50 roles (expressions resolved from parameters, variables and
--subscription) <= 0.5 s; a Terraform .tf file with 20 azurerm_role_definition resources <= 0.6 s
(the HCL parser runs in a bounded child process, imported only when a .tf file is read). Also
prints whether validating JSON imports the HCL parser at all (it must not).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUB = "11111111-2222-3333-4444-555555555555"
ACTIONS = ["Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/start/action",
           "Microsoft.Network/networkInterfaces/read", "Microsoft.Storage/storageAccounts/*/read"]


def arm_template(n: int) -> dict:
    resources = []
    for i in range(n):
        resources.append({
            "type": "Microsoft.Authorization/roleDefinitions", "apiVersion": "2022-04-01",
            "name": f"[guid(subscription().id, 'role-{i}')]",
            "properties": {
                "roleName": f"[format('{{0}} operator {i}', parameters('prefix'))]",
                "description": "[variables('description')]", "type": "CustomRole",
                "permissions": [{"actions": "[variables('actions')]", "notActions": [],
                                 "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]}],
                "assignableScopes": ["[subscription().id]",
                                     f"[concat(subscription().id, '/resourceGroups/', parameters('rg'), '{i}')]"],
            },
        })
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"prefix": {"type": "string", "defaultValue": "ml"},
                           "rg": {"type": "string", "defaultValue": "rg-"}},
            "variables": {"actions": ACTIONS, "description": "Operates the ML platform."},
            "resources": resources}


def terraform(n: int) -> str:
    out = ['data "azurerm_subscription" "primary" {}\n', 'variable "rg" {\n  default = "ml-rg"\n}\n']
    for i in range(n):
        actions = ", ".join(f'"{a}"' for a in ACTIONS)
        out.append(f'''
resource "azurerm_role_definition" "role_{i}" {{
  name        = "tf operator {i}"
  scope       = data.azurerm_subscription.primary.id
  description = "Operates the ML platform."

  permissions {{
    actions     = [{actions}]
    not_actions = []
    data_actions = ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]
  }}

  assignable_scopes = [
    data.azurerm_subscription.primary.id,
    "${{data.azurerm_subscription.primary.id}}/resourceGroups/${{var.rg}}{i}",
  ]
}}
''')
    return "".join(out)


def _run(argv: list[str]) -> tuple[float, int, bytes, float]:
    """(wall s, exit code, stdout, CPU s of the process and every child it waited for: the HCL parser's
    too). CPU time is what a busy machine inflates least."""
    import resource

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, cwd=ROOT, env=env, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.returncode, proc.stdout, cpu


SMALL = ROOT / "tests" / "data" / "validate" / "seeds" / "custom-role-for-scoring.json"


def _argv(path: Path) -> list[str]:
    return [sys.executable, "-m", "rbactool", "validate", str(path), "--format", "json", "--no-config", "-s", SUB]


def bench(label: str, path: Path, roles: int, target_s: float, runs: int = 7) -> None:
    """Alternates with one small az role file (the same process minus the input's own cost), so a
    busy machine shows in both figures."""
    argv = _argv(path)
    _run(argv)  # warm the OS file cache, the .pyc files and python-hcl2's grammar cache
    results, base, base_cpu = [], [], []
    for _ in range(runs):
        results.append(_run(argv))
        small = _run(_argv(SMALL))
        base.append(small[0])
        base_cpu.append(small[3])
    walls = [r[0] for r in results]
    cpus = [r[3] for r in results]
    code, out = results[-1][1], results[-1][2]
    try:
        read = json.loads(out)["summary"]["roles"]
    except (ValueError, KeyError):
        read = None
    ok = statistics.median(walls) <= target_s and read == roles
    print(f"{label}: median {statistics.median(walls) * 1000:.0f} ms, min {min(walls) * 1000:.0f} ms, "
          f"max {max(walls) * 1000:.0f} ms over {runs} runs (target <= {target_s * 1000:.0f} ms); "
          f"{read} of {roles} roles read; exit {code} -> {'meets' if ok else 'MISSES'}; one small az file "
          f"alternating: median {statistics.median(base) * 1000:.0f} ms (the input's own cost: "
          f"{(statistics.median(walls) - statistics.median(base)) * 1000:+.0f} ms); CPU (process + HCL child): "
          f"median {statistics.median(cpus) * 1000:.0f} ms vs {statistics.median(base_cpu) * 1000:.0f} ms for the "
          f"small file; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def lazy_import(json_path: Path, tf_path: Path) -> None:
    code = f"""
import sys
from rbactool.cli import main
for path in ({str(json_path)!r}, {str(tf_path)!r}):
    try:
        main(["validate", path, "--format", "json", "--no-config"])
    except SystemExit:
        pass
    print("after", path.rsplit(".", 1)[-1], "hcl2 imported:", "hcl2" in sys.modules, file=sys.stderr)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("after")]
    print("HCL parser in the validating process: " + "; ".join(lines))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        arm = Path(tmp) / "roles.json"
        arm.write_text(json.dumps(arm_template(50), indent=2), encoding="utf-8")
        tf = Path(tmp) / "roles.tf"
        tf.write_text(terraform(20), encoding="utf-8")
        print(f"inputs: ARM template {arm.stat().st_size:,} bytes (50 roles), .tf {tf.stat().st_size:,} bytes "
              "(20 roles)")
        bench("validate ARM template, 50 roles", arm, 50, 0.5)
        bench("validate .tf file, 20 roles", tf, 20, 0.6)
        lazy_import(arm, tf)


if __name__ == "__main__":
    main()
