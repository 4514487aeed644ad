"""Access analysis against a hand-built estate (tests/data/estates/known-answers.yaml) whose
answers are worked out by hand below, from Azure's rules (docs: azure-access-model.md, section 1):
inheritance through two management-group levels, NotActions in one block and not another, a data
action through a wildcard, a deny assignment with an excluded principal, nested groups, an eligible
assignment, a conditional assignment, and constrained delegation both ways."""

import sqlite3
import stat

import pytest

import rbactool
from conftest import ROOT
from rbactool.errors import InputError

SEED = ROOT / "tests" / "data" / "estates" / "known-answers.yaml"
S1 = "/subscriptions/11111111-1111-1111-1111-111111111111"
WS = f"{S1}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws"
EP = f"{WS}/onlineEndpoints/ep"
STORE = f"{S1}/resourceGroups/rg-ml/providers/Microsoft.Storage/storageAccounts/mlstore"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
ALICE, BOB, CAROL, DAVE, ERIN = ("a0000000-0000-0000-0000-000000000001", "b0000000-0000-0000-0000-000000000002",
                                 "c0000000-0000-0000-0000-000000000003", "d0000000-0000-0000-0000-000000000004",
                                 "e0000000-0000-0000-0000-000000000005")
FRANK, GRACE, HANK, IVAN = ("f0000000-0000-0000-0000-000000000006", "90000000-0000-0000-0000-000000000007",
                            "80000000-0000-0000-0000-000000000008", "70000000-0000-0000-0000-000000000009")
APP = "5c000000-0000-0000-0000-00000000000a"
DS, INTERNS = "60000000-0000-0000-0000-0000000000d5", "60000000-0000-0000-0000-0000000000e1"
DENY = f"{S1}/resourceGroups/rg-ml/providers/Microsoft.Authorization/denyAssignments/0d000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    path = tmp_path_factory.mktemp("estate") / "estate.db"
    rbactool.write_snapshot(rbactool.load_seed(SEED), path)
    return path


def _who(run, snapshot, operation, scope):
    r = run("who-can", operation, "--scope", scope, "--snapshot", snapshot, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def _by_principal(answers):
    out = {}
    for a in answers:
        out.setdefault(a["principalId"], set()).add(a["role"])
    return out


def test_the_snapshot_file_is_private_and_readable_by_any_sqlite_tool(snapshot):
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    con = sqlite3.connect(snapshot)
    tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "gaps", "scopes", "role_definitions", "role_assignments", "deny_assignments", "principals",
            "group_members"} <= tables
    assert con.execute("SELECT count(*) FROM role_assignments WHERE eligible = 1").fetchone() == (1,)


def test_who_can_score_the_endpoint_through_nested_groups(run, snapshot):
    doc = _who(run, snapshot, f"{ML}/score/action", EP)
    assert doc["schema_version"] == 1 and doc["isDataAction"] is False
    got = _by_principal(doc["answers"])
    # the group, its member alice, the nested group and its member bob; bob's and alice's own
    # workspace roles grant onlineEndpoints/* too; Contributor at the subscription
    assert got == {DS: {"Online endpoint scoring"}, INTERNS: {"Online endpoint scoring"},
                   ALICE: {"Online endpoint scoring", "Endpoint operator, no keys"},
                   BOB: {"Online endpoint scoring", "Endpoint operator, two blocks"}, DAVE: {"Contributor"}}
    bob = next(a for a in doc["answers"] if a["principalId"] == BOB and a["role"] == "Online endpoint scoring")
    assert bob["via"] == [DS, INTERNS] and bob["viaNames"] == ["data-scientists", "ml-interns"]
    assert bob["assignmentScope"] == EP and bob["principalType"] == "User" and bob["principalName"] == "bob"
    assert [a["principalId"] for a in doc["eligible"]] == [ERIN]  # Owner, eligible: can activate
    assert doc["denied"] == []


def test_who_can_list_keys_honours_notactions_per_block_and_the_deny_assignment(run, snapshot):
    doc = _who(run, snapshot, f"{ML}/listKeys/action", EP)
    # alice's role excludes listKeys in its only block: not there at all.
    # bob's role excludes it in block 0 but grants it in block 1: granted, then denied (everyone but dave).
    # erin's eligible Owner: denied too. dave is excluded from the deny: he can.
    assert _by_principal(doc["answers"]) == {DAVE: {"Contributor"}}
    assert {(a["principalId"], a["deniedBy"]) for a in doc["denied"]} == {(BOB, DENY), (ERIN, DENY)}
    assert doc["eligible"] == []


def test_inheritance_through_two_management_group_levels(run, snapshot):
    doc = _who(run, snapshot, f"{ML}/read", EP)
    carol = [a for a in doc["answers"] if a["principalId"] == CAROL]
    assert [(a["role"], a["assignmentScope"]) for a in carol] == [
        ("Reader", "/providers/Microsoft.Management/managementGroups/platform")]
    # the deny assignment does not cover reads: nobody is denied
    assert doc["denied"] == []
    # Reader at 'platform' reaches the sandbox subscription too, but nothing at 'ml' does
    other = _who(run, snapshot, f"{ML}/read", "/subscriptions/22222222-2222-2222-2222-222222222222")
    assert CAROL in _by_principal(other["answers"]) and HANK not in _by_principal(other["answers"])


