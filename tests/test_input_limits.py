"""Input limits, through the CLI: every command that reads input refuses hostile JSON and YAML the
same way (rbactool.readers) -- exit 3, one ``Error:`` line naming the input, no traceback, nothing
written, nothing sent to Azure.

Hostile inputs: JSON nested 1,000 deep (2 KB) and 201 deep, a 5,000-digit integer, a second
"Actions" key, 17 MiB on standard input; YAML specs with a duplicate key, an alias bomb and deep
nesting; a file from a git revision (REV:path, --roles --base) with the same problems, or too big.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SUB
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

RG = f"/subscriptions/{SUB}/resourceGroups/rg1"
OK_ROLE = {
    "Name": "Limits test role", "IsCustom": True, "Description": "reads virtual machines",
    "Actions": ["Microsoft.Compute/virtualMachines/read"], "NotActions": [], "DataActions": [], "NotDataActions": [],
    "AssignableScopes": [RG],
}
_OK = json.dumps(OK_ROLE)
_HEAD = _OK[: _OK.index('"Actions"')]  # '{"Name": ..., "Description": ..., '

#: name -> (role-file text, the phrase the one error line holds)
HOSTILE_JSON = {
    "deep-1000": (_HEAD + '"Actions": ' + "[" * 1000 + "]" * 1000 + "}", "nested deeper than 200 levels"),
    "deep-201": (_HEAD + '"Actions": ' + "[" * 201 + "]" * 201 + "}", "nested deeper than 200 levels"),
    "int-5000": (_OK[:-1] + ', "Extra": ' + "9" * 5000 + "}", "integer of 5,000 digits"),
    "dup-actions": (_OK[:-1] + ', "Actions": ["*"]}', "duplicate key 'Actions' at /Actions"),
}
ROLE_CASES = list(HOSTILE_JSON)
#: JSON only a 17 MiB standard input can be: valid, so the refusal is the size limit.
BIG_STDIN = "[" + " " * (17 * 1024 * 1024) + "]"

_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
#: name -> (spec text, phrase)
HOSTILE_YAML = {
    "dup-key": ("version: 1\nroles: []\nassignments: []\nroles: []\n", "duplicate key 'roles'"),
    "alias-bomb": ("version: 1\nroles: []\nx:\n" + "".join("  " + line + "\n" for line in _BOMB.splitlines()),
                   "more than 1,000,000 values"),
    "deep-1000": ("version: 1\nroles: []\ndefaults: " + "[" * 1000 + "]" * 1000 + "\n", "nested deeper"),
    "deep-201": ("version: 1\nroles: []\ndefaults: " + "[" * 201 + "]" * 201 + "\n", "nested deeper than 200"),
}
SPEC_CASES = list(HOSTILE_YAML)


def refused(r, name: str | Path, phrase: str = "") -> str:
    """Exit 3, exactly one stderr line `Error: ...` naming the input, no traceback."""
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 3, (r.exit_code, r.stderr[:500])
    assert len(lines) == 1, r.stderr[:2000]
    assert lines[0].startswith("Error: ") and "Traceback" not in r.stderr
    assert str(name) in lines[0], lines[0]
    assert phrase in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]  # values echoed are cut to a prefix
    return lines[0]


@pytest.fixture
def hostile(tmp_path):
    """Write one hostile role file per case; returns name -> path."""
    out = {}
    for name, (text, _) in HOSTILE_JSON.items():
        p = tmp_path / f"{name}.json"
        p.write_text(text)
        out[name] = p
    (tmp_path / "ok.json").write_text(_OK)
    return out


def _spec_with_file(tmp_path: Path, role_file: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"version: 1\nroles:\n  - key: r\n    file: {role_file.name}\n")
    return spec


# --------------------------------------------------------------------------- role files, offline commands


@pytest.mark.parametrize("case", ROLE_CASES)
def test_render_convert_explain_diff_refuse_hostile_role_files(run, hostile, tmp_path, case):
    path, phrase = hostile[case], HOSTILE_JSON[case][1]
    ok = tmp_path / "ok.json"
    out = tmp_path / "out.json"
    refused(run("convert", path, "-o", out), path, phrase)
    assert not out.exists()
    refused(run("explain", path), path, phrase)
    refused(run("diff", ok, path), path, phrase)
    refused(run("diff", path, ok, "--format", "json"), path, phrase)
    spec = _spec_with_file(tmp_path, path)
    outdir = tmp_path / "rendered"
    outdir.mkdir()
    refused(run("render", "--roles", spec, "-o", outdir), path.name, phrase)
    assert list(outdir.iterdir()) == []


@pytest.mark.parametrize("case", [c for c in ROLE_CASES if c != "dup-actions"])
def test_validate_refuses_hostile_role_files(run, hostile, tmp_path, case):
    path, phrase = hostile[case], HOSTILE_JSON[case][1]
    refused(run("validate", path, "--format", "json"), path, phrase)
    folder = tmp_path / "dir" / "sub"
    folder.mkdir(parents=True)
    shutil.copy(path, folder / path.name)
    shutil.copy(tmp_path / "ok.json", folder.parent / "ok.json")
    # in a directory, the file is one FILE_UNREADABLE finding, the others are still checked, exit 3 after all
    r = run("validate", folder.parent, "--format", "json")
    assert r.exit_code == 3, r.stderr[:500]
    [f] = [f for f in r.json()["findings"] if f["code"] == "FILE_UNREADABLE"]
    assert f["file"] == str(folder / path.name) and phrase in f["message"] and len(f["message"]) < 400
    assert r.json()["summary"]["roles"] == 1 and r.json()["failed"] is True
    assert r.stderr.strip().splitlines()[-1].startswith(f"Error: {folder / path.name}: ")
    refused(run("validate", "-", input=path.read_text()), "<stdin>", phrase)
    refused(run("validate", "--roles", _spec_with_file(tmp_path, path)), path.name, phrase)


def test_validate_reports_a_duplicate_key_as_a_finding(run, hostile, tmp_path):
    """validate reads on: a duplicate key is a SECURITY_WARNING finding at its pointer (the az CLI sends the last
    value, ARM accepts it: what a reviewer reads is not what is sent); other files are still checked."""
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**OK_ROLE, "AssignableScopes": [RG + "/"]}))
    r = run("validate", hostile["dup-actions"], other, "--format", "json")
    assert r.exit_code == 1, r.stderr
    findings = r.json()["findings"]
    dup = [f for f in findings if f["code"] == "DUPLICATE_KEY"]
    assert len(dup) == 1 and dup[0]["type"] == "SECURITY_WARNING"
    assert dup[0]["file"].endswith("dup-actions.json") and dup[0]["pointer"] == "/Actions"
    # the last "Actions" (["*"]) is what the other checks see, and the other file is checked too
    assert {f["code"] for f in findings if f["file"].endswith("dup-actions.json")} >= {"DUPLICATE_KEY"}
    assert any(f["code"] == "SCOPE_TRAILING_SLASH" and f["file"].endswith("other.json") for f in findings)
    r = run("validate", "-", "--format", "json", "--fail-on", "security-warning", input=HOSTILE_JSON["dup-actions"][0])
    assert r.exit_code == 1 and "DUPLICATE_KEY" in {f["code"] for f in r.json()["findings"]}


@pytest.mark.parametrize("argv", [
    ("validate", "-"), ("convert", "-"), ("explain", "-"), ("diff", "{ok}", "-"),
], ids=lambda a: " ".join(a))
def test_17_mib_on_stdin_is_refused(run, hostile, tmp_path, argv):
    args = [str(tmp_path / "ok.json") if a == "{ok}" else a for a in argv]
    line = refused(run(*args, input=BIG_STDIN), "<stdin>", "larger than the 16,777,216-byte limit")
    assert "standard input" in line


@pytest.mark.parametrize("argv", [("validate", "-"), ("convert", "-"), ("diff", "{ok}", "-")],
                         ids=lambda a: " ".join(a))
@pytest.mark.parametrize("case", ["deep-1000", "int-5000"])
def test_hostile_json_on_stdin(run, hostile, tmp_path, argv, case):
    args = [str(tmp_path / "ok.json") if a == "{ok}" else a for a in argv]
    refused(run(*args, input=HOSTILE_JSON[case][0]), "<stdin>", HOSTILE_JSON[case][1])


def test_convert_of_an_empty_list_is_invalid_input(run, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]\n")
    out = tmp_path / "out.json"
    refused(run("convert", empty, "-o", out), empty, "empty list")
    assert not out.exists()
    refused(run("convert", "-", input='{"value": []}'), "<stdin>", "empty list")
    refused(run("convert", "--check", empty), empty, "empty list")


# --------------------------------------------------------------------------- YAML specs


@pytest.mark.parametrize("case", SPEC_CASES)
def test_hostile_specs_are_refused_offline(run, tmp_path, case):
    text, phrase = HOSTILE_YAML[case]
    spec = tmp_path / f"{case}.yaml"
    spec.write_text(text)
    outdir = tmp_path / "out"
    outdir.mkdir()
    refused(run("render", "--roles", spec, "-s", SUB, "-o", outdir), spec, phrase)
    assert list(outdir.iterdir()) == []
    refused(run("validate", "--roles", spec), spec, phrase)


@pytest.mark.parametrize("case", SPEC_CASES)
def test_hostile_specs_never_reach_azure(run, emulator, tmp_path, case):  # noqa: F811
    text, phrase = HOSTILE_YAML[case]
    spec = tmp_path / f"{case}.yaml"
    spec.write_text(text)
    env = emulator.env()
    emulator.clear_requests()
    refused(run("plan", "--roles", spec, "-s", emulator.subscription_id, env=env), spec, phrase)
    refused(run("apply", "--roles", spec, "-s", emulator.subscription_id, "--auto-approve", env=env), spec, phrase)
    refused(run("create", "--roles", spec, "--dry-run", env=env), spec, phrase)
    assert emulator.requests() == []


def test_hostile_template_file_too_big(run, tmp_path):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    big = tpl / "huge.json.j2"
    big.write_bytes(b"---\nsummary: x\n---\n" + b" " * (17 * 1024 * 1024))
    refused(run("render", "huge", "-s", SUB, "--templates", tpl), big, "larger than")


# --------------------------------------------------------------------------- Azure-facing commands


@pytest.mark.parametrize("case", ROLE_CASES)
def test_create_and_assign_refuse_hostile_role_files_before_any_request(run, emulator, hostile, case):  # noqa: F811
    path, phrase = hostile[case], HOSTILE_JSON[case][1]
    env = emulator.env()
    emulator.clear_requests()
    refused(run("create", path, "--dry-run", env=env), path, phrase)
    refused(run("create", path, env=env), path, phrase)
    refused(run("assign", "--identity", "22222222-2222-2222-2222-222222222222", "--role", path,
                "--scope", f"/subscriptions/{emulator.subscription_id}", env=env), path, phrase)
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []


# --------------------------------------------------------------------------- git revisions

git_missing = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


def _git_env(monkeypatch, ceiling: Path) -> None:
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(ceiling))


@pytest.fixture(scope="module")
def _hostile_repo(tmp_path_factory):
    """Built once per module (and per pytest-xdist worker): the tests only read it."""
    base = tmp_path_factory.mktemp("hostile-repo")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _git_env(monkeypatch, base)
        repo = base / "repo"
        (repo / "roles").mkdir(parents=True)
        (repo / "templates").mkdir()
        _git(repo, "init", "-q")
        for name, (text, _) in HOSTILE_JSON.items():
            (repo / "roles" / f"{name}.json").write_text(text)
        (repo / "roles" / "ok.json").write_text(_OK)
        (repo / "roles" / "huge.json").write_bytes(b"[" + b" " * (17 * 1024 * 1024) + b"]")
        (repo / "templates" / "huge.json.j2").write_bytes(b" " * (17 * 1024 * 1024))
        for name, (text, _) in HOSTILE_YAML.items():
            (repo / f"{name}.yaml").write_text(text)
        (repo / "spec.yaml").write_text(
            "version: 1\ntemplates: [templates]\nroles:\n  - key: r\n    file: roles/ok.json\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "hostile")
    return repo


@pytest.fixture
def repo(_hostile_repo, monkeypatch):
    """A repository whose HEAD holds every hostile role file, a hostile spec and a 17 MiB file."""
    _git_env(monkeypatch, _hostile_repo.parent)
    monkeypatch.chdir(_hostile_repo)
    return _hostile_repo


@git_missing
@pytest.mark.parametrize("case", ROLE_CASES)
def test_rev_path_refuses_hostile_role_files(run, repo, case):
    label = f"HEAD:roles/{case}.json"
    refused(run("diff", label, "roles/ok.json"), label, HOSTILE_JSON[case][1])


@git_missing
def test_rev_path_too_big_is_refused(run, repo):
    refused(run("diff", "HEAD:roles/huge.json", "roles/ok.json"), "HEAD:roles/huge.json", "larger than")


@git_missing
@pytest.mark.parametrize("case", SPEC_CASES)
def test_spec_at_a_revision_refuses_hostile_yaml(run, repo, case):
    spec = f"{case}.yaml"
    refused(run("diff", "--roles", spec, "--base", "HEAD"), spec, HOSTILE_YAML[case][1])


@git_missing
def test_snapshot_refuses_a_too_big_file_before_extracting(run, repo):
    """--roles --base extracts the spec's template directory: a 17 MiB template there is refused
    from git's listing, before `git archive` runs."""
    refused(run("diff", "--roles", "spec.yaml", "--base", "HEAD"), "templates/huge.json.j2", "larger than")


