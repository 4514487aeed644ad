"""Seed files: ``rbactool emulator --seed FILE``, the control API and the fixture; every bad seed
is one line naming the key path (exit 3), and nothing changes."""

from __future__ import annotations

import json

import pytest
import requests
import yaml
from click.testing import CliRunner

import rbactool.emulator.seed as seed_mod
from rbactool.cli import cli
from rbactool.emulator.seed import SeedError, parse_seed, read_seed
from rbactool.emulator.synthetic import EstateSize, generate_estate
from rbactool.emulator.testing import start_emulator

from .estate import ALICE, DS, EVERYONE, INTERNS, MG_PLATFORM, SCORER, SUB_L, SUB_P, TENANT, estate


def groups_of(st, principal):
    from rbactool.emulator.directory import transitive_groups

    return frozenset(g.object_id.lower() for g in transitive_groups(st.principals, principal))


def _parse(doc):
    return parse_seed(doc, "seed.yaml", tenant_id=TENANT)


def test_estate_parses_with_counts():
    s = _parse(estate())
    assert s.counts() == {"management_groups": 3, "subscriptions": 2, "principals": 5, "groups": 2,
                          "role_definitions": 1, "role_assignments": 5, "deny_assignments": 2,
                          "eligible_assignments": 2}
    assert s.mg_tree["mg-landing"].parent == "mg-platform"
    assert set(s.management_groups["mg-platform"]) == {SUB_P, SUB_L}
    assert s.management_groups["mg-landing"] == (SUB_L,)
    assert s.principals[DS].type == "Group"
    deny = next(d for d in s.deny_assignments.values() if d.principals[0].id == EVERYONE)
    assert deny.principals[0].type == "SystemDefined" and deny.exclude_principals[0].id == SCORER
    a = next(a for a in s.assignments if a.scope == MG_PLATFORM)
    assert a.principal_type == "Group" and a.role_definition_guid == "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def test_graph_fields_of_principals(emulator):
    doc = estate()
    doc["principals"][0]["user_principal_name"] = "alice@contoso.example"
    doc["principals"][2]["app_id"] = "12121212-0000-4000-8000-000000000001"
    emulator.load_seed(doc)
    st = emulator.app.state
    assert st.principals[ALICE].user_principal_name == "alice@contoso.example"
    assert st.principals[SCORER].app_id == "12121212-0000-4000-8000-000000000001"
    r = requests.get(f"{emulator.base_url}/msgraph/v1.0/groups/{DS}/transitiveMembers", verify=emulator.ca_path,
                     headers={"Authorization": f"Bearer {emulator.token}"})
    assert r.status_code == 200
    assert {m["id"] for m in r.json()["value"]} == {ALICE, INTERNS, "33333333-0000-4000-8000-000000000002"}
    bad = estate()
    bad["principals"][1]["app_id"] = "12121212-0000-4000-8000-000000000002"  # bob is a user
    with pytest.raises(SeedError, match=r"principals\[1\]: appId and servicePrincipalNames are only for"):
        _parse(bad)
    selfish = estate()
    selfish["groups"][1]["members"].append(INTERNS)
    with pytest.raises(SeedError, match=r"groups\[1\].members\[1\]: group .* cannot be a member of itself"):
        _parse(selfish)


def test_derived_ids_are_stable():
    one = [a.name for a in _parse(estate()).assignments]
    two = [a.name for a in _parse(estate()).assignments]
    assert one == two and len(set(one)) == len(one)


def _with(change):
    doc = estate()
    change(doc)
    return doc


