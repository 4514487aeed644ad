"""rbactool diff: the library (rbactool.diff) and the command, on files, templates and stdin."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import DATA, SUB
from rbactool.catalog import load_catalog
from rbactool.diff import (
    VERDICT_GRANTS,
    VERDICT_NONE,
    VERDICT_REMOVES,
    diff_role_sets,
    diff_roles,
    match_roles,
)
from rbactool.diff_format import format_markdown, format_text
from rbactool.model import Permission, RoleDefinition, load_role
from rbactool.render import load_template, render_role, template_dirs

DIFF = DATA / "diff"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
FOUR_ADDED = {
    "microsoft.machinelearningservices/workspaces/onlineendpoints/listkeys/action",
    "microsoft.machinelearningservices/workspaces/onlineendpoints/regeneratekeys/action",
    "microsoft.machinelearningservices/workspaces/onlineendpoints/token/action",
    "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments/getlogs/action",
}
CREDENTIAL = {n for n in FOUR_ADDED if not n.endswith("getlogs/action")}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _render(name: str, **values) -> RoleDefinition:
    return render_role(load_template(name, template_dirs()), values, subscription=SUB, resource_group="ml-rg")


def _role(actions=(), not_actions=(), scopes=(f"/subscriptions/{SUB}/resourceGroups/ml-rg",), name="R", **kw):
    return RoleDefinition(
        name=name, permissions=(Permission(actions=tuple(actions), not_actions=tuple(not_actions), **kw),),
        assignable_scopes=tuple(scopes),
    )


def _names(ops) -> set[str]:
    return {op["name"].lower() for op in ops}


# --------------------------------------------------------------------------- the seed scenario


def test_strict_to_wildcard_scoring_adds_exactly_four_operations(catalog):
    strict = _render("online-endpoint-scoring-strict")
    wildcard = _render("online-endpoint-scoring")
    d = diff_roles(strict, wildcard, catalog)
    assert {op.name.lower() for op in d.effective.added} == FOUR_ADDED
    assert d.effective.removed == ()
    marked = {op.name.lower() for op in d.effective.added if "credential-exposure" in op.risk_classes}
    assert marked == CREDENTIAL
    assert d.grants_new_access and d.verdict == VERDICT_GRANTS
    assert d.summary() == "+4 operations (3 credential-exposure), -0"


def test_cli_strict_to_wildcard_fails_on_new_access(run):
    r = run("diff", "online-endpoint-scoring-strict", "online-endpoint-scoring", "-s", SUB, "-g", "ml-rg",
            "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 1, r.stderr
    doc = r.json()
    assert doc["schema_version"] == 1
    assert doc["verdict"] == "grants new access"
    assert doc["grants_new_access"] is True
    [role] = doc["roles"]
    assert role["status"] == "changed"
    assert _names(role["effective"]["added"]) == FOUR_ADDED
    assert role["effective"]["removed"] == []
    risky = {op["name"].lower() for op in role["effective"]["added"] if "credential-exposure" in op["risk_classes"]}
    assert risky == CREDENTIAL
    assert doc["effective"]["risk_added"] == {"credential-exposure": 3}
    # the literal change is the one Actions string
    [block] = role["literal"]["permissions"]
    assert block["lists"]["Actions"]["added"] == [f"{ML}/*/action"]
    assert block["lists"]["Actions"]["removed"] == [f"{ML}/score/action"]


def test_cli_reverse_removes_access_only_and_passes_the_gate(run):
    r = run("diff", "online-endpoint-scoring", "online-endpoint-scoring-strict", "-s", SUB, "-g", "ml-rg",
            "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["verdict"] == "removes access only"
    assert doc["grants_new_access"] is False
    assert _names(doc["roles"][0]["effective"]["removed"]) == FOUR_ADDED
    assert doc["roles"][0]["effective"]["added"] == []
    assert doc["roles"][0]["new_findings"] == []


def test_new_findings_are_those_of_new_only(run):
    fwd = run("diff", "online-endpoint-scoring-strict", "online-endpoint-scoring", "-s", SUB, "--format", "json",
              "--no-config")
    codes = {f["code"] for f in fwd.json()["roles"][0]["new_findings"]}
    assert "CREDENTIAL_EXPOSURE" in codes
    skipped = run("diff", "online-endpoint-scoring-strict", "online-endpoint-scoring", "-s", SUB, "--format", "json",
                  "--no-findings")
    assert skipped.json()["roles"][0]["new_findings"] == []


def test_set_options_per_side(run):
    # the same template, aml_token adds token/action
    r = run("diff", "online-endpoint-scoring-strict", "online-endpoint-scoring-strict", "-s", SUB,
            "--new-set", "auth_mode=aml_token", "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 1
    assert _names(r.json()["roles"][0]["effective"]["added"]) == {f"{ML}/token/action".lower()}


# --------------------------------------------------------------------------- exit codes


def test_default_exit_is_zero_even_when_access_grows(run):
    r = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json", "--format", "json")
    assert r.exit_code == 0
    assert r.json()["differs"] is True


def test_exit_code_flag(run):
    assert run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json", "--exit-code").exit_code == 1
    same = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-strict.json", "--exit-code", "--format", "json")
    assert same.exit_code == 0
    assert same.json()["roles"][0]["status"] == "unchanged"


def test_usage_errors_exit_2(run):
    assert run("diff").exit_code == 2
    assert run("diff", DIFF / "scoring-strict.json").exit_code == 2
    assert run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-strict.json", "--format", "yaml").exit_code == 2
    assert run("diff", "--roles", "roles/online-endpoints.yaml").exit_code == 2  # no --base
    assert run("diff", "a", "b", "--base", "HEAD").exit_code == 2
    assert run("diff", "-", "-").exit_code == 2


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", '"a string"'])
def test_invalid_role_file_exits_3(run, tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    r = run("diff", bad, DIFF / "scoring-strict.json")
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ")
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_missing_file_exits_3(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("diff", "no-such-role.json", DIFF / "scoring-strict.json")
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ") and "no-such-role.json" in r.stderr


# --------------------------------------------------------------------------- effective semantics


def test_reordering_is_no_change(run):
    r = run("diff", DIFF / "endpoints-wildcard.json", DIFF / "endpoints-wildcard-reordered.json", "--format", "json",
            "--exit-code", "--fail-on-new-access")
    assert r.exit_code == 0
    doc = r.json()
    assert doc["verdict"] == "no effective change"
    assert doc["roles"][0]["status"] == "unchanged"
    assert doc["differs"] is False


def test_case_change_is_cosmetic_and_no_effective_change(run):
    r = run("diff", DIFF / "endpoints-wildcard.json", DIFF / "endpoints-wildcard-case.json", "--format", "json",
            "--fail-on-new-access")
    assert r.exit_code == 0
    doc = r.json()
    assert doc["verdict"] == "no effective change"
    [role] = doc["roles"]
    assert role["cosmetic_only"] is True
    actions = role["literal"]["permissions"][0]["lists"]["Actions"]
    assert actions["added"] == [] and actions["removed"] == []
    assert {c["new"] for c in actions["cosmetic"]} == {
        "microsoft.machinelearningservices/workspaces/read",
        "Microsoft.MachineLearningServices/Workspaces/OnlineEndpoints/*",
    }
    scopes = role["literal"]["assignable_scopes"]
    assert scopes["added"] == [] and scopes["removed"] == [] and len(scopes["cosmetic"]) == 1
    assert role["effective"]["added"] == [] and role["effective"]["removed"] == []
    # a cosmetic change is still a difference for --exit-code
    assert run("diff", DIFF / "endpoints-wildcard.json", DIFF / "endpoints-wildcard-case.json",
               "--exit-code").exit_code == 1


def test_not_actions_added_to_wildcard_role_shrink_the_effective_set(run):
    r = run("diff", DIFF / "endpoints-wildcard.json", DIFF / "endpoints-wildcard-notactions.json",
            "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 0
    doc = r.json()
    assert doc["verdict"] == "removes access only"
    eff = doc["roles"][0]["effective"]
    assert eff["added"] == []
    assert _names(eff["removed"]) == {f"{ML}/listkeys/action".lower(), f"{ML}/regeneratekeys/action".lower()}
    assert eff["new_count"] == eff["old_count"] - 2
    assert doc["effective"]["risk_removed"] == {"credential-exposure": 2}


def test_not_actions_are_per_block(catalog):
    old = RoleDefinition(name="R", permissions=(Permission(actions=(f"{ML}/*",)),))
    # a NotAction in another block subtracts nothing from the first block
    new = RoleDefinition(name="R", permissions=(
        Permission(actions=(f"{ML}/*",)),
        Permission(actions=(f"{ML}/read",), not_actions=(f"{ML}/listKeys/action",)),
    ))
    d = diff_roles(old, new, catalog)
    assert d.effective.added == () and d.effective.removed == ()
    assert d.verdict == VERDICT_NONE
    assert [b.block for b in d.permissions] == [1]


def test_unknown_operations_still_show(catalog):
    d = diff_roles(_role([f"{ML}/read"]), _role([f"{ML}/read", "Contoso.Widgets/widgets/read"]), catalog)
    assert [(op.name, op.known) for op in d.effective.added] == [("Contoso.Widgets/widgets/read", False)]
    assert d.grants_new_access


# --------------------------------------------------------------------------- scopes and conditions


def test_assignable_scope_widening_detected(run):
    r = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json", "--format", "json",
            "--fail-on-new-access")
    assert r.exit_code == 1
    scopes = r.json()["roles"][0]["literal"]["assignable_scopes"]
    widened = {w["scope"]: w for w in scopes["widened"]}
    assert set(widened) == {f"/subscriptions/{SUB}", "/providers/Microsoft.Management/managementGroups/ml-platform"}
    assert widened[f"/subscriptions/{SUB}"]["kind"] == "broader"
    assert widened[f"/subscriptions/{SUB}"]["covers"] == [f"/subscriptions/{SUB}/resourceGroups/ml-rg"]
    assert widened["/providers/Microsoft.Management/managementGroups/ml-platform"]["kind"] == "new-management-group"


def test_scope_widening_alone_trips_the_gate(catalog):
    rg = _role([f"{ML}/score/action"])
    sub = _role([f"{ML}/score/action"], scopes=(f"/subscriptions/{SUB}",))
    wider = diff_roles(rg, sub, catalog)
    assert wider.effective.added == () and wider.grants_new_access and wider.verdict == VERDICT_GRANTS
    narrower = diff_roles(sub, rg, catalog)
    assert narrower.assignable_scopes.widened == () and narrower.verdict == VERDICT_REMOVES
    # adding a resource group under a subscription the role already had is not wider
    both = _role([f"{ML}/score/action"], scopes=(f"/subscriptions/{SUB}", f"/subscriptions/{SUB}/resourceGroups/x"))
    assert diff_roles(sub, both, catalog).assignable_scopes.widened == ()


def test_placeholder_scopes_compare_as_text(catalog):
    old = _role([f"{ML}/score/action"], scopes=("/subscriptions/<subscriptionId>/resourcegroups/<rg>",))
    new = _role([f"{ML}/score/action"], scopes=("/subscriptions/<subscriptionId>",))
    [w] = diff_roles(old, new, catalog).assignable_scopes.widened
    assert w.kind == "broader"


@pytest.mark.parametrize(("old_cond", "new_cond", "kind", "gate"), [
    ("@Resource[x] == 'a'", None, "removed", True),
    ("@Resource[x] == 'a'", "@Resource[x] == 'b'", "changed", True),
    (None, "@Resource[x] == 'a'", "added", False),
])
def test_condition_changes(catalog, old_cond, new_cond, kind, gate):
    def role(cond):
        return RoleDefinition(name="R", permissions=(Permission(
            data_actions=("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",),
            condition=cond, condition_version="2.0" if cond else None),))

    d = diff_roles(role(old_cond), role(new_cond), catalog)
    [c] = d.conditions
    assert c.kind == kind
    assert c.possibly_new_access is gate
    assert d.grants_new_access is gate
    assert d.verdict == (VERDICT_GRANTS if gate else VERDICT_REMOVES)


# --------------------------------------------------------------------------- catalog honesty


def test_stale_namespace_wildcard_is_flagged(run):
    doc = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json", "--format", "json").json()
    notes = {n["pattern"]: n for n in doc["roles"][0]["catalog_notes"]}
    storage = notes["Microsoft.Storage/storageAccounts/blobServices/*"]
    assert storage["namespace"] == "Microsoft.Storage"
    assert storage["reason"] == "stale"
    assert storage["as_of"] and storage["as_of"] < doc["catalog"]["snapshot_date"]
    assert storage["may_grant_more"] is True
    # Microsoft.MachineLearningServices is fresh: no note for its wildcard
    assert f"{ML}/*/action" not in notes


def test_stale_note_is_next_to_the_change_in_text(run):
    out = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json").stdout.splitlines()
    i = next(i for i, line in enumerate(out) if line.strip() == "+ Microsoft.Storage/storageAccounts/blobServices/*")
    assert "Microsoft.Storage" in out[i + 1] and "catalog" in out[i + 1]


def test_unknown_namespace_wildcard_is_flagged(catalog):
    d = diff_roles(_role([f"{ML}/read"]), _role([f"{ML}/read", "Contoso.Widgets/*"]), catalog)
    [n] = d.catalog_notes
    assert n.reason == "unknown-namespace"


# --------------------------------------------------------------------------- role sets


def test_match_roles_by_id_then_name(catalog):
    a = replace(_role([f"{ML}/read"], name="Alpha"), role_id="aaaaaaaa-0000-0000-0000-000000000001")
    a_renamed = replace(a, name="Alpha v2")
    b = _role([f"{ML}/read"], name="Beta")
    b_case = replace(b, name="BETA")
    c = _role([f"{ML}/read"], name="Gamma")
    d = _role([f"{ML}/write"], name="Delta")
    pairs = match_roles([a, b, c], [b_case, a_renamed, d])
    assert (a, a_renamed) in pairs
    assert (b, b_case) in pairs
    assert (c, None) in pairs
    assert (None, d) in pairs
    report = diff_role_sets([a, b, c], [b_case, a_renamed, d], catalog)
    by_status = {r.display_name: r.status for r in report.roles}
    assert by_status == {"Alpha v2": "changed", "BETA": "changed", "Gamma": "removed", "Delta": "added"}
    delta = next(r for r in report.roles if r.status == "added")
    assert {op.name.lower() for op in delta.effective.added} == {f"{ML}/write".lower()}
    assert report.grants_new_access  # an added role grants new access


def test_pair_single_compares_renamed_roles(catalog):
    old = _role([f"{ML}/read"], name="Old name")
    new = _role([f"{ML}/read"], name="New name")
    assert [r.status for r in diff_role_sets([old], [new], catalog).roles] == ["added", "removed"]
    [d] = diff_role_sets([old], [new], catalog, pair_single=True).roles
    assert d.status == "changed" and d.name.old == "Old name" and d.verdict == VERDICT_NONE


def test_removed_role_removes_access(run, tmp_path):
    both = tmp_path / "both.json"
    one = tmp_path / "one.json"
    strict = json.loads((DIFF / "scoring-strict.json").read_text())
    other = dict(strict, Name="Another role")
    both.write_text(json.dumps([strict, other]))
    one.write_text(json.dumps([strict]))
    r = run("diff", both, one, "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 0
    doc = r.json()
    assert doc["counts"] == {"added": 0, "removed": 1, "changed": 0, "unchanged": 1}
    assert doc["verdict"] == "removes access only"
    r = run("diff", one, both, "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 1 and r.json()["counts"]["added"] == 1


# --------------------------------------------------------------------------- inputs and outputs


def test_stdin_and_builtin_role_inputs(run):
    text = (DIFF / "scoring-strict.json").read_text()
    r = run("diff", "-", DIFF / "scoring-wider.json", "--format", "json", input=text)
    assert r.exit_code == 0 and r.json()["verdict"] == "grants new access"
    r = run("diff", "Reader", "Contributor", "--format", "json", "--no-findings")
    assert r.exit_code == 0
    assert r.json()["roles"][0]["effective"]["added"]


def test_unknown_input_exits_3_with_hint(run):
    r = run("diff", "Readr", "Reader")
    assert r.exit_code == 3
    assert "Reader" in r.stderr and r.stderr.startswith("Error: ")


def test_json_is_deterministic_and_sorted(run):
    args = ("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json", "--format", "json")
    a, b = run(*args), run(*args)
    assert a.stdout == b.stdout
    assert a.stdout == json.dumps(json.loads(a.stdout), indent=2, sort_keys=True) + "\n"
    names = [op["name"].lower() for op in a.json()["roles"][0]["effective"]["added"]]
    assert names == sorted(names)


def test_text_colour_only_when_asked(run):
    plain = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json")
    assert "\x1b[" not in plain.stdout
    coloured = run("diff", DIFF / "scoring-strict.json", DIFF / "scoring-wider.json", "--color")
    assert "\x1b[32m" in coloured.stdout  # green for additions


def test_text_format_library_has_verdict_line(catalog):
    report = diff_role_sets([load_role(DIFF / "endpoints-wildcard.json")],
                            [load_role(DIFF / "endpoints-wildcard-notactions.json")], catalog, pair_single=True)
    assert format_text(report).splitlines()[-1].startswith("Verdict: removes access only")


# --------------------------------------------------------------------------- markdown


def test_markdown_first_line_is_the_verdict(run):
    for old, new, verdict in (
        ("scoring-strict.json", "scoring-wider.json", "grants new access"),
        ("endpoints-wildcard.json", "endpoints-wildcard-notactions.json", "removes access only"),
        ("endpoints-wildcard.json", "endpoints-wildcard-case.json", "no effective change"),
    ):
        first = run("diff", DIFF / old, DIFF / new, "--format", "markdown").stdout.splitlines()[0]
        assert first.startswith(f"**rbactool diff: {verdict}**")


def test_markdown_folds_long_lists(catalog):
    old = _role(["Microsoft.MachineLearningServices/workspaces/read"])
    new = _role(["Microsoft.MachineLearningServices/workspaces/*"])
    text = format_markdown(diff_role_sets([old], [new], catalog, findings=False))
    assert "<details>" in text and "<summary>Grants " in text


GOLDEN = DIFF / "scoring-strict-to-wider.md"


def test_markdown_golden(run, monkeypatch):
    monkeypatch.chdir(DIFF)
    r = run("diff", "scoring-strict.json", "scoring-wider.json", "--format", "markdown", "--no-findings")
    assert r.exit_code == 0
    if os.environ.get("RBACTOOL_UPDATE_GOLDEN"):
        GOLDEN.write_text(r.stdout, encoding="utf-8")
    assert r.stdout == Path(GOLDEN).read_text(encoding="utf-8")


BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
COND = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'"


def test_operation_moving_out_of_a_conditional_block_is_new_access(catalog):
    conditional_only = RoleDefinition(name="R", permissions=(
        Permission(data_actions=(BLOB_READ,), condition=COND, condition_version="2.0"),
    ))
    also_unconditional = RoleDefinition(name="R", permissions=(
        Permission(data_actions=(BLOB_READ,), condition=COND, condition_version="2.0"),
        Permission(data_actions=(BLOB_READ,)),
    ))
    d = diff_roles(conditional_only, also_unconditional, catalog)
    [op] = d.effective.added
    assert op.name.lower() == BLOB_READ.lower() and op.note and not op.conditional
    assert d.grants_new_access and d.verdict == VERDICT_GRANTS
    back = diff_roles(also_unconditional, conditional_only, catalog)
    assert back.effective.added == () and len(back.effective.removed) == 1
    assert back.verdict == VERDICT_REMOVES


def test_new_operation_under_a_condition_is_marked(run, tmp_path):
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    base = {"Name": "R", "IsCustom": True, "AssignableScopes": [f"/subscriptions/{SUB}"]}
    old.write_text(json.dumps({**base, "Actions": ["Microsoft.Storage/storageAccounts/read"]}))
    new.write_text(json.dumps({**base, "Permissions": [
        {"actions": ["Microsoft.Storage/storageAccounts/read"]},
        {"dataActions": [BLOB_READ], "condition": COND, "conditionVersion": "2.0"},
    ]}))
    r = run("diff", old, new, "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 1
    [op] = r.json()["roles"][0]["effective"]["added"]
    assert op["conditional"] is True and op["data_action"] is True


def test_added_role_scopes_are_listed_not_flagged_as_widening(catalog):
    [d] = diff_role_sets([], [_role([f"{ML}/read"], scopes=(f"/subscriptions/{SUB}",))], catalog).roles
    assert d.status == "added"
    assert d.assignable_scopes.added == (f"/subscriptions/{SUB}",)
    assert d.assignable_scopes.widened == ()
    assert d.grants_new_access


def test_config_ignores_apply_to_new_findings(run, tmp_path):
    cfg = tmp_path / "rbactool.yaml"
    cfg.write_text("ignore:\n  - code: CREDENTIAL_EXPOSURE\n    reason: scoring clients fetch tokens by design\n")
    args = ("diff", "online-endpoint-scoring-strict", "online-endpoint-scoring", "-s", SUB, "--format", "json")
    codes = {f["code"] for f in run(*args, "--config", cfg).json()["roles"][0]["new_findings"]}
    assert "CREDENTIAL_EXPOSURE" not in codes
    # suppressing a finding does not hide the effective change
    assert len(run(*args, "--config", cfg).json()["roles"][0]["effective"]["added"]) == 4
    cfg.write_text("ignore:\n  - code: CREDENTIAL_EXPOSURE\n")  # no reason: invalid config
    r = run(*args, "--config", cfg)
    assert r.exit_code == 3 and r.stderr.startswith("Error: ")


@pytest.mark.parametrize("command", ["diff", "validate"])
def test_a_roles_spec_given_as_a_role_file_points_to_roles(run, command):
    spec = "roles/online-endpoints.yaml"
    r = run(command, spec, spec) if command == "diff" else run(command, spec)
    assert r.exit_code == 3
    assert "a roles spec?" in r.stderr and f"`{command} --roles`" in r.stderr and "not valid JSON" not in r.stderr


def test_a_role_name_with_backticks_cannot_leave_its_code_span_in_markdown(run, tmp_path):
    name = "x `` [Approved](https://evil.example) ``"
    role = {"Name": name, "IsCustom": True, "Description": "d", "Actions": ["Microsoft.Compute/virtualMachines/read"],
            "NotActions": [], "AssignableScopes": ["/subscriptions/11111111-1111-1111-1111-111111111111"]}
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(role))
    new.write_text(json.dumps({**role, "Actions": ["Microsoft.Compute/virtualMachines/*"]}))
    md = run("diff", old, new, "--format", "markdown").stdout
    assert "\\[Approved\\](https://evil.example)" in md  # shown as written, never a link
    assert "[Approved](" not in md.replace("\\[Approved\\](", "")
