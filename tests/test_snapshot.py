"""`rbactool snapshot` against the emulator with the real SDK: what it reads, the requests it
sends, and the answers who-can gives from the file it writes."""

from __future__ import annotations

import sqlite3
import stat

from test_azure_ops import GROUP, SP, USER, az  # noqa: F401 (az is a fixture)

import rbactool
from conftest import ROOT
from rbactool.emulator.testing import emulator, emulator_factory, emulator_server  # noqa: F401 (fixtures)

SCORE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action"
KA_EP = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-ml/providers/"
         "Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep")
KA_SCORE = SCORE
KA_KEYS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action"


def test_the_seed_scenario_from_a_snapshot(az, emulator, tmp_path):  # noqa: F811
    assert az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "ml-rg").exit_code == 0
    assert az("assign", "-i", GROUP, "--principal-type", "Group", "--role", "Custom role for scoring - online "
              "endpoint", "--scope", az.endpoint).exit_code == 0
    assert az("assign", "-i", USER, "--role", "Reader", "-s", az.sub, "--scope", f"/subscriptions/{az.sub}"
              ).exit_code == 0
    emulator.clear_requests()
    out = tmp_path / "estate.db"
    r = az("snapshot", "-o", out, "-s", az.sub)
    assert r.exit_code == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    reads = emulator.requests()
    assert all(x["method"] == "GET" for x in reads) and len(reads) <= 8
    con = sqlite3.connect(out)
    assert con.execute("SELECT count(*) FROM role_assignments WHERE eligible = 0").fetchone()[0] >= 2
    assert con.execute("SELECT count(*) FROM role_definitions WHERE type = 'BuiltInRole'").fetchone()[0] > 900
    # a token never goes into the file
    assert emulator.token.encode() not in out.read_bytes()
    who = az("who-can", SCORE, "--scope", az.endpoint, "--snapshot", out, "--format", "json")
    assert who.exit_code == 0, who.stderr
    assert {a["principalId"] for a in who.json()["answers"]} == {GROUP}
    assert SP not in {a["principalId"] for a in who.json()["answers"]}


def test_what_cannot_be_read_is_a_gap_not_missing_data(az, emulator, tmp_path):  # noqa: F811
    emulator.add_fault(path_contains="denyAssignments", status=403, times=0)
    out = tmp_path / "estate.db"
    r = az("snapshot", "-o", out, "-s", az.sub)
    assert r.exit_code == 0, r.stderr
    assert "gap: denyAssignments" in r.stderr
    gaps = sqlite3.connect(out).execute("SELECT api, status, code FROM gaps").fetchall()
    assert ("denyAssignments", 403, "AuthorizationFailed") in gaps
    who = az("who-can", SCORE, "--scope", az.endpoint, "--snapshot", out)
    assert "could not read" in who.stdout


def test_who_can_live_gives_the_snapshots_answer_with_fewer_reads(az, emulator, tmp_path):  # noqa: F811
    assert az("create", "online-endpoint-scoring", "-s", az.sub, "-g", "ml-rg").exit_code == 0
    assert az("assign", "-i", GROUP, "--principal-type", "Group", "--role", "Custom role for scoring - online "
              "endpoint", "--scope", az.endpoint).exit_code == 0
    assert az("assign", "-i", USER, "--role", "Reader", "--scope", f"{az.rg}-other").exit_code == 0
    out = tmp_path / "estate.db"
    assert az("snapshot", "-o", out, "-s", az.sub, "--groups").exit_code == 0  # --live reads Graph too
    snap = az("who-can", SCORE, "--scope", az.endpoint, "--snapshot", out, "--format", "json").json()
    emulator.clear_requests()
    live = az("who-can", SCORE, "--scope", az.endpoint, "--live", "--format", "json")
    assert live.exit_code == 0, live.stderr
    assert live.json()["answers"] == snap["answers"] and live.json()["snapshot"]["source"] == "live"
    listed = [r for r in emulator.requests() if "roleAssignments" in r["path"]]
    assert listed and all("atScope" in r["query"] for r in listed)


def test_who_can_needs_a_snapshot_or_live(run):
    r = run("who-can", SCORE, "--scope", "/subscriptions/00000000-0000-0000-0000-00000000c0de")
    assert r.exit_code == 2 and "--snapshot FILE or --live" in r.stderr


def test_groups_and_resource_graph_give_the_seeds_answers(emulator_factory, run, tmp_path):  # noqa: F811
    """The known-answer estate seeded into the emulator, read through Resource Graph with --groups,
    answers as the seed itself does (group members included, so nested groups are followed)."""
    seed = ROOT / "tests" / "data" / "estates" / "known-answers.yaml"
    emu = emulator_factory(seed=seed)
    env = emu.env()
    expected = tmp_path / "seed.db"
    rbactool.write_snapshot(rbactool.load_seed(seed), expected)
    for source in ("arm", "resource-graph"):
        out = tmp_path / f"{source}.db"
        r = run("snapshot", "-o", out, "--groups", "--source", source, env=env)
        assert r.exit_code == 0, r.stderr
        assert "gap:" not in r.stderr, r.stderr
        for op, scope in ((KA_SCORE, KA_EP), (KA_KEYS, KA_EP)):
            got = run("who-can", op, "--scope", scope, "--snapshot", out, "--format", "json", env=env).json()
            want = run("who-can", op, "--scope", scope, "--snapshot", expected, "--format", "json").json()
            for key in ("answers", "eligible", "denied"):
                assert _ids_folded(got[key]) == _ids_folded(want[key]), (source, key)


def _ids_folded(answers):
    """ARM ids compare case-insensitively (the PIM API spells its own type differently)."""
    return [{**a, "assignmentId": a["assignmentId"].lower()} for a in answers]


def test_no_endpoint_answering_is_an_error_not_an_empty_snapshot(run, tmp_path):
    out = tmp_path / "estate.db"
    r = run("snapshot", "-o", out, env={"RBACTOOL_ARM_ENDPOINT": "https://127.0.0.1:9", "RBACTOOL_ACCESS_TOKEN": "t"})
    assert r.exit_code == 4 and "cannot reach" in r.stderr and not out.exists()


def test_a_subscription_that_is_not_a_guid_is_refused_before_any_request(run, tmp_path):
    r = run("snapshot", "-o", tmp_path / "x.db", "-s", "not-a-guid")
    assert r.exit_code == 3 and "not a GUID" in r.stderr
