"""Role documents in every shape teams keep them: ARM resources and templates, Bicep, Terraform.

Everything through the CLI (the in-process ``run`` fixture): validate, diff, explain, convert;
the shape each input was read as; JSON pointers; expressions resolved or reported; lenient JSON;
directory runs that report every file; hostile templates and HCL bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, SUB

DOCS = DATA / "documents"
CATALOG = DATA / "validate" / "catalog.json"
SCOPE = f"/subscriptions/{SUB}"
TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def validate(run, *args):
    r = run("validate", *args, "--format", "json", "--no-config")
    assert r.exit_code in (0, 1, 3), r.stderr
    return r, r.json()


def found(data, code=None):
    return {(f["code"], f["pointer"]) for f in data["findings"] if code is None or f["code"] == code}


def write(path: Path, doc) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def template(*resources, **extra):
    return {"$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0", "resources": list(resources), **extra}


def role_resource(name="R", scopes=(SCOPE,), actions=("Microsoft.Compute/virtualMachines/read",)):
    return {"type": "Microsoft.Authorization/roleDefinitions", "apiVersion": "2022-04-01",
            "name": "1b7c6d5e-0000-4a6b-8c7d-9e0f1a2b3c4d",
            "properties": {"roleName": name, "type": "CustomRole", "permissions": [{"actions": list(actions)}],
                           "assignableScopes": list(scopes)}}


# --------------------------------------------------------------------------- ARM resources


def test_arm_resource_shape_is_read_and_every_check_runs(run):
    r, data = validate(run, DOCS / "arm-resource.json")
    assert [(i["shape"], i["roles"]) for i in data["inputs"]] == [("arm", 1)]
    # no "unknown field 'apiVersion'": the real problems are reported
    assert found(data) == {("SCOPE_ROOT", "/properties/assignableScopes/0"),
                           ("REMOTE_EXECUTION", "/properties/permissions/0/actions/2")}
    assert r.exit_code == 1


def test_a_list_of_arm_resources(run):
    _, data = validate(run, DOCS / "arm-resources.json", "--catalog", CATALOG)
    assert data["inputs"][0]["shape"] == "arm" and data["summary"]["roles"] == 2
    assert ("NAMESPACE_TYPO", "/1/properties/permissions/0/actions/0") in found(data)


def test_no_masking_each_problem_is_its_own_finding(run, tmp_path):
    doc = role_resource(scopes=["/"])
    doc["properties"]["permissions"] = [{"actions": ["Microsoft.Compute/virtualMachines/runCommand/action", 7]}]
    doc["properties"]["description"] = ["not", "a string"]
    doc["location"] = "westeurope"  # ARM ignores it: a warning, not an error
    r, data = validate(run, write(tmp_path / "r.json", doc))
    types = {(f["code"], f["pointer"]): f["type"] for f in data["findings"]}
    assert types == {
        ("SCHEMA_VIOLATION", "/properties/permissions/0/actions/1"): "ERROR",
        ("SCHEMA_VIOLATION", "/properties/description"): "ERROR",
        ("UNKNOWN_FIELD", "/location"): "WARNING",
        ("SCOPE_ROOT", "/properties/assignableScopes/0"): "ERROR",
        ("REMOTE_EXECUTION", "/properties/permissions/0/actions/0"): "SECURITY_WARNING",
    }


def test_unknown_top_level_field_alone_is_only_a_warning(run, tmp_path):
    doc = role_resource()
    doc["tags"] = {"team": "ml"}
    r, data = validate(run, write(tmp_path / "r.json", doc))
    assert [(f["code"], f["type"]) for f in data["findings"]] == [("UNKNOWN_FIELD", "WARNING")]
    assert r.exit_code == 0


# --------------------------------------------------------------------------- templates


def test_template_roles_with_pointers_and_unresolved_expressions(run):
    r, data = validate(run, DOCS / "template.json")
    assert data["inputs"][0] == {"file": str(DOCS / "template.json"), "shape": "arm-template", "roles": 2,
                                 "error": None, "role_definitions": [
                                     {"name": "Template VM Reader", "pointer": "/resources/1"},
                                     {"name": "Nested Operator", "pointer": "/resources/2/properties/template/resources/0"}]}
    text = run("validate", DOCS / "template.json", "--no-config").stdout
    assert "role 'Nested Operator' at /resources/2/properties/template/resources/0" in text
    unresolved = found(data, "UNRESOLVED_EXPRESSION")
    assert ("UNRESOLVED_EXPRESSION", "/resources/1/properties/assignableScopes/0") in unresolved
    assert ("UNRESOLVED_EXPRESSION", "/resources/1/properties/assignableScopes/2") in unresolved
    # never an ERROR for what was not evaluated: the scopes are unknown, not missing
    assert not {f["code"] for f in data["findings"]} & {"MISSING_ASSIGNABLE_SCOPES", "SCOPE_MALFORMED"}
    assert all(f["type"] == "SUGGESTION" for f in data["findings"] if f["code"] == "UNRESOLVED_EXPRESSION")
    # the nested inline deployment (inner scope) is read, its parameter passed in
    nested = "/resources/2/properties/template/resources/0/properties/permissions/0/actions/0"
    assert {(f["code"], f["pointer"], f["role"]) for f in data["findings"] if f["code"] == "REMOTE_EXECUTION"} == {
        ("REMOTE_EXECUTION", nested, "Nested Operator")}
    assert r.exit_code == 0


def test_scope_options_resolve_template_expressions(run):
    _, data = validate(run, DOCS / "template.json", "--subscription", SUB)
    assert found(data, "UNRESOLVED_EXPRESSION") == {
        ("UNRESOLVED_EXPRESSION", "/resources/1/name"),  # guid() is computed at deployment
        ("UNRESOLVED_EXPRESSION", "/resources/1/properties/assignableScopes/2"),  # no defaultValue
    }
    r = run("explain", DOCS / "template.json", "--format", "json", "-s", SUB)
    out = r.json()
    assert out["shape"] == "arm-template"
    assert [(x["role"], x["pointer"]) for x in out["roles"]] == [
        ("Template VM Reader", "/resources/1"), ("Nested Operator", "/resources/2/properties/template/resources/0")]
    reader = out["roles"][0]
    assert [p["pattern"] for p in reader["patterns"]] == [  # actions from variables('readActions')
        "Microsoft.Compute/virtualMachines/read", "Microsoft.Network/networkInterfaces/read"]


def test_language_version_2_resources_object(run):
    _, data = validate(run, DOCS / "template-v2.json", "-m", "platform")
    assert data["inputs"][0]["shape"] == "arm-template" and data["summary"]["roles"] == 1  # `existing` skipped
    assert not found(data, "UNRESOLVED_EXPRESSION")
    assert ("DATA_ACTIONS_WITH_MANAGEMENT_GROUP", "/resources/operatorRole/properties/assignableScopes/0") in found(data)
    r = run("convert", DOCS / "template-v2.json", "-m", "platform", "--format", "az")
    assert r.exit_code == 0, r.stderr
    [role] = json.loads(r.stdout)
    assert role["Description"] == "Operates platform"
    assert role["AssignableScopes"] == ["/providers/Microsoft.Management/managementGroups/platform"]


def test_expression_functions(run, tmp_path):
    doc = template(role_resource(scopes=[
        "[format('/subscriptions/{0}/resourceGroups/{1}', subscription().subscriptionId, resourceGroup().name)]",
        "[toLower(concat('/SUBSCRIPTIONS/', parameters('sub')))]",
        "[variables('scopes')[0]]",
        "[[literal]",
    ]), parameters={"sub": {"type": "string", "defaultValue": SUB}},
        variables={"scopes": ["[concat('/subscriptions/', parameters('sub'), '/resourceGroups/x')]"]})
    path = write(tmp_path / "t.json", doc)
    r = run("convert", path, "-s", SUB, "-g", "rg1", "--format", "az")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["AssignableScopes"] == [
        f"{SCOPE}/resourceGroups/rg1", SCOPE.lower(), f"{SCOPE}/resourceGroups/x", "[literal]"]


@pytest.mark.parametrize("variables, why", [
    ({"a0": "x", **{f"a{i}": f"[concat(variables('a{i - 1}'), variables('a{i - 1}'))]" for i in range(1, 60)},
      "scope": "[variables('a59')]"}, "longer than"),
    ({"scope": "[variables('other')]", "other": "[variables('scope')]"}, "refers to itself"),
    ({"scope": "[" + "concat(" * 500 + "'x'" + ")" * 500 + "]"}, "nested deeper"),
    ({"scope": "[concat('" + "x" * 20000 + "')]"}, "characters is not evaluated"),
    ({"scope": "[reference('x').outputs.id]"}, "reference() is not evaluated"),
])
def test_expression_bombs_end_as_unresolved_expressions(run, tmp_path, variables, why):
    path = write(tmp_path / "t.json", template(role_resource(scopes=["[variables('scope')]", SCOPE]),
                                               variables=variables))
    r, data = validate(run, path)
    [f] = [f for f in data["findings"] if f["code"] == "UNRESOLVED_EXPRESSION"]
    assert f["pointer"] == "/resources/0/properties/assignableScopes/0" and why in f["message"], f["message"]
    assert len(f["message"]) < 2100 and r.exit_code == 0


def test_deeply_nested_deployments_are_bounded(run, tmp_path):
    doc = template(role_resource(name="deepest"))
    for _ in range(40):
        doc = template({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "n",
                        "properties": {"mode": "Incremental", "template": doc}})
    r, data = validate(run, write(tmp_path / "deep.json", doc))
    assert r.exit_code == 0 and data["summary"]["roles"] == 0  # past MAX_TEMPLATE_DEPTH: not followed
    assert found(data) == {("NO_ROLE_DEFINITIONS", "/")}


def test_template_without_roles_and_parameters_file(run, tmp_path):
    params = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
              "contentVersion": "1.0.0.0", "parameters": {}}
    _, data = validate(run, write(tmp_path / "p.json", params), write(tmp_path / "t.json", template()))
    assert [f["code"] for f in data["findings"]] == ["NO_ROLE_DEFINITIONS", "NO_ROLE_DEFINITIONS"]


@pytest.mark.parametrize("expression", ["[format('{" + "9" * 5000 + "}', 'x')]", "[format('{" + "0" * 5000 + "}', 'x')]"])
def test_a_format_index_too_long_for_int_is_unresolved_not_a_crash(run, tmp_path, expression):
    doc = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
           "contentVersion": "1.0.0.0", "resources": [{
               "type": "Microsoft.Authorization/roleDefinitions", "apiVersion": "2022-04-01",
               "name": "11111111-2222-4333-8444-555555555555",
               "properties": {"roleName": expression, "description": "d", "type": "CustomRole",
                              "permissions": [{"actions": ["Microsoft.Storage/*/read"]}],
                              "assignableScopes": [f"/subscriptions/{SUB}"]}}]}
    r, data = validate(run, write(tmp_path / "t.json", doc))
    assert ("UNRESOLVED_EXPRESSION", "/resources/0/properties/roleName") in found(data), r.stderr


# --------------------------------------------------------------------------- Terraform


def test_terraform_file(run):
    r, data = validate(run, DOCS / "main.tf", "--catalog", CATALOG)
    assert data["inputs"][0]["shape"] == "terraform" and data["summary"]["roles"] == 2
    base = "/resource/azurerm_role_definition"
    assert ("NAMESPACE_TYPO", f"{base}/reader/permissions/1/actions/0") in found(data)
    assert ("UNRESOLVED_EXPRESSION", f"{base}/reader/permissions/1/data_actions/0") in found(data)  # lower(...)
    # data.azurerm_subscription.primary.id needs --subscription: unresolved, and not a missing scope
    assert ("UNRESOLVED_EXPRESSION", f"{base}/vm_operator/assignable_scopes/0") in found(data)
    assert "MISSING_ASSIGNABLE_SCOPES" not in {f["code"] for f in data["findings"]}
    assert r.exit_code == 1


@pytest.mark.parametrize("module", ["json.py", "lark.py", "importlib/__init__.py"])
def test_the_hcl_child_imports_nothing_from_the_working_directory(run, tmp_path, monkeypatch, module):
    """A repository with a json.py (or lark, ...) next to its .tf must not run code in the HCL child."""
    marker = tmp_path / "ran"
    (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / module).write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n")
    shutil.copy(DOCS / "main.tf", tmp_path / "main.tf")
    monkeypatch.chdir(tmp_path)
    r, data = validate(run, "main.tf", "--catalog", CATALOG)
    assert not marker.exists()
    assert data["summary"]["roles"] >= 1, r.stderr


def test_terraform_references_resolved_from_the_scope_options(run):
    r = run("convert", DOCS / "main.tf", "-s", SUB, "--format", "az")
    assert r.exit_code == 3 and "lower(" in r.stderr  # convert refuses what it cannot write as written
    r, data = validate(run, DOCS / "main.tf", "-s", SUB)
    assert found(data, "UNRESOLVED_EXPRESSION") == {
        ("UNRESOLVED_EXPRESSION", "/resource/azurerm_role_definition/reader/permissions/1/data_actions/0")}
    out = run("explain", DOCS / "main.tf", "-s", SUB, "--format", "json").json()
    assert out["shape"] == "terraform"
    assert [r["role"] for r in out["roles"]] == ["TF VM Operator", "TF Reader"]


def test_terraform_values(run, tmp_path):
    tf = tmp_path / "r.tf"
    tf.write_text('variable "scope" {\n  default = "' + SCOPE + '"\n}\n'
                  'resource "azurerm_role_definition" "x" {\n  name = "Say \\"hi\\""\n  scope = var.scope\n'
                  '  description = <<-EOT\n    two\n      lines\n    EOT\n'
                  '  permissions {\n    actions = ["Microsoft.Compute/virtualMachines/read"]\n  }\n}\n')
    r = run("convert", tf, "--format", "az")
    assert r.exit_code == 0, r.stderr
    [role] = json.loads(r.stdout)
    assert role["Name"] == 'Say "hi"' and role["AssignableScopes"] == [SCOPE]  # scope stands in for the list
    assert role["Description"] == "two\n  lines\n"  # an indented heredoc


def test_terraform_plan_and_state_json(run):
    _, plan = validate(run, DOCS / "plan.json")
    assert plan["inputs"][0]["shape"] == "terraform-json" and plan["summary"]["roles"] == 2  # child module too
    assert ("PRIVILEGE_ESCALATION", "/planned_values/root_module/resources/0/values/permissions/0/actions/0") in \
        found(plan)
    _, state = validate(run, DOCS / "state.json")
    assert state["inputs"][0]["shape"] == "terraform-json" and state["summary"]["roles"] == 1
    r = run("diff", DOCS / "plan.json", DOCS / "state.json", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["grants_new_access"] is True


def test_diff_of_two_terraform_files(run, tmp_path):
    new = tmp_path / "new.tf"
    new.write_text((DOCS / "main.tf").read_text().replace(
        '"Microsoft.Compte/disks/read"', '"Microsoft.Storage/storageAccounts/listKeys/action"'))
    r = run("diff", DOCS / "main.tf", new, "--format", "json", "--fail-on-new-access", "-s", SUB)
    assert r.exit_code == 1, r.stderr
    changed = [x for x in r.json()["roles"] if x["status"] != "unchanged"]
    assert [x["name"] for x in changed] == ["TF Reader"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_terraform_at_a_git_revision(run, tmp_path, monkeypatch):
    from test_diff_git import git

    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    shutil.copy(DOCS / "main.tf", repo / "main.tf")
    git(repo, "add", "main.tf")
    git(repo, "commit", "-q", "-m", "roles")
    (repo / "main.tf").write_text((DOCS / "main.tf").read_text().replace(
        '"Microsoft.Compte/disks/read"', '"Microsoft.Compute/disks/read"'))
    monkeypatch.chdir(repo)
    r = run("diff", "HEAD:main.tf", "main.tf", "--format", "json", "--exit-code")
    assert r.exit_code == 1, r.stderr
    assert [x["name"] for x in r.json()["roles"] if x["status"] != "unchanged"] == ["TF Reader"]


def test_hcl_parser_is_not_imported_in_the_process(run):
    validate(run, DOCS / "main.tf")
    assert "hcl2" not in sys.modules and "lark" not in sys.modules


def test_hostile_hcl_is_refused_in_one_line(run, tmp_path, monkeypatch):
    huge = tmp_path / "huge.tf"
    huge.write_text("# " + "x" * (1024 * 1024 + 1) + "\n")
    deep = tmp_path / "deep.tf"
    deep.write_text("locals {\n  a = " + "[" * 150 + "]" * 150 + "\n}\n")
    bad = tmp_path / "bad.tf"
    bad.write_text('resource "azurerm_role_definition" "x" {\n  name = \n')
    for path, phrase in ((huge, "larger than"), (deep, "nested deeper"), (bad, "not valid HCL")):
        r = run("validate", path)
        assert r.exit_code == 3 and phrase in r.stderr and r.stderr.count("\n") == 1, r.stderr
        assert str(path) in r.stderr
    # python-hcl2 is quadratic in the attributes of one block: the parse has a time limit
    import rbactool.terraform as tf

    monkeypatch.setattr(tf, "PARSE_TIMEOUT", 0.3)
    slow = tmp_path / "slow.tf"
    slow.write_text('resource "a" "b" {\n' + "".join(f"x{i} = 1\n" for i in range(20000)) + "}\n")
    r = run("validate", slow)
    assert r.exit_code == 3 and "took longer than" in r.stderr, r.stderr


# --------------------------------------------------------------------------- Bicep


def test_bicep_without_bicep_is_one_line_saying_how_to_compile(run, tmp_path):
    main = tmp_path / "main.bicep"
    main.write_text("resource r 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {}\n")
    r = run("validate", main, env={"PATH": str(tmp_path / "nothing")})
    assert r.exit_code == 3 and r.stderr.count("\n") == 1
    assert f"az bicep build --file {main}" in r.stderr and f"bicep build {main}" in r.stderr
    (tmp_path / "ok.json").write_text(json.dumps(role_resource()))
    r = run("validate", tmp_path, "--format", "json", env={"PATH": str(tmp_path / "nothing")})
    assert r.exit_code == 0, r.stderr  # in a directory: a warning for that file, the others are checked
    assert [(f["code"], f["file"]) for f in r.json()["findings"]] == [("BICEP_NOT_COMPILED", str(main))]


def test_bicep_on_path_compiles(run, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    compiled = tmp_path / "compiled.json"
    shutil.copy(DOCS / "template-v2.json", compiled)
    fake = bindir / "bicep"  # `bicep build FILE --outfile OUT`, as the real one is called
    fake.write_text(f'#!/bin/sh\n[ "$1" = build ] && [ "$3" = --outfile ] && cp "{compiled}" "$4"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    main = tmp_path / "main.bicep"
    main.write_text("// bicep\n")
    r = run("validate", main, "--format", "json", "-m", "platform", env={"PATH": f"{bindir}{os.pathsep}/usr/bin:/bin"})
    assert r.exit_code == 0, r.stderr  # DataActions ["*"]: a SECURITY_WARNING (ARM accepts it), not an ERROR
    assert r.json()["inputs"][0]["shape"] == "bicep" and r.json()["summary"]["roles"] == 1
    assert "ALL_DATA_ACTIONS" in {f["code"] for f in r.json()["findings"]}


@pytest.mark.parametrize("source", [
    "var t = loadTextContent('/etc/passwd')\n",
    "var t = sys.loadFileAsBase64('../../.azure/msal_token_cache.json')\n",
    "var t = LOADJSONCONTENT ('x.json')\n",
    "module m './other.bicep' = {\n  name: 'm'\n}\n",
    "module m 'br:evil.azurecr.io/bicep/x:1' = {\n  name: 'm'\n}\n",
    "import * as x from 'types.bicep'\n",
    "extension microsoftGraphV1\n",
])
def test_bicep_that_reads_other_files_or_registries_is_not_compiled(run, tmp_path, source):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ran = tmp_path / "bicep-ran"
    fake = bindir / "bicep"
    fake.write_text(f'#!/bin/sh\ntouch "{ran}"\nexit 1\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    main = tmp_path / "main.bicep"
    main.write_text(source)
    r = run("validate", main, env={"PATH": f"{bindir}{os.pathsep}/usr/bin:/bin"})
    assert r.exit_code == 3 and r.stderr.count("\n") == 1 and "reads other files" in r.stderr, r.stderr
    assert not ran.exists()


# --------------------------------------------------------------------------- lenient JSON


def test_comments_and_trailing_commas_are_read_with_a_finding(run, tmp_path):
    r, data = validate(run, DOCS / "commented.jsonc", "--catalog", CATALOG)
    assert found(data) == {("JSON_NOT_STRICT", "/"), ("NAMESPACE_TYPO", "/Actions/1")}
    sarif = json.loads(run("validate", DOCS / "commented.jsonc", "--format", "sarif", "--no-config",
                           "--catalog", CATALOG).stdout)
    [typo] = [x for x in sarif["runs"][0]["results"] if x["ruleId"] == "NAMESPACE_TYPO"]
    assert typo["locations"][0]["physicalLocation"]["region"]["startLine"] == 8  # positions kept
    broken = write(tmp_path / "b.json", '{"Name": "x", // c\n "Actions": [}')
    r = run("validate", broken)
    assert r.exit_code == 3 and "not valid JSON" in r.stderr
    assert run("diff", DOCS / "commented.jsonc", DOCS / "commented.jsonc").exit_code == 0


# --------------------------------------------------------------------------- directory runs


@pytest.fixture
def mixed_dir(tmp_path):
    d = tmp_path / "roles"
    (d / "sub").mkdir(parents=True)
    shutil.copy(DOCS / "arm-resource.json", d / "a-arm.json")
    shutil.copy(DOCS / "main.tf", d / "sub" / "main.tf")
    shutil.copy(DOCS / "template.json", d / "template.json")
    (d / "b-broken.json").write_text('{"Name": "x", ')
    (d / "sub" / "c-broken.tf").write_text('resource "azurerm_role_definition" "x" {\n')
    (d / "notes.txt").write_text("not a role file")
    return d


def test_directory_run_reports_every_file_and_exits_3_after_all(run, mixed_dir):
    r = run("validate", mixed_dir, "--format", "json", "--no-config")
    assert r.exit_code == 3
    data = r.json()
    shapes = {Path(i["file"]).name: i["shape"] for i in data["inputs"]}
    assert shapes == {"a-arm.json": "arm", "b-broken.json": None, "template.json": "arm-template",
                      "main.tf": "terraform", "c-broken.tf": None}
    unreadable = {Path(f["file"]).name: f["message"] for f in data["findings"] if f["code"] == "FILE_UNREADABLE"}
    assert set(unreadable) == {"b-broken.json", "c-broken.tf"}
    assert "not valid JSON" in unreadable["b-broken.json"] and "not valid HCL" in unreadable["c-broken.tf"]
    assert data["summary"]["unreadable"] == 2 and data["summary"]["roles"] == 5
    assert {"SCOPE_ROOT", "REMOTE_EXECUTION", "NAMESPACE_TYPO"} <= {f["code"] for f in data["findings"]}
    assert sum(line.startswith("Error: ") for line in r.stderr.splitlines()) == 2

    text = run("validate", mixed_dir, "--no-config")
    assert text.exit_code == 3 and "FILE_UNREADABLE" in text.stdout and "SCOPE_ROOT" in text.stdout
    assert "could not be read" in text.stdout.splitlines()[-1]

    sarif = run("validate", mixed_dir, "--format", "sarif", "--no-config")
    assert sarif.exit_code == 3
    run0 = json.loads(sarif.stdout)["runs"][0]
    assert {x["ruleId"] for x in run0["results"]} >= {"FILE_UNREADABLE", "SCOPE_ROOT"}
    assert run0["invocations"][0]["executionSuccessful"] is False
    assert len(run0["invocations"][0]["toolExecutionNotifications"]) == 2


def test_several_files_one_unreadable(run, tmp_path):
    bad = write(tmp_path / "bad.json", "[1, 2")
    r = run("validate", DOCS / "arm-resource.json", bad, "--format", "json")
    assert r.exit_code == 3
    assert {f["code"] for f in r.json()["findings"]} >= {"FILE_UNREADABLE", "SCOPE_ROOT"}


def test_directory_of_only_json_is_unchanged_in_output(run, tmp_path):
    shutil.copy(DOCS / "arm-resources.json", tmp_path / "x.json")
    r = run("validate", tmp_path)
    assert r.exit_code == 1 and "could not be read" not in r.stdout


def test_python_dash_m_reads_a_tf_file_cold(tmp_path):
    """The child-process parser works from a fresh interpreter too (no state from the test run)."""
    env = {k: v for k, v in os.environ.items() if k != "AZURE_SUBSCRIPTION_ID"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                     env.get("PYTHONPATH")]))
    r = subprocess.run([sys.executable, "-m", "rbactool", "validate", str(DOCS / "main.tf"), "--format", "json",
                        "--no-config", "-s", SUB], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["summary"]["roles"] == 2


def test_shared_value_bombs_are_bounded(run, tmp_path):
    variables = {"a0": ["x"], **{f"a{i}": [f"[variables('a{i - 1}')]", f"[variables('a{i - 1}')]"]
                                 for i in range(1, 64)}}
    path = write(tmp_path / "t.json", template(role_resource(scopes=["[variables('a63')[0]]", SCOPE]),
                                               variables=variables))
    _, data = validate(run, path)
    [f] = [f for f in data["findings"] if f["code"] == "UNRESOLVED_EXPRESSION"]
    assert "larger than" in f["message"]
    tf = tmp_path / "bomb.tf"
    tf.write_text("locals {\n  a0 = \"xxxxxxxx\"\n" + "".join(
        f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}"\n' for i in range(1, 64)) + "}\n"
        'resource "azurerm_role_definition" "x" {\n  name = local.a63\n  scope = "' + SCOPE + '"\n'
        '  permissions {\n    actions = ["Microsoft.Compute/virtualMachines/read"]\n  }\n}\n')
    _, data = validate(run, tf)
    [f] = [f for f in data["findings"] if f["code"] == "UNRESOLVED_EXPRESSION"]
    assert f["pointer"] == "/resource/azurerm_role_definition/x/name" and "longer than" in f["message"]


def test_lenient_json_on_hostile_input_is_bounded(run, tmp_path):
    many = write(tmp_path / "many.jsonc", "[" + "\n".join('{"Name": "x"}, // c' for _ in range(20000)) + "\n]")
    r, data = validate(run, many)
    assert ("JSON_NOT_STRICT", "/") in found(data) and data["summary"]["roles"] == 20000
    deep = write(tmp_path / "deep.jsonc", "// c\n" + "[" * 300 + "]" * 300)
    r = run("validate", deep)
    assert r.exit_code == 3 and "nested deeper than 200" in r.stderr and r.stderr.count("\n") == 1


def test_the_tree_walker_agrees_with_python_hcl2(tmp_path):
    """The child process reads lark's tree directly (python-hcl2's transform costs as much as the
    parse); it must give what hcl2.loads gives, comments aside."""
    code = """
