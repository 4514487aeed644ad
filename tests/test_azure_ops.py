"""create / assign / unassign / delete / list / whoami against the emulator, with the real SDK over HTTPS."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from rbactool.assignments import assignment_name, role_definition_guid
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

SPEC = ROOT / "roles" / "online-endpoints.yaml"
SP = "11111111-1111-1111-1111-111111111111"
GROUP = "33333333-3333-3333-3333-333333333333"
USER = "22222222-2222-2222-2222-222222222222"
SCORING = "Custom role for scoring - online endpoint"
CONTROL = "Custom role for control plane operations - online endpoint"


@pytest.fixture
def az(emulator, run):  # noqa: F811
    """run(...) against the emulator, with its exports as the environment."""
    env = emulator.env()
    emulator.add_principal(SP, "ServicePrincipal", "ml-scoring-client")
    emulator.add_principal(GROUP, "Group", "ml-engineers")
    emulator.add_principal(USER, "User", "data.scientist@example.com")

    def _az(*args, extra_env=None, input=None):
        return run(*args, env={**env, **(extra_env or {})}, input=input)

    _az.sub = emulator.subscription_id
    _az.rg = f"/subscriptions/{emulator.subscription_id}/resourceGroups/ml-rg"
    _az.ws = f"{_az.rg}/providers/Microsoft.MachineLearningServices/workspaces/ml-ws"
    _az.endpoint = f"{_az.ws}/onlineEndpoints/ep1"
    return _az


def writes(emulator):  # noqa: F811
    return [r for r in emulator.requests() if r["method"] in ("PUT", "DELETE")]


def seed_scenario(az):
    """The docs' scenario: both roles for a resource group, then the assignments."""
    for template in ("online-endpoint-control-plane", "online-endpoint-scoring"):
        r = az("create", template, "-g", "ml-rg")
        assert r.exit_code == 0, r.stderr
    r1 = az("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", SCORING,
            "-g", "ml-rg", "-w", "ml-ws", "-e", "ep1")
    r2 = az("assign", "-i", GROUP, "--principal-type", "Group", "--role", CONTROL, "--scope", az.ws)
    return r1, r2


def test_seed_scenario_end_to_end_and_every_rerun_is_a_no_op(az, emulator):  # noqa: F811
    r1, r2 = seed_scenario(az)
    assert r1.exit_code == 0 and r1.stdout.startswith("created"), r1.stderr
    assert r2.exit_code == 0 and r2.stdout.startswith("created"), r2.stderr
    state = emulator.state()
    assert len(state["customRoles"]) == 2
    assert len(state["assignments"]) == 2

    listed = az("list", "assignments", "--format", "json").json()
    assert {(a["principalId"], a["scope"]) for a in listed} == {(SP, az.endpoint), (GROUP, az.ws)}
    defs = az("list", "definitions", "--custom-only", "--format", "json").json()
    assert sorted(d["roleName"] for d in defs) == [CONTROL, SCORING]

    emulator.clear_requests()
    r1, r2 = seed_scenario(az)
    assert writes(emulator) == []
    assert r1.stdout.startswith("unchanged") and r2.stdout.startswith("unchanged")

    r = az("unassign", "-i", SP, "--role", SCORING, "--scope", az.endpoint)
    assert r.exit_code == 0 and r.stdout.startswith("unassigned")
    r = az("unassign", "-i", SP, "--role", SCORING, "--scope", az.endpoint)
    assert r.exit_code == 0 and r.stdout.startswith("absent")
    r = az("delete", SCORING, "--scope", az.rg)
    assert r.exit_code == 0 and "deleted" in r.stdout
    r = az("delete", SCORING, "--scope", az.rg)
    assert r.exit_code == 0 and r.stdout.startswith("absent")


