"""``rbactool emulator``: help, bad input (exit 3, one line), --persist, and the real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from azure.mgmt.authorization.models import Permission, RoleAssignmentCreateParameters, RoleDefinition
from click.testing import CliRunner

from rbactool.cli import cli
from rbactool.emulator.persist import PersistError
from rbactool.emulator.testing import start_emulator

from .conftest import make_client

ROLE_ID = "5b0c1d5e-1111-4a4a-8b8b-000000000001"
NAME = "4444aaaa-0000-4000-8000-000000000001"
USER = "3333aaaa-0000-4000-8000-000000000001"


def invoke(*args):
    return CliRunner().invoke(cli, ["emulator", *args])


def test_help():
    r = invoke("--help")
    assert r.exit_code == 0
    for opt in ("--port", "--state-dir", "--tenant", "--subscription", "--page-size", "--delay-preset", "--persist"):
        assert opt in r.output


@pytest.mark.parametrize("args", [["--tenant", "nope"], ["--subscription", "abc"]])
def test_bad_guids_exit_3(tmp_path, args):
    r = invoke("--state-dir", str(tmp_path), "--port", "0", *args)
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1


def test_unwritable_state_dir_exit_3(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = invoke("--state-dir", str(blocker / "sub"), "--port", "0")
    assert r.exit_code == 3 and r.stderr.startswith("Error: ")


def test_port_in_use_exit_3(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = invoke("--state-dir", str(tmp_path), "--port", str(port))
    assert r.exit_code == 3 and r.stderr.startswith("Error: ")


@pytest.mark.parametrize("content", ["{not json", '{"schema_version": 1}', "[]", '{"schema_version": 99}'])
def test_corrupt_persist_file_exit_3(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_text(content)
    r = invoke("--state-dir", str(tmp_path), "--port", "0", "--persist", str(state))
    assert r.exit_code == 3 and r.stderr.startswith("Error: ")
    assert len(r.stderr.strip().splitlines()) == 1
    assert state.read_text() == content  # never silently reset


def test_persist_round_trip(tmp_path):
    state = tmp_path / "state.json"
    emu = start_emulator(tmp_path / "certs", persist=state)
    sub = f"/subscriptions/{emu.subscription_id}"
    c = make_client(emu)
    rd = c.role_definitions.create_or_update(sub, ROLE_ID, RoleDefinition(
        role_name="persisted", permissions=[Permission(actions=["Microsoft.Storage/storageAccounts/read"])],
        assignable_scopes=[sub]))
    emu.add_principal(USER, "ServicePrincipal")
    c.role_assignments.create(sub, NAME, RoleAssignmentCreateParameters(
        role_definition_id=rd.id, principal_id=USER, principal_type="ServicePrincipal"))
    c.close()
    emu.stop()
    assert json.loads(state.read_text())["schema_version"] == 1

    again = start_emulator(tmp_path / "certs", persist=state)
    try:
        c = make_client(again)
        assert c.role_definitions.get(sub, ROLE_ID).role_name == "persisted"
        assert c.role_assignments.get(sub, NAME).principal_type == "ServicePrincipal"
        # the directory survived too: the wrong type is still caught
        with pytest.raises(Exception) as e:
            c.role_assignments.create(sub, "4444aaaa-0000-4000-8000-000000000002", RoleAssignmentCreateParameters(
                role_definition_id=f"{sub}/providers/Microsoft.Authorization/roleDefinitions/"
                                   "acdd72a7-3385-48ef-bd42-f606fba81ae7", principal_id=USER))
        assert e.value.error.code == "UnmatchedPrincipalType"
        c.close()
    finally:
        again.stop()


def test_corrupt_persist_file_in_process(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"schema_version": 1, "tenantId": "t"}')
    with pytest.raises(PersistError):
        start_emulator(tmp_path / "certs", persist=state)


def test_command_as_a_process(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rbactool", "emulator", "--port", "0", "--state-dir", "emu-state",
         "--subscription", "11111111-2222-3333-4444-555555555555"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    timer = threading.Timer(60, proc.kill)  # bound the test whatever happens
    timer.start()
    try:
        exports = {}
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                exports[key] = value.strip("'")
            if "AZURE_TENANT_ID" in exports:
                break
        assert set(exports) >= {"RBACTOOL_ARM_ENDPOINT", "RBACTOOL_CA_BUNDLE", "RBACTOOL_ACCESS_TOKEN",
                                "AZURE_SUBSCRIPTION_ID"}
        assert exports["AZURE_SUBSCRIPTION_ID"] == "11111111-2222-3333-4444-555555555555"
        assert Path(exports["RBACTOOL_CA_BUNDLE"]).is_absolute()

        class Handle:
            base_url = exports["RBACTOOL_ARM_ENDPOINT"]
            ca_path = exports["RBACTOOL_CA_BUNDLE"]
            token = exports["RBACTOOL_ACCESS_TOKEN"]
            subscription_id = exports["AZURE_SUBSCRIPTION_ID"]

        c = make_client(Handle)
        reader = c.role_definitions.get(f"/subscriptions/{Handle.subscription_id}",
                                        "acdd72a7-3385-48ef-bd42-f606fba81ae7")
        assert reader.role_name == "Reader"
        c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_certificate_passes_strict_verification_and_is_reused(tmp_path, emulator):
    import ssl

    from rbactool.emulator.certs import ensure_certificates

    ctx = ssl.create_default_context(cafile=emulator.ca_path)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT  # Python >= 3.13's default
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as s, \
                ctx.wrap_socket(s, server_hostname=host) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    first = ensure_certificates(tmp_path)
    ca_bytes = first.ca.read_bytes()
    second = ensure_certificates(tmp_path)
    assert second.ca.read_bytes() == ca_bytes