BAD = [
    ("unknown top key", lambda d: d.update(role_asignments=[]), "role_asignments: unknown key"),
    ("principal not a guid", lambda d: d["principals"][0].update(id="alice"), "principals[0].id: must be a GUID"),
    ("principal type", lambda d: d["principals"][1].update(type="Robot"), "principals[1].type: must be one of"),
    ("unknown item key", lambda d: d["role_assignments"][0].update(scopes="/"), "role_assignments[0].scopes: unknown key"),
    ("missing scope", lambda d: d["role_assignments"][1].pop("scope"), "role_assignments[1].scope: is required"),
    ("unknown principal", lambda d: d["role_assignments"][2].update(principal="99999999-0000-4000-8000-000000000009"),
     "role_assignments[2].principal: unknown principal"),
    ("unknown role", lambda d: d["role_assignments"][0].update(role="Reeder"), "role_assignments[0].role: unknown role"),
    ("unknown role id", lambda d: d["role_assignments"][0].update(role="99999999-0000-4000-8000-000000000009"),
     "role_assignments[0].role: unknown role id"),
    ("not assignable", lambda d: d["role_assignments"][1].update(scope=f"/subscriptions/{SUB_P}"),
     "role_assignments[1].scope: role 'ML endpoint scorer' is not assignable"),
    ("bad scope", lambda d: d["role_assignments"][0].update(scope="subscriptions"), "role_assignments[0].scope: not a valid scope"),
    ("unknown subscription", lambda d: d["role_assignments"][0].update(scope="/subscriptions/99999999-0000-4000-8000-000000000009"),
     "role_assignments[0].scope: unknown subscription"),
    ("unknown mg scope", lambda d: d["role_assignments"][0].update(
        scope="/providers/Microsoft.Management/managementGroups/nope"), "role_assignments[0].scope: unknown management group"),
    ("duplicate identity", lambda d: d["role_assignments"].append(dict(d["role_assignments"][0], id=None)),
     "role_assignments[5]: the same principal, role and scope as role_assignments[0]"),
    ("unknown parent", lambda d: d["management_groups"][2].update(parent="mg-nope"),
     "management_groups[2].parent: unknown management group"),
    ("root with parent", lambda d: d["management_groups"][0].update(parent="mg-platform"),
     "management_groups[0].parent: the tenant root group"),
    ("cycle", lambda d: d["management_groups"][1].update(parent="mg-landing"), "is its own ancestor"),
    ("sub twice", lambda d: d["management_groups"][2]["subscriptions"].append(SUB_P),
     "management_groups[2].subscriptions[1]: subscription"),
    ("everyone excluded", lambda d: d["deny_assignments"][0]["exclude_principals"].append(EVERYONE),
     "deny_assignments[0].exclude_principals[1]: the all-principals id may appear in principals only"),
    ("deny nothing", lambda d: d["deny_assignments"][0].update(actions=[]), "deny_assignments[0]: denies nothing"),
    ("deny flag", lambda d: d["deny_assignments"][1].update(do_not_apply_to_child_scopes="yes"),
     "deny_assignments[1].do_not_apply_to_child_scopes: must be true or false"),
    ("unknown member", lambda d: d["groups"][0]["members"].append("99999999-0000-4000-8000-000000000009"),
     "groups[0].members[2]: unknown principal"),
    ("group also user", lambda d: d["groups"][0].update(id=ALICE), "groups[0].id:"),
    ("custom named like builtin", lambda d: d["role_definitions"][0].update(Name="Reader"),
     "role_definitions[0].Name: 'Reader' is already the name of a built-in role"),
    ("eligible at root", lambda d: d["eligible_assignments"][0].update(scope="/"),
     "eligible_assignments[0].scope: PIM eligibility cannot be at the root scope"),
    ("version without condition", lambda d: d["role_assignments"][0].update(condition_version="2.0"),
     "role_assignments[0].condition_version: is set without a condition"),
    ("list not list", lambda d: d.update(principals={"a": 1}), "principals: must be a list"),
]


