"""rbactool diff with git revisions: REV:path inputs and --roles SPEC --base REV, on a temporary
repository with two commits."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DATA, ROOT, SUB
from rbactool import gitio

DIFF = DATA / "diff"
ML = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
FOUR_ADDED = {
    f"{ML}/listkeys/action".lower(),
    f"{ML}/regeneratekeys/action".lower(),
    f"{ML}/token/action".lower(),
    f"{ML}/deployments/getlogs/action".lower(),
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(
        ["git", "-c", "user.name=rbactool tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false",
         *args],
        cwd=repo, capture_output=True, text=True, check=True,
    )
    return r.stdout


@pytest.fixture(autouse=True)
def _clean_git_env(monkeypatch, tmp_path):
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)
    # never discover a repository above the test's temporary directory
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """roles/scoring.json: strict in the first commit, wider in the second (HEAD)."""
    repo = tmp_path / "repo"
    (repo / "roles").mkdir(parents=True)
    git(repo, "init", "-q")
    shutil.copy(DIFF / "scoring-strict.json", repo / "roles" / "scoring.json")
    git(repo, "add", "roles/scoring.json")
    git(repo, "commit", "-q", "-m", "strict scoring role")
    shutil.copy(DIFF / "scoring-wider.json", repo / "roles" / "scoring.json")
    git(repo, "commit", "-q", "-am", "wider scoring role")
    monkeypatch.chdir(repo)
    return repo


def test_rev_path_inputs(run, repo):
    r = run("diff", "HEAD~1:roles/scoring.json", "HEAD:roles/scoring.json", "--format", "json",
            "--fail-on-new-access")
    assert r.exit_code == 1, r.stderr
    doc = r.json()
    assert doc["old"] == "HEAD~1:roles/scoring.json"
    [role] = doc["roles"]
    assert role["source"] == {"old": "HEAD~1:roles/scoring.json", "new": "HEAD:roles/scoring.json"}
    assert {op["name"].lower() for op in role["effective"]["added"]} >= FOUR_ADDED
    reverse = run("diff", "HEAD:roles/scoring.json", "HEAD~1:roles/scoring.json", "--format", "json",
                  "--fail-on-new-access")
    assert reverse.exit_code == 0 and reverse.json()["verdict"] == "removes access only"


def test_rev_path_against_working_tree(run, repo):
    r = run("diff", "HEAD:roles/scoring.json", "roles/scoring.json", "--format", "json", "--exit-code")
    assert r.exit_code == 0
    assert r.json()["roles"][0]["status"] == "unchanged"
    (repo / "roles" / "scoring.json").write_text((DIFF / "scoring-strict.json").read_text())
    r = run("diff", "HEAD:roles/scoring.json", "roles/scoring.json", "--format", "json", "--exit-code")
    assert r.exit_code == 1
    assert r.json()["verdict"] == "removes access only"


@pytest.mark.parametrize(("arg", "expect"), [
    ("no-such-branch:roles/scoring.json", "unknown git revision"),
    ("HEAD:roles/missing.json", "does not exist at revision"),
    ("HEAD:roles", "is a directory"),
    ("HEAD~5:roles/scoring.json", "unknown git revision"),
])
def test_bad_revision_or_path_exits_3(run, repo, arg, expect):
    r = run("diff", arg, "roles/scoring.json")
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ")
    assert expect in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_not_a_git_repository_exits_3(run, tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    r = run("diff", "HEAD:roles/scoring.json", DIFF / "scoring-strict.json")
    assert r.exit_code == 3
    assert "not in a git repository" in r.stderr
    r = run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD")
    assert r.exit_code == 3


def test_gitio_library(repo):
    assert gitio.split_rev_path("origin/main:roles/x.json") == ("origin/main", "roles/x.json")
    assert gitio.split_rev_path("roles/x.json") is None
    assert gitio.split_rev_path("C:\\roles\\x.json") is None
    text = gitio.read_at_revision("HEAD~1", "roles/scoring.json")
    assert json.loads(text)["Actions"] == [f"{ML}/score/action"]
    with pytest.raises(gitio.GitInputError):
        gitio.resolve_revision("--output=/tmp/x")


# --------------------------------------------------------------------------- --roles SPEC --base REV


SPEC = f"""version: 1
templates: [../team-templates]
defaults:
  subscription: {SUB}
  resource_group: ml-rg
