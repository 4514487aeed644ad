"""apply when Azure stops answering, and when the user presses Ctrl-C: it stops within seconds,
accounts for every change, and exits 4 (endpoint gone) or 130 (interrupted)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time

import pytest

from rbactool.emulator.testing import emulator, emulator_server, start_emulator  # noqa: F401 (fixtures)

N = 300


def spec_with(tmp_path, subscription: str, n: int = N):
    lines = ["version: 1", "name: many", f"defaults: {{subscription: {subscription}, resource_group: ml-rg}}",
             "roles:", "  - key: scoring", "    template: online-endpoint-scoring", "assignments:"]
    lines += [f"  - {{role: scoring, principal: {{id: {i:08d}-0000-4000-8000-000000000000, type: ServicePrincipal}}, "
              f"scope: /subscriptions/{subscription}/resourceGroups/ml-rg}}" for i in range(n)]
    spec = tmp_path / "many.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


class Doomed:
    """An emulator of its own that dies (listener closed, every open connection cut) after *after* requests."""

    def __init__(self, state_dir, after: int):
        self.handle = start_emulator(state_dir)
        self.after = after
        self.killed = threading.Event()
        self.served = 0
        self._lock = threading.Lock()
        server = self.handle.emulator._server
        conns: list[socket.socket] = []
        self._conns = conns

        self.dying = threading.Event()
        doomed = self

        class Tracking(server.RequestHandlerClass):
            def setup(self):
                conns.append(self.request)
                if doomed.dying.is_set():  # accepted while the listener closes: cut at once
                    doomed.cut()
                super().setup()

        server.RequestHandlerClass = Tracking
        app = self.handle.app
        inner = app.handle

        def handle(request):
            with self._lock:
                self.served += 1
                first = self.served == self.after
            if self.served >= self.after:  # from now on nothing is answered: every connection is cut
                self.dying.set()
                self.cut()
                if first:
                    threading.Thread(target=self.kill, daemon=True).start()
            return inner(request)

        app.handle = handle

    def cut(self) -> None:
        for c in list(self._conns):  # open keep-alive connections and requests in flight: cut
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)

    def kill(self) -> None:
        self.dying.set()
        self.cut()
        server = self.handle.emulator._server
        server.shutdown()
        server.server_close()  # new connections: refused
        self.cut()
        self.killed.set()

    def stop(self) -> None:
        if not self.killed.is_set():
            self.kill()
        self.handle.emulator._serving = False
        self.handle.stop()


@pytest.fixture
def doomed(tmp_path_factory):
    made = []

    def make(after: int) -> Doomed:
        d = Doomed(tmp_path_factory.mktemp("doomed"), after)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


def accounted(doc) -> int:
    noops = doc["plan"]["summary"]["no-op"]
    return doc["done"] + (doc["unchanged"] - noops) + doc["failed"] + doc["skipped"] + doc["not_started"]


def test_endpoint_gone_mid_apply_stops_within_seconds_and_accounts_for_every_change(run, tmp_path, doomed):
    d = doomed(after=60)
    env = d.handle.env()
    spec = spec_with(tmp_path, d.handle.subscription_id)
    t0 = time.monotonic()
    r = run("apply", "--roles", spec, "--auto-approve", "--format", "json", "--parallelism", "8", env=env)
    elapsed = time.monotonic() - t0
    print(f"apply against an endpoint killed after {d.after} requests: {elapsed:.1f} s", {k: v for k, v in r.json().items() if k not in ("plan", "failures")})
    assert r.exit_code == 4, r.stderr
    assert d.killed.is_set(), r.stderr
    doc = r.json()
    assert accounted(doc) == N + 1  # the role and every assignment: done, failed or not started
    assert doc["stopped"] and "no answer" in doc["stopped"]
    assert doc["not_started"] > N // 2  # stopped scheduling, did not try each item on its own
    assert 3 <= doc["failed"] <= 2 * 8
    assert all(f["code"] is None for f in doc["failures"])  # connection failures, not ARM answers
    # what the emulator holds: every change reported done, and perhaps a few whose answer was cut off
    stored = len(d.handle.state()["assignments"])
    assert doc["done"] - 1 <= stored <= doc["done"] - 1 + doc["failed"]
    assert "Error: apply stopped" in r.stderr and "not-started" in r.stderr
    assert "Traceback" not in r.stderr
    assert elapsed < 20


def test_arm_error_answers_do_not_stop_apply(run, tmp_path, emulator):  # noqa: F811
    # every assignment write is refused by ARM: each is a failure of its own, none is "not started"
    spec = spec_with(tmp_path, emulator.subscription_id, 30)
    emulator.add_fault(method="PUT", path_contains="roleAssignments", status=403, code="AuthorizationFailed",
                       message="no", times=0)
    r = run("apply", "--roles", spec, "--auto-approve", "--format", "json", env=emulator.env())
    assert r.exit_code == 4
    doc = r.json()
    assert doc["stopped"] is None and doc["not_started"] == 0
    assert doc["failed"] == 30 and doc["done"] == 1
    assert {f["code"] for f in doc["failures"]} == {"AuthorizationFailed"}


def test_endpoint_gone_before_apply_fails_fast(run, tmp_path, doomed):
    d = doomed(after=10**9)
    spec = spec_with(tmp_path, d.handle.subscription_id, 5)
    d.kill()
    t0 = time.monotonic()
    r = run("plan", "--roles", spec, env=d.handle.env())
    last = r.stderr.strip().splitlines()[-1]  # after the gate's "using config" line and its warnings
    assert r.exit_code == 4 and last.startswith("Error: ") and "cannot reach" in last
    assert time.monotonic() - t0 < 10
    assert run("plan", "--roles", spec, "--detailed-exitcode", env=d.handle.env()).exit_code == 1  # Terraform's 1


def test_ctrl_c_during_apply_reports_in_flight_and_exits_130(run, tmp_path, emulator):  # noqa: F811
    spec = spec_with(tmp_path, emulator.subscription_id, 20)
    # every assignment waits for replication: the workers sit in their back-off when Ctrl-C comes
    emulator.add_fault(method="PUT", path_contains="roleAssignments", status=400, code="PrincipalNotFound",
                       message="not yet", times=0)
    stop = threading.Event()

    def interrupt_when_writing():
        while not stop.is_set():
            if emulator.requests(method="PUT", path_contains="roleAssignments"):
                time.sleep(0.3)
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=interrupt_when_writing, daemon=True)
    watcher.start()
    try:
        r = run("apply", "--roles", spec, "--auto-approve", "--format", "json", "--parallelism", "4",
                env=emulator.env())
    finally:
        stop.set()
        watcher.join(5)
    assert r.exit_code == 130, r.stderr
    doc = r.json()
    assert doc["interrupted"] is True
    assert accounted(doc) == 21
    assert doc["skipped"] >= 1 and doc["not_started"] >= 20 - 4


def test_connection_errors_are_told_apart_from_arm_answers_and_retried_once():
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    from rbactool.azure_adapter import AzureGateway, azure_error, connection_settings

    conn = connection_settings(endpoint="https://127.0.0.1:9")
    assert azure_error(ServiceRequestError("refused"), "x", conn).connection
    assert azure_error(ServiceResponseError("reset"), "x", conn).connection
    assert not azure_error(HttpResponseError("throttled"), "x", conn).connection

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gw = AzureGateway(connection_settings(endpoint=f"https://127.0.0.1:{port}"), credential=_Token())
    t0 = time.monotonic()
    with pytest.raises(Exception) as e:
        gw.list_role_assignments("/subscriptions/11111111-2222-3333-4444-555555555555")
    assert getattr(e.value, "connection", False) and "cannot reach" in str(e.value)
    assert gw.requests == 2  # one try and one retry, not azure-core's three with back-off
    assert time.monotonic() - t0 < 5


class _Token:
    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken("t", int(time.time()) + 3600)
