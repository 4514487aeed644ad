"""apply_plan's scheduling, with a small fake gateway (the emulator tests cover the real thing)."""

from __future__ import annotations

import threading

from rbactool.errors import AzureOperationError
from rbactool.operations import Backoff
from rbactool.plan import CREATE, AssignmentChange, Plan, ThrottleGate, apply_plan

SCOPE = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg"


class FailingWrites:
    """Every assignment PUT is counted, then fails with ``error()``."""

    def __init__(self):
        self.puts = 0
        self.lock = threading.Lock()

    def error(self) -> AzureOperationError:
        raise NotImplementedError

    def put_role_assignment(self, scope, name, **kwargs):
        with self.lock:
            self.puts += 1
        raise self.error()


class ReplicatingForever(FailingWrites):
    """Every assignment PUT answers PrincipalNotFound: the writer waits and retries."""

    def error(self):
        return AzureOperationError("PrincipalNotFound (400): not yet", status_code=400, error_code="PrincipalNotFound")


def change(i: int) -> AssignmentChange:
    return AssignmentChange(CREATE, SCOPE, "acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader",
                            f"{i:08d}-0000-4000-8000-000000000000", "User", f"{i:08d}-1111-4000-8000-000000000000")


def test_ctrl_c_stops_waits_in_flight_and_reports_them():
    gw = ReplicatingForever()
    plan = Plan(roles=(), assignments=tuple(change(i) for i in range(6)))
    first = threading.Event()

    def progress(message: str) -> None:
        first.set()

    interrupted = []

    def on_done(outcome):  # never called before the interrupt: every write is still waiting
        interrupted.append(outcome)

    # The main thread is interrupted once the workers are waiting on replication.
    timer = threading.Timer(0.5, _interrupt_main)
    timer.start()
    report = apply_plan(plan, lambda: gw, parallelism=2, backoff=Backoff(timeout=5.0, first=2.0),
                        progress=progress, on_done=on_done)
    timer.cancel()
    assert report.interrupted
    assert [o.status for o in report.outcomes] == ["skipped", "skipped"]  # the two in flight; 4 never started
    assert all(o.error == "interrupted" for o in report.outcomes)
    assert gw.puts == 2


def _interrupt_main():
    """A real SIGINT, as Ctrl-C sends (it interrupts the main thread's blocking wait)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGINT)


def test_throttle_gate_clamps_and_cancels():
    gate = ThrottleGate()
    gate.hold(float("nan"))
    gate.hold(1e9)
    assert gate._until - __import__("time").monotonic() <= ThrottleGate.MAX_HOLD + 0.1
    gate.cancel.set()
    try:
        gate.wait()
    except Exception as e:  # noqa: BLE001
        assert type(e).__name__ == "Cancelled"
    else:
        raise AssertionError("a cancelled gate must not keep waiting")


class Unreachable(FailingWrites):
    """Every write gets no answer at all, as when the endpoint is gone."""

    def error(self):
        return AzureOperationError("assign role: cannot reach https://x: refused", connection=True)


def test_consecutive_connection_failures_stop_scheduling():
    from rbactool.plan import CONNECTION_FAILURE_LIMIT

    gw = Unreachable()
    changes = tuple(change(i) for i in range(50))
    cancel = threading.Event()
    report = apply_plan(Plan(roles=(), assignments=changes), lambda: gw, parallelism=2, cancel=cancel)
    assert report.stopped and not report.interrupted
    failed = report.count("failed")
    assert CONNECTION_FAILURE_LIMIT <= failed <= CONNECTION_FAILURE_LIMIT + 2
    assert gw.puts == failed
    assert len(report.not_started) == 50 - failed
    assert {id(c) for c in report.not_started} | {id(o.change) for o in report.outcomes} == {id(c) for c in changes}
    assert cancel.is_set()  # waits elsewhere (throttling, replication back-off) end too


def test_connection_failures_between_successes_do_not_stop_apply():
    class Flaky:
        def __init__(self):
            self.n = 0
            self.lock = threading.Lock()

        def put_role_assignment(self, scope, name, **kwargs):
            with self.lock:
                self.n += 1
                n = self.n
            if n % 2:
                raise AzureOperationError("cannot reach", connection=True)
            return True, None

    report = apply_plan(Plan(roles=(), assignments=tuple(change(i) for i in range(20))), lambda: Flaky(),
                        parallelism=1)
    assert report.stopped is None and report.not_started == []
    assert report.count("failed") == 10 and report.count("done") == 10