@git_missing
def test_git_output_is_read_bounded(repo):
    from rbactool import gitio

    with pytest.raises(gitio.GitInputError) as e:
        gitio._git_bounded(["cat-file", "blob", "HEAD:roles/huge.json"], repo, 1024, "HEAD:roles/huge.json")
    assert "larger than the 1,024-byte limit" in str(e.value)
    assert gitio._git_bounded(["cat-file", "blob", "HEAD:roles/ok.json"], repo, 1 << 20, "x") == _OK.encode()


# --------------------------------------------------------------------------- findings on hostile values


def _validate_json(run, *args, **kw):
    r = run("validate", *args, "--format", "json", **kw)
    assert r.exit_code in (0, 1), r.stderr
    return r, {(f["code"], f["type"], f["pointer"]) for f in r.json()["findings"]}


def test_trailing_slash_in_assignable_scopes_is_an_error_finding(run, tmp_path):
    p = tmp_path / "slash.json"
    p.write_text(json.dumps({**OK_ROLE, "AssignableScopes": [RG, f"/subscriptions/{SUB}/"]}))
    r, found = _validate_json(run, p)
    assert r.exit_code == 1
    assert ("SCOPE_TRAILING_SLASH", "ERROR", "/AssignableScopes/1") in found
    assert not any(code == "SCOPE_TRAILING_SLASH" and ptr == "/AssignableScopes/0" for code, _, ptr in found)