def test_create_makes_at_most_three_requests_and_a_rerun_one_get(az, emulator):  # noqa: F811
    guid = role_definition_guid(SCORING, az.rg)
    emulator.clear_requests()
    assert az("create", "online-endpoint-scoring", "-g", "ml-rg", "--no-wait").exit_code == 0
    assert [(r["method"], r["path"].endswith(guid)) for r in emulator.requests()] == [("GET", True), ("PUT", True)]
    emulator.clear_requests()
    r = az("create", "online-endpoint-scoring", "-g", "ml-rg")
    assert r.stdout.startswith("unchanged")
    assert [(r["method"], r["path"].endswith(guid)) for r in emulator.requests()] == [("GET", True)]
    # a new role with the default --wait: its id, the PUT, and the one list by name that proves it is served
    emulator.clear_requests()
    r = az("create", "online-endpoint-scoring", "-g", "ml-rg", "--set", "name=Another scoring role")
    assert r.exit_code == 0 and r.stdout.startswith("created"), r.stderr
    requests = emulator.requests()
    assert [r["method"] for r in requests] == ["GET", "PUT", "GET"] and len(requests) <= 3
    assert "roleName" in requests[2]["query"] and requests[2]["path"].endswith("/roleDefinitions")


def test_create_adopts_a_same_name_role_made_elsewhere_and_refuses_one_it_cannot_see(az, emulator):  # noqa: F811
    from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient, models

    from rbactool.azure_adapter import StaticTokenCredential

    def make(subscription, scope, guid, name):
        client = AuthorizationManagementClient(StaticTokenCredential(emulator.token), subscription,
                                               base_url=emulator.base_url, connection_verify=emulator.ca_path)
        client.role_definitions.create_or_update(scope, guid, models.RoleDefinition(
            role_name=name, role_type="CustomRole", assignable_scopes=[scope],
            permissions=[models.Permission(actions=["Microsoft.MachineLearningServices/workspaces/read"])]))

    made_by_az = "0d2b5e1c-0000-4000-8000-00000000abcd"
    make(az.sub, az.rg, made_by_az, SCORING)  # the same name, under an id rbactool did not pick
    emulator.clear_requests()
    r = az("create", "online-endpoint-scoring", "-g", "ml-rg", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert [(x["status"], x["id"]) for x in r.json()["roles"]] == [("updated", made_by_az)]
    assert [x["guid"] for x in emulator.state()["customRoles"]] == [made_by_az]  # never a second role of that name
    assert [e["status"] for e in emulator.requests(method="PUT")] == [409, 201]
    # the same name in another subscription of the tenant, invisible from here: ARM refuses, and so does rbactool
    other_sub = "99999999-9999-9999-9999-999999999999"
    make(other_sub, f"/subscriptions/{other_sub}", made_by_az.replace("abcd", "abce"), "Taken elsewhere")
    r = az("create", "online-endpoint-scoring", "-g", "ml-rg", "--set", "name=Taken elsewhere")
    assert r.exit_code == 4 and "RoleDefinitionWithSameNameExists" in r.stderr
    assert len(emulator.state()["customRoles"]) == 2


def test_role_ids_and_assignment_names_are_deterministic(az, emulator):  # noqa: F811
    seed_scenario(az)
    state = emulator.state()
    guids = {r["guid"] for r in state["customRoles"]}
    assert role_definition_guid(SCORING, az.rg) in guids
    scoring_guid = role_definition_guid(SCORING, az.rg)
    names = {a["name"] for a in state["assignments"]}
    assert assignment_name(az.endpoint, scoring_guid, SP) in names


def test_update_in_place_reports_the_effective_change(az, emulator):  # noqa: F811
    assert az("create", "online-endpoint-scoring-strict", "-g", "ml-rg").exit_code == 0
    r = az("create", "online-endpoint-scoring-strict", "-g", "ml-rg", "--set", "auth_mode=aml_token")
    assert r.exit_code == 0 and r.stdout.startswith("updated") and "+1 operation (1 credential-exposure), -0" in r.stdout
    customs = emulator.state()["customRoles"]
    assert len(customs) == 1
    assert len(customs[0]["permissions"][0]["actions"]) == 2


def test_dry_run_writes_nothing(az, emulator):  # noqa: F811
    r = az("create", "--roles", SPEC, "-s", az.sub, "--dry-run", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert [x["status"] for x in r.json()["roles"]] == ["would-create", "would-create"]
    r = az("assign", "-i", USER, "--role", "AzureML Data Scientist", "--scope", az.ws, "--dry-run")
    assert r.exit_code == 0 and r.stdout.startswith("would-create")
    assert writes(emulator) == []


def test_spec_roles_are_created_and_validation_errors_refuse(az, emulator, tmp_path):  # noqa: F811
    r = az("create", "--roles", SPEC, "-s", az.sub)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.count("created") == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Name": "bad", "Actions": ["Microsoft.MachineLearningServices/workspaces/nope/read"],
                               "AssignableScopes": [az.rg]}))
    emulator.clear_requests()
    r = az("create", bad)
    assert r.exit_code == 3 and "--force" in r.stderr
    assert emulator.requests() == []