roles:
  - key: scoring
    template: team-scoring
  - key: extra
    file: extra.json
"""


@pytest.fixture
def spec_repo(tmp_path, monkeypatch):
    """A spec whose template lives in the repository: strict at HEAD, the docs' wildcard role in the
    working tree (with another role name, so only the spec key pairs them)."""
    repo = tmp_path / "specrepo"
    (repo / "roles").mkdir(parents=True)
    (repo / "team-templates").mkdir()
    git(repo, "init", "-q")
    shipped = ROOT / "templates"
    (repo / "team-templates" / "team-scoring.json.j2").write_text(
        (shipped / "online-endpoint-scoring-strict.json.j2").read_text())
    (repo / "roles" / "spec.yaml").write_text(SPEC)
    extra = json.loads((DIFF / "endpoints-wildcard.json").read_text())
    (repo / "roles" / "extra.json").write_text(json.dumps(extra))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "spec with strict scoring")
    # working tree: the template becomes the wildcard one; extra.json gains NotActions
    (repo / "team-templates" / "team-scoring.json.j2").write_text(
        (shipped / "online-endpoint-scoring.json.j2").read_text())
    (repo / "roles" / "extra.json").write_text((DIFF / "endpoints-wildcard-notactions.json").read_text())
    monkeypatch.chdir(repo)
    return repo


def test_roles_spec_against_base(run, spec_repo):
    r = run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD", "--format", "json", "--fail-on-new-access")
    assert r.exit_code == 1, r.stderr
    doc = r.json()
    assert doc["counts"] == {"added": 0, "removed": 0, "changed": 2, "unchanged": 0}
    roles = {role["source"]["new"].rsplit("#", 1)[1]: role for role in doc["roles"]}
    scoring = roles["scoring"]
    assert scoring["literal"]["name"]["old"].endswith("(strict)")  # paired by spec key despite the rename
    assert {op["name"].lower() for op in scoring["effective"]["added"]} == FOUR_ADDED
    assert scoring["source"]["old"] == "HEAD:roles/spec.yaml#scoring"
    extra = roles["extra"]
    assert extra["verdict"] == "removes access only"
    assert len(extra["effective"]["removed"]) == 2


def test_roles_spec_base_equals_head_is_unchanged(run, spec_repo):
    r = run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD", "--head", "HEAD", "--format", "json",
            "--exit-code")
    assert r.exit_code == 0
    assert {role["status"] for role in r.json()["roles"]} == {"unchanged"}


def test_roles_spec_new_role_in_working_tree(run, spec_repo):
    (spec_repo / "roles" / "spec.yaml").write_text(
        SPEC + "  - key: strict2\n    template: team-scoring\n    values: {name: Second scoring role}\n")
    (spec_repo / "team-templates" / "team-scoring.json.j2").write_text(
        (ROOT / "templates" / "online-endpoint-scoring-strict.json.j2").read_text())
    r = run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["counts"]["added"] == 1
    assert doc["verdict"] == "grants new access"


def test_roles_spec_missing_at_base_exits_3(run, spec_repo):
    (spec_repo / "roles" / "new-spec.yaml").write_text(SPEC)
    r = run("diff", "--roles", "roles/new-spec.yaml", "--base", "HEAD")
    assert r.exit_code == 3
    assert "does not exist at revision" in r.stderr
    r = run("diff", "--roles", "roles/spec.yaml", "--base", "nope")
    assert r.exit_code == 3 and "unknown git revision" in r.stderr


def test_roles_spec_markdown(run, spec_repo):
    r = run("diff", "--roles", "roles/spec.yaml", "--base", "HEAD", "--format", "markdown")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("**rbactool diff: grants new access**")