def test_trailing_slash_is_never_sent_to_azure(run, emulator, tmp_path):  # noqa: F811
    sub = emulator.subscription_id
    p = tmp_path / "slash.json"
    p.write_text(json.dumps({**OK_ROLE, "AssignableScopes": [f"/subscriptions/{sub}/"]}))
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"version: 1\nname: slash\nroles:\n  - key: r\n    file: {p.name}\n")
    env = emulator.env()
    emulator.clear_requests()
    r = run("create", p, env=env)
    assert r.exit_code == 3 and "SCOPE_TRAILING_SLASH" in r.stderr
    r = run("apply", "--roles", spec, "-s", sub, "--auto-approve", env=env)
    assert r.exit_code != 0 and "SCOPE_TRAILING_SLASH" in r.stderr
    assert [q for q in emulator.requests() if q["method"] != "GET"] == []


@pytest.mark.parametrize("name", ["Reader\u202e (custom)", "Line\nbreak", "Bell\x07", "Zero\u200bwidth", "Tab\tname"])
def test_control_characters_in_role_names_are_security_warnings(run, tmp_path, name):
    p = tmp_path / "role.json"
    p.write_text(json.dumps({**OK_ROLE, "Name": name}))
    r, found = _validate_json(run, p, "--fail-on", "security-warning")
    assert r.exit_code == 1 and ("NAME_CONTROL_CHARACTER", "SECURITY_WARNING", "/Name") in found
    [f] = [f for f in r.json()["findings"] if f["code"] == "NAME_CONTROL_CHARACTER"]
    assert name not in f["message"]  # the character itself is escaped in the message