def test_principal_type_is_explicit_and_never_the_sdk_default(az, emulator):  # noqa: F811
    az("create", "online-endpoint-scoring", "-g", "ml-rg")
    assert az("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", SCORING,
              "--scope", az.ws).exit_code == 0
    assert az("assign", "-i", USER, "--role", "Reader", "--scope", az.ws).exit_code == 0
    bodies = [json.loads(r["body"]) for r in emulator.requests(method="PUT", path_contains="roleAssignments")]
    assert bodies[0]["properties"]["principalType"] == "ServicePrincipal"
    assert "principalType" not in bodies[1]["properties"] or bodies[1]["properties"]["principalType"] is None


def test_existing_assignment_under_another_name_counts_as_assigned(az, emulator):  # noqa: F811
    from azure.mgmt.authorization.v2022_04_01 import AuthorizationManagementClient, models

    from rbactool.azure_adapter import StaticTokenCredential

    client = AuthorizationManagementClient(StaticTokenCredential(emulator.token), az.sub,
                                           base_url=emulator.base_url, connection_verify=emulator.ca_path)
    reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    client.role_assignments.create(az.ws, "9e5ef3b9-0000-4000-8000-000000000001", models.RoleAssignmentCreateParameters(
        role_definition_id=f"/subscriptions/{az.sub}/providers/Microsoft.Authorization/roleDefinitions/{reader}",
        principal_id=USER, principal_type="User"))
    r = az("assign", "-i", USER, "--principal-type", "User", "--role", "Reader", "--scope", az.ws)
    assert r.exit_code == 0 and r.stdout.startswith("already-assigned")
    assert "9e5ef3b9-0000-4000-8000-000000000001" in r.stdout


def test_replication_delays_need_no_user_action(az, emulator):  # noqa: F811
    emulator.configure(role_definition_replication_delay_s=1.5, assignment_list_delay_s=0.5)
    new_sp = "44444444-4444-4444-4444-444444444444"
    emulator.add_principal(new_sp, "ServicePrincipal", "fresh", visible_after_s=1.5)
    r = az("create", "online-endpoint-scoring", "-g", "ml-rg")
    assert r.exit_code == 0 and r.stdout.startswith("created"), r.stderr
    # the role is served now: assigning right away works, and so does a principal still replicating
    r = az("assign", "-i", new_sp, "--role", SCORING, "--scope", az.ws)
    assert r.exit_code == 0 and r.stdout.startswith("created"), r.stderr


def test_assign_right_after_create_without_wait_retries_role_not_found(az, emulator):  # noqa: F811
    emulator.configure(role_definition_replication_delay_s=1.5)
    assert az("create", "online-endpoint-scoring", "-g", "ml-rg", "--no-wait").exit_code == 0
    r = az("assign", "-i", SP, "--principal-type", "ServicePrincipal",
           "--role", role_definition_guid(SCORING, az.rg), "--scope", az.ws)
    assert r.exit_code == 0, r.stderr
    assert "RoleDefinitionDoesNotExist" in r.stderr  # the progress line named the wait


def test_preflight_refuses_scopes_outside_the_role_offline(az, emulator):  # noqa: F811
    az("create", "online-endpoint-scoring", "-g", "ml-rg")
    emulator.clear_requests()
    other = f"/subscriptions/{az.sub}/resourceGroups/other-rg"
    r = az("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", SCORING, "--scope", other)
    assert r.exit_code == 3 and "exists but cannot be assigned" in r.stderr and az.rg in r.stderr
    assert writes(emulator) == []


def test_delete_refuses_while_assigned_and_removes_with_assignments(az, emulator):  # noqa: F811
    seed_scenario(az)
    r = az("delete", SCORING, "--scope", az.rg)
    assert r.exit_code == 4 and SP in r.stderr and "--with-assignments" in r.stderr
    r = az("delete", SCORING, "--scope", az.rg, "--with-assignments", "--yes")
    assert r.exit_code == 0 and "unassigned" in r.stdout and "deleted" in r.stdout
    assert len(emulator.state()["assignments"]) == 1


