"""Exit codes as documented: usage errors 2 (1 with plan --detailed-exitcode, Terraform's contract),
Ctrl-C 130, a confirmation that cannot be asked 2."""

from __future__ import annotations

import click
import pytest

from conftest import DATA, ROOT
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

SPEC = ROOT / "roles" / "online-endpoints.yaml"
SEED = DATA / "seeds" / "custom-role-for-scoring.json"


def one_error_line(stderr: str) -> bool:
    return stderr.startswith("Error: ") and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


@pytest.mark.parametrize("args", [
    ("plan",),  # --roles missing
    ("plan", "--roles", SPEC, "--bogus"),
    ("plan", "--roles", SPEC, "--fail-on", "sometimes"),
    ("plan", "--roles", SPEC, "--parallelism", "0"),
    ("plan", "--roles", SPEC, "extra-argument"),
])
def test_usage_errors_exit_2_and_1_with_detailed_exitcode(run, args):
    r = run(*args)
    assert r.exit_code == 2 and one_error_line(r.stderr), r.stderr
    r = run(*args, "--detailed-exitcode")
    assert r.exit_code == 1 and one_error_line(r.stderr), r.stderr


def test_detailed_exitcode_maps_group_level_usage_errors_and_input_errors_to_1(run, tmp_path):
    r = run("--bogus", "plan", "--roles", SPEC, "--detailed-exitcode")
    assert r.exit_code == 1 and one_error_line(r.stderr)
    assert run("--bogus", "plan", "--roles", SPEC).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nroles: 7\n")
    assert run("plan", "--roles", bad).exit_code == 3
    r = run("plan", "--roles", bad, "--detailed-exitcode")
    assert r.exit_code == 1 and one_error_line(r.stderr)
    # only plan's flag: another command's usage errors stay 2
    assert run("validate", "--detailed-exitcode", SEED).exit_code == 2


def test_ctrl_c_exits_130_with_one_line(run, monkeypatch):
    import rbactool.catalog

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rbactool.catalog, "load_source", interrupted)
    r = run("validate", SEED)
    assert r.exit_code == 130 and r.stderr.strip() == "Interrupted"
    r = run("plan", "--roles", SPEC, "--detailed-exitcode")  # an interrupt is not an error
    assert r.exit_code == 130


def test_an_aborted_prompt_exits_130(run, monkeypatch):
    import rbactool.catalog

    def aborted(*args, **kwargs):
        raise click.Abort

    monkeypatch.setattr(rbactool.catalog, "load_source", aborted)
    r = run("validate", SEED)
    assert r.exit_code == 130 and r.stderr.strip() == "Aborted"


def test_confirmations_that_cannot_be_asked_are_usage_errors(run, emulator):  # noqa: F811
    env = emulator.env()
    sub = emulator.subscription_id
    assert run("create", "online-endpoint-scoring", "-s", sub, "-g", "ml-rg", env=env).exit_code == 0
    assert run("assign", "-i", "99999999-1111-1111-1111-999999999999", "--principal-type", "User",
               "--role", "Custom role for scoring - online endpoint", "--scope",
               f"/subscriptions/{sub}/resourceGroups/ml-rg", env=env).exit_code == 0
    emulator.clear_requests()
    # CliRunner's stdin is not a terminal: nothing to ask, so no request either
    r = run("delete", "Custom role for scoring - online endpoint", "-s", sub, "--with-assignments", env=env)
    assert r.exit_code == 2 and one_error_line(r.stderr) and "--yes" in r.stderr
    assert emulator.requests() == []
    r = run("apply", "--roles", SPEC, "-s", sub, env=env)
    # the gate names its config (and its warnings) first; then exactly one Error line, the last
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error: ")]
    assert r.exit_code == 2 and len(errors) == 1 and r.stderr.strip().splitlines()[-1] == errors[0]
    assert "--auto-approve" in errors[0] and "Traceback" not in r.stderr
    assert [x for x in emulator.requests() if x["method"] != "GET"] == []
    r = run("delete", "Custom role for scoring - online endpoint", "-s", sub, "--with-assignments", "--yes", env=env)
    assert r.exit_code == 0, r.stderr
    assert emulator.state()["assignments"] == [] and emulator.state()["customRoles"] == []


@pytest.mark.parametrize("argv", [["templates", "-v"], ["templates", "-vv"], ["-v", "templates"],
                                  ["templates", "--verbose"]])
def test_verbose_is_accepted_after_the_command_too(run, argv):
    r = run(*argv)
    assert r.exit_code == 0, r.stderr
