"""Against real Azure: opt-in only (RBACTOOL_TEST_LIVE=1, signed in with `az login` or a service
principal, AZURE_SUBSCRIPTION_ID set). Read-only: it creates nothing."""

import os

import pytest

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(os.environ.get("RBACTOOL_TEST_LIVE") != "1", reason="set RBACTOOL_TEST_LIVE=1 to run"),
]


def test_whoami_and_list_custom_roles(run):
    env = {k: os.environ[k] for k in ("AZURE_SUBSCRIPTION_ID",) if k in os.environ}
    r = run("whoami", env=env)
    assert r.exit_code == 0, r.stderr
    r = run("list", "definitions", "--custom-only", "--format", "json", env=env)
    assert r.exit_code == 0, r.stderr
    assert all(d["roleType"] == "CustomRole" for d in r.json())


def test_the_builtin_catalog_matches_the_tenant_for_machine_learning(run):
    """The shipped AzureML Data Scientist role still has the GUID the tenant reports."""
    env = {k: os.environ[k] for k in ("AZURE_SUBSCRIPTION_ID",) if k in os.environ}
    r = run("list", "definitions", "--name", "AzureML Data Scientist", "--format", "json", env=env)
    assert r.exit_code == 0, r.stderr
    assert [d["name"] for d in r.json()] == ["f6c7c914-8db3-469d-8ca1-694a8f32e121"]
