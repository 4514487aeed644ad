import json
import os
import stat

import pytest

from conftest import DATA, SUB
from rbactool import model

RG_SCOPE = f"/subscriptions/{SUB}/resourceGroups/ml-rg"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
# Azure's operations list spells the credential operations in lower case (the docs do not)
ML_LOWER = ML.lower().replace("microsoft.machinelearningservices", "Microsoft.MachineLearningServices")


def seed(name):
    text = (DATA / "seeds" / name).read_text()
    text = text.replace("<subscriptionId>", SUB).replace("<resourceGroupName>", "ml-rg")
    return model.parse_roles(text)[0]


@pytest.mark.parametrize(
    ("template", "seed_file"),
    [
        ("online-endpoint-scoring", "custom-role-for-scoring.json"),
        ("online-endpoint-control-plane", "custom-role-for-control-plane.json"),
    ],
)
def test_templates_render_exactly_the_seed_roles(run, template, seed_file):
    r = run("render", template, "--subscription", SUB, "--resource-group", "ml-rg")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    expected = seed(seed_file)
    assert doc["Name"] == expected.name
    assert doc["Description"] == expected.description
    assert doc["IsCustom"] is True
    # the template spells each operation as Azure does (the docs' casing differs; ARM matches
    # actions case-insensitively)
    assert [a.lower() for a in doc["Actions"]] == [a.lower() for a in expected.actions]
    assert doc["NotActions"] == doc["DataActions"] == doc["NotDataActions"] == []
    assert doc["AssignableScopes"] == [RG_SCOPE]


def test_render_output_is_canonical(run):
    r = run("render", "online-endpoint-scoring", "-s", SUB, "-g", "ml-rg")
    assert r.stdout == model.dumps_role(model.parse_roles(r.stdout)[0])


def test_subscription_scope_and_env_var(run):
    r = run("render", "online-endpoint-scoring", env={"AZURE_SUBSCRIPTION_ID": SUB})
    assert r.exit_code == 0
    assert r.json()["AssignableScopes"] == [f"/subscriptions/{SUB}"]


def test_management_group_scope_wins_over_env_subscription(run):
    r = run("render", "online-endpoint-scoring", "--management-group", "mg-ml", env={"AZURE_SUBSCRIPTION_ID": SUB})
    assert r.exit_code == 0, r.stderr
    assert r.json()["AssignableScopes"] == ["/providers/Microsoft.Management/managementGroups/mg-ml"]


def test_arm_format(run):
    r = run("render", "online-endpoint-control-plane", "-s", SUB, "-g", "ml-rg", "--format", "arm")
    doc = r.json()
    assert doc["type"] == "Microsoft.Authorization/roleDefinitions"
    assert doc["properties"]["type"] == "CustomRole"
    assert doc["properties"]["assignableScopes"] == [RG_SCOPE]
    assert len(doc["properties"]["permissions"][0]["actions"]) == 6


def test_credentials_template_uses_azure_spelling(run):
    doc = run("render", "online-endpoint-credentials", "-s", SUB).json()
    assert doc["Actions"] == [f"{ML_LOWER}/token/action", f"{ML_LOWER}/listkeys/action"]


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ((), [f"{ML}/score/action"]),
        (("auth_mode=key",), [f"{ML}/score/action"]),
        (("auth_mode=aad_token",), [f"{ML}/score/action"]),
        (("auth_mode=aml_token",), [f"{ML}/score/action", f"{ML_LOWER}/token/action"]),
    ],
)
def test_strict_scoring_role(run, sets, expected):
    args = [a for s in sets for a in ("--set", s)]
    r = run("render", "online-endpoint-scoring-strict", "-s", SUB, "-g", "ml-rg", *args)
    assert r.exit_code == 0, r.stderr
    assert r.json()["Actions"] == expected


def test_name_and_description_are_overridable(run):
    r = run("render", "online-endpoint-scoring", "-s", SUB, "--set", "name=Team A scoring", "--set",
            "description=Scores.")
    assert (r.json()["Name"], r.json()["Description"]) == ("Team A scoring", "Scores.")


