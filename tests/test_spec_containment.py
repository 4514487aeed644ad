"""A pull request's spec cannot make rbactool read files outside its repository: `file:` and
`templates:` paths, symlinks in the working tree and symlinks in a revision (`--roles --base`)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_diff_git import _clean_git_env, git  # noqa: F401 (an autouse fixture, and the git helper)

from conftest import SUB

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SECRET = "SECRET-HOST-FILE"
TEMPLATE = ('{#---\nname: T\ndescription: d\n---#}\n{"Name": {{ name | tojson }}, "IsCustom": true, '
            '"Description": "d", "Actions": ["Microsoft.Compute/virtualMachines/read"], '
            '"AssignableScopes": {{ assignable_scopes | tojson }}}\n')


@pytest.fixture
def outside(tmp_path) -> Path:
    """A role file outside the repository whose name must never appear in any output."""
    p = tmp_path / "outside" / "secret.json"
    p.parent.mkdir()
    p.write_text(json.dumps({"Name": SECRET, "IsCustom": True, "Description": "d",
                             "Actions": ["Microsoft.Compute/virtualMachines/read"],
                             "AssignableScopes": [f"/subscriptions/{SUB}"]}))
    return p


def spec(repo: Path, roles: list[dict], templates: list[str] | None = None) -> Path:
    doc = {"version": 1, "defaults": {"subscription": SUB}, "roles": roles}
    if templates:
        doc["templates"] = templates
    path = repo / "roles" / "spec.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


def refused(r, phrase: str) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 3, (r.exit_code, r.stderr)
    assert lines[-1].startswith("Error: ") and phrase in lines[-1] and "Traceback" not in r.stderr
    assert SECRET not in r.stdout + r.stderr


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_a_file_outside_the_repository_is_refused(run, repo, outside, how):
    target = os.path.relpath(outside, repo / "roles") if how == "relative" else str(outside)
    path = spec(repo, [{"key": "x", "file": target}])
    for args in (("validate", "--roles", path), ("render", "--roles", path), ("plan", "--roles", path)):
        refused(run(*args), "outside")


def test_a_symlinked_role_file_pointing_outside_is_refused(run, repo, outside):
    (repo / "roles").mkdir()
    (repo / "roles" / "legacy.json").symlink_to(outside)
    refused(run("validate", "--roles", spec(repo, [{"key": "x", "file": "legacy.json"}])), "outside")


def test_a_symlinked_template_pointing_outside_is_refused(run, repo, tmp_path):
    elsewhere = tmp_path / "outside-tpl" / "evil.json.j2"
    elsewhere.parent.mkdir()
    elsewhere.write_text(TEMPLATE)
    (repo / "tpl").mkdir()
    (repo / "tpl" / "evil.json.j2").symlink_to(elsewhere)
    refused(run("validate", "--roles", spec(repo, [{"key": "x", "template": "evil"}], ["../tpl"])), "outside")


def test_a_template_dir_outside_the_repository_is_refused(run, repo, tmp_path):
    (tmp_path / "outside-tpl").mkdir()
    (tmp_path / "outside-tpl" / "evil.json.j2").write_text(TEMPLATE)
    path = spec(repo, [{"key": "x", "template": "evil"}], [str(tmp_path / "outside-tpl")])
    refused(run("validate", "--roles", path), "outside")


def test_paths_inside_the_repository_still_work(run, repo, outside):
    (repo / "legacy").mkdir()
    shutil.copy(outside, repo / "legacy" / "role.json")
    (repo / "tpl").mkdir()
    (repo / "tpl" / "mine.json.j2").write_text(TEMPLATE)
    path = spec(repo, [{"key": "a", "file": "../legacy/role.json"}, {"key": "b", "template": "mine"}], ["../tpl"])
    r = run("render", "--roles", path, "--format", "az")
    assert r.exit_code == 0, r.stderr


def test_a_spec_at_a_revision_cannot_name_a_host_file(run, repo, outside):
    spec(repo, [{"key": "x", "file": os.path.relpath(outside, repo / "roles")}])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile")
    refused(run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD", "--no-findings"), "outside")


@pytest.mark.parametrize("link", ["../../../../../../etc/hostname", "/etc/hostname"])
def test_a_symlink_out_of_a_revision_is_one_line(run, repo, link):
    (repo / "tpl").mkdir()
    (repo / "tpl" / "evil.json.j2").symlink_to(link)
    spec(repo, [{"key": "x", "template": "evil"}], ["../tpl"])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile link")
    refused(run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD"), "refusing")