def test_a_data_action_through_a_wildcard_and_a_conditional_grant(run, snapshot):
    container = f"{STORE}/blobServices/default/containers/reports"
    doc = _who(run, snapshot, "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", container)
    assert doc["isDataAction"] is True
    got = {a["principalId"]: a for a in doc["answers"]}
    assert set(got) == {APP, CAROL}  # Owner/Contributor/`*` never grant data actions
    assert got[APP]["role"] == "Blob data, all" and got[APP]["conditional"] is False
    assert got[CAROL]["conditional"] is True and "StringEquals 'public'" in got[CAROL]["condition"]


def test_escalations_evaluate_delegation_conditions_both_ways(run, snapshot):
    r = run("escalations", "--snapshot", snapshot, "--format", "json")
    assert r.exit_code == 1  # paths found
    found = {(e["principalId"], e["kind"]): e for e in r.json()["escalations"]}
    # hank's User Access Administrator (Microsoft.Authorization/*) at 'ml' also writes role definitions,
    # and every custom role here is assignable only at S1, which sits below 'ml': he can widen them
    assert set(found) == {(ERIN, "assign-roles"), (ERIN, "edit-assigned-role"), (GRACE, "assign-roles"),
                          (HANK, "assign-roles"), (HANK, "edit-assigned-role"), (IVAN, "edit-assigned-role")}
    # frank's RBAC Administrator is limited to Reader and the scoring role: not privileged, no path
    assert all(e["principalId"] != FRANK for e in r.json()["escalations"])
    # grace's "all except Owner, UAA, RBAC Administrator" still lets her hand out Contributor
    grace = found[(GRACE, "assign-roles")]
    assert "Contributor" in grace["roles"] and "Owner" not in grace["roles"]
    assert "User Access Administrator" not in grace["roles"] and grace["conditionEvaluated"] is True
    assert found[(HANK, "assign-roles")]["roles"][0] == "Owner"
    assert found[(ERIN, "assign-roles")]["eligible"] is True
    assert "Online endpoint scoring" in found[(IVAN, "edit-assigned-role")]["roles"]
    # dave's Contributor excludes Microsoft.Authorization/*/Write: no path
    assert all(e["principalId"] != DAVE for e in r.json()["escalations"])


