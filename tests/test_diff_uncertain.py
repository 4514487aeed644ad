"""New access the catalog cannot show still counts for --fail-on-new-access."""

import json


def role(tmp_path, name, actions, not_actions=()):
    f = tmp_path / f"{name}.json"
    f.write_text(json.dumps({"Name": "r", "Actions": list(actions), "NotActions": list(not_actions),
                             "AssignableScopes": ["/subscriptions/11111111-2222-3333-4444-555555555555"]}))
    return f


def test_added_wildcard_in_an_unknown_namespace_is_new_access(run, tmp_path):
    old = role(tmp_path, "old", ["Microsoft.Compute/virtualMachines/read"])
    new = role(tmp_path, "new", ["Microsoft.Compute/virtualMachines/read", "Microsoft.Newprov/*"])
    r = run("diff", old, new, "--fail-on-new-access", "--format", "json")
    assert r.exit_code == 1
    (d,) = r.json()["roles"]
    assert d["grants_new_access"] and any("Microsoft.Newprov/*" in x for x in d["possible_new_access"])


def test_removed_not_action_of_an_unlisted_operation_is_new_access(run, tmp_path):
    unlisted = "Microsoft.Compute/virtualMachines/futureThing/action"
    old = role(tmp_path, "old", ["Microsoft.Compute/virtualMachines/*"], [unlisted])
    new = role(tmp_path, "new", ["Microsoft.Compute/virtualMachines/*"])
    r = run("diff", old, new, "--fail-on-new-access", "--format", "json")
    assert r.exit_code == 1
    assert r.json()["roles"][0]["possible_new_access"]
    # and the reverse only removes access
    assert run("diff", new, old, "--fail-on-new-access").exit_code == 0


def test_a_covered_wildcard_is_not_flagged(run, tmp_path):
    old = role(tmp_path, "old", ["Microsoft.Compute/*"])
    new = role(tmp_path, "new", ["Microsoft.Compute/*", "Microsoft.Compute/virtualMachines/*"])
    r = run("diff", old, new, "--fail-on-new-access", "--format", "json")
    assert r.exit_code == 0 and r.json()["roles"][0]["possible_new_access"] == []