@pytest.mark.parametrize(("change", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_seed_names_the_key_path(change, expected):
    with pytest.raises(SeedError) as e:
        _parse(_with(change))
    msg = str(e.value)
    assert msg.startswith("seed.yaml: ") and "\n" not in msg
    assert expected in msg


def test_assignment_name_alias_and_full_id():
    doc = estate()
    doc["role_assignments"][1]["name"] = "12345678-0000-4000-8000-000000000001"
    doc["role_assignments"][2]["id"] = f"/subscriptions/{SUB_L}/providers/Microsoft.Authorization/roleAssignments/" \
                                       "12345678-0000-4000-8000-000000000002"
    got = {a.name for a in _parse(doc).assignments}
    assert {"12345678-0000-4000-8000-000000000001", "12345678-0000-4000-8000-000000000002"} <= got
    doc["role_assignments"][2]["name"] = "12345678-0000-4000-8000-000000000003"
    with pytest.raises(SeedError, match=r"role_assignments\[2\].name: give id or name, not both"):
        _parse(doc)


def test_deep_and_cyclic_group_nesting_is_safe():
    doc = estate()
    chain = [f"aaaaaaaa-0000-4000-8000-{i:012d}" for i in range(3000)]
    doc["groups"] += [{"id": g, "members": [chain[i - 1]] if i else [ALICE]} for i, g in enumerate(chain)]
    doc["groups"] += [{"id": "bbbbbbbb-0000-4000-8000-000000000001", "members": ["bbbbbbbb-0000-4000-8000-000000000002"]},
                      {"id": "bbbbbbbb-0000-4000-8000-000000000002", "members": ["bbbbbbbb-0000-4000-8000-000000000001"]}]
    from rbactool.emulator.seed import apply_seed
    from rbactool.emulator.state import State

    st = State()
    apply_seed(st, _parse(doc))
    assert groups_of(st, ALICE) == frozenset({DS, *chain})  # 3,000 levels, no recursion
    assert groups_of(st, "bbbbbbbb-0000-4000-8000-000000000001") == frozenset(
        {"bbbbbbbb-0000-4000-8000-000000000002"})  # a cycle ends; a group is not its own member


def test_deeper_than_six_levels_is_refused():
    doc = estate()  # mg-landing is 2 levels below the root
    parent = "mg-landing"
    for i in range(5):
        doc["management_groups"].append({"id": f"mg-deep-{i}", "parent": parent})
        parent = f"mg-deep-{i}"
    ok = estate()
    ok["management_groups"] = doc["management_groups"][:-1]
    assert _parse(ok).mg_tree["mg-deep-3"].parent == "mg-deep-2"  # 6 levels: allowed
    with pytest.raises(SeedError, match=r"management_groups\[7\].parent: .* 7 levels below the tenant root group"):
        _parse(doc)


def test_counts_are_bounded(monkeypatch):
    monkeypatch.setitem(seed_mod.LIMITS, "role_assignments", 4)
    with pytest.raises(SeedError, match=r"role_assignments: 5 items, more than the limit of 4"):
        _parse(estate())


def test_group_memberships_are_bounded(monkeypatch):
    monkeypatch.setattr(seed_mod, "MAX_GROUP_MEMBERS", 2)
    with pytest.raises(SeedError, match=r"groups\[1\].members: more than 2 group memberships"):
        _parse(estate())


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("principals: *a8")
    p = tmp_path / "bomb.yaml"
    p.write_text("\n".join(lines))
    with pytest.raises(SeedError, match="more than .* values"):
        read_seed(p)


def test_deep_nesting_is_refused(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text('{"principals": ' + "[" * 500 + "]" * 500 + "}")
    with pytest.raises(SeedError, match="nested deeper than"):
        read_seed(p)


def test_huge_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(seed_mod, "SEED_MAX_BYTES", 1000)
    p = tmp_path / "big.json"
    p.write_text(json.dumps(estate()))
    with pytest.raises(SeedError, match="larger than the 1,000-byte limit"):
        read_seed(p)


def test_not_a_mapping(tmp_path):
    p = tmp_path / "list.yaml"
    p.write_text("- a\n- b\n")
    with pytest.raises(SeedError, match=r"list.yaml: : must be a mapping|list.yaml: .*mapping"):
        parse_seed(read_seed(p), str(p), tenant_id=TENANT)


# ------------------------------------------------------------------------ CLI, control API, fixture


def test_cli_bad_seed_exit_3_one_line(tmp_path):
    bad = _with(lambda d: d["role_assignments"][0].update(role="Reeder"))
    p = tmp_path / "seed.yaml"
    p.write_text(yaml.safe_dump(bad))
    r = CliRunner().invoke(cli, ["emulator", "--state-dir", str(tmp_path / "s"), "--port", "0", "--seed", str(p)])
    assert r.exit_code == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "role_assignments[0].role: unknown role" in lines[0]


def test_cli_missing_seed_exit_3(tmp_path):
    r = CliRunner().invoke(cli, ["emulator", "--state-dir", str(tmp_path), "--port", "0", "--seed",
                                 str(tmp_path / "nope.yaml")])
    assert r.exit_code == 3 and "no such file" in r.stderr


def test_cli_help_mentions_seed():
    r = CliRunner().invoke(cli, ["emulator", "--help"])
    assert r.exit_code == 0 and "--seed" in r.output


def test_tenant_mismatch_is_refused(tmp_path):
    p = tmp_path / "seed.json"
    p.write_text(json.dumps(estate()))
    r = CliRunner().invoke(cli, ["emulator", "--state-dir", str(tmp_path / "s"), "--port", "0", "--seed", str(p),
                                 "--tenant", "99999999-0000-4000-8000-000000000009"])
    assert r.exit_code == 3 and "tenant" in r.stderr and "differs from --tenant" in r.stderr


def test_start_emulator_with_yaml_seed(tmp_path):
    p = tmp_path / "seed.yaml"
    p.write_text(yaml.safe_dump(estate()))
    h = start_emulator(tmp_path / "state", seed=p)
    try:
        assert h.tenant_id == TENANT
        assert h.subscription_id == SUB_P  # the first seeded subscription is exported
        r = requests.get(f"{h.base_url}/subscriptions?api-version=2022-12-01", verify=h.ca_path,
                         headers={"Authorization": f"Bearer {h.token}"})
        assert [(s["subscriptionId"], s["displayName"]) for s in r.json()["value"]] == [
            (SUB_P, "Platform prod"), (SUB_L, "Landing one")]
    finally:
        h.stop()


def test_control_api_seed(emulator):
    url = f"{emulator.base_url}/__emulator/seed"
    r = requests.put(url, json=estate(), verify=emulator.ca_path)
    assert r.status_code == 200 and r.json()["loaded"]["role_assignments"] == 5
    before = emulator.state()
    bad = _with(lambda d: d["groups"][1]["members"].append("nobody"))
    r = requests.put(url, json=bad, verify=emulator.ca_path)
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidSeed"
    assert "groups[1].members[1]" in r.json()["error"]["message"]
    assert emulator.state() == before  # nothing changed


def test_fixture_load_seed_and_reset(emulator):
    assert emulator.load_seed(estate())["groups"] == 2
    st = emulator.app.state
    assert groups_of(st, emulator_bob := "33333333-0000-4000-8000-000000000002") == frozenset({INTERNS, DS})
    assert st.principals[DS].members == (ALICE, INTERNS) and st.principals[DS].type == "Group"
    emulator.reset()
    assert DS not in st.principals and st.deny_assignments == {} and groups_of(st, emulator_bob) == frozenset()


def test_persisted_seed_survives_restart(tmp_path):
    persist = tmp_path / "state.json"
    h = start_emulator(tmp_path / "s", seed=estate(), persist=persist)
    h.stop()
    h = start_emulator(tmp_path / "s", persist=persist)
    try:
        st = h.app.state
        assert len(st.deny_assignments) == 2 and len(st.eligibilities) == 2
        assert st.mg_tree["mg-landing"].parent == "mg-platform"
        assert groups_of(st, ALICE) == frozenset({DS})
        assert set(st.management_groups["mg-platform"]) == {SUB_P, SUB_L}
        assert st.subscription_names[SUB_L] == "Landing one"
        assert len(st.assignment_buckets[SUB_L]) == 3
        r = requests.get(f"{h.base_url}/providers/Microsoft.Management/managementGroups?api-version=2023-04-01",
                         verify=h.ca_path, headers={"Authorization": f"Bearer {h.token}"})
        assert [g["name"] for g in r.json()["value"]] == [TENANT, "mg-platform", "mg-landing"]
    finally:
        h.stop()


# ------------------------------------------------------------------------ synthetic estates


def test_synthetic_estate_is_deterministic_and_loads():
    size = EstateSize.small()
    one, two, other = generate_estate(size, seed=1), generate_estate(size, seed=1), generate_estate(size, seed=2)
    assert one == two and one != other
    s = parse_seed(one, "synthetic", tenant_id=one["tenant"])
    counts = s.counts()
    assert counts["role_assignments"] == size.role_assignments
    assert counts["subscriptions"] == size.subscriptions
    assert counts["management_groups"] == size.management_groups + 1  # and the tenant root group
    assert counts["role_definitions"] == size.custom_roles
    assert counts["principals"] == size.principals + size.groups
    assert any(m for _, _, members in s.groups for m in members if m.lower() in {g[0].lower() for g in s.groups})
    assert any(d.principals[0].id == EVERYONE for d in s.deny_assignments.values())


def test_synthetic_bench_sizes_are_the_issue_figures():
    size = EstateSize()
    assert (size.management_groups, size.subscriptions, size.scopes, size.role_assignments, size.custom_roles,
            size.principals, size.groups) == (5, 50, 2000, 100_000, 500, 20_000, 2_000)


def test_synthetic_medium_estate_loads_into_emulator(emulator):
    doc = generate_estate(EstateSize(role_assignments=5000, principals=2000, groups=200, custom_roles=50), seed=3)
    counts = emulator.load_seed(doc)
    assert counts["role_assignments"] == 5000
    per_sub = [len(v) for k, v in emulator.app.state.assignment_buckets.items() if k]
    assert len(per_sub) == 50 and max(per_sub) <= 4000


def test_seed_command_as_a_process(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import threading

    from .conftest import make_client
    from .estate import RG_ML

    seed = tmp_path / "estate.yaml"
    seed.write_text(yaml.safe_dump(estate()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rbactool", "emulator", "--port", "0", "--state-dir", "emu-state", "--seed", str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        exports, comments = {}, []
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                exports[key] = value.strip("'")
            elif line.startswith("#"):
                comments.append(line)
            if "AZURE_TENANT_ID" in exports:
                break
        assert exports["AZURE_TENANT_ID"] == TENANT and exports["AZURE_SUBSCRIPTION_ID"] == SUB_P
        assert any("5 role assignments" in c and "2 deny assignments" in c for c in comments)

        class Handle:
            base_url = exports["RBACTOOL_ARM_ENDPOINT"]
            ca_path = exports["RBACTOOL_CA_BUNDLE"]
            token = exports["RBACTOOL_ACCESS_TOKEN"]
            subscription_id = exports["AZURE_SUBSCRIPTION_ID"]

        c = make_client(Handle)
        try:
            assert [d.deny_assignment_name for d in c.deny_assignments.list_for_scope(RG_ML)] == [
                "stack deny", "no key listing"]
            assert {a.principal_id for a in c.role_assignments.list_for_scope(
                f"/subscriptions/{SUB_L}", filter=f"assignedTo('{ALICE}')")} == {DS, ALICE}
        finally:
            c.close()
        r = requests.post(f"{Handle.base_url}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
                          json={"query": "resourcecontainers | where type =~ 'microsoft.management/managementgroups'"},
                          headers={"Authorization": f"Bearer {Handle.token}"}, verify=Handle.ca_path)
        assert r.json()["totalRecords"] == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_emulator_factory_starts_a_seeded_emulator(emulator_factory, emulator):
    from rbactool.emulator.config import EmulatorConfig

    own = emulator_factory(seed=estate(), config=EmulatorConfig(page_size=1))
    assert own.port != emulator.port and own.tenant_id == TENANT and emulator.tenant_id != TENANT
    r = requests.get(f"{own.base_url}/providers/Microsoft.Management/managementGroups?api-version=2023-04-01",
                     headers={"Authorization": f"Bearer {own.token}"}, verify=own.ca_path)
    assert len(r.json()["value"]) == 1 and r.json()["nextLink"]


def test_ids_agree_with_estate_from_seed(tmp_path):
    """A snapshot of the seeded emulator and the estate read from the seed name things alike."""
    from pathlib import Path

    from rbactool.builtins import load_builtin_roles
    from rbactool.estate import estate_from_seed

    known = Path(__file__).resolve().parents[1] / "data" / "estates" / "known-answers.yaml"
    doc = read_seed(known)
    s = parse_seed(doc, str(known), tenant_id=doc["tenant"])
    e = estate_from_seed(doc, source=str(known), builtin_roles=load_builtin_roles().all())
    from rbactool.emulator.assignments import assignment_id
    from rbactool.emulator.denyassignments import deny_assignment_id

    assert sorted(assignment_id(a.scope, a.name).lower() for a in s.assignments) == sorted(
        a.id.lower() for a in e.assignments if not a.eligible)
    assert sorted(f"{r.scope}/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/{r.name}".lower()
                  for r in s.eligibilities.values()) == sorted(a.id.lower() for a in e.assignments if a.eligible)
    assert sorted(deny_assignment_id(d.scope, d.name).lower() for d in s.deny_assignments.values()) == sorted(
        d.id.lower() for d in e.denies)
    doc2 = estate()
    for d in doc2["deny_assignments"]:
        d.pop("id", None)
        d.pop("name", None)
    doc2["role_definitions"][0].pop("Id")
    s2, e2 = parse_seed(doc2, "x", tenant_id=TENANT), estate_from_seed(doc2, builtin_roles=load_builtin_roles().all())
    assert sorted(deny_assignment_id(d.scope, d.name).lower() for d in s2.deny_assignments.values()) == sorted(
        d.id.lower() for d in e2.denies)
    assert {r.guid for r in s2.custom_roles.values()} <= {r.role_id for r in e2.roles}
