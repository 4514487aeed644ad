"""plan / apply / export against the emulator, with the real SDK over HTTPS."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

SPEC = ROOT / "roles" / "online-endpoints.yaml"
SCORING = "Custom role for scoring - online endpoint"


@pytest.fixture
def az(emulator, run):  # noqa: F811
    env = emulator.env()

    def _az(*args, input=None):
        return run(*args, env=env, input=input)

    _az.sub = emulator.subscription_id
    _az.rg = f"/subscriptions/{emulator.subscription_id}/resourceGroups/ml-rg"
    _az.ws = f"{_az.rg}/providers/Microsoft.MachineLearningServices/workspaces/ml-ws"
    return _az


def writes(emulator):  # noqa: F811
    return [r for r in emulator.requests() if r["method"] in ("PUT", "DELETE", "POST")]


def plan_json(az, spec, *extra):
    r = az("plan", "--roles", spec, "-s", az.sub, "--format", "json", *extra)
    assert r.exit_code == 0, r.stderr
    return r.json()


def apply(az, spec, *extra):
    return az("apply", "--roles", spec, "-s", az.sub, "--auto-approve", "--format", "json", *extra)


@pytest.fixture
def team(tmp_path):
    """A spec with its own template folder, so tests can edit templates and assignments."""
    tpl = tmp_path / "templates"
    tpl.mkdir()
    shutil.copy(ROOT / "templates" / "online-endpoint-scoring-strict.json.j2", tpl / "team-scoring.json.j2")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text().replace("version: 1\n", "version: 1\ntemplates: [templates]\n")
                    .replace("template: online-endpoint-scoring\n", "template: team-scoring\n"))
    return spec


def test_seed_spec_applies_from_empty_and_reapply_is_a_no_op(az, emulator):  # noqa: F811
    plan = plan_json(az, SPEC)
    assert plan["summary"] == {"create": 4, "update": 0, "delete": 0, "no-op": 0}
    r = apply(az, SPEC)
    assert r.exit_code == 0, r.stderr
    assert r.json()["done"] == 4 and r.json()["failed"] == 0
    state = emulator.state()
    assert len(state["customRoles"]) == 2 and len(state["assignments"]) == 2
    assert {a["principalType"] for a in state["assignments"]} == {"ServicePrincipal", "User"}

    emulator.clear_requests()
    r = apply(az, SPEC)
    assert r.exit_code == 0 and r.json()["done"] == 0
    assert writes(emulator) == []
    # the minimal reads: one custom-role list and one assignment list for the one subscription
    paths = sorted(x["path"].rsplit("/", 1)[-1] for x in emulator.requests())
    assert paths == ["roleAssignments", "roleDefinitions"]


def test_detailed_exitcode(az, emulator):  # noqa: F811
    assert az("plan", "--roles", SPEC, "-s", az.sub, "--detailed-exitcode").exit_code == 2
    apply(az, SPEC)
    assert az("plan", "--roles", SPEC, "-s", az.sub, "--detailed-exitcode").exit_code == 0
    bad = az("plan", "--roles", ROOT / "nope.yaml", "--detailed-exitcode")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: ")


def test_changing_one_action_plans_one_update_with_the_effective_diff(az, emulator, team):  # noqa: F811
    assert apply(az, team).exit_code == 0
    tpl = team.parent / "templates" / "team-scoring.json.j2"
    tpl.write_text(tpl.read_text().replace('{%- if auth_mode == "aml_token" %}', '{%- if auth_mode != "aml_token" %}'))
    plan = plan_json(az, team)
    assert plan["summary"]["update"] == 1 and plan["summary"]["create"] == 0
    (update,) = [c for c in plan["changes"] if c["action"] == "update"]
    assert update["type"] == "roleDefinition" and update["effective"].startswith("+1 operation")
    assert "credential-exposure" in update["risk"]
    md = az("plan", "--roles", team, "-s", az.sub, "--format", "markdown").stdout
    assert md.startswith("**rbactool plan**") and "| ~ | update |" in md
    r = apply(az, team)
    assert r.exit_code == 0 and r.json()["done"] == 1


def test_removed_assignment_is_deleted_only_with_prune(az, emulator, team):  # noqa: F811
    assert apply(az, team).exit_code == 0
    text = team.read_text()
    team.write_text(text[: text.index("  # A data scientist")])
    plan = plan_json(az, team)
    assert plan["summary"]["delete"] == 0 and not plan["has_changes"]
    assert plan["unmanaged_assignments"] == [] and len(plan["orphans"]) == 1  # managed, kept without --prune
    plan = plan_json(az, team, "--prune")
    assert plan["summary"]["delete"] == 1
    r = apply(az, team, "--prune")
    assert r.exit_code == 0, r.stderr
    assert len(emulator.state()["assignments"]) == 1


def test_unmanaged_assignments_are_left_alone_even_with_prune(az, emulator):  # noqa: F811
    from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient, models

    from rbactool.azure_adapter import StaticTokenCredential

    apply(az, SPEC)
    client = AuthorizationManagementClient(StaticTokenCredential(emulator.token), az.sub,
                                           base_url=emulator.base_url, connection_verify=emulator.ca_path)
    reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    client.role_assignments.create(az.ws, "7c1e0a4b-0000-4000-8000-000000000001", models.RoleAssignmentCreateParameters(
        role_definition_id=f"/subscriptions/{az.sub}/providers/Microsoft.Authorization/roleDefinitions/{reader}",
        principal_id="55555555-5555-5555-5555-555555555555", principal_type="User"))
    plan = plan_json(az, SPEC, "--prune")
    assert not plan["has_changes"]
    assert [a["name"] for a in plan["unmanaged_assignments"]] == ["7c1e0a4b-0000-4000-8000-000000000001"]
    assert apply(az, SPEC, "--prune").exit_code == 0
    assert len(emulator.state()["assignments"]) == 3


def test_apply_converges_through_throttling_errors_and_replication(az, emulator):  # noqa: F811
    emulator.add_fault(method="PUT", path_contains="roleAssignments", status=429, code="TooManyRequests",
                       message="throttled", headers={"Retry-After": "1"}, times=1)
    emulator.add_fault(method="PUT", path_contains="roleDefinitions", status=500, code="InternalServerError",
                       message="oops", times=1)
    emulator.add_fault(method="PUT", path_contains="roleAssignments", status=400, code="PrincipalNotFound",
                       message="not yet", times=1)
    r = apply(az, SPEC)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.json()["done"] == 4
    assert {x["code"] for x in emulator.requests() if x["code"]} >= {"TooManyRequests", "PrincipalNotFound"}
    emulator.clear_requests()
    assert apply(az, SPEC).json()["done"] == 0 and writes(emulator) == []


def test_partial_failure_reports_and_the_next_apply_completes(az, emulator):  # noqa: F811
    from rbactool.assignments import role_definition_guid

    guid = role_definition_guid(SCORING, az.rg)
    emulator.add_fault(method="PUT", path_contains=guid, status=403, code="AuthorizationFailed",
                       message="no write here", times=1)
    r = apply(az, SPEC)
    assert r.exit_code == 4
    doc = r.json()
    assert doc["failed"] == 1 and doc["skipped"] == 1  # the scoring role, then its assignment
    assert doc["failures"][0]["code"] == "AuthorizationFailed"
    r = apply(az, SPEC)
    assert r.exit_code == 0 and r.json()["done"] == 2


def generated_spec(tmp_path, subscription: str, n: int):
    lines = ["version: 1", "name: generated", f"defaults: {{subscription: {subscription}, resource_group: ml-rg}}",
             "roles:",
             "  - key: scoring", "    template: online-endpoint-scoring", "assignments:"]
    lines += [f"  - {{role: scoring, principal: {{id: {i:08d}-0000-4000-8000-000000000000, type: ServicePrincipal}}, "
              f"scope: /subscriptions/{subscription}/resourceGroups/ml-rg}}" for i in range(n)]
    spec = tmp_path / "generated.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def max_in_flight(entries) -> int:
    events = sorted([(e["start"], 1) for e in entries] + [(e["time"], -1) for e in entries])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


@pytest.mark.parametrize("parallelism", [1, 3])
def test_concurrency_never_exceeds_parallelism(az, emulator, tmp_path, parallelism):  # noqa: F811
    spec = generated_spec(tmp_path, az.sub, 12)
    emulator.configure(response_delay_s=0.05)
    r = apply(az, spec, "--parallelism", str(parallelism))
    assert r.exit_code == 0, r.stderr
    puts = [e for e in emulator.requests() if e["method"] == "PUT" and "roleAssignments" in e["path"]]
    assert len(puts) == 12
    peak = max_in_flight(puts)
    assert peak <= parallelism
    if parallelism > 1:
        assert peak > 1  # it really did run writes concurrently


def test_throttling_on_every_tenth_write_still_converges(az, emulator, tmp_path):  # noqa: F811
    spec = generated_spec(tmp_path, az.sub, 25)
    emulator.add_fault(method="PUT", status=429, code="TooManyRequests", message="throttled",
                       headers={"Retry-After": "1"}, every=10, times=0)
    r = apply(az, spec)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.json()["done"] == 26
    throttled = [e for e in emulator.requests() if e["status"] == 429]
    assert len(throttled) >= 2
    emulator.clear_faults()
    emulator.clear_requests()
    assert apply(az, spec).json()["done"] == 0 and writes(emulator) == []


def test_export_then_plan_shows_no_changes(az, emulator, tmp_path):  # noqa: F811
    assert apply(az, SPEC).exit_code == 0
    out = tmp_path / "exported.yaml"
    r = az("export", "--scope", az.rg, "-o", out)
    assert r.exit_code == 0, r.stderr
    plan = plan_json(az, out)
    assert not plan["has_changes"] and plan["summary"]["no-op"] == 4
    custom = az("export", "--scope", az.rg, "--custom-only")
    assert "AzureML Data Scientist" not in custom.stdout and SCORING in custom.stdout


BASE = """version: 1
name: bad
defaults: {subscription: 00000000-0000-0000-0000-00000000c0de, resource_group: ml-rg}
roles:
  - key: scoring
    template: online-endpoint-scoring
