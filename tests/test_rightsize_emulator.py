"""The issue's loop end to end against the emulator: assign Contributor on the ML resource group,
use it (only online endpoint and deployment writes, one listKeys), export the Activity Log, snapshot,
`rbactool rightsize`, validate the proposal, and move the identity onto it with plan/apply."""

from __future__ import annotations

import json

from test_azure_ops import az  # noqa: F401 (az is a fixture)

from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

DEPLOYER = "d3000000-0000-4000-8000-0000000000de"
OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
ML = "Microsoft.MachineLearningServices/workspaces"
USED = {f"{ML}/onlineEndpoints/write", f"{ML}/onlineEndpoints/deployments/write",
        f"{ML}/onlineEndpoints/listKeys/action"}


def _use(emulator, az):  # noqa: F811
    ep = f"{az.ws}/onlineEndpoints/ep1"
    deploy = f"{ML}/onlineEndpoints/deployments/write"
    for op, scope in ((f"{ML}/onlineEndpoints/write", ep), (deploy, f"{ep}/deployments/blue"),
                      (f"{ML}/onlineEndpoints/write", ep), (deploy, f"{ep}/deployments/green"),
                      (f"{ML}/onlineEndpoints/listKeys/action", ep)):
        emulator.record_activity(DEPLOYER, op, scope)
    return ep


def test_emulator_records_its_own_writes_with_the_callers_object_id(az, emulator, tmp_path):  # noqa: F811
    emulator.add_principal(DEPLOYER, "ServicePrincipal", "ml-deployer")
    assert az("assign", "-i", DEPLOYER, "--principal-type", "ServicePrincipal", "--role", "Contributor",
              "--scope", az.rg).exit_code == 0
    events = emulator.activity_log()
    writes = [e for e in events if e["authorization"]["action"] == "Microsoft.Authorization/roleAssignments/write"]
    assert [e["status"]["value"] for e in writes] == ["Started", "Succeeded"]
    assert writes[0]["operationId"] == writes[1]["operationId"]
    assert writes[1]["claims"][OID] == "00000000-0000-0000-0000-0000000000cc"   # the emulator's default caller
    assert writes[1]["authorization"]["scope"].lower().startswith(az.rg.lower() + "/providers/microsoft.authorization/")
    # reads are not recorded, as in Azure; the log reads back through rbactool's reader
    assert not [e for e in events if e["httpRequest"]["method"] == "GET"]
    log = tmp_path / "activity.json"
    log.write_text(json.dumps(events))
    import rbactool

    folded = rbactool.read_activity_logs([log])
    assert folded.counted == len(events) and folded.malformed == 0


def test_rightsize_contributor_to_what_was_used_and_apply_it(az, emulator, tmp_path):  # noqa: F811
    emulator.add_principal(DEPLOYER, "ServicePrincipal", "ml-deployer")
    assert az("assign", "-i", DEPLOYER, "--principal-type", "ServicePrincipal", "--role", "Contributor",
              "--scope", az.rg).exit_code == 0
    ep = _use(emulator, az)
    log = tmp_path / "activity.json"
    log.write_text(json.dumps(emulator.activity_log()))
    db = tmp_path / "estate.db"
    assert az("snapshot", "-o", db, "-s", az.sub).exit_code == 0

    usage = az("usage", log, "--snapshot", db, "--format", "json")
    assert usage.exit_code == 0, usage.stderr
    me = next(i for i in usage.json()["identities"] if i["principalId"] == DEPLOYER)
    assert {o["operation"].lower() for o in me["operations"]} == {u.lower() for u in USED}
    assert me["usedObservable"] == 3 and 0 < me["ratio"] < 0.01
    contributor = next(a for a in usage.json()["assignments"] if a["principalId"] == DEPLOYER)
    assert contributor["role"] == "Contributor" and not contributor["unobserved"]

    role, spec = tmp_path / "role.json", tmp_path / "spec.yaml"
    r = az("rightsize", "--principal", DEPLOYER, log, "--snapshot", db, "-o", role, "--spec", spec,
           "--format", "json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    actions = out["role"]["Actions"]
    assert {a.lower() for a in actions} == {u.lower() for u in USED} | {"microsoft.machinelearningservices/*/read"}
    assert out["role"]["DataActions"] == [] and out["role"]["AssignableScopes"] == [az.rg]
    assert out["assignmentScope"].lower() == ep.lower()          # the narrowest scope covering the use
    assert out["removalsOnly"] is True and out["diff"]["verdict"] == "removes access only"
    removed = {o["name"].lower() for o in out["diff"]["effective"]["removed"]}
    added = out["diff"]["effective"]["added"]
    assert added == [] and "microsoft.compute/virtualmachines/write" in removed
    assert "microsoft.machinelearningservices/workspaces/onlineendpoints/delete" in removed
    assert not {u.lower() for u in USED} & removed
    # everything else Contributor gave is removed: the role keeps the used operations and the reads
    eff = out["diff"]["effective"]
    assert len(removed) == eff["old_count"] - eff["new_count"] and eff["old_count"] > 10_000
    assert az("validate", role).exit_code == 0                   # no ERROR (listKeys is a SECURITY_WARNING)

    plan = az("plan", "--roles", spec, "--format", "json")
    assert plan.exit_code == 0, plan.stderr
    assert az("apply", "--roles", spec, "--auto-approve").exit_code == 0
    state = emulator.state()
    assert any(x["roleName"] == out["role"]["Name"] for x in state["customRoles"])
    mine = [a for a in state["assignments"] if a["principalId"] == DEPLOYER]
    assert {a["scope"].lower() for a in mine} == {az.rg.lower(), ep.lower()}
    again = az("plan", "--roles", spec, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    # the apply itself is in the emulator's Activity Log: a role definition write
    ops = {e["authorization"]["action"] for e in emulator.activity_log()}
    assert "Microsoft.Authorization/roleDefinitions/write" in ops


def test_the_activity_log_control_api_over_http(emulator):  # noqa: F811
    import requests

    url = f"{emulator.base_url}/__emulator/activity-log"
    ok = requests.post(url, json={"events": [{"operation": f"{ML}/onlineEndpoints/write", "caller": DEPLOYER,
                                              "scope": "/subscriptions/s/resourceGroups/rg"}]},
                       verify=emulator.ca_path, timeout=10)
    assert ok.status_code == 201 and ok.json() == {"recorded": 2}   # Started, then Succeeded
    events = requests.get(url, verify=emulator.ca_path, timeout=10).json()
    assert [e["status"]["value"] for e in events] == ["Started", "Succeeded"]
    assert events[1]["claims"][OID] == DEPLOYER
    bad = requests.post(url, json={"events": [{"operation": 1}]}, verify=emulator.ca_path, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidEmulatorRequest"
    assert requests.delete(url, verify=emulator.ca_path, timeout=10).json() == []
    assert emulator.activity_log() == []
