import json

import pytest

from conftest import DATA

SEED = DATA / "seeds" / "custom-role-for-scoring.json"


def test_convert_az_to_arm_and_back(run, tmp_path):
    arm = run("convert", SEED, "--format", "arm")
    assert arm.exit_code == 0, arm.stderr
    doc = arm.json()
    assert doc["properties"]["roleName"] == "Custom role for scoring - online endpoint"
    f = tmp_path / "arm.json"
    f.write_text(arm.stdout)
    az = run("convert", f, "--format", "az").json()
    assert az["Actions"] == json.loads(SEED.read_text())["Actions"]
    assert az["Name"] == doc["properties"]["roleName"]


def test_check_reports_non_canonical_files(run, tmp_path):
    assert run("convert", "--check", SEED).exit_code == 1  # 4-space indent in the docs
    canonical = tmp_path / "c.json"
    canonical.write_text(run("convert", SEED).stdout)
    r = run("convert", "--check", canonical)
    assert r.exit_code == 0 and r.stderr == ""


def test_in_place_rewrites_only_changed_files(run, tmp_path):
    f = tmp_path / "r.json"
    f.write_text(SEED.read_text())
    assert run("convert", "--in-place", f).exit_code == 0
    assert run("convert", "--check", f).exit_code == 0


def test_stdin(run):
    r = run("convert", "-", "--format", "az-list", input=SEED.read_text())
    assert r.exit_code == 0
    assert r.json()["roleName"] == "Custom role for scoring - online endpoint"


def test_az_role_definition_list_export_converts(run, builtin_roles_export):
    r = run("convert", builtin_roles_export, "--format", "arm")
    assert r.exit_code == 0
    assert len(r.json()) == 928


@pytest.mark.parametrize(
    "content",
    ["", "not json", "42", '"x"', '{"Name": "n", "Actions": "Microsoft.Compute/*/read"}', '{"Name": "n", "Acts": []}'],
)
def test_bad_role_files_exit_3_with_one_line(run, tmp_path, content):
    f = tmp_path / "bad.json"
    f.write_text(content)
    r = run("convert", f)
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert str(f) in r.stderr
    assert r.stdout == ""


def test_fifty_megabyte_file_is_refused(run, tmp_path):
    f = tmp_path / "big.json"
    f.write_text('{"Name": "' + "x" * (50 * 1024 * 1024) + '"}')
    r = run("convert", f)
    assert r.exit_code == 3 and "limit" in r.stderr


def test_missing_file_and_directory(run, tmp_path):
    assert run("convert", tmp_path / "nope.json").exit_code == 3
    assert run("convert", tmp_path).exit_code == 3


def test_usage_errors(run, tmp_path):
    assert run("convert").exit_code == 2
    assert run("convert", SEED, SEED, "-o", tmp_path / "x.json").exit_code == 2
    assert run("convert", SEED, "--check", "--in-place").exit_code == 2
