"""Fixtures: the in-process emulator (from rbactool.emulator.testing) and real SDK clients for it."""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken
from azure.mgmt.authorization import AuthorizationManagementClient

from rbactool.emulator.testing import emulator, emulator_factory, emulator_server  # noqa: F401 (pytest fixtures)


class StaticTokenCredential:
    """A TokenCredential returning a fixed bearer token (the emulator does not verify it)."""

    def __init__(self, token: str):
        self._token = token

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


def make_client(emu, token: str | None = None, **kwargs) -> AuthorizationManagementClient:
    kwargs.setdefault("retry_backoff_factor", 0.01)
    return AuthorizationManagementClient(
        StaticTokenCredential(token or emu.token),
        emu.subscription_id,
        base_url=emu.base_url,
        connection_verify=emu.ca_path,
        **kwargs,
    )


@pytest.fixture
def client(emulator):  # noqa: F811 (the fixture above)
    c = make_client(emulator)
    yield c
    c.close()


@pytest.fixture
def sub(emulator):  # noqa: F811
    return f"/subscriptions/{emulator.subscription_id}"