def test_control_characters_in_descriptions_are_warnings(run, tmp_path):
    p = tmp_path / "role.json"
    p.write_text(json.dumps({**OK_ROLE, "Description": "reads VMs\x1b[8m and hides this"}))
    r, found = _validate_json(run, p, "--fail-on", "warning")
    assert r.exit_code == 1 and ("DESCRIPTION_CONTROL_CHARACTER", "WARNING", "/Description") in found
    p.write_text(json.dumps({**OK_ROLE, "Description": "line one\nline two\tand Lecteur privé"}))
    r, found = _validate_json(run, p, "--fail-on", "warning")
    assert not any(code.endswith("CONTROL_CHARACTER") for code, _, _ in found)


# --------------------------------------------------------------------------- specs without roles:


ASSIGNMENT_ONLY = """version: 1
name: readers
assignments:
  - role: Reader
    principal: {id: 22222222-2222-2222-2222-222222222222, type: User}
    scope: /subscriptions/SUB
"""


def test_a_spec_may_omit_roles(run, emulator, tmp_path):  # noqa: F811
    spec = tmp_path / "assignments.yaml"
    spec.write_text(ASSIGNMENT_ONLY.replace("SUB", emulator.subscription_id))
    r = run("validate", "--roles", spec, "--format", "json")
    assert r.exit_code == 0, r.stderr
    r = run("plan", "--roles", spec, "-s", emulator.subscription_id, "--format", "json", env=emulator.env())
    assert r.exit_code == 0, r.stderr
    assert r.json()["summary"]["create"] == 1
    r = run("render", "--roles", spec)
    assert r.exit_code == 0 and json.loads(r.stdout) == []


