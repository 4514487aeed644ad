"""Opt-in: the real Azure CLI against the emulator, unchanged (``RBACTOOL_TEST_AZCLI=1``).

az comes from the venv in ``RBACTOOL_AZ_VENV`` or is installed (once) into
``$XDG_CACHE_HOME/rbactool/azure-cli-venv``; never in CI. az runs with a throwaway profile, no
telemetry, no MSAL instance discovery, a proxy on a closed loopback port, and an audit hook that
refuses (and records) every connection or name lookup that is not loopback, so the test fails if
az tries to reach anything but the emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("RBACTOOL_TEST_AZCLI") != "1",
                                reason="opt-in: set RBACTOOL_TEST_AZCLI=1 (runs the real az CLI)")

REPO = Path(__file__).resolve().parents[2]
ADA = "11111111-1111-4111-8111-111111111111"
BOT = "22222222-2222-4222-8222-222222222222"
BOT_APP = "33333333-3333-4333-8333-333333333333"
TEAM = "44444444-4444-4444-8444-444444444444"
ROLE = "Storage reader (az test)"

#: imported by az's Python at start-up (PYTHONPATH): refuse and record every non-loopback socket use
NET_GUARD = '''
import os, sys
_LOG = os.environ["RBACTOOL_NET_GUARD_LOG"]
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
def _guard(event, args):
    if event == "socket.connect":
        address = args[1]
        if not isinstance(address, tuple):
            return  # a unix socket
        host = address[0]
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in _LOOPBACK:
        return
    with open(_LOG, "a") as f:
        f.write(f"{event} {host}\\n")
    raise OSError(f"network guard: {event} to {host} refused (not loopback)")
sys.addaudithook(_guard)
'''


def az_executable() -> Path:
    venv = os.environ.get("RBACTOOL_AZ_VENV")
    if venv:
        az = Path(venv) / "bin" / "az"
        if not az.exists():
            pytest.fail(f"RBACTOOL_AZ_VENV={venv} has no bin/az")
        return az
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rbactool" / "azure-cli-venv"
    az = cache / "bin" / "az"
    if not az.exists():
        subprocess.run([sys.executable, "-m", "venv", str(cache)], check=True)
        subprocess.run([str(cache / "bin" / "pip"), "install", "-q", "azure-cli"], check=True, timeout=1800)
    return az


def az_env(tmp_path: Path, ca_path: str, *, extra_pythonpath: str = "") -> dict[str, str]:
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(NET_GUARD)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8",
        "AZURE_CONFIG_DIR": str(tmp_path / "az"), "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_SURVEY_MESSAGE": "false",
        "AZURE_CORE_NO_COLOR": "true", "REQUESTS_CA_BUNDLE": ca_path,
        "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost,::1",
        "PYTHONPATH": os.pathsep.join(p for p in (extra_pythonpath, str(guard)) if p),
        "RBACTOOL_NET_GUARD_LOG": str(tmp_path / "net-guard.log"),
    }


class Az:
    def __init__(self, exe: Path, env: dict[str, str]):
        self.exe, self.env = exe, env

    def run(self, *args: str, expect_rc: int = 0):
        r = subprocess.run([str(self.exe), *args], env=self.env, capture_output=True, text=True, timeout=300)
        assert r.returncode == expect_rc, f"az {' '.join(args)} -> {r.returncode}\n{r.stderr[-2000:]}"
        return r

    def json(self, *args: str):
        out = self.run(*args, "-o", "json").stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture(scope="module")
def az_exe() -> Path:
    return az_executable()


def test_the_seed_flow_through_az(emulator, az_exe, tmp_path):
    az = Az(az_exe, az_env(tmp_path, emulator.ca_path))
    sub = f"/subscriptions/{emulator.subscription_id}"
    emulator.add_principal(ADA, "User", "Ada Lovelace", user_principal_name="ada@contoso.example")
    emulator.add_principal(BOT, "ServicePrincipal", "deploy-bot", app_id=BOT_APP)
    emulator.add_principal(TEAM, "Group", "Platform team", members=[ADA, BOT])

    # cloud registration by discovery, service-principal login at the fake Entra ID
    az.run("cloud", "register", "-n", "RbactoolEmulator", "--endpoint-resource-manager", emulator.base_url + "/")
    az.run("cloud", "set", "-n", "RbactoolEmulator")
    cloud = az.json("cloud", "show", "-n", "RbactoolEmulator")
    assert cloud["endpoints"]["activeDirectory"] == emulator.base_url + "/"
    assert cloud["endpoints"]["microsoftGraphResourceId"] == emulator.graph_url + "/"
    login = az.json("login", "--service-principal", "-u", "az-test-client", "-p", "any-secret",
                    "--tenant", emulator.tenant_id)
    assert [(s["id"], s["user"]["type"]) for s in login] == [(emulator.subscription_id, "servicePrincipal")]
    paths = [e["path"] for e in emulator.requests()]
    assert "/metadata/endpoints" in paths and f"/{emulator.tenant_id}/oauth2/v2.0/token" in paths
    assert "/subscriptions" in paths

    # role definition create / list / update
    role_file = tmp_path / "role.json"
    role_file.write_text(json.dumps({"Name": ROLE, "Description": "az test",
                                     "Actions": ["Microsoft.Storage/storageAccounts/read"], "AssignableScopes": [sub]}))
    created = az.json("role", "definition", "create", "--role-definition", f"@{role_file}")
    assert created["roleName"] == ROLE and created["roleType"] == "CustomRole"
    assert created["permissions"][0]["actions"] == ["Microsoft.Storage/storageAccounts/read"]
    listed = az.json("role", "definition", "list", "-n", ROLE)
    assert [d["name"] for d in listed] == [created["name"]]
    listed[0]["description"] = "updated by az"
    update_file = tmp_path / "update.json"
    update_file.write_text(json.dumps(listed[0]))
    assert az.json("role", "definition", "update", "--role-definition", f"@{update_file}")["description"] == \
        "updated by az"
    assert [r["description"] for r in emulator.state()["customRoles"]] == ["updated by az"]

    # assignment create --assignee: az resolves the name through the Graph stand-in
    emulator.clear_requests()
    by_upn = az.json("role", "assignment", "create", "--role", ROLE, "--scope", sub, "--assignee",
                     "ada@contoso.example")
    assert (by_upn["principalId"], by_upn["principalType"]) == (ADA, "User")
    graph_calls = [(e["method"], e["path"]) for e in emulator.requests(path_contains="/msgraph/")]
    assert graph_calls == [("GET", "/msgraph/v1.0/users")]
    by_app = az.json("role", "assignment", "create", "--role", "Reader", "--scope", sub, "--assignee", BOT_APP)
    assert (by_app["principalId"], by_app["principalType"]) == (BOT, "ServicePrincipal")
    by_group = az.json("role", "assignment", "create", "--role", "Reader", "--scope", sub, "--assignee", TEAM)
    assert (by_group["principalId"], by_group["principalType"]) == (TEAM, "Group")

    # --assignee-object-id with a type asks Graph nothing; a re-run is az's idempotent path (409, then list)
    emulator.clear_requests()
    args = ("role", "assignment", "create", "--role", ROLE, "--scope", sub, "--assignee-object-id", BOT,
            "--assignee-principal-type", "ServicePrincipal")
    first = az.json(*args)
    assert emulator.requests(path_contains="/msgraph/") == []
    assert [e["status"] for e in emulator.requests(method="PUT")] == [201]
    again = az.json(*args)
    assert again["id"] == first["id"]
    assert [(e["status"], e["code"]) for e in emulator.requests(method="PUT")] == [
        (201, None), (409, "RoleAssignmentExists")]
    # without a type az looks the object up with getByIds
    emulator.clear_requests()
    untyped = az.json("role", "assignment", "create", "--role", "Reader", "--scope", sub, "--assignee-object-id", ADA)
    assert untyped["principalType"] == "User"
    assert [e["path"] for e in emulator.requests(path_contains="/msgraph/")] == [
        "/msgraph/v1.0/directoryObjects/getByIds"]

    # list -o table: principal names come from Graph
    table = az.run("role", "assignment", "list", "--scope", sub, "-o", "table").stdout
    assert "Table output unavailable" not in table
    rows = [line.split() for line in table.splitlines()[2:]]
    principals = sorted(r[0] for r in rows)
    assert principals == sorted(["ada@contoso.example", "ada@contoso.example", BOT_APP, BOT_APP, "Platform"])
    with_groups = az.json("role", "assignment", "list", "--scope", sub, "--assignee", "ada@contoso.example",
                          "--include-groups")
    assert sorted((a["principalId"], a["roleDefinitionName"]) for a in with_groups) == sorted(
        [(ADA, ROLE), (ADA, "Reader"), (TEAM, "Reader")])

    # delete: assignments, then the definition (RoleDefinitionHasAssignments until they are gone)
    r = az.run("role", "definition", "delete", "-n", ROLE, expect_rc=1)
    assert "RoleDefinitionHasAssignments" in r.stderr
    az.run("role", "assignment", "delete", "--scope", sub, "--role", ROLE)
    az.run("role", "assignment", "delete", "--scope", sub, "--role", "Reader")
    assert az.json("role", "assignment", "list", "--scope", sub) == []
    az.run("role", "definition", "delete", "-n", ROLE)
    assert az.json("role", "definition", "list", "--custom-role-only") == []
    assert emulator.state()["customRoles"] == [] and emulator.state()["assignments"] == []

    guard_log = tmp_path / "net-guard.log"
    assert not guard_log.exists(), guard_log.read_text()


def test_try_az_script_runs(az_exe, tmp_path):
    """scripts/try-az.sh as a user runs it: its own emulator, az from the venv, exit code 0."""
    env = az_env(tmp_path, "", extra_pythonpath=str(REPO))
    env.pop("REQUESTS_CA_BUNDLE")
    env.update(AZ=str(az_exe), RBACTOOL=f"{sys.executable} -m rbactool", TMPDIR=str(tmp_path))
    r = subprocess.run(["bash", str(REPO / "scripts" / "try-az.sh")], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "no custom roles left" in r.stdout and "done: az worked against the emulator" in r.stdout
    assert "ada@contoso.example" in r.stdout and "Platform team" in r.stdout
    guard_log = tmp_path / "net-guard.log"
    assert not guard_log.exists(), guard_log.read_text()


def test_the_docs_recipe_runs_copy_paste(emulator, az_exe, tmp_path):
    """The sh block of docs/emulator.md's "The Azure CLI against the emulator", as written."""
    doc = (REPO / "docs" / "emulator.md").read_text()
    section = doc[doc.index("## The Azure CLI against the emulator"):]
    block = section[section.index("```sh\n") + 6:section.index("\n```", section.index("```sh\n"))]
    env = az_env(tmp_path, "")
    for key in ("AZURE_CONFIG_DIR", "AZURE_CORE_COLLECT_TELEMETRY", "AZURE_CORE_INSTANCE_DISCOVERY",
                "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"):
        env.pop(key)  # the recipe sets these itself
    env.update(emulator.env(), PATH=f"{az_exe.parent}{os.pathsep}{env['PATH']}", TMPDIR=str(tmp_path))
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", block], env=env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "ada@contoso.example" in r.stdout and "Platform team" in r.stdout
    assert emulator.state()["customRoles"] == [] and emulator.state()["assignments"] == []
    puts = [e for e in emulator.requests(method="PUT") if "roleAssignments" in e["path"]]
    assert [e["status"] for e in puts] == [201, 201, 201]
    assert any(e["path"] == "/msgraph/v1.0/directoryObjects/getByIds" for e in emulator.requests())
    guard_log = tmp_path / "net-guard.log"
    assert not guard_log.exists(), guard_log.read_text()


