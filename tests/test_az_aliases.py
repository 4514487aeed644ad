"""az's flag spellings are aliases of rbactool's: each behaves exactly like its rbactool spelling
(through the CLI, against the emulator)."""

from __future__ import annotations

import pytest

from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

SP = "11111111-1111-1111-1111-111111111111"
USER = "22222222-2222-2222-2222-222222222222"
CONDITION = ("((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR "
             "(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))")


@pytest.fixture
def az(emulator, run):  # noqa: F811
    env = emulator.env()
    emulator.add_principal(SP, "ServicePrincipal", "ml-scoring-client")
    emulator.add_principal(USER, "User", "data.scientist@example.com")

    def _az(*args):
        return run(*args, env=env)

    _az.sub = emulator.subscription_id
    _az.rg = f"/subscriptions/{emulator.subscription_id}/resourceGroups/ml-rg"
    _az.ws = f"{_az.rg}/providers/Microsoft.MachineLearningServices/workspaces/ml-ws"
    return _az


def _ok(r):
    assert r.exit_code == 0, r.stderr
    return r


def test_assign_takes_az_spellings_and_a_rerun_in_rbactool_spellings_is_unchanged(az, emulator):  # noqa: F811
    created = _ok(az("assign", "--assignee-object-id", SP, "--assignee-principal-type", "ServicePrincipal",
                     "--role", "Storage Blob Data Reader", "--scope", az.rg, "--description", "logs only",
                     "--condition", CONDITION, "--condition-version", "2.0", "-o", "json")).json()
    assert created["status"] == "created"
    [stored] = emulator.state()["assignments"]
    props = stored.get("properties", stored)
    assert props["principalId"] == SP and props["principalType"] == "ServicePrincipal"
    assert props["condition"] == CONDITION and props["conditionVersion"] == "2.0"
    assert props["description"] == "logs only"
    again = _ok(az("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", "Storage Blob Data Reader",
                   "--scope", az.rg, "--description", "logs only", "--condition", CONDITION,
                   "--condition-version", "2.0", "--format", "json")).json()
    assert again["status"] == "unchanged" and again["name"] == created["name"]
    # and --assignee (an object id) is the same identity again: nothing to write
    third = _ok(az("assign", "--assignee", SP, "--role", "Storage Blob Data Reader", "--scope", az.rg,
                   "--output", "json")).json()
    assert third["status"] == "unchanged" and third["assignment"]["condition"] == CONDITION


def test_assign_alias_of_the_principal_type_is_checked_like_the_original(az):
    for flag in ("--principal-type", "--assignee-principal-type"):
        r = az("assign", "-i", SP, flag, "Robot", "--role", "Reader", "--scope", az.rg)
        assert r.exit_code == 2 and "--principal-type" in r.stderr


def test_assign_assignee_takes_an_object_id_only(az, emulator):  # noqa: F811
    r = az("assign", "--assignee", "someone@example.com", "--role", "Reader", "--scope", az.rg)
    assert r.exit_code == 3 and "object id" in r.stderr
    assert not emulator.requests(method="PUT")


def test_list_definitions_name_custom_role_only_and_output_aliases(az):
    _ok(az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "ml-rg", "--no-wait"))
    assert az("list", "definitions", "-n", "Reader", "-o", "json").json() == \
        az("list", "definitions", "--name", "Reader", "--format", "json").json()
    [reader] = az("list", "definitions", "-n", "reader", "-o", "json").json()
    assert reader["roleName"] == "Reader"
    custom = az("list", "definitions", "--custom-role-only", "--output", "json").json()
    assert custom == az("list", "definitions", "--custom-only", "--format", "json").json()
    assert [r["roleName"] for r in custom] == ["Custom role for scoring - online endpoint"]
    # -o tsv: the table's rows, tab-separated, without the header
    rows = [line.split("\t") for line in az("list", "definitions", "--custom-role-only", "-o", "tsv").stdout.splitlines()]
    assert rows == [[custom[0]["roleName"], "CustomRole", custom[0]["name"], az.rg]]
    table = az("list", "definitions", "--custom-only").stdout.splitlines()
    assert table[0].split() == ["Name", "Type", "Id", "AssignableScopes"] and len(table) == 2


def _assignments(az, *args):
    return sorted((a["principalId"], a["scope"]) for a in az("list", "assignments", *args, "-o", "json").json())


def test_list_assignments_assignee_include_inherited_and_all(az):
    _ok(az("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", "Reader", "-s", az.sub))
    _ok(az("assign", "-i", SP, "--principal-type", "ServicePrincipal", "--role", "Reader", "--scope", az.rg))
    _ok(az("assign", "-i", USER, "--principal-type", "User", "--role", "AzureML Data Scientist", "--scope", az.ws))
    everything = _assignments(az, "-s", az.sub)
    assert len(everything) == 3
    # --all: the whole subscription, as -s SUB without --scope
    assert _assignments(az, "--all", "-s", az.sub) == everything
    r = az("list", "assignments", "--all", "--scope", az.rg)
    assert r.exit_code == 2 and "--all" in r.stderr
    # --assignee is --principal
    assert _assignments(az, "--assignee", SP, "-s", az.sub) == _assignments(az, "--principal", SP, "-s", az.sub) \
        == sorted([(SP, az.rg), (SP, f"/subscriptions/{az.sub}")])
    # default: at, above and below the resource group; --include-inherited (--no-below): at and above only
    assert _assignments(az, "--scope", az.rg) == everything
    inherited = _assignments(az, "--scope", az.rg, "--include-inherited")
    assert inherited == _assignments(az, "--scope", az.rg, "--no-below")
    assert inherited == sorted([(SP, az.rg), (SP, f"/subscriptions/{az.sub}")])
    # with a principal too (ARM does not combine atScope() with principalId: filtered here)
    assert _assignments(az, "--scope", az.rg, "--include-inherited", "--assignee", USER) == []
    assert _assignments(az, "--scope", az.ws, "--include-inherited", "--assignee", USER) == [(USER, az.ws)]
    # -o tsv: one line per assignment, four columns
    lines = az("list", "assignments", "--scope", az.rg, "--include-inherited", "-o", "tsv").stdout.splitlines()
    assert sorted(tuple(line.split("\t")[i] for i in (0, 3)) for line in lines) == inherited
    assert all(line.split("\t")[2] == "Reader" for line in lines)


@pytest.mark.parametrize(("argv", "aliases"), [
    (["assign"], ["--assignee-object-id", "--assignee-principal-type", "--assignee", "--output"]),
    (["create"], ["--output"]),
    (["list", "definitions"], ["-n, --name", "--custom-role-only", "--output"]),
    (["list", "assignments"], ["--assignee", "--include-inherited", "--all", "--output"]),
])
def test_the_aliases_are_in_the_help(run, argv, aliases):
    r = run(*argv, "--help")
    assert r.exit_code == 0
    assert [a for a in aliases if a not in r.stdout] == []


def test_list_assignments_assignee_takes_an_object_id_only(az, emulator):  # noqa: F811
    emulator.clear_requests()
    r = az("list", "assignments", "--assignee", "bob", "--scope", az.rg)
    assert r.exit_code == 3 and "object id" in r.stderr and r.stderr.count("\n") == 1
    assert emulator.requests() == []