def test_rerun_without_principal_type_is_a_no_op_for_an_unknown_principal(az, emulator):  # noqa: F811
    stranger = "66666666-6666-6666-6666-666666666666"  # not in the emulator's directory
    assert az("assign", "-i", stranger, "--principal-type", "User", "--role", "Reader", "--scope", az.ws).exit_code == 0
    emulator.clear_requests()
    r = az("assign", "-i", stranger, "--role", "Reader", "--scope", az.ws)
    assert r.exit_code == 0 and r.stdout.startswith("unchanged"), r.stderr
    assert [r["method"] for r in emulator.requests()] == ["GET"]  # one read of the assignment, no PUT


def test_not_signed_in_is_one_line(run, emulator, monkeypatch):  # noqa: F811
    """azure-identity logs every credential it tried; the user sees one line. (A fake stands in for
    DefaultAzureCredential: the real one would probe the managed-identity endpoint off this machine.)"""
    import logging

    import azure.identity
    from azure.identity import CredentialUnavailableError

    class NoCredential:
        def __init__(self, **kwargs):
            pass

        def get_token(self, *scopes, **kwargs):
            log = logging.getLogger("azure.identity._credentials.chained")
            for name in ("EnvironmentCredential", "ManagedIdentityCredential", "AzureCliCredential"):
                log.warning("%s: unavailable.\nlong explanation\nmore", name)
            raise CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token.\nAttempted ...")

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", NoCredential)
    env = {**emulator.env(), "RBACTOOL_ACCESS_TOKEN": ""}
    r = run("list", "definitions", env=env)
    assert r.exit_code == 4
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: ") and "az login" in r.stderr
    r = run("-vv", "list", "definitions", env=env)
    assert "ManagedIdentityCredential" in r.stderr  # with -vv the SDK's own explanation is shown


def test_builtin_roles_cannot_be_deleted(az, emulator):  # noqa: F811
    r = az("delete", "Owner")
    assert r.exit_code == 3 and "built-in" in r.stderr
    assert emulator.requests() == []