def test_az_ad_reads_the_directory(emulator, az_exe, tmp_path):
    """az ad user/sp/group show and group membership, answered by the Graph stand-in."""
    az = Az(az_exe, az_env(tmp_path, emulator.ca_path))
    az.run("cloud", "register", "-n", "RbactoolEmulator", "--endpoint-resource-manager", emulator.base_url + "/")
    az.run("cloud", "set", "-n", "RbactoolEmulator")
    az.run("login", "--service-principal", "-u", "az-test-client", "-p", "s", "--tenant", emulator.tenant_id)
    emulator.add_principal(ADA, "User", "Ada Lovelace", user_principal_name="ada@contoso.example")
    emulator.add_principal(BOT, "ServicePrincipal", "deploy-bot", app_id=BOT_APP)
    emulator.add_principal(TEAM, "Group", "Platform team", members=[ADA, BOT])
    assert az.json("ad", "user", "show", "--id", "ada@contoso.example")["id"] == ADA
    assert az.json("ad", "sp", "show", "--id", BOT_APP)["id"] == BOT
    assert az.json("ad", "group", "show", "--group", "Platform team")["id"] == TEAM
    assert sorted(m["id"] for m in az.json("ad", "group", "member", "list", "--group", "Platform team")) == [ADA, BOT]
    assert az.json("ad", "group", "member", "check", "--group", TEAM, "--member-id", ADA) == {"value": True}
    assert [g["id"] for g in az.json("ad", "user", "get-member-groups", "--id", ADA)] == [TEAM]
    r = az.run("ad", "group", "show", "--group", "77777777-7777-4777-8777-777777777777", expect_rc=3)
    assert "does not exist" in r.stderr
    guard_log = tmp_path / "net-guard.log"
    assert not guard_log.exists(), guard_log.read_text()
