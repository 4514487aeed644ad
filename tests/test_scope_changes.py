"""A change of a role's AssignableScopes is said out loud by plan and create, and a change that
would orphan existing assignments is refused before any write (as ARM refuses it:
RoleScopeBeingRemovedContainsAssignments, which the emulator answers too)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

SPEC = ROOT / "roles" / "online-endpoints.yaml"
SCORING = "Custom role for scoring - online endpoint"


@pytest.fixture
def az(emulator, run):  # noqa: F811
    env = emulator.env()

    def _az(*args):
        return run(*args, env=env)

    _az.sub = emulator.subscription_id
    return _az


def writes(emulator):  # noqa: F811
    return [r for r in emulator.requests() if r["method"] in ("PUT", "DELETE")]


def test_moving_the_scope_under_existing_assignments_is_refused_by_plan_and_apply(az, emulator):  # noqa: F811
    r = az("apply", "--roles", SPEC, "-s", az.sub, "--auto-approve")
    assert r.exit_code == 0, r.stderr
    emulator.clear_requests()
    for command in ("plan", "apply"):
        r = az(command, "--roles", SPEC, "-s", az.sub, "-g", "other-rg", "--auto-approve"
               if command == "apply" else "--no-config")
        assert r.exit_code == 3, r.stderr
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: ") and "leave 1 existing assignment(s) outside them" in last
    assert writes(emulator) == []


def test_create_says_the_scopes_it_changes(az, emulator):  # noqa: F811
    assert az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "ml-rg").exit_code == 0
    r = az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "other-rg", "--dry-run")
    assert r.exit_code == 0, r.stderr
    rg = f"/subscriptions/{az.sub}/resourceGroups"
    assert f"assignable scopes +[{rg}/other-rg] -[{rg}/ml-rg]" in r.stdout


def test_plan_says_a_widened_scope(az, emulator, tmp_path):  # noqa: F811
    assert az("apply", "--roles", SPEC, "-s", az.sub, "--auto-approve").exit_code == 0
    wider = tmp_path / "wider.yaml"
    wider.write_text(SPEC.read_text().replace(
        "template: online-endpoint-scoring\n",
        f"template: online-endpoint-scoring\n    assignable_scopes: ['/subscriptions/{az.sub}']\n"))
    r = az("plan", "--roles", wider, "-s", az.sub, "--format", "json")
    assert r.exit_code == 0, r.stderr
    update = next(c for c in r.json()["changes"] if c.get("name") == SCORING)
    assert f"assignable scopes +[/subscriptions/{az.sub}]" in update["effective"] and "(widened)" in update["effective"]


def test_the_emulator_refuses_an_update_that_orphans_assignments(az, emulator):  # noqa: F811
    assert az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "ml-rg").exit_code == 0
    r = az("assign", "-i", "22222222-2222-2222-2222-222222222222", "--principal-type", "User", "--role", SCORING,
           "-s", az.sub, "-g", "ml-rg")
    assert r.exit_code == 0, r.stderr
    r = az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "other-rg")
    assert r.exit_code == 4 and "RoleScopeBeingRemovedContainsAssignments" in r.stderr