assignments:
"""
WS = "/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/ml-rg/providers/" \
     "Microsoft.MachineLearningServices/workspaces/ws"
ONE = "  - {role: %s, principal: {id: %s, type: User}, scope: %s}\n"


@pytest.mark.parametrize(
    ("assignments", "needle"),
    [
        (ONE % ("missing-role", "11111111-1111-1111-1111-111111111111", WS), "neither a role key"),
        (ONE % ("scoring", "11111111-1111-1111-1111-111111111111", WS) * 2, "already assigned"),
        (ONE % ("scoring", "11111111-1111-1111-1111-111111111111",
                "/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/other"), "not at or below"),
        ("".join(ONE % ("Reader", f"{i:08d}-1111-1111-1111-111111111111", WS) for i in range(4001)), "4000"),
    ],
)
def test_bad_specs_fail_before_any_request(az, emulator, tmp_path, assignments, needle):  # noqa: F811
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + assignments)
    for cmd in ("plan", "apply"):
        r = az(cmd, "--roles", spec, "--auto-approve") if cmd == "apply" else az(cmd, "--roles", spec)
        assert r.exit_code == 3 and needle in r.stderr, r.stderr
    assert emulator.requests() == []


def test_apply_asks_on_a_terminal_and_refuses_without_one(az, emulator):  # noqa: F811
    r = az("apply", "--roles", SPEC, "-s", az.sub)
    assert r.exit_code == 2 and "--auto-approve" in r.stderr
    assert writes(emulator) == []


def test_spec_validation_findings_gate_the_plan(az, emulator, tmp_path):  # noqa: F811
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "version: 1\n"
        "roles:\n"
        "  - key: bad\n"
        "    definition:\n"
        "      Name: bad\n"
        "      Actions: [Microsoft.MachineLearningServices/workspaces/nope/read]\n"
        "      AssignableScopes: [/subscriptions/00000000-0000-0000-0000-00000000c0de]\n"
    )
    r = az("plan", "--roles", spec)
    assert r.exit_code == 3 and "--fail-on" in r.stderr
    assert emulator.requests() == []
    assert az("plan", "--roles", spec, "--fail-on", "none").exit_code == 0


def test_env_subscription_only_fills_in_where_the_spec_names_none(az, emulator):  # noqa: F811
    # the emulator's exports set AZURE_SUBSCRIPTION_ID; the shipped spec names its own default subscription
    r = az("plan", "--roles", SPEC, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["scopes_read"] == ["/subscriptions/00000000-0000-0000-0000-000000000000"]
    r = az("plan", "--roles", SPEC, "-s", az.sub, "--format", "json")
    assert r.json()["scopes_read"] == [f"/subscriptions/{az.sub}"]


OTHER = """version: 1
name: other-team
defaults: {subscription: 00000000-0000-0000-0000-00000000c0de, resource_group: ml-rg}
roles:
  - key: reader
    definition:
      Name: Other team reader
      Actions: [Microsoft.MachineLearningServices/workspaces/read]
      AssignableScopes: [/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/ml-rg]