def test_a_spec_with_neither_roles_nor_assignments_is_refused(run, tmp_path):
    spec = tmp_path / "empty.yaml"
    spec.write_text("version: 1\nname: nothing\n")
    refused(run("validate", "--roles", spec), spec, "give 'roles'")


# --------------------------------------------------------------------------- diff output, caches, --persist


def test_diff_cuts_an_over_long_description(run, tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({**OK_ROLE, "Description": "A" * 900_000 + "x"}))
    new.write_text(json.dumps({**OK_ROLE, "Description": "A" * 900_000 + "y" + "B" * 50}))
    for fmt in ("text", "markdown"):
        r = run("diff", old, new, "--format", fmt)
        assert r.exit_code == 0 and len(r.stdout) < 5000, len(r.stdout)
        assert "900,001 -> 900,051 characters, first difference at character 900,001" in r.stdout
        assert "x" in r.stdout and "yBBB" in r.stdout  # the excerpt shows where they differ
    r = run("diff", old, new, "--format", "json")
    assert len(r.stdout) < 20_000
    desc = r.json()["roles"][0]["literal"]["description"]
    assert desc["truncated"] is True and (desc["old_length"], desc["new_length"]) == (900_001, 900_051)
    assert desc["new"].endswith("y" + "B" * 50) and len(desc["new"]) < 4200


def _public_cache_folder(cache):
    """A cache folder as `catalog refresh` against public Azure writes it, with its source record;
    its catalog files are then replaced by hostile bytes."""
    from rbactool.catalog import CACHED_OPERATIONS, CACHED_SOURCE, cache_folder, source_record
    from rbactool.catalog_build import build_operations, write_gz

    record = source_record(cloud="AzureCloud", endpoint="https://management.azure.com",
                           tenant="72f988bf-0000-0000-0000-000000000001", refreshed_at="2026-12-01T10:00:00Z")
    ops = [{"name": "Microsoft.Compute/virtualMachines/read", "isDataAction": False, "displayName": "Read",
            "description": "Read", "provider": "Microsoft.Compute", "source": "tenant-2026-12-01"}]
    doc = build_operations(ops, [], {"tenant-2026-12-01": {"date": "2026-12-01", "fresh": True, "what": "test"}})
    doc["refreshed_from"] = record
    folder = cache_folder("https://management.azure.com", record["tenant"], cache)
    write_gz(folder / CACHED_OPERATIONS, doc)
    (folder / CACHED_SOURCE).write_text(json.dumps(record))
    return folder


