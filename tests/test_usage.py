"""`rbactool usage` / `rbactool rightsize` offline: every export shape streamed to the same uses,
hostile input counted or refused in one line, and used vs granted worked out by hand on the
known-answers estate (tests/data/estates/known-answers.yaml)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os

import pytest

import rbactool
from conftest import DATA
from rbactool import readers

OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
S1 = "11111111-1111-1111-1111-111111111111"
RG = f"/subscriptions/{S1}/resourceGroups/rg-ml"
WS = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/ws"
EP = f"{WS}/onlineEndpoints/ep"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DAVE, BOB, ALICE, CAROL = ("d0000000-0000-0000-0000-000000000004", "b0000000-0000-0000-0000-000000000002",
                           "a0000000-0000-0000-0000-000000000001", "c0000000-0000-0000-0000-000000000003")


def event(op, scope, oid=DAVE, status="Succeeded", when="2026-11-02T10:00:00.1234567Z", sub="OK", **extra):
    e = {"authorization": {"action": op, "scope": scope}, "caller": "someone@contoso.com", "claims": {OID: oid},
         "category": {"value": "Administrative", "localizedValue": "Administrative"}, "eventTimestamp": when,
         "operationName": {"value": op, "localizedValue": op}, "resourceId": scope, "status": {"value": status},
         "subStatus": {"value": sub}, "properties": {"statusCode": sub}}
    e.update(extra)
    return e


def record(op, scope, oid=DAVE, result="Success", when="2026-11-02T10:00:00Z"):
    """The diagnostic-settings (Storage / Event Hubs) shape of one event."""
    return {"time": when, "resourceId": scope.upper(), "operationName": op.upper(), "category": "Write",
            "resultType": result, "resultSignature": "Succeeded.OK", "durationMs": 12,
            "identity": {"authorization": {"action": op, "scope": scope}, "claims": {OID: oid}},
            "properties": {"eventCategory": "Administrative"}}


LA_COLUMNS = ["TimeGenerated", "OperationNameValue", "Caller", "ResourceId", "ActivityStatusValue",
              "ActivitySubstatusValue", "CategoryValue", "Authorization", "Claims"]


def la_row(op, scope, oid=DAVE):
    return ["2026-11-02T10:00:00Z", op.upper(), oid, scope.upper(), "Success", "OK", "Administrative",
            json.dumps({"action": op, "scope": scope}), json.dumps({OID: oid})]


USES = [(f"{ML}/write", EP), (f"{ML}/deployments/write", f"{EP}/deployments/blue"), (f"{ML}/write", EP)]


def folded(log):
    return sorted((c, op, scope, u.count()) for (c, op, scope), u in log.uses.items())


EXPECTED = [(DAVE, f"{ML}/deployments/write".lower(), f"{EP}/deployments/blue".lower(), 1),
            (DAVE, f"{ML}/write".lower(), EP.lower(), 2)]


def shapes():
    events = [event(op, s) for op, s in USES]
    records = [record(op, s) for op, s in USES]
    rows = [la_row(op, s) for op, s in USES]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([f"{c} [UTC]" if c == "TimeGenerated" else c for c in LA_COLUMNS])
    w.writerows(rows)
    return {
        "az-indented.json": json.dumps(events, indent=2),
        "az-compact.json": json.dumps(events),
        "rest-page.json": json.dumps({"value": events, "nextLink": None}),
        "records.jsonl": "\n".join(json.dumps({"records": [r]}) for r in records) + "\n",
        "single-records.jsonl": "\n".join(json.dumps(r) for r in records),
        "la-rows.json": json.dumps([dict(zip(LA_COLUMNS, r, strict=True)) for r in rows], indent=2),
        "la-tables.json": json.dumps({"tables": [{"name": "PrimaryResult", "columns": [
            {"name": c, "type": "string"} for c in LA_COLUMNS], "rows": rows}]}),
        "la.csv": out.getvalue(),
    }


@pytest.mark.parametrize("name", sorted(shapes()))
@pytest.mark.parametrize("compress", [False, True])
def test_every_export_shape_folds_to_the_same_uses(tmp_path, name, compress):
    path = tmp_path / ("export.bin" if compress else name)  # gzip is found by its magic bytes, not its name
    data = shapes()[name].encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    log = rbactool.read_activity_logs([path])
    assert (log.counted, log.malformed) == (3, 0), log.problems
    assert folded(log) == EXPECTED


def test_the_stdlib_parser_gives_the_same_answers_without_orjson(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_orjson", None)
    for name, text in shapes().items():
        (tmp_path / name).write_text(text)
        assert folded(rbactool.read_activity_logs([tmp_path / name])) == EXPECTED, name


def test_containers_larger_than_one_event_limit_are_streamed(tmp_path):
    big = [record(f"{ML}/write", f"{EP}{i}") for i in range(4000)]  # about 1.6 MB on one line
    (tmp_path / "records.json").write_text(json.dumps({"records": big}))
    rows = [la_row(f"{ML}/write", f"{EP}{i}") for i in range(4000)]
    (tmp_path / "tables.json").write_text(json.dumps({"tables": [{"name": "t", "columns": [
        {"name": c} for c in LA_COLUMNS], "rows": rows}]}))
    for name in ("records.json", "tables.json"):
        log = rbactool.read_activity_logs([tmp_path / name])
        assert (log.counted, log.malformed, len(log.uses)) == (4000, 0, 4000)


def test_malformed_events_are_counted_and_the_rest_is_read(tmp_path):
    good = json.dumps(event(f"{ML}/write", EP))
    lines = [good, "{broken", json.dumps({"authorization": {"scope": EP}, "claims": {OID: DAVE}}),  # no operation
             json.dumps(event(f"{ML}/write", EP, oid="not-a-guid") | {"caller": None}),  # no caller at all
             json.dumps(event(f"{ML}/write", "not/a/scope", resourceId=None)),
             '{"authorization": {"action": "x/y", "scope": "/"}, "caller": "a", "n": NaN}',
             json.dumps(event(f"{ML}/write", EP, description="x" * (2 * 1024 * 1024))),  # over 1 MiB
             "[" * 5000 + "]" * 5000, "7", good]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    log = rbactool.read_activity_logs([tmp_path / "mixed.jsonl"])
    assert log.counted == 2 and log.malformed == 8, log.problems
    assert all(p.startswith(str(tmp_path / "mixed.jsonl")) for p in log.problems)


def test_an_array_broken_midway_reports_where_and_keeps_what_came_before(tmp_path):
    text = json.dumps([event(f"{ML}/write", EP)] * 3, indent=2)
    (tmp_path / "cut.json").write_text(text[: len(text) // 2 + 40] + "}}}")
    log = rbactool.read_activity_logs([tmp_path / "cut.json"])
    assert log.counted >= 1 and log.malformed == 1
    assert any("was not read" in p for p in log.problems)


def test_statuses_categories_and_since(tmp_path):
    events = [event(f"{ML}/write", EP, status="Started", sub=""), event(f"{ML}/write", EP),  # one call
              event(f"{ML}/delete", EP, status="Failed", sub="Forbidden"),  # denied: not a use
              event(f"{ML}/listKeys/action", EP, status="Failed", sub="Conflict"),  # authorised, then failed
              event(f"{ML}/write", EP, category={"value": "ServiceHealth"}),
              event(f"{ML}/deployments/write", EP, when="2026-10-01T00:00:00Z")]
    (tmp_path / "e.json").write_text(json.dumps(events))
    log = rbactool.read_activity_logs([tmp_path / "e.json"], since="2026-11-01")
    uses = {op.rsplit("/", 2)[-2] + "/" + op.rsplit("/", 1)[-1]: u for (_, op, _), u in log.uses.items()}
    assert (uses["onlineendpoints/write"].count(), uses["onlineendpoints/write"].starts) == (1, 1)
    assert not uses["onlineendpoints/delete"].allowed and uses["onlineendpoints/delete"].denied == 1
    assert uses["listkeys/action"].allowed
    assert log.skipped == {"category": 1, "before --since": 1}
    assert log.first == log.last == "2026-11-02T10:00:00"


@pytest.mark.parametrize("content", [b'{"Name": "a role", "Actions": ["*"]}', b"\x00\x01binary\xff", b"hello world\n",
                                     b'"a string"', b"[1, 2, 3]"])
def test_a_file_in_no_export_shape_is_one_line_exit_3(run, tmp_path, content):
    db = rbactool.write_snapshot(rbactool.load_seed(DATA / "estates" / "known-answers.yaml"), tmp_path / "k.db")
    (tmp_path / "x.json").write_bytes(content)
    r = run("usage", tmp_path / "x.json", "--snapshot", db)
    assert r.exit_code == 3 and r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "x.json" in r.stderr


def test_truncated_gzip_and_special_files_are_one_line_exit_3(run, tmp_path):
    db = rbactool.write_snapshot(rbactool.load_seed(DATA / "estates" / "known-answers.yaml"), tmp_path / "k.db")
    data = gzip.compress(json.dumps([event(f"{ML}/write", EP)] * 2000).encode())
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (tmp_path / "cut.gz", fifo, tmp_path / "missing.json"):
        r = run("usage", path, "--snapshot", db)
        assert r.exit_code == 3 and r.stderr.count("\n") == 1 and str(path) in r.stderr, r.stderr


def test_a_csv_line_over_the_limit_is_counted_not_held(tmp_path):
    header = ",".join(LA_COLUMNS)
    good = ",".join(f'"{v}"' if "," in v or '"' in v else v for v in
                    (x.replace('"', '""') for x in la_row(f"{ML}/write", EP)))
    (tmp_path / "la.csv").write_text("\n".join([header, good, "x" * (readers.MAX_ITEM_BYTES + 10), good]) + "\n")
    log = rbactool.read_activity_logs([tmp_path / "la.csv"])
    assert (log.counted, log.malformed) == (2, 1)


def test_json_stream_never_holds_more_than_a_window(tmp_path):
    path = tmp_path / "many.json"
    with open(path, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(event(f"{ML}/write", f"{EP}{i % 7}")) for i in range(20000)) + "\n]\n")
    js = readers.JsonStream(readers.open_binary(path), str(path))
    js.expect("[")
    biggest, n = 0, 0
    while True:
        js.value()
        n += 1
        biggest = max(biggest, len(js.buf))
        if js.expect(",]") == "]":
            break
    assert n == 20000 and biggest < 3 * 1024 * 1024 < path.stat().st_size


# --------------------------------------------------------------------------- used vs granted


@pytest.fixture
def known(tmp_path):
    return rbactool.write_snapshot(rbactool.load_seed(DATA / "estates" / "known-answers.yaml"), tmp_path / "k.db")


def write_log(tmp_path, events, name="log.json"):
    path = tmp_path / name
    path.write_text(json.dumps(events, indent=2))
    return path


def test_usage_per_identity_and_assignment_on_the_known_estate(run, tmp_path, known):
    group_assignment = next(a for a in rbactool.open_snapshot(known).assignments_of(["60000000-0000-0000-0000-0000000000d5"]))
    events = [event(f"{ML}/write", EP), event(f"{ML}/listKeys/action", EP),
              event(f"{ML}/write", EP, oid=BOB),
              # alice scores through her group: evidence names the group's assignment
              event(f"{ML}/score/action", EP, oid=ALICE, authorization={
                  "action": f"{ML}/score/action", "scope": EP,
                  "evidence": {"roleAssignmentId": group_assignment.id.rsplit("/", 1)[-1].replace("-", ""),
                               "principalId": "60000000000000000000000000d5", "principalType": "Group"}}),
              event("Microsoft.Compute/virtualMachines/write", f"/subscriptions/{S1}/resourceGroups/x/providers/"
                    "Microsoft.Compute/virtualMachines/vm", oid=CAROL)]  # Reader: not granted
    r = run("usage", write_log(tmp_path, events), "--snapshot", known, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    ids = {i["principalName"]: i for i in doc["identities"]}
    dave = ids["dave"]
    assert dave["usedObservable"] == 2 and dave["ratio"] == round(2 / dave["observable"], 4)
    assert ids["carol"]["notGranted"] == ["Microsoft.Compute/virtualMachines/write"]
    assert ids["carol"]["usedObservable"] == 0
    by_id = {a["assignmentId"]: a for a in doc["assignments"]}
    scoring = by_id[group_assignment.id]
    assert scoring["used"] == {f"{ML}/score/action": 1} and scoring["attributedByEvidence"] == 1
    assert scoring["usedBy"] == [ALICE]
    alice_operator = next(a for a in doc["assignments"] if a["principalId"] == ALICE)
    assert alice_operator["unobserved"]  # evidence pinned alice's use on the group's assignment
    unobserved = set(doc["unobservedAssignments"])
    assert {a["assignmentId"] for a in doc["assignments"] if a["role"] == "Reader"} <= unobserved
    assert doc["limits"] and "unobserved, not unused" in doc["limits"][0]
    for fmt in ("text", "markdown"):
        out = run("usage", tmp_path / "log.json", "--snapshot", known, "--format", fmt)
        assert out.exit_code == 0 and "dave" in out.stdout and "unobserved" in out.stdout


def test_usage_of_one_principal_and_api_to_dict(tmp_path, known):
    report = rbactool.usage(known, [write_log(tmp_path, [event(f"{ML}/write", EP)])], principal="dave")
    assert [i.principal_name for i in report.identities] == ["dave"]
    assert json.loads(json.dumps(report.to_dict()))["identities"][0]["usedObservable"] == 1


def test_rightsize_proposes_what_was_used_validated_through_the_cli(run, tmp_path, known):
    log = write_log(tmp_path, [event(f"{ML}/write", EP), event(f"{ML}/deployments/write", f"{EP}/deployments/b"),
                               event(f"{ML}/delete", EP, status="Failed", sub="Forbidden")])
    role, spec = tmp_path / "role.json", tmp_path / "spec.yaml"
    r = run("rightsize", "--principal", "dave", log, "--snapshot", known, "-o", role, "--spec", spec,
            "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["role"]["Actions"] == [f"{ML}/deployments/write", f"{ML}/write",
                                      "Microsoft.MachineLearningServices/*/read"]
    assert doc["role"]["AssignableScopes"] == [RG] and doc["assignmentScope"] == EP
    assert doc["removalsOnly"] and doc["diff"]["effective"]["added"] == []
    assert f"{ML}/delete".lower() in {o["name"].lower() for o in doc["diff"]["effective"]["removed"]}
    assert doc["replaces"][0]["role"] == "Contributor"
    assert json.loads(role.read_text()) == doc["role"]
    assert run("validate", role, "--format", "json").exit_code == 0
    loaded = rbactool.load_spec(spec)  # the roles-spec schema accepts it
    assert rbactool.render_spec(loaded)[0].actions == tuple(doc["role"]["Actions"])
    text = run("rightsize", "--principal", DAVE, log, "--snapshot", known)
    assert text.exit_code == 0 and "removals only" in text.stdout and "Roles spec" in text.stdout
    assert "Activity Log records control-plane writes" in text.stdout
    md = run("rightsize", "--principal", DAVE, log, "--snapshot", known, "--format", "markdown")
    assert md.exit_code == 0 and md.stdout.startswith("**rbactool rightsize: dave** — removes access only")


def test_rightsize_says_what_it_would_add_and_why(tmp_path, known):
    log = write_log(tmp_path, [event(f"{ML}/write", EP, oid=CAROL)])  # carol holds Reader: no writes
    result = rbactool.rightsize(known, "carol", [log])
    assert [a["operation"] for a in result.added] == [f"{ML}/write"] and "not granted" in result.added[0]["reason"]
    assert not result.removals_only and result.diff.grants_new_access
    names = {o.name.lower() for o in result.diff.effective.added}
    assert f"{ML}/write".lower() in names


def test_rightsize_keeps_data_actions_unless_a_data_plane_log_is_given(tmp_path):
    sp = "5d000000-0000-4000-8000-000000000001"
    sa = f"/subscriptions/{S1}/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/lake"
    seed = {"subscriptions": [S1], "principals": [{"id": sp, "type": "ServicePrincipal", "name": "etl"}],
            "role_assignments": [{"principal": sp, "role": "Contributor", "scope": f"/subscriptions/{S1}/resourceGroups/data"},
                                 {"principal": sp, "role": "Storage Blob Data Contributor", "scope": sa}]}
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    db = rbactool.write_snapshot(rbactool.load_seed(tmp_path / "seed.json"), tmp_path / "d.db")
    log = write_log(tmp_path, [event("Microsoft.Storage/storageAccounts/write", sa, oid=sp)])
    blob_read = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    data = write_log(tmp_path, [event(blob_read, f"{sa}/blobServices/default/containers/c", oid=sp)], "data.json")
    kept = rbactool.rightsize(db, sp, [log])
    assert len(kept.role.data_actions) > 3 and blob_read in kept.role.data_actions
    used = rbactool.rightsize(db, sp, [log], data_logs=[data])
    assert used.role.data_actions == (blob_read,) and used.removals_only
    assert not rbactool.validate_roles([used.role]).failed()


def test_rightsize_without_any_use_is_one_line(run, tmp_path, known):
    r = run("rightsize", "--principal", "ivan", write_log(tmp_path, [event(f"{ML}/write", EP)]), "--snapshot", known)
    assert r.exit_code == 3 and "nothing to build a role from" in r.stderr and r.stderr.count("\n") == 1
    r = run("usage", tmp_path / "log.json", "--snapshot", known, "--since", "yesterday")
    assert r.exit_code == 3 and "--since" in r.stderr


def test_data_actions_spanning_subscriptions_are_assigned_per_subscription(tmp_path):
    """A custom role with DataActions cannot be assignable at a management group: one scope per subscription."""
    sp, s2 = "5d000000-0000-4000-8000-000000000002", "22222222-2222-2222-2222-222222222222"
    mg = "/providers/Microsoft.Management/managementGroups/data"
    seed = {"management_groups": [{"id": "data", "subscriptions": [S1, s2]}],
            "principals": [{"id": sp, "type": "ServicePrincipal", "name": "etl"}],
            "role_assignments": [{"principal": sp, "role": "Contributor", "scope": mg},
                                 {"principal": sp, "role": "Storage Blob Data Reader", "scope": mg}]}
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    db = rbactool.write_snapshot(rbactool.load_seed(tmp_path / "seed.json"), tmp_path / "d.db")
    uses = [event("Microsoft.Storage/storageAccounts/write",
                  f"/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a", oid=sp)
            for s in (S1, s2)]
    result = rbactool.rightsize(db, sp, [write_log(tmp_path, uses)])
    assert result.role.data_actions and result.role.assignable_scopes == (
        f"/subscriptions/{S1}/resourceGroups/rg", f"/subscriptions/{s2}/resourceGroups/rg")
    assert len(result.spec["assignments"]) == 2 and len(result.assignment_scopes) == 2
    assert not rbactool.validate_roles([result.role]).failed()
    no_data = rbactool.rightsize(db, sp, [write_log(tmp_path, uses)],
                                 data_logs=[write_log(tmp_path, [], "empty.json")])
    assert no_data.role.assignable_scopes == (mg,)      # without data actions the management group is fine


def test_a_caller_known_only_by_name_is_matched_to_the_snapshots_principal(tmp_path, known):
    e = event(f"{ML}/write", EP)
    e["claims"] = {}
    e["caller"] = "Dave"            # no object id claim: the principal of that (unique) name
    log = rbactool.read_activity_logs([write_log(tmp_path, [e])])
    assert log.caller_sources == {"caller-name": 1}
    report = rbactool.usage(known, log)
    assert report.identity(DAVE).used_observable == 1


def test_a_hostile_caller_name_or_snapshot_id_cannot_inject_markdown_or_escapes(run, tmp_path, known):
    import re
    import sqlite3

    con = sqlite3.connect(known)
    con.execute("UPDATE role_assignments SET principal_id = ? WHERE principal_id = ?", ("\x1b[2J" + CAROL, CAROL))
    con.commit()
    con.close()
    upn = "[Approved](https://evil.example) <img src=x> **x**@contoso.com"
    log = write_log(tmp_path, [event(f"{ML}/write", EP, oid=None, caller=upn)])
    md = run("usage", log, "--snapshot", known, "--format", "markdown")
    assert md.exit_code == 0, md.stderr
    prose = re.sub(r"`[^`\n]*`", "", md.stdout)
    assert "](" not in prose.replace("\\](", "") and "<img" not in prose and "**x**" not in prose
    text = run("usage", log, "--snapshot", known)
    assert text.exit_code == 0 and "\x1b" not in text.stdout


def test_an_export_of_endless_distinct_uses_is_refused_in_one_line(run, tmp_path, known, monkeypatch):
    from rbactool import activity

    monkeypatch.setattr(activity, "MAX_USES", 50)
    log = write_log(tmp_path, [event(f"{ML}/write", f"{EP}/deployments/d{i}") for i in range(60)])
    r = run("usage", log, "--snapshot", known)
    assert r.exit_code == 3 and r.stderr.count("\n") == 1 and "distinct" in r.stderr, r.stderr
    ok = write_log(tmp_path, [event(f"{ML}/write", EP) for _ in range(60)], "same.json")
    assert run("usage", ok, "--snapshot", known).exit_code == 0
