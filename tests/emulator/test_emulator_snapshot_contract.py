"""The contract between the emulator's seed and the snapshot: ``rbactool snapshot`` of an emulator
seeded with the known-answer estate reads back what ``rbactool.estate.estate_from_seed`` reads
from the same file: the same assignment, eligibility and deny-assignment ids, the same hierarchy,
the same roles, with no gaps."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rbactool.builtins import load_builtin_roles
from rbactool.emulator.seed import read_seed
from rbactool.estate import estate_from_seed, write_estate

KNOWN = Path(__file__).resolve().parents[1] / "data" / "estates" / "known-answers.yaml"
ENDPOINT = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-ml/providers/"
            "Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep")


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return sorted(tuple(str(x).lower() if x is not None else None for x in r) for r in con.execute(sql))
    finally:
        con.close()


def test_snapshot_of_the_seeded_emulator_matches_the_seed(emulator, run, tmp_path):
    doc = read_seed(KNOWN)
    emulator.load_seed(doc)
    snap = tmp_path / "snap.db"
    r = run("snapshot", "-o", snap, env=emulator.env())
    assert r.exit_code == 0, r.stderr
    seeded = tmp_path / "seed.db"
    write_estate(estate_from_seed(doc, source=str(KNOWN), builtin_roles=load_builtin_roles().all()), seeded)
    for sql in ("SELECT id, scope, role_definition_id, principal_id, principal_type, condition, eligible "
                "FROM role_assignments",
                "SELECT id, scope, principals, exclude_principals, do_not_apply_to_child_scopes FROM deny_assignments",
                "SELECT count(*) FROM role_definitions", "SELECT key, kind, parent FROM scopes"):
        assert _rows(snap, sql) == _rows(seeded, sql), sql
    assert _rows(snap, "SELECT * FROM gaps") == []

    def answers(db, op):
        out = run("who-can", op, "--scope", ENDPOINT, "--snapshot", db, "--format", "json")
        assert out.exit_code in (0, 1), out.stderr
        return sorted((a["principalId"], a["assignmentId"].lower(), a["eligible"], a["conditional"])
                      for a in json.loads(out.stdout)["answers"])

    for op in ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action",
               "Microsoft.Authorization/roleAssignments/write"):
        assert answers(snap, op) == answers(seeded, op)
