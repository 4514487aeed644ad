"""In-process emulator for tests: :func:`start_emulator` and the pytest fixtures.

``tests/.../conftest.py``::

    from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

``emulator_server`` (session scope) starts one emulator on a free port; ``emulator`` (function
scope) resets it before each test and yields the same :class:`EmulatorHandle`;
``emulator.load_seed(doc or path)`` loads an estate into it. ``emulator_factory(seed=...)``
starts emulators of their own for one test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rbactool.emulator.auth import make_token, static_token
from rbactool.emulator.config import EmulatorConfig
from rbactool.emulator.server import Emulator


class EmulatorHandle:
    """What a test needs: where the emulator is, and control over it."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        self.app = emulator.app

    # where it is
    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    @property
    def ca_path(self) -> str:
        return str(self.emulator.ca_path)

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def tenant_id(self) -> str:
        return self.emulator.state.tenant_id

    @property
    def subscription_id(self) -> str:
        return self.emulator.state.subscriptions[0]

    @property
    def token(self) -> str:
        """A static bearer token the emulator accepts (caller: the default caller)."""
        return static_token(self.tenant_id)

    def token_for(self, object_id: str) -> str:
        """A bearer token for another caller (for the caller-permission table)."""
        return make_token(object_id, self.tenant_id)

    def env(self) -> dict[str, str]:
        """The environment variables ``rbactool emulator`` prints."""
        return exports(self.emulator)

    # control
    def reset(self) -> None:
        self.app.reset()

    def configure(self, **changes: Any) -> EmulatorConfig:
        return self.app.configure(**changes)

    def add_principal(self, object_id: str, type: str = "User", display_name: str = "",  # noqa: A002
                      visible_after_s: float | None = None, **graph_fields: Any):
        """A directory object; *graph_fields*: ``user_principal_name``, ``app_id``,
        ``service_principal_names``, ``members`` (see :meth:`App.add_principal`)."""
        return self.app.add_principal(object_id, type, display_name, visible_after_s, **graph_fields)

    def add_member(self, group_id: str, member_id: str) -> None:
        self.app.set_member(group_id, member_id, True)

    def remove_member(self, group_id: str, member_id: str) -> None:
        self.app.set_member(group_id, member_id, False)

    @property
    def graph_url(self) -> str:
        """The Graph stand-in's base, as the cloud metadata names it (``.../msgraph``; append ``/v1.0/...``)."""
        return f"{self.base_url}/msgraph"

    def load_seed(self, seed: dict | str | Path) -> dict[str, int]:
        """Replace the state with a seed: a parsed document, or a YAML/JSON file (see docs/emulator.md)."""
        if isinstance(seed, dict):
            return self.app.load_seed(seed, "seed")
        from rbactool.emulator.seed import read_seed

        return self.app.load_seed(read_seed(seed), str(seed))

    def add_fault(self, **rule: Any) -> None:
        self.app.add_fault(**rule)

    def clear_faults(self) -> None:
        self.app.clear_faults()

    def grant(self, caller: str, grants: list[tuple[str, str]]) -> None:
        self.app.set_caller_grants(caller, grants)

    def set_management_group(self, group: str, subscriptions: list[str]) -> None:
        self.app.set_management_group(group, subscriptions)

    def add_operations(self, operations: list[dict]) -> None:
        self.app.add_operations(operations)

    def advance_clock(self, seconds: float) -> None:
        """Let *seconds* of emulator time pass (replication delays, tombstones...) without sleeping."""
        self.app.advance_clock(seconds)

    def requests(self, *, method: str | None = None, path_contains: str | None = None) -> list[dict]:
        out = self.app.requests()
        if method:
            out = [r for r in out if r["method"] == method.upper()]
        if path_contains:
            out = [r for r in out if path_contains.lower() in r["path"].lower()]
        return out

    def clear_requests(self) -> None:
        self.app.clear_requests()

    def state(self) -> dict:
        return self.app.dump()

    def record_activity(self, caller: str, operation: str, scope: str, *, status: str = "Succeeded",
                        time: float | None = None, evidence: dict | None = None) -> None:
        """Record a control-plane call the emulator does not implement (an ML endpoint write...) as
        Activity Log events (Started, then *status*), as Azure would for *caller*."""
        item: dict[str, Any] = {"operation": operation, "scope": scope, "caller": caller, "status": status}
        if time is not None:
            item["time"] = time
        if evidence is not None:
            item["evidence"] = evidence
        self.app.activity.append([item])

    def activity_log(self) -> list[dict]:
        """The Activity Log events (``GET /__emulator/activity-log``): az monitor activity-log list's shape."""
        return self.app.activity.events()

    def stop(self) -> None:
        self.emulator.stop()


def exports(emulator: Emulator) -> dict[str, str]:
    return {
        "RBACTOOL_ARM_ENDPOINT": emulator.base_url,
        "RBACTOOL_CA_BUNDLE": str(emulator.ca_path),
        "RBACTOOL_ACCESS_TOKEN": static_token(emulator.state.tenant_id),
        "AZURE_SUBSCRIPTION_ID": emulator.state.subscriptions[0],
        "AZURE_TENANT_ID": emulator.state.tenant_id,
    }


def start_emulator(state_dir: str | Path, **kwargs: Any) -> EmulatorHandle:
    """Start an emulator on loopback (port 0 = a free port) in a background thread; ``seed=`` (a
    document or a file) loads an estate first."""
    kwargs.setdefault("port", 0)
    return EmulatorHandle(Emulator(state_dir=state_dir, **kwargs).start())


try:
    import pytest
except ImportError:  # pragma: no cover - only tests use the fixtures
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def emulator_server(tmp_path_factory):
        handle = start_emulator(tmp_path_factory.mktemp("emulator-state"))
        yield handle
        handle.stop()

    @pytest.fixture
    def emulator(emulator_server):
        emulator_server.reset()
        yield emulator_server
        emulator_server.reset()

    @pytest.fixture
    def emulator_factory(tmp_path_factory):
        """``emulator_factory(seed=..., **start_emulator kwargs)``: a new emulator of its own (its
        own tenant, subscriptions and port), stopped after the test."""
        started: list[EmulatorHandle] = []

        def make(**kwargs: Any) -> EmulatorHandle:
            handle = start_emulator(tmp_path_factory.mktemp("emulator-state"), **kwargs)
            started.append(handle)
            return handle

        yield make
        for handle in started:
            handle.stop()