def test_a_hostile_catalog_cache_is_invalid_input(run, tmp_path, monkeypatch, hostile):
    import gzip

    from rbactool.catalog import _load

    cache = tmp_path / "cache"
    monkeypatch.setenv("RBACTOOL_CACHE_DIR", str(cache))
    ok = tmp_path / "ok.json"
    cached = _public_cache_folder(cache) / "operations.json.gz"
    for data, phrase in (
        (gzip.compress(b"[" * 1000 + b"]" * 1000), "nested deeper than 200"),
        (gzip.compress(b" " * (20 * 1024 * 1024)), "larger than"),  # a gzip bomb: 20 KB expanding to 20 MiB
        (b"\x1f\x8b not gzip", "not valid gzip"),
        (gzip.compress(b'{"schema_version": 1, "providers": 5}'), "catalog is malformed"),
    ):
        cached.write_bytes(data)
        _load.cache_clear()
        refused(run("validate", ok), "operations.json.gz", phrase)
    _load.cache_clear()
    refused(run("validate", ok, "--catalog", hostile["deep-1000"]), "deep-1000.json", "nested deeper than 200")


def test_a_hostile_builtin_roles_cache_is_invalid_input(run, tmp_path, monkeypatch):
    import gzip

    from rbactool.builtins import _load

    cache = tmp_path / "cache"
    monkeypatch.setenv("RBACTOOL_CACHE_DIR", str(cache))
    folder = _public_cache_folder(cache)
    (folder / "builtin-roles.json.gz").write_bytes(gzip.compress(b'{"roles": [' + b"9" * 5000 + b"]}"))
    _load.cache_clear()
    try:
        refused(run("explain", "Reader"), "builtin-roles.json.gz", "integer of 5,000 digits")
    finally:
        _load.cache_clear()


def test_a_hostile_emulator_persist_file_is_invalid_input(run, tmp_path):
    state = tmp_path / "state.json"
    state.write_text("[" * 1000 + "]" * 1000)
    refused(run("emulator", "--persist", state, "--state-dir", tmp_path / "certs", "--port", "0"), state,
            "nested deeper than 200")


def test_a_token_with_a_hostile_payload_does_not_crash_whoami(run, emulator):  # noqa: F811
    import base64

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    token = f"{b64(b'{}')}.{b64(b'[' * 2000 + b']' * 2000)}.sig"
    r = run("whoami", env={**emulator.env(), "RBACTOOL_ACCESS_TOKEN": token})
    assert r.exit_code in (0, 4) and "Traceback" not in r.stderr
    assert token not in r.stdout + r.stderr


# --------------------------------------------------------------------------- values echoed in messages are cut

LONG = "Microsoft.Compute/" + "x" * 500_000


def test_long_values_are_cut_in_finding_messages(run, tmp_path):
    p = tmp_path / "long.json"
    p.write_text(json.dumps({**OK_ROLE, "Actions": [LONG + "/read"], "AssignableScopes": [RG + "/" + "y" * 300_000],
                             LONG: 1}))
    r = run("validate", p, "--format", "json")
    assert r.exit_code == 1
    messages = [f["message"] for f in r.json()["findings"]]
    assert messages and all(len(m) < 1000 for m in messages), max(map(len, messages))
    r = run("validate", p)
    assert all(len(line) < 1200 for line in r.stdout.splitlines())


def test_long_values_are_cut_in_error_lines(run, tmp_path):
    p = tmp_path / "long.json"
    p.write_text(json.dumps({**OK_ROLE, LONG: 1}))
    refused(run("convert", p), p, "unknown field")
    spec = tmp_path / "long.yaml"
    spec.write_text(f"version: 1\nroles: []\n? {'k' * 500_000}\n: 1\n")
    refused(run("validate", "--roles", spec), spec, "unknown key 'kkkk")
    spec.write_text(f"version: 1\nassignments:\n  - role: {'R' * 500_000}\n    principal: {{id: x, type: User}}\n"
                    f"    scope: /subscriptions/{SUB}\n")
    refused(run("render", "--roles", spec), spec, "")
    config = tmp_path / ".rbactool.yaml"
    config.write_text(f"? {'z' * 500_000}\n: 1\n")
    refused(run("validate", "--config", config, tmp_path / "long.json"), config, "unknown key")
