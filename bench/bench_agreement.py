"""Agreement with Azure on the real-world corpus (tests/data/realworld), rbactool next to checkov.

For ERROR (Azure rejects the role) and SECURITY_WARNING (the role grants a risk) it prints true/false
positives and negatives and the agreement of each tool with the expected outcomes recorded in
tests/data/realworld/MANIFEST.yaml, on the same files. `--entries` adds one line per file.

rbactool: `rbactool validate --format json FILE` in a subprocess, judged as in the tests
(tests/realworld_corpus.py). checkov: one `checkov -d CORPUS --framework arm terraform bicep -o json`
run. Its only Azure RBAC check is CKV_AZURE_39 ("Ensure that no custom subscription owner roles are
created"), for ARM templates/resources (and Bicep through the ARM checks) and `azurerm_role_definition`;
a failed CKV_AZURE_39 counts as a SECURITY_WARNING. checkov has no check that says Azure would reject a
role, so it never predicts an ERROR; a file checkov cannot parse, or has no framework for (az-CLI
JSON, REST bodies), counts as "no finding".

checkov runs from $RBACTOOL_BENCH_CHECKOV, else /work/wt/venvs/checkov/bin/checkov; if neither exists
the bench creates that venv and installs checkov into it (bench only, never in tests/CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from realworld_corpus import CORPUS, JUDGMENTS, confusion, entries, verdict  # noqa: E402

CHECKOV_VENV = Path("/work/wt/venvs/checkov")
RISK_CODES = {"privilege_escalation": "PRIVILEGE_ESCALATION", "credential_exposure": "CREDENTIAL_EXPOSURE",
              "remote_execution": "REMOTE_EXECUTION"}


def checkov_executable() -> Path:
    env = os.environ.get("RBACTOOL_BENCH_CHECKOV")
    if env:
        return Path(env)
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        print(f"checkov not found: creating {CHECKOV_VENV} and installing checkov", flush=True)
        venv.create(CHECKOV_VENV, with_pip=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", "checkov"], check=True)
    return exe


def rbactool_verdicts(items: list[dict]) -> dict[str, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for key in ("AZURE_SUBSCRIPTION_ID", "RBACTOOL_TEMPLATES", "RBACTOOL_CATALOG"):
        env.pop(key, None)
    out = {}
    for e in items:
        proc = subprocess.run([sys.executable, "-m", "rbactool", "validate", "--format", "json", str(CORPUS / e["file"])],
                              capture_output=True, text=True, env=env, cwd=CORPUS, timeout=120)
        out[e["file"]] = verdict(proc.returncode, proc.stdout)
    return out


def checkov_verdicts(items: list[dict]) -> dict[str, dict]:
    proc = subprocess.run([str(checkov_executable()), "-d", str(CORPUS), "--framework", "arm", "terraform", "bicep",
                           "-o", "json", "--compact", "--quiet", "--skip-download"],
                          capture_output=True, text=True, timeout=900)
    try:
        reports = json.loads(proc.stdout)
    except ValueError:
        reports = []
    failed = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report.get("results", {}).get("failed_checks", []):
            if check.get("check_id") == "CKV_AZURE_39":
                failed.add(Path(check["file_path"]).name)
    return {e["file"]: {"error": False, "security": e["file"] in failed, "codes": set()} for e in items}


def main() -> int:
    items = entries()
    tools = {"rbactool": rbactool_verdicts(items), "checkov": checkov_verdicts(items)}
    print(f"corpus: {len(items)} roles; expected ERROR {sum(e['expect']['error'] for e in items)}, "
          f"expected SECURITY_WARNING {sum(e['expect']['security'] for e in items)}")
    print(f"{'tool':<10} {'judgment':<17} {'TP':>3} {'FP':>3} {'TN':>3} {'FN':>3}  agreement")
    for tool, got in tools.items():
        for j, label in zip(JUDGMENTS, ("ERROR", "SECURITY_WARNING"), strict=True):
            c = confusion([(e["expect"][j], got[e["file"]][j]) for e in items])
            print(f"{tool:<10} {label:<17} {c['TP']:>3} {c['FP']:>3} {c['TN']:>3} {c['FN']:>3}  {c['agreement']:.1%}")
    print("\nrisk classes (rbactool finding code present where the manifest names the class; informational):")
    for cls, code in RISK_CODES.items():
        want = [e for e in items if cls in e["expect"].get("risks", [])]
        hit = sum(1 for e in want if code in tools["rbactool"][e["file"]]["codes"])
        extra = sum(1 for e in items if cls not in e["expect"].get("risks", []) and code in tools["rbactool"][e["file"]]["codes"])
        print(f"  {cls:<22} {code:<22} found {hit}/{len(want)}, reported where not expected: {extra}")
    if "--entries" in sys.argv:
        print(f"\n{'file':<48} expected(E,S)  rbactool(E,S)  checkov(E,S)")
        for e in items:
            ex = e["expect"]
            cells = ["".join("Y" if v[e["file"]][j] else "-" for j in JUDGMENTS) for v in tools.values()]
            mark = " " if all(tools["rbactool"][e["file"]][j] == ex[j] for j in JUDGMENTS) else "*"
            print(f"{e['file']:<48} {''.join('Y' if ex[j] else '-' for j in JUDGMENTS):<14} {cells[0]:<14} {cells[1]}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
