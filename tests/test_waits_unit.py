"""The one Retry-After policy and the cancellable sleep (rbactool.waits), and how the adapter uses them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rbactool.errors import Cancelled, RbactoolError
from rbactool.waits import MAX_RETRY_AFTER, ThrottleGate, pause, retry_after_seconds


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5.0), ("7", 7.0), ("2.5", 2.5), (-3, 0.0), ("-1", 0.0), (float("nan"), 1.0), ("nan", 1.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 1.0), ("", 1.0), (1e9, MAX_RETRY_AFTER), ("3600", MAX_RETRY_AFTER),
    (float("inf"), MAX_RETRY_AFTER),
])
def test_retry_after_is_clamped_and_defaults_to_one_second(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_takes_a_smaller_cap():
    assert retry_after_seconds("3600", 0.5) == 0.5
    assert retry_after_seconds("junk", 0.5) == 0.5


def test_cancelled_is_a_domain_error_the_adapter_can_import_without_operations():
    assert issubclass(Cancelled, RbactoolError)
    import rbactool.azure_adapter as adapter

    source = Path(adapter.__file__).read_text()
    assert "rbactool.operations" not in source and "rbactool.plan" not in source


def test_pause_ends_when_cancelled():
    cancel = threading.Event()
    threading.Timer(0.05, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        pause(5.0, cancel)
    assert time.monotonic() - started < 2
    pause(0.0)  # without an event: a plain sleep


def test_gate_uses_the_same_policy():
    gate = ThrottleGate()
    gate.hold(float("nan"))
    assert gate._until - time.monotonic() <= 1.0
    gate.hold(-5)
    gate.hold(1e9)
    assert gate._until - time.monotonic() <= MAX_RETRY_AFTER + 0.1


def test_the_adapter_caps_with_its_module_setting(monkeypatch):
    import rbactool.azure_adapter as adapter

    assert adapter.retry_after("3600") == MAX_RETRY_AFTER
    monkeypatch.setattr(adapter, "MAX_RETRY_AFTER", 0.5)
    assert adapter.retry_after("3600") == 0.5


def test_one_https_client_per_gateway_made_on_first_use_without_connecting():
    from rbactool.azure_adapter import AzureGateway, StaticTokenCredential, connection_settings

    gw = AzureGateway(connection_settings(endpoint="https://localhost:1/base/", subscription="sub-a"),
                      credential=StaticTokenCredential("t"))
    assert gw._http is None
    client = gw.http
    assert client is gw.http and client._conn is None and gw.requests == 0
    assert (client.host, client.port, client.base_path) == ("localhost", 1, "/base")


def test_a_pool_makes_gateways_sharing_connection_and_gate_and_counts_their_requests():
    from rbactool.azure_adapter import GatewayPool, connection_settings

    gate = ThrottleGate()
    pool = GatewayPool(connection_settings(endpoint="https://localhost:1", subscription="s"), gate=gate)
    a, b = pool(), pool()
    assert a is not b and a.conn is b.conn is pool.conn and a._gate is b._gate is gate
    a.requests, b.requests = 2, 3
    assert pool.requests == 5