assignments:
  - role: reader
    principal: {id: 77777777-7777-7777-7777-777777777777, type: Group}
    scope: /subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws
"""


def test_prune_never_touches_another_specs_or_imperative_work(az, emulator, tmp_path):  # noqa: F811
    other = tmp_path / "other.yaml"
    other.write_text(OTHER)
    assert apply(az, other).exit_code == 0
    assert az("assign", "-i", "88888888-8888-8888-8888-888888888888", "--principal-type", "User",
              "--role", "Reader", "--scope", az.ws).exit_code == 0
    assert apply(az, SPEC).exit_code == 0
    plan = plan_json(az, SPEC, "--prune")
    assert not plan["has_changes"], plan["changes"]
    assert len(plan["unmanaged_assignments"]) == 2  # the other spec's and the imperative one, reported only
    apply(az, SPEC, "--prune")
    assert len(emulator.state()["assignments"]) == 4 and len(emulator.state()["customRoles"]) == 3
    owners = {r["roleName"]: r["description"] for r in emulator.state()["customRoles"]}
    assert owners["Other team reader"].endswith("[managed by rbactool: other-team]")
    assert owners[SCORING].endswith("[managed by rbactool: ml-online-endpoints]")


def test_prune_follows_this_specs_objects_wherever_they_are(az, emulator, team):  # noqa: F811
    assert apply(az, team).exit_code == 0
    # move the data scientist's assignment to another scope: the old one is this spec's, so prune removes it
    team.write_text(team.read_text().replace("workspaces/ml-ws\n", "workspaces/ml-ws2\n", 2)
                    .replace("/workspaces/ml-ws2\n    description: Scoring", "/workspaces/ml-ws\n    description: Scoring"))
    plan = plan_json(az, team, "--prune")
    assert plan["summary"]["create"] == 1 and plan["summary"]["delete"] == 1
    assert apply(az, team, "--prune").exit_code == 0
    scopes = sorted(a["scope"].rsplit("/", 1)[-1] for a in emulator.state()["assignments"])
    assert scopes == ["ml-ws", "ml-ws2"]


def test_create_sees_a_role_applied_by_a_spec_as_unchanged(az, emulator):  # noqa: F811
    assert apply(az, SPEC).exit_code == 0
    r = az("create", "online-endpoint-scoring", "-g", "ml-rg")
    assert r.exit_code == 0 and r.stdout.startswith("unchanged")


def test_another_specs_object_is_a_conflict_unless_taken_over(az, emulator, tmp_path):  # noqa: F811
    other = tmp_path / "other.yaml"
    other.write_text(OTHER)
    assert apply(az, other).exit_code == 0
    mine = tmp_path / "mine.yaml"
    mine.write_text(OTHER.replace("name: other-team", "name: mine").replace(
        "    scope:", "    description: mine now\n    scope:"))
    r = az("plan", "--roles", mine, "-s", az.sub)
    assert r.exit_code == 3 and "managed by spec 'other-team'" in r.stderr and "--take-over" in r.stderr
    emulator.clear_requests()
    assert az("apply", "--roles", mine, "-s", az.sub, "--auto-approve").exit_code == 3
    assert writes(emulator) == []
    plan = plan_json(az, mine, "--take-over")
    notes = {c["note"] for c in plan["changes"] if c["action"] == "update"}
    assert notes == {"takes over from spec 'other-team'"}


def test_unmarked_objects_that_differ_are_taken_over_and_said_so(az, emulator):  # noqa: F811
    assert az("create", "online-endpoint-scoring", "-g", "ml-rg", "--set", "description=by hand").exit_code == 0
    plan = plan_json(az, SPEC)
    (update,) = [c for c in plan["changes"] if c["type"] == "roleDefinition" and c["action"] == "update"]
    assert update["note"] == "not managed by a spec yet: apply takes it over"


def test_prune_finds_this_specs_objects_when_the_spec_lists_nothing_there(az, emulator, tmp_path):  # noqa: F811
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.read_text().replace("name: ml-online-endpoints", "name: shrinking"))
    assert apply(az, spec, "-s", az.sub).exit_code == 0
    text = spec.read_text()
    spec.write_text(text[: text.index("assignments:")] + "assignments: []\n")
    plan = plan_json(az, spec, "--prune")
    assert plan["summary"]["delete"] == 2


def test_a_huge_retry_after_is_capped(az, emulator, monkeypatch):  # noqa: F811
    import rbactool.azure_adapter as adapter

    monkeypatch.setattr(adapter, "MAX_RETRY_AFTER", 0.5)
    emulator.add_fault(method="PUT", status=429, code="TooManyRequests", headers={"Retry-After": "3600"}, times=1)
    r = apply(az, SPEC)
    assert r.exit_code == 0 and r.json()["done"] == 4


def test_a_role_whose_first_scope_moved_subscription_is_updated_not_recreated(az, emulator, tmp_path):  # noqa: F811
    other_sub = "99999999-9999-9999-9999-999999999999"
    spec = tmp_path / "moving.yaml"
    spec.write_text(
        "version: 1\nname: moving\nroles:\n  - key: r\n    definition:\n      Name: Moving role\n"
        "      Actions: [Microsoft.MachineLearningServices/workspaces/read]\n"
        f"      AssignableScopes: [/subscriptions/{az.sub}]\n")
    assert apply(az, spec).exit_code == 0
    spec.write_text(spec.read_text().replace(f"[/subscriptions/{az.sub}]",
                                             f"[/subscriptions/{other_sub}, /subscriptions/{az.sub}]"))
    plan = plan_json(az, spec)
    assert plan["summary"]["create"] == 0 and plan["summary"]["update"] == 1
    assert apply(az, spec).exit_code == 0


def test_a_role_delete_blocked_by_other_holders_is_flagged(az, emulator, team):  # noqa: F811
    assert apply(az, team).exit_code == 0
    assert az("assign", "-i", "99999999-1111-1111-1111-999999999999", "--principal-type", "User",
              "--role", f"{SCORING} (strict)", "--scope", az.ws).exit_code == 0
    text = team.read_text()
    start, end = text.index("  - key: scoring"), text.index("assignments:")
    body = text[:start] + text[end:]
    team.write_text(body[: body.index("  # The endpoint's client")] + body[body.index("  # A data scientist"):])
    plan = plan_json(az, team, "--prune")
    (delete,) = [c for c in plan["changes"] if c["type"] == "roleDefinition" and c["action"] == "delete"]
    assert delete["note"].startswith("blocked: still assigned 1 time")