def test_injection_through_set_stays_a_literal_string(run):
    evil = '"}, "Actions": ["*"]'
    r = run("render", "online-endpoint-scoring", "-s", SUB, "--set", f"name={evil}", "--set", f"description={evil}")
    assert r.exit_code == 0
    doc = r.json()
    assert doc["Name"] == evil and doc["Description"] == evil
    assert doc["Actions"] == [f"{ML}/*/action"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("online-endpoint-scorin", "-s", SUB), "online-endpoint-scoring"),  # suggests the closest name
        (("online-endpoint-scoring",), "subscription"),
        (("online-endpoint-scoring", "-s", "1234"), "GUID"),
        (("online-endpoint-scoring", "-s", SUB, "-g", "rg'x"), "resource group"),
        (("online-endpoint-scoring", "-s", SUB, "-g", "a/b"), "resource group"),
        (("online-endpoint-scoring", "-s", SUB, "-g", "r" * 91), "resource group"),
        (("online-endpoint-scoring", "-g", "ml-rg"), "subscription"),
        (("online-endpoint-scoring", "-s", SUB, "-m", "mg"), "not both"),
        (("online-endpoint-scoring-strict", "-s", SUB, "--set", "auth_mode=basic"), "auth_mode"),
        (("online-endpoint-scoring", "-s", SUB, "--set", "nmae=x"), "nmae"),
        (("online-endpoint-scoring", "-s", SUB, "--set", "novalue"), "key=value"),
        (("online-endpoint-scoring", "-s", SUB, "--set", "name=" + "n" * 513), "512"),
        (("online-endpoint-scoring", "-s", SUB, "-m", "bad/mg"), "management"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_3(run, args, needle):
    r = run("render", *args)
    assert r.exit_code == 3
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_usage_errors_exit_2(run):
    assert run("render").exit_code == 2
    assert run("render", "x", "--format", "yaml").exit_code == 2
    assert run("render", "x", "--roles", "roles/online-endpoints.yaml").exit_code == 2


def test_output_file_is_written_atomically(run, tmp_path):
    out = tmp_path / "role.json"
    r = run("render", "online-endpoint-scoring", "-s", SUB, "-o", out)
    assert r.exit_code == 0 and r.stdout == ""
    assert json.loads(out.read_text())["Name"] == "Custom role for scoring - online endpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["role.json"]


def test_output_into_missing_directory_fails_cleanly(run, tmp_path):
    r = run("render", "online-endpoint-scoring", "-s", SUB, "-o", tmp_path / "missing" / "role.json")
    assert r.exit_code == 3 and "does not exist" in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only directories")
def test_output_into_read_only_directory_fails_cleanly(run, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    r = run("render", "online-endpoint-scoring", "-s", SUB, "-o", ro / "role.json")
    assert r.exit_code == 3 and "not writable" in r.stderr
    assert list(ro.iterdir()) == []


def test_output_into_read_only_directory_fails_cleanly_even_as_root(run, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(ro))
    r = run("render", "online-endpoint-scoring", "-s", SUB, "-o", ro / "role.json")
    assert r.exit_code == 3 and "not writable" in r.stderr
    assert list(ro.iterdir()) == []


# ----------------------------------------------------------------------------- user templates

GOOD = """{#---
summary: a team role
name: Team reader
description: Reads.
parameters:
  extra: {type: string, default: "Microsoft.Compute/virtualMachines/read", help: one more action}
---#}
{
  "Name": {{ name | tojson }},
  "IsCustom": true,
  "Description": {{ description | tojson }},
  "Actions": ["Microsoft.Resources/subscriptions/resourceGroups/read", {{ extra | tojson }}],
  "AssignableScopes": {{ assignable_scopes | tojson }}
}
"""


def write_template(d, name, text):
    d.mkdir(exist_ok=True)
    (d / f"{name}.json.j2").write_text(text)
    return d


def test_team_template_directory_adds_templates(run, tmp_path):
    d = write_template(tmp_path / "tpl", "team-reader", GOOD)
    r = run("render", "team-reader", "-s", SUB, "--templates", d, "--set", "extra=Microsoft.Web/sites/read")
    assert r.exit_code == 0, r.stderr
    assert r.json()["Actions"][1] == "Microsoft.Web/sites/read"
    r = run("render", "team-reader", "-s", SUB, env={"RBACTOOL_TEMPLATES": str(d)})
    assert r.exit_code == 0
    listing = run("templates", "--format", "json", "--templates", d).json()
    names = [t["name"] for t in listing["templates"]]
    assert "team-reader" in names and "online-endpoint-scoring" in names
    (param,) = next(t for t in listing["templates"] if t["name"] == "team-reader")["parameters"]
    assert param["name"] == "extra" and param["required"] is False


@pytest.mark.parametrize(
    "body",
    [
        GOOD.replace("{{ extra | tojson }}", '"{{ extra }}"'),  # raw interpolation
        GOOD.replace('"IsCustom": true,', '"IsCustom": true'),  # invalid JSON
        GOOD.replace('"Actions"', '"Actoins"'),  # schema: unknown key
        GOOD.replace("{{ extra | tojson }}", "{{ nothing | tojson }}"),  # undefined variable
        GOOD.replace("{{ name | tojson }}", "{{ name | tojson }"),  # Jinja syntax error
        GOOD.replace("{#---", "{#"),  # no front matter
        GOOD.replace("parameters:", "parameters: [").replace("help: one more action}", "help: x}"),  # YAML
        GOOD.replace("{{ extra | tojson }}", '"Microsoft.Compute/virtualMachines/{{ extra | safe }}"'),  # |safe
        GOOD.replace("  extra: {type", "  1: {type"),  # a parameter name that is not an identifier
        GOOD.replace("parameters:\n  extra: {type: string, default: \"Microsoft.Compute/virtualMachines/read\", "
                     "help: one more action}", "parameters: [a, b]"),  # parameters not a mapping
        GOOD.replace("{{ extra | tojson }}", "{{ (1 / 0) | tojson }}"),  # template code that raises
    ],
)
def test_broken_templates_are_reported_as_the_templates_fault(run, tmp_path, body):
    d = write_template(tmp_path / "tpl", "team-reader", body)
    r = run("render", "team-reader", "-s", SUB, "--templates", d)
    assert r.exit_code == 3
    assert "team-reader" in r.stderr and r.stderr.count("\n") == 1
    assert r.stdout == ""


def test_templates_text_listing_names_every_shipped_template(run):
    r = run("templates")
    assert r.exit_code == 0
    for name in ("online-endpoint-control-plane", "online-endpoint-scoring", "online-endpoint-credentials",
                 "online-endpoint-scoring-strict"):
        assert name in r.stdout


def test_missing_templates_directory(run, tmp_path):
    r = run("render", "x", "-s", SUB, "--templates", tmp_path / "nope")
    assert r.exit_code in (2, 3)
