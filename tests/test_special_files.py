"""Inputs that are not regular files: a FIFO, a device or a dangling symlink is refused with one
line (exit 3), never read (a FIFO would block forever) and never skipped when a directory is
expanded. Commands run in a subprocess with a timeout, so a regression fails instead of hanging."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, SUB

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")

ROLE = DATA / "diff" / "scoring-strict.json"
FRONT = "{#---\nname: x\ndescription: y\n---#}\n"


def rbactool(*args, input=None, env=None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("RBACTOOL_TEMPLATES", "AZURE_SUBSCRIPTION_ID")}
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full.get("PYTHONPATH")]))
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "rbactool", *map(str, args)], capture_output=True, text=True,
                          timeout=30, env=full, input=input or "")


def one_error_line(r: subprocess.CompletedProcess, *phrases: str) -> None:
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    for phrase in phrases:
        assert phrase in r.stderr, r.stderr


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "role.json"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("argv", [
    ["validate", "{f}", "--no-config"],
    ["convert", "{f}"],
    ["explain", "{f}"],
    ["diff", "{f}", str(ROLE)],
    ["validate", "--roles", "{f}", "--no-config"],
    ["render", "--roles", "{f}"],
    ["validate", str(ROLE), "--config", "{f}"],
], ids=["validate", "convert", "explain", "diff", "validate-roles", "render-roles", "config"])
def test_a_fifo_given_as_input_is_refused_not_read(fifo, argv):
    r = rbactool(*[a.replace("{f}", str(fifo)) for a in argv])
    one_error_line(r, str(fifo), "not a regular file")


def test_standard_input_is_still_read(tmp_path):
    r = rbactool("validate", "-", "--no-config", input=ROLE.read_text())
    assert r.returncode in (0, 1), r.stderr


def test_a_character_device_is_refused(tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    one_error_line(rbactool("validate", "/dev/zero", "--no-config"), "not a regular file")


@pytest.mark.parametrize("bad", ["dangling", "fifo"])
@pytest.mark.parametrize("command", ["validate", "diff"])
def test_a_directory_with_a_json_that_is_not_a_regular_file_is_invalid_input(tmp_path, bad, command):
    d = tmp_path / "roles"
    (d / "sub").mkdir(parents=True)
    shutil.copy(ROLE, d / "a.json")
    bad_path = d / "sub" / "b.json"
    if bad == "dangling":
        bad_path.symlink_to(tmp_path / "nowhere.json")
    else:
        os.mkfifo(bad_path)
    (d / "dir.json").mkdir()  # a directory named *.json is walked, not an error
    shutil.copy(ROLE, d / "dir.json" / "c.json")
    argv = ["validate", d, "--no-config"] if command == "validate" else ["diff", d, d]
    if command == "diff":
        one_error_line(rbactool(*argv), str(bad_path))
    else:  # validate reports the file as one finding, checks the others, and exits 3 after all of it
        r = rbactool(*argv, "--format", "json")
        assert r.returncode == 3, r.stderr
        data = json.loads(r.stdout)
        assert [(f["code"], f["file"]) for f in data["findings"]] == [("FILE_UNREADABLE", str(bad_path))]
        assert data["summary"]["files"] == 3 and data["summary"]["roles"] == 2 and data["summary"]["unreadable"] == 1
        assert r.stderr.strip().splitlines()[-1].startswith(f"Error: {bad_path}: ") and "Traceback" not in r.stderr
    bad_path.unlink()
    r = rbactool(*argv)
    assert r.returncode in (0, 1), r.stderr
    if command == "validate":
        assert json.loads(rbactool(*argv, "--format", "json").stdout)["summary"]["files"] == 2


# --------------------------------------------------------------------------- templates


def _templates(tmp_path: Path, bad: str) -> Path:
    d = tmp_path / "t"
    d.mkdir()
    (d / "good.json.j2").write_text((ROOT / "templates" / "online-endpoint-credentials.json.j2").read_text())
    if bad == "dangling":
        (d / "x.json.j2").symlink_to(tmp_path / "nowhere.json.j2")
    else:
        os.mkfifo(d / "x.json.j2")
    (d / "spec.yaml").write_text(f"version: 1\nname: s\ntemplates: [.]\ndefaults: {{subscription: {SUB}}}\n"
                                 "roles:\n  - key: a\n    template: x\n")
    return d


@pytest.mark.parametrize("bad", ["dangling", "fifo"])
@pytest.mark.parametrize("argv", [
    ["render", "x", "--templates", "{d}", "-s", SUB],
    ["validate", "--roles", "{d}/spec.yaml", "--no-config"],
    ["render", "--roles", "{d}/spec.yaml", "-o", "{d}/out"],
    ["plan", "--roles", "{d}/spec.yaml"],
    ["explain", "x"],
], ids=["render", "validate-roles", "render-roles", "plan-roles", "explain"])
def test_a_template_that_is_not_a_regular_file_is_one_line(tmp_path, bad, argv):
    d = _templates(tmp_path, bad)
    argv = [a.replace("{d}", str(d)) for a in argv]
    r = rbactool(*argv, env={"RBACTOOL_TEMPLATES": str(d)} if argv[0] == "explain" else None)
    one_error_line(r, "'x'", str(d / "x.json.j2"))
    assert not (d / "out").exists()


@pytest.mark.parametrize("bad", ["dangling", "fifo"])
def test_templates_lists_a_template_that_is_not_a_regular_file_with_its_error(tmp_path, bad):
    d = _templates(tmp_path, bad)
    r = rbactool("templates", "--templates", d, "--format", "json")
    assert r.returncode == 3 and r.stderr.count("\n") == 1, r.stderr
    listed = {t["name"]: t for t in json.loads(r.stdout)["templates"]}
    assert listed["good"]["error"] is None
    assert ("no such file" if bad == "dangling" else "not a regular file") in listed["x"]["error"]