def test_interrupted_run_reruns_cleanly(az, emulator):  # noqa: F811
    scoring = role_definition_guid(SCORING, az.rg)
    emulator.add_fault(method="PUT", path_contains=scoring, status=400, code="InjectedFault", message="boom")
    r = az("create", "--roles", SPEC, "-s", az.sub)
    assert r.exit_code == 4 and "InjectedFault" in r.stderr
    r = az("create", "--roles", SPEC, "-s", az.sub, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert [x["status"] for x in r.json()["roles"]] == ["unchanged", "created"]


@pytest.mark.parametrize(
    ("status", "code", "needle"),
    [
        (403, "AuthorizationFailed", "permission"),
        (403, "LinkedAuthorizationFailed", "every assignable scope"),
        (400, "InvalidActionOrNotAction", "rbactool validate"),
        (409, "RoleDefinitionWithSameNameExists", "unique"),
        (400, "RoleDefinitionLimitExceeded", "5,000"),
        (401, "InvalidAuthenticationToken", "az login"),
    ],
)
def test_azure_errors_are_one_line_with_advice_and_exit_4(az, emulator, status, code, needle):  # noqa: F811
    emulator.add_fault(method="PUT", path_contains="roleDefinitions", status=status, code=code, message="from ARM",
                       times=0)
    r = az("create", "online-endpoint-control-plane", "-g", "ml-rg", "--set", "name=x")
    assert r.exit_code == 4
    error = [line for line in r.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and r.stderr.endswith(error[0] + "\n")
    assert code in error[0] and needle in error[0]


@pytest.mark.parametrize(
    ("code", "needle"),
    [("RoleAssignmentUpdateNotPermitted", "cannot change"), ("UnmatchedPrincipalType", "--principal-type"),
     ("RoleAssignmentLimitExceeded", "4,000")],
)
def test_assignment_errors(az, emulator, code, needle):  # noqa: F811
    emulator.add_fault(method="PUT", path_contains="roleAssignments", status=400, code=code, message="x", times=0)
    r = az("assign", "-i", USER, "--principal-type", "User", "--role", "Reader", "--scope", az.ws)
    assert r.exit_code == 4 and code in r.stderr and needle in r.stderr


def test_unreachable_endpoint_is_named(run, emulator):  # noqa: F811
    env = {**emulator.env(), "RBACTOOL_ARM_ENDPOINT": "https://127.0.0.1:9"}
    r = run("list", "definitions", env=env)
    assert r.exit_code == 4 and "127.0.0.1:9" in r.stderr and r.stderr.count("\n") == 1


def test_bad_connection_settings_are_input_errors(run, emulator):  # noqa: F811
    env = emulator.env()
    assert run("list", "definitions", env={**env, "RBACTOOL_ARM_ENDPOINT": "http://127.0.0.1:1"}).exit_code == 3
    assert run("list", "definitions", env={**env, "RBACTOOL_CA_BUNDLE": "/nonexistent.pem"}).exit_code == 3
    assert run("list", "definitions", "--cloud", "Mars", env=env).exit_code == 2


def test_no_token_in_any_output_even_at_debug(az, emulator):  # noqa: F811
    token = emulator.token
    outputs = []
    for args in (
        ("-vv", "create", "online-endpoint-scoring", "-g", "ml-rg"),
        ("-vv", "assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", SCORING, "--scope", az.ws),
        ("-vv", "list", "assignments"),
        ("-vv", "list", "definitions", "--custom-only"),
        ("-vv", "whoami", "--scope", az.rg),
        ("-vv", "unassign", "-i", SP, "--scope", az.ws),
        ("-vv", "delete", SCORING, "--scope", az.rg),
    ):
        r = az(*args)
        assert r.exit_code == 0, (args, r.stderr)
        outputs.append(r.stdout + r.stderr)
    joined = "\n".join(outputs)
    assert token not in joined
    assert token.split(".")[1] not in joined  # not even the claims part
    assert "DEBUG" in joined  # -vv did log


def test_whoami_names_the_caller_and_checks_permissions(az, emulator):  # noqa: F811
    r = az("whoami", "--scope", az.rg)
    assert r.exit_code == 0
    assert emulator.tenant_id in r.stdout
    assert "yes  Microsoft.Authorization/roleAssignments/write" in r.stdout


def test_a_dropped_connection_is_one_line(run, emulator):  # noqa: F811
    """A TLS server that reads the request and hangs up: azure-core's ServiceResponseError."""
    import socket
    import ssl
    import threading

    certs = emulator.emulator.certs
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs.cert, certs.key)
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(20)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    env = {**emulator.env(), "RBACTOOL_ARM_ENDPOINT": f"https://127.0.0.1:{srv.getsockname()[1]}"}
    try:
        r = run("list", "definitions", "--custom-only", env=env)
    finally:
        stop.set()
        srv.close()
    assert r.exit_code == 4
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1 and "127.0.0.1" in r.stderr


def test_a_role_file_id_never_overwrites_another_role(az, emulator, tmp_path):  # noqa: F811
    assert az("create", "online-endpoint-scoring", "-g", "ml-rg").exit_code == 0
    taken = role_definition_guid(SCORING, az.rg)
    f = tmp_path / "renamed.json"
    f.write_text(json.dumps({"Name": "Renamed copy", "Id": taken, "Actions": ["Microsoft.MachineLearningServices/"
                             "workspaces/read"], "AssignableScopes": [az.rg]}))
    emulator.clear_requests()
    r = az("create", f)
    assert r.exit_code == 3 and SCORING in r.stderr
    assert writes(emulator) == []


def test_bad_scopes_are_input_errors_before_any_request(az, emulator):  # noqa: F811
    for args in (("delete", "x", "--scope", "bogus"), ("list", "definitions", "--scope", "/nope"),
                 ("list", "assignments", "--scope", "bogus"), ("whoami", "--scope", "bogus")):
        r = az(*args)
        assert r.exit_code == 3, (args, r.stderr)
    assert emulator.requests() == []


def test_create_writes_every_role_before_waiting(az, emulator):  # noqa: F811
    emulator.configure(role_definition_replication_delay_s=1.0)
    r = az("create", "--roles", ROOT / "roles" / "online-endpoints.yaml", "-s", az.sub)
    assert r.exit_code == 0, r.stderr
    methods = [e["method"] for e in emulator.requests()]
    first_put, last_put = methods.index("PUT"), len(methods) - 1 - methods[::-1].index("PUT")
    # both PUTs come before any poll (a list of role definitions by name)
    polls = [i for i, e in enumerate(emulator.requests()) if e["method"] == "GET" and "roleName" in e["query"]]
    assert methods.count("PUT") == 2 and polls and min(polls) > last_put > first_put