import json, subprocess, sys
from rbactool.terraform import _WORKER
import hcl2
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    ours = json.loads(subprocess.run([sys.executable, "-c", _WORKER], input=text.encode(), capture_output=True,
                                     check=True).stdout)["doc"]
    theirs = hcl2.loads(text)
    theirs.pop("__comments__", None)
    print(path, ours == theirs)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                                     os.environ.get("PYTHONPATH")]))}
    r = subprocess.run([sys.executable, "-c", code, str(DOCS / "main.tf"), str(DOCS / "rich.tf")],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert [line.rsplit(" ", 1)[1] for line in r.stdout.splitlines()] == ["True", "True"], r.stdout


@pytest.mark.parametrize("name, shape, roles", [
    ("arm-resource.json", "arm", 1), ("arm-resources.json", "arm", 2), ("template.json", "arm-template", 2),
    ("template-v2.json", "arm-template", 1), ("commented.jsonc", "az", 1), ("main.tf", "terraform", 2),
    ("plan.json", "terraform-json", 2), ("state.json", "terraform-json", 1),
])
def test_every_shape_through_every_command(run, name, shape, roles):
    scope = ["-s", SUB, "-m", "platform"]
    _, data = validate(run, DOCS / name, *scope)
    assert (data["inputs"][0]["shape"], data["summary"]["roles"]) == (shape, roles)
    out = run("explain", DOCS / name, "--format", "json", *scope)
    assert out.exit_code == 0, out.stderr
    assert (out.json()["shape"], len(out.json()["roles"])) == (shape, roles)
    same = run("diff", DOCS / name, DOCS / name, "--format", "json", "--exit-code", *scope)
    assert same.exit_code == 0 and same.json()["differs"] is False, same.stderr
    converted = run("convert", DOCS / name, "--format", "az", *scope)
    if name in ("template.json", "main.tf"):  # a value convert cannot write as written: refused in one line
        assert converted.exit_code == 3 and converted.stderr.count("\n") == 1 and "not evaluated" in converted.stderr
    else:
        assert converted.exit_code == 0, converted.stderr
        doc = json.loads(converted.stdout)
        assert len(doc if isinstance(doc, list) else [doc]) == roles


def test_directory_runs_skip_tool_caches(run, tmp_path):
    shutil.copy(DOCS / "arm-resources.json", tmp_path / "roles.json")
    for cache in (".terraform/modules/x", ".git", "node_modules/pkg"):
        (tmp_path / cache).mkdir(parents=True)
        (tmp_path / cache / "bad.json").write_text("{")
    r, data = validate(run, tmp_path)
    assert [i["file"] for i in data["inputs"]] == [str(tmp_path / "roles.json")] and r.exit_code == 1


def test_is_custom_as_a_string_is_left_to_the_is_custom_check():
    """The lenient reader keeps what was written (``is_custom_written``), as the strict one does:
    the az CLI never sends IsCustom, so it is not a schema ERROR."""
    from rbactool.validate import validate_text

    doc = {"Name": "x", "IsCustom": "true", "Actions": ["Microsoft.Compute/virtualMachines/read"],
           "AssignableScopes": [SCOPE]}
    [role], findings = validate_text(json.dumps(doc), source="x.json")
    assert role.is_custom and role.is_custom_written == "true"
    assert "SCHEMA_VIOLATION" not in {f.code for f in findings}


def test_template_placeholders_in_json_are_unresolved_expressions(run, tmp_path):
    """ALZ-library style role files: `${current_scope_resource_id}` is filled in by the module that
    renders the file; as written it is an unresolved expression, never a malformed scope."""
    doc = role_resource(scopes=["${current_scope_resource_id}"])
    r, data = validate(run, write(tmp_path / "alz.json", doc))
    assert [(f["code"], f["pointer"]) for f in data["findings"]] == [
        ("UNRESOLVED_EXPRESSION", "/properties/assignableScopes/0")]
    assert r.exit_code == 0


def test_terraform_scope_must_be_an_arm_scope(run, tmp_path):
    tf = tmp_path / "r.tf"
    tf.write_text('resource "azurerm_role_definition" "x" {\n  name = "n"\n  scope = "pike"\n'
                  '  permissions {\n    actions = ["Microsoft.Compute/virtualMachines/read"]\n  }\n'
                  '  assignable_scopes = ["' + SCOPE + '"]\n}\n')
    r, data = validate(run, tf)
    assert found(data) == {("SCHEMA_VIOLATION", "/resource/azurerm_role_definition/x/scope")} and r.exit_code == 1