def test_access_of_a_principal_through_its_groups(run, snapshot):
    r = run("access", "bob", "--snapshot", snapshot, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["principalId"] == BOB and sorted(doc["groups"]) == sorted([DS, INTERNS])
    roles = {a["role"]: a for a in doc["assignments"]}
    assert set(roles) == {"Online endpoint scoring", "Endpoint operator, two blocks"}
    assert roles["Online endpoint scoring"]["via"] == [DS, INTERNS]
    assert "credential-exposure" in roles["Endpoint operator, two blocks"]["riskClasses"]
    assert [d["id"] for d in doc["denyAssignments"]] == [DENY]


def test_access_with_a_scope_keeps_what_applies_there(run, snapshot):
    doc = run("access", CAROL, "--snapshot", snapshot, "--scope", WS, "--format", "json").json()
    assert {(a["role"], a["relation"]) for a in doc["assignments"]} == {
        ("Reader", "at-or-above"), ("Storage Blob Data Reader", "at-or-above")}
    sandbox = run("access", CAROL, "--snapshot", snapshot, "--scope",
                  "/subscriptions/22222222-2222-2222-2222-222222222222", "--format", "json").json()
    assert [a["role"] for a in sandbox["assignments"]] == ["Reader"]


def test_the_api_gives_the_same_answers_as_the_cli(run, snapshot):
    api = rbactool.who_can(snapshot, f"{ML}/listKeys/action", EP)
    assert api.principals() == [DAVE]
    cli = _who(run, snapshot, f"{ML}/listKeys/action", EP)
    assert api.to_dict()["answers"] == cli["answers"]
    assert rbactool.find_escalations(snapshot).principals() == sorted([ERIN, GRACE, HANK, IVAN])


@pytest.mark.parametrize(("argv", "needle"), [
    (["who-can", "Microsoft.Storage/*", "--scope", S1], "no wildcards"),
    (["who-can", f"{ML}/read", "--scope", "not-a-scope"], "must start with '/'"),
    (["access", "nobody-at-all"], "is not in the snapshot"),
])
def test_bad_arguments_are_one_line_errors_with_exit_3(run, snapshot, argv, needle):
    r = run(*argv, "--snapshot", snapshot)
    assert r.exit_code == 3 and needle in r.stderr and r.stderr.count("\n") == 1


def test_a_file_that_is_not_a_snapshot_is_refused(run, tmp_path):
    bad = tmp_path / "x.db"
    bad.write_text("not sqlite")
    r = run("escalations", "--snapshot", bad)
    assert r.exit_code == 3 and "not an rbactool snapshot" in r.stderr
    with pytest.raises(InputError, match="no such snapshot"):
        rbactool.open_snapshot(tmp_path / "missing.db")


def test_a_crafted_snapshot_cannot_run_schema_code_or_hang(run, snapshot, tmp_path):
    evil = tmp_path / "evil.db"
    evil.write_bytes(snapshot.read_bytes())
    con = sqlite3.connect(evil)
    con.executescript("DROP TABLE role_assignments; CREATE VIEW role_assignments AS WITH RECURSIVE r(x) AS "
                      "(SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT * FROM r;")
    con.close()
    r = run("who-can", f"{ML}/read", "--scope", EP, "--snapshot", evil)
    assert r.exit_code == 3 and "unexpected role_assignments" in r.stderr


def test_escalations_as_sarif_for_code_scanning(run, snapshot):
    r = run("escalations", "--snapshot", snapshot, "--format", "sarif")
    assert r.exit_code == 1
    run0 = r.json()["runs"][0]
    assert {x["ruleId"] for x in run0["results"]} == {"RBACESC001", "RBACESC002"}
    assert len(run0["results"]) == 6 and len({x["partialFingerprints"]["rbactool/escalation/v1"]
                                              for x in run0["results"]}) == 6
    assert all(x["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("/")
               for x in run0["results"])


def test_an_operation_with_a_typo_is_refused_with_the_close_match(run, snapshot):
    r = run("who-can", f"{ML.replace('onlineEndpoints', 'onlineEndpoint')}/score/action", "--scope", EP,
            "--snapshot", snapshot)
    assert r.exit_code == 3 and f"did you mean '{ML}/score/action'" in r.stderr


def test_a_malformed_scope_for_access_is_one_line(run, snapshot):
    r = run("access", "alice", "--snapshot", snapshot, "--scope", "/subscriptions/1111/resourceGroups/")
    assert r.exit_code == 3 and "not a GUID" in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.parametrize("sql", [
    "UPDATE meta SET value = '{' WHERE key = 'schema_version'",
    "UPDATE role_definitions SET document = '['",
    "UPDATE role_definitions SET document = '" + "[" * 100_000 + "'",
    "UPDATE role_definitions SET document = 7",
    "UPDATE role_assignments SET scope_key = '/'",  # every assignment read at the root
    "UPDATE deny_assignments SET permissions = '[1]'",
    "UPDATE deny_assignments SET principals = '{'",
    "UPDATE deny_assignments SET exclude_principals = '5'",
])
def test_a_crafted_snapshot_with_bad_json_is_one_line_exit_3(run, snapshot, tmp_path, sql):
    evil = tmp_path / "evil.db"
    evil.write_bytes(snapshot.read_bytes())
    con = sqlite3.connect(evil)
    con.execute(sql)
    con.commit()
    con.close()
    for argv in (["escalations"], ["who-can", f"{ML}/read", "--scope", EP]):
        r = run(*argv, "--snapshot", evil)
        assert r.exit_code in (0, 1, 3) and "Traceback" not in r.stderr, r.stderr
        if r.exit_code == 3:
            assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1 and "evil.db" in r.stderr


HOSTILE_NAME = "[Approved by security](https://evil.example) ![x](https://evil.example/p.png) <img src=x> **ok** \u202eevil"


@pytest.fixture()
def hostile(snapshot, tmp_path):
    """A snapshot whose names come from a hostile directory (display names are self-chosen)."""
    evil = tmp_path / "hostile.db"
    evil.write_bytes(snapshot.read_bytes())
    con = sqlite3.connect(evil)
    con.execute("UPDATE principals SET name = ?", (HOSTILE_NAME,))
    con.execute("UPDATE role_assignments SET principal_id = ? WHERE principal_id = ?", ("\x1b]52;c;eA==\x07" + DAVE, DAVE))
    con.commit()
    con.close()
    return evil


@pytest.mark.parametrize("argv", [["who-can", f"{ML}/score/action", "--scope", EP], ["escalations"],
                                  ["access", ALICE]])
def test_names_from_the_estate_cannot_inject_markdown_or_terminal_escapes(run, hostile, argv):
    md = run(*argv, "--snapshot", hostile, "--format", "markdown")
    assert md.exit_code in (0, 1), md.stderr
    import re

    prose = re.sub(r"`[^`\n]*`", "", md.stdout)  # a code span shows its text as it is
    assert "](" not in prose.replace("\\](", "") and "<img" not in prose and "\u202e" not in md.stdout
    assert "**ok**" not in prose
    text = run(*argv, "--snapshot", hostile)
    assert text.exit_code in (0, 1), text.stderr
    assert not any(c in text.stdout for c in "\x1b\x07\u202e")
