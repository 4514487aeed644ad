import json

import pytest

from conftest import ROOT, SUB
from rbactool.spec import load_spec, render_spec

SPEC = ROOT / "roles" / "online-endpoints.yaml"


def test_shipped_spec_renders_both_roles(run, tmp_path):
    r = run("render", "--roles", SPEC, "-s", SUB, "-o", tmp_path)
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["control-plane.json", "scoring.json"]
    scoring = json.loads((tmp_path / "scoring.json").read_text())
    assert scoring["AssignableScopes"] == [f"/subscriptions/{SUB}/resourceGroups/ml-rg"]
    assert scoring["Actions"] == ["Microsoft.MachineLearningServices/workspaces/onlineEndpoints/*/action"]


def test_spec_to_stdout_is_a_list_in_the_chosen_format(run):
    r = run("render", "--roles", SPEC, "--format", "arm")
    docs = r.json()
    assert [d["properties"]["roleName"] for d in docs] == [
        "Custom role for control plane operations - online endpoint",
        "Custom role for scoring - online endpoint",
    ]


def test_spec_assignments_resolve_roles_and_scopes():
    spec = load_spec(SPEC)
    assert [a.principal_type for a in spec.assignments] == ["ServicePrincipal", "User"]
    rendered = render_spec(spec, overrides={"subscription": SUB})
    from rbactool.spec import check_assignments, effective_defaults

    resolved = check_assignments(spec, rendered, effective_defaults(spec, {"subscription": SUB}))
    assert resolved[0][1].endswith("/workspaces/ml-ws") and SUB in resolved[0][1]
    assert resolved[1][2].role_id == "f6c7c914-8db3-469d-8ca1-694a8f32e121"


BASE = """version: 1
defaults:
  subscription: 11111111-2222-3333-4444-555555555555
  resource_group: ml-rg
roles:
  - key: scoring
    template: online-endpoint-scoring
"""
WS = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml-rg/providers/" \
     "Microsoft.MachineLearningServices/workspaces/ws"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version: 1\nroles:\n\t- key: a\n", "not tabs"),  # a tab
        (BASE + "colour: red\n", "unknown key 'colour'"),
        (BASE + "    valuez: {}\n", "unknown key 'valuez'"),
        (BASE.replace("version: 1", "version: 2"), "/version"),
        (BASE + "  - key: scoring\n    template: online-endpoint-scoring\n", "already used"),
        (BASE + "  - key: Bad/Key\n    template: online-endpoint-scoring\n", "/roles/1/key"),
        (BASE + "  - key: both\n    template: a\n    file: b.json\n", "exactly one"),
        (BASE + "  - key: other\n    template: online-endpoint-scoring\n", "same role name"),
        (BASE + "roles: []\n", "duplicate key"),
        (BASE + "  - key: x\n    template: online-endpoint-scorin\n", "did you mean"),
        (BASE + "  - key: x\n    file: missing.json\n", "no such file"),
        (BASE + f"assignments:\n  - role: scoring\n    principal: {{id: nope, type: User}}\n    scope: {WS}\n",
         "principal/id"),
        (BASE + f"assignments:\n  - role: scoring\n    principal: {{id: {SUB}, type: MSI}}\n    scope: {WS}\n",
         "/assignments/0/principal/type"),
        (BASE + f"assignments:\n  - role: Reeder\n    principal: {{id: {SUB}, type: User}}\n    scope: {WS}\n",
         "/assignments/0/role"),
        (BASE + f"assignments:\n  - role: scoring\n    principal: {{id: {SUB}, type: User}}\n    scope: /bad\n",
         "/assignments/0/scope"),
        (BASE + "assignments:\n  - role: scoring\n    principal: {id: " + SUB + ", type: User}\n"
         "    scope: /subscriptions/" + SUB + "/resourceGroups/other-rg\n", "not at or below"),
        (BASE + f"assignments:\n  - role: Reader\n    principal: {{id: {SUB}, type: User}}\n    scope: {WS}\n"
         f"  - role: reader\n    principal: {{id: {SUB}, type: User}}\n    scope: {WS.upper().replace(SUB.upper(), SUB)}\n",
         "already assigned"),
        ("", "empty"),
        ("version: 1\nroles: []\n? [a, b]\n: 1\n", "plain strings"),
        ("- a\n- b\n", "mapping"),
    ],
)
def test_bad_specs_fail_with_one_line_error_and_write_nothing(run, tmp_path, text, needle):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    r = run("render", "--roles", spec, "-o", out)
    assert r.exit_code == 3, r.stderr
    assert needle in r.stderr
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert list(out.iterdir()) == []


def test_spec_with_file_role_and_template_dir(run, tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps({
        "Name": "Mine", "Actions": ["Microsoft.Web/sites/read"], "AssignableScopes": [f"/subscriptions/{SUB}"]}))
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE + "  - key: mine\n    file: mine.json\n")
    r = run("render", "--roles", spec, "-o", tmp_path)
    assert r.exit_code == 0, r.stderr
    assert json.loads((tmp_path / "mine.json").read_text())["Name"] == "Mine"


def test_output_must_be_a_directory_with_roles(run, tmp_path):
    f = tmp_path / "file.json"
    f.write_text("{}")
    r = run("render", "--roles", SPEC, "-o", f)
    assert r.exit_code == 3
    assert f.read_text() == "{}"


def test_assignment_below_a_management_group_role_is_left_to_azure(tmp_path):
    spec = tmp_path / "mg.yaml"
    spec.write_text(
        "version: 1\n"
        "defaults: {management_group: mg1}\n"
        "roles:\n  - key: scoring\n    template: online-endpoint-scoring\n"
        "assignments:\n"
        f"  - {{role: scoring, principal: {{id: {SUB}, type: User}}, scope: /subscriptions/{SUB}}}\n"
    )
    from rbactool.spec import check_assignments, effective_defaults

    s = load_spec(spec)
    rendered = render_spec(s)
    ((_, scope, role),) = check_assignments(s, rendered, effective_defaults(s))
    assert scope == f"/subscriptions/{SUB}" and role.assignable_scopes[0].endswith("/mg1")
