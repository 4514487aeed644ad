"""rbactool's HTTPS client for ARM (rbactool/arm_http.py) and the lean Azure path: paging, errors,
what it refuses to follow, proxies, and that a command with a static token imports no SDK."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from rbactool.arm_http import ArmClient, _proxy_for, error_of
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)
from rbactool.errors import AzureOperationError

SP = "11111111-1111-1111-1111-111111111111"


def client(emulator, **kwargs):  # noqa: F811
    return ArmClient(emulator.base_url, token=lambda: emulator.token, ca_bundle=emulator.ca_path, **kwargs)


def test_pages_follow_next_link_on_the_same_endpoint(run, emulator):  # noqa: F811
    emulator.configure(page_size=2)
    env = emulator.env()
    for i in range(5):
        r = run("assign", "-i", f"{i:08d}-1111-4111-8111-111111111111", "--principal-type", "ServicePrincipal",
                "--role", "Reader", "-s", emulator.subscription_id, env=env)
        assert r.exit_code == 0, r.stderr
    emulator.clear_requests()
    listed = run("list", "assignments", "-o", "json", env=env).json()
    assert len(listed) == 5
    assert len(emulator.requests()) == 3  # 2 + 2 + 1, one kept-alive connection


def test_a_next_link_to_another_host_is_not_followed(emulator):  # noqa: F811
    c = client(emulator)
    with pytest.raises(AzureOperationError, match="another host"):
        c._target("https://evil.example/subscriptions/x?api-version=1", None)
    with pytest.raises(AzureOperationError, match="another host"):
        c._target(f"http://127.0.0.1:{emulator.port}/x", None)  # not https: never
    assert c._target(f"{emulator.base_url}/x?a=1", None) == "/x?a=1"


def test_query_and_path_are_encoded_and_an_arm_error_is_one_line_with_its_code(emulator):  # noqa: F811
    c = client(emulator)
    target = c._target("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions",
                       {"$filter": "roleName eq 'O''Brien role'"})
    assert target.endswith("?api-version=2022-04-01&$filter=roleName%20eq%20'O''Brien%20role'")
    sent = []
    c = client(emulator, on_send=lambda: sent.append(1))
    with pytest.raises(AzureOperationError) as e:
        c.request("GET", "/subscriptions/not-a-guid/providers/Microsoft.Authorization/roleDefinitions/x",
                  action="get role definition x")
    assert e.value.status_code in (400, 404) and e.value.error_code
    assert str(e.value).startswith("get role definition x: ") and "\n" not in str(e.value)
    assert len(sent) == 1  # a 4xx is not retried


def test_5xx_is_retried_and_then_reported(emulator, monkeypatch):  # noqa: F811
    import rbactool.arm_http as arm_http

    monkeypatch.setattr(arm_http, "BACKOFF_FACTOR", 0.01)  # 0, 0.02, 0.04 s instead of 0, 1.6, 3.2 s
    emulator.add_fault(method="GET", path_contains="roleDefinitions", status=503, code="ServerBusy", message="busy",
                       times=0)
    sent = []
    c = client(emulator, on_send=lambda: sent.append(1), retry_after=lambda v: 0.0)
    with pytest.raises(AzureOperationError) as e:
        c.request("GET", f"/subscriptions/{emulator.subscription_id}/providers/Microsoft.Authorization/"
                  "roleDefinitions", action="list")
    assert e.value.status_code == 503 and e.value.error_code == "ServerBusy" and not e.value.connection
    assert len(sent) == 4  # one try and three retries, as azure-core's RetryPolicy


def test_error_bodies_with_and_without_arm_shape():
    assert error_of(409, "Conflict", b'{"error": {"code": "RoleAssignmentExists", "message": "exists"}}') == \
        ("RoleAssignmentExists", "exists")
    assert error_of(400, "Bad", b'{"code": "X", "message": "m"}') == ("X", "m")
    assert error_of(502, "Bad Gateway", b"<html>") == (None, "Operation returned an invalid status 'Bad Gateway'")


def test_proxies_from_the_environment(monkeypatch):
    for k in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(k, raising=False)
    assert _proxy_for("management.azure.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://user:p%40ss@proxy.corp:3128")
    host, port, headers = _proxy_for("management.azure.com")
    assert (host, port) == ("proxy.corp", 3128) and headers["Proxy-Authorization"].startswith("Basic ")
    monkeypatch.setenv("NO_PROXY", "localhost,.azure.com")
    assert _proxy_for("management.azure.com") is None


def test_azure_commands_with_a_static_token_import_no_sdk(emulator):  # noqa: F811
    argv = ["rbactool", "assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", "Reader",
            "-s", emulator.subscription_id]
    code = (
        "import sys, runpy\n"
        f"sys.argv = {argv!r}\n"
        "try:\n    runpy.run_module('rbactool', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'requests', 'urllib3', 'jinja2'))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, **emulator.env()})
    assert r.returncode == 0, r.stderr


def test_a_builtin_role_by_name_builds_one_model_not_all():
    from rbactool.builtins import _load

    fresh = _load.__wrapped__(None)
    role = fresh.resolve("azureml data scientist")
    assert role is not None and role.name == "AzureML Data Scientist" and not role.is_custom
    assert len(fresh._built) == 1
    assert fresh.resolve(role.role_id) is role and fresh.resolve(f"/providers/x/roleDefinitions/{role.role_id}") is role
    assert len(fresh) == len(fresh.all()) == 928 and len(fresh._built) == 928


def test_any_collection_and_resource_with_its_own_api_version(emulator):  # noqa: F811
    """What main's snapshot reads through (AzureGateway.get_collection / get_json)."""
    from rbactool.azure_adapter import AzureGateway, StaticTokenCredential, connection_settings

    emulator.configure(page_size=300)
    gw = AzureGateway(connection_settings(endpoint=emulator.base_url, ca_bundle=emulator.ca_path),
                      credential=StaticTokenCredential(emulator.token))
    roles = gw.get_collection(f"/subscriptions/{emulator.subscription_id}/providers/Microsoft.Authorization/"
                              "roleDefinitions", "2022-05-01-preview", {"$filter": "type eq 'BuiltInRole'"})
    assert len(roles) == 928 and gw.requests == 4  # 300 + 300 + 300 + 28
    reader = gw.get_json(f"/subscriptions/{emulator.subscription_id}/providers/Microsoft.Authorization/"
                         "roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "2022-05-01-preview")
    assert reader["properties"]["roleName"] == "Reader"
    assert "api-version=2022-05-01-preview" in emulator.requests()[-1]["query"]
    with pytest.raises(AzureOperationError) as e:
        gw.get_json("/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/nope", "2022-04-01")
    assert e.value.status_code and str(e.value).startswith("read /subscriptions/x")


def test_through_an_https_proxy_tunnel(run, emulator, monkeypatch):  # noqa: F811
    """$HTTPS_PROXY: a CONNECT tunnel, TLS to the emulator inside it (the certificate still checked)."""
    import socket
    import threading

    seen = []
    srv = socket.create_server(("127.0.0.1", 0))

    def pipe(a, b):
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def serve():
        with contextlib.suppress(OSError):
            while True:
                client_sock, _ = srv.accept()
                head = b""
                while b"\r\n\r\n" not in head:
                    head += client_sock.recv(4096)
                seen.append(head.split(b"\r\n")[0].decode())
                upstream = socket.create_connection(("127.0.0.1", emulator.port))
                client_sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                threading.Thread(target=pipe, args=(client_sock, upstream), daemon=True).start()
                threading.Thread(target=pipe, args=(upstream, client_sock), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{srv.getsockname()[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        r = run("list", "definitions", "-n", "Reader", "-o", "json", env=emulator.env())
    finally:
        srv.close()
    assert r.exit_code == 0, r.stderr
    assert [d["roleName"] for d in r.json()] == ["Reader"]
    assert seen == [f"CONNECT 127.0.0.1:{emulator.port} HTTP/1.1"]


@pytest.mark.parametrize(("raw", "expected"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", (200, b"{}", True)),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", (201, b"", True)),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\n{\"\r\n3\r\na\":\r\n2\r\n1}\r\n0\r\nT: 1\r\n\r\n",
     (200, b'{"a":1}', True)),
    (b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", (204, b"", False)),
    (b"HTTP/1.0 200 OK\r\n\r\n[1]", (200, b"[1]", False)),  # until the server closes
])
def test_answers_are_read_as_http_1_1(raw, expected):
    import io

    from rbactool.arm_http import _Connection

    c = _Connection("h", 443, None, None)
    c._file = io.BytesIO(raw)
    status, _, _, body, keep = c._response("GET")
    assert (status, body, keep) == expected


@pytest.mark.parametrize("raw", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
    b"HTTP/1.1 200 OK\r\nX" + b"y" * 70_000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
])
def test_malformed_or_oversized_answers_are_connection_failures(raw):
    import io

    from rbactool.arm_http import _Connection

    c = _Connection("h", 443, None, None)
    c._file = io.BytesIO(raw)
    with pytest.raises(OSError):
        c._response("GET")


def test_request_counts_of_assign_and_list_by_name(run, emulator):  # noqa: F811
    env = emulator.env()
    scope = f"/subscriptions/{emulator.subscription_id}/resourceGroups/ml-rg"
    emulator.clear_requests()
    r = run("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", "AzureML Data Scientist",
            "--scope", scope, env=env)
    assert r.exit_code == 0 and r.stdout.startswith("created"), r.stderr
    # the deterministic name, the principal's assignments (one made elsewhere), the PUT: the built-in role offline
    assert [(e["method"], "roleDefinitions" in e["path"]) for e in emulator.requests()] == \
        [("GET", False), ("GET", False), ("PUT", False)]
    emulator.clear_requests()
    assert run("assign", "-i", SP, "--role", "AzureML Data Scientist", "--scope", scope, env=env).exit_code == 0
    assert [e["method"] for e in emulator.requests()] == ["GET"]
    emulator.clear_requests()
    assert run("list", "definitions", "-n", "Reader", env=env).exit_code == 0
    assert len(emulator.requests()) == 1


class _NoUnboundedRead:
    """A reader that fails the test if asked to read to the end of the stream (a negative size)."""

    def __init__(self, raw: bytes):
        import io

        self._f = io.BytesIO(raw)

    def readline(self, n=-1):
        return self._f.readline(n)

    def read(self, n=-1):
        assert n is not None and n >= 0, f"read({n}) would read until the server closes"
        return self._f.read(n)


@pytest.mark.parametrize("size", [b"-1", b"-ffffff", b"+2", b"0x2", b"2_0", b" -0"])
def test_a_chunk_size_that_is_not_plain_hex_is_refused_before_reading(size):
    from rbactool.arm_http import _Connection

    c = _Connection("h", 443, None, None)
    c._file = _NoUnboundedRead(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\n{}\r\n0\r\n\r\n")
    with pytest.raises(OSError):
        c._response("GET")


def test_endless_interim_answers_are_refused():
    import io

    from rbactool.arm_http import _Connection

    c = _Connection("h", 443, None, None)
    c._file = io.BytesIO(b"HTTP/1.1 100 Continue\r\n\r\n" * 1000 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(OSError):
        c._response("GET")


@pytest.mark.parametrize("named", ["https://evil.example", "https://evil.example/msgraph",
                                   "https://127.0.0.1.evil.example/msgraph", "https://127.0.0.1:1/msgraph"])
def test_metadata_naming_graph_on_another_host_gets_no_token(named, monkeypatch):
    """A (hostile) ARM endpoint's /metadata/endpoints must not send the Graph token elsewhere: with
    RBACTOOL_ACCESS_TOKEN every scope gets the same token, so the ARM token would go to that host."""
    from rbactool.azure_adapter import AzureGateway, StaticTokenCredential, connection_settings

    monkeypatch.delenv("RBACTOOL_GRAPH_ENDPOINT", raising=False)
    gw = AzureGateway(connection_settings(endpoint="https://127.0.0.1:8443"), credential=StaticTokenCredential("t"))
    monkeypatch.setattr(gw, "get_json", lambda path, version, params=None: {"graph": named})
    with pytest.raises(AzureOperationError, match="RBACTOOL_GRAPH_ENDPOINT"):
        gw.graph_endpoint()


@pytest.mark.parametrize("named", ["https://127.0.0.1:8443/msgraph/", "https://graph.microsoft.com/"])
def test_metadata_naming_graph_on_the_same_host_or_a_cloud_graph_is_used(named, monkeypatch):
    from rbactool.azure_adapter import AzureGateway, StaticTokenCredential, connection_settings

    monkeypatch.delenv("RBACTOOL_GRAPH_ENDPOINT", raising=False)
    gw = AzureGateway(connection_settings(endpoint="https://127.0.0.1:8443"), credential=StaticTokenCredential("t"))
    monkeypatch.setattr(gw, "get_json", lambda path, version, params=None: {"graph": named})
    assert gw.graph_endpoint() == named.rstrip("/")


def test_an_arm_error_message_cannot_send_terminal_escapes(run, emulator):  # noqa: F811
    emulator.add_fault(method="GET", path_contains="roleDefinitions", status=400, code="Bad\x1b[31m",
                       message="\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2K\rapplied: 0 changes\x9b1A", times=0)
    r = run("list", "definitions", "-o", "json", env=emulator.env())
    assert r.exit_code == 4, r.stderr
    assert r.stderr.startswith("Error: ") and not any(c in r.stderr for c in "\x1b\x07\r\x9b")


def test_a_next_link_on_the_same_host_is_sent_as_one_ascii_request_target(emulator):  # noqa: F811
    c = client(emulator)
    target = c._target(f"{emulator.base_url}/x\u0100 HTTP/1.1 y?a=b c&$skiptoken=%41\u20ac", None)
    assert target.isascii() and " " not in target and target.startswith("/x%C4%80%20HTTP/1.1%20y?a=b%20c&")
    assert c._target(f"{emulator.base_url}/s/x?api-version=1&$skiptoken=a%3D%3D", None) == \
        "/s/x?api-version=1&$skiptoken=a%3D%3D"  # Azure's own links unchanged


def test_a_deeply_nested_error_body_is_an_http_error_not_a_crash():
    assert error_of(400, "Bad Request", b"[" * 200_000) == (None, "Operation returned an invalid status 'Bad Request'")
    assert error_of(400, "Bad", b'{"error": ' * 100_000)[0] is None


@pytest.mark.parametrize("gid", ["../../me/memberOf", "x/../../../users", "a0000000-0000-0000-0000-000000000001/.."])
def test_a_group_id_from_an_answer_cannot_steer_the_graph_path(gid):
    from rbactool.azure_adapter import AzureGateway, StaticTokenCredential, connection_settings

    gw = AzureGateway(connection_settings(endpoint="https://127.0.0.1:8443"), credential=StaticTokenCredential("t"))
    sent = []

    class Graph:
        def pages(self, path, **kw):
            sent.append(path)
            return iter(())

    gw._graph = Graph()
    with pytest.raises(AzureOperationError, match="not a group id"):
        gw.graph_members(gid)
    assert sent == []
    assert gw.graph_members("A0000000-0000-0000-0000-000000000001") == [] and len(sent) == 1


def test_an_answer_trickled_byte_by_byte_ends_at_the_answer_deadline(monkeypatch):
    """Each byte within the socket timeout, forever: the answer as a whole has a deadline."""
    import socket
    import threading
    import time

    import rbactool.arm_http as arm_http

    monkeypatch.setattr(arm_http, "TIMEOUT_S", 0.5)
    monkeypatch.setattr(arm_http, "ANSWER_TIMEOUT_S", 1.0)
    ours, theirs = socket.socketpair()
    stop = threading.Event()

    def trickle():
        theirs.recv(65536)
        theirs.sendall(b"HTTP/1.1 200 OK\r\nX: ")
        while not stop.is_set():
            with contextlib.suppress(OSError):
                theirs.sendall(b"y")
            time.sleep(0.05)

    threading.Thread(target=trickle, daemon=True).start()
    c = arm_http._Connection("h", 443, None, None)
    c._sock = ours
    c._file = arm_http._reader(ours)
    started = time.monotonic()
    try:
        with pytest.raises(OSError):
            c.request("GET", "/x", None, {})
    finally:
        stop.set()
        c.close()
        theirs.close()
    assert time.monotonic() - started < 5
