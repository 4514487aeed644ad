"""One validation gate: validate, create, plan and apply decide through rbactool.validate.gate,
with the same .rbactool.yaml (suppressions, severity overrides, fail_on), and say which config."""

from __future__ import annotations

import json

import pytest

from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

KEYS = ["Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/listKeys/action"]


def spec_text(sub: str, name: str = "Gate test key reader", actions=KEYS) -> str:
    return json.dumps({
        "version": 1, "name": "gate-test",
        "roles": [{"key": "keys", "definition": {
            "Name": name, "Description": "reads storage account keys", "IsCustom": True,
            "Actions": list(actions), "NotActions": [], "DataActions": [], "NotDataActions": [],
            "AssignableScopes": [f"/subscriptions/{sub}"]}}],
    })


@pytest.fixture
def gate_env(emulator, run, tmp_path, monkeypatch):  # noqa: F811
    """cwd = a project folder with spec.yaml; four(...) runs validate, plan, create and apply."""
    monkeypatch.chdir(tmp_path)
    sub = emulator.subscription_id
    (tmp_path / "spec.yaml").write_text(spec_text(sub))
    env = emulator.env()

    def four(*extra):
        emulator.reset()
        emulator.clear_requests()
        out = {
            "validate": run("validate", "--roles", "spec.yaml", "--format", "json", *extra, env=env),
            "plan": run("plan", "--roles", "spec.yaml", "-s", sub, "--format", "json", *extra, env=env),
            "create": run("create", "--roles", "spec.yaml", "--no-wait", *extra, env=env),
        }
        emulator.reset()
        out["apply"] = run("apply", "--roles", "spec.yaml", "-s", sub, "--auto-approve", "--format", "json",
                           *extra, env=env)
        return out

    four.dir = tmp_path
    four.emulator = emulator
    return four


def role_writes(emulator):  # noqa: F811
    return [r for r in emulator.requests() if r["method"] == "PUT"]


def assert_all_pass(results):
    for name, r in results.items():
        assert r.exit_code == 0, (name, r.stdout, r.stderr)


def assert_all_refuse(results, code):
    assert results["validate"].exit_code == 1
    assert code in {f["code"] for f in results["validate"].json()["findings"]}
    for name in ("plan", "create", "apply"):
        r = results[name]
        assert r.exit_code == 3, (name, r.stdout, r.stderr)
        assert code in r.stderr and r.stderr.splitlines()[-1].startswith("Error: "), (name, r.stderr)


def test_a_suppression_in_the_config_is_honoured_by_all_four(gate_env):
    (gate_env.dir / ".rbactool.yaml").write_text(
        "ignore:\n  - code: CREDENTIAL_EXPOSURE\n    role: Gate test*\n    reason: key rotation (SEC-1)\n")
    ok = gate_env("--fail-on", "security-warning")
    assert_all_pass(ok)
    assert ok["validate"].json()["suppressed"][0]["code"] == "CREDENTIAL_EXPOSURE"
    assert ok["apply"].json()["done"] == 1

    refused = gate_env("--fail-on", "security-warning", "--no-config")
    assert_all_refuse(refused, "CREDENTIAL_EXPOSURE")
    assert role_writes(gate_env.emulator) == []  # nothing reached Azure (apply ran last)
    assert "--force" in refused["create"].stderr.splitlines()[-1]


def test_the_same_spec_without_the_config_fails_all_four(gate_env):
    refused = gate_env("--fail-on", "security-warning")  # no .rbactool.yaml anywhere up from tmp_path
    assert_all_refuse(refused, "CREDENTIAL_EXPOSURE")


def test_a_severity_override_blocks_all_four(gate_env):
    sub = gate_env.emulator.subscription_id
    (gate_env.dir / "spec.yaml").write_text(spec_text(sub, name="Team Global Reader",
                                                      actions=["Microsoft.Storage/storageAccounts/read"]))
    assert_all_pass(gate_env())  # ENTRA_ROLE_NAME is a WARNING
    (gate_env.dir / ".rbactool.yaml").write_text("severity:\n  ENTRA_ROLE_NAME: error\n")
    assert_all_refuse(gate_env(), "ENTRA_ROLE_NAME")
    assert_all_pass(gate_env("--no-config"))


def test_fail_on_in_the_config_applies_and_the_flag_wins(gate_env):
    (gate_env.dir / ".rbactool.yaml").write_text("fail_on: security-warning\n")
    assert_all_refuse(gate_env(), "CREDENTIAL_EXPOSURE")
    assert_all_pass(gate_env("--fail-on", "error"))
    assert_all_pass(gate_env("--no-config"))


def test_config_given_with_dash_dash_config(gate_env, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cfg") / "team.yaml"
    elsewhere.write_text("fail_on: security-warning\n")
    assert_all_refuse(gate_env("--config", elsewhere), "CREDENTIAL_EXPOSURE")


def test_create_force_goes_on_despite_the_gate(gate_env, run):
    (gate_env.dir / ".rbactool.yaml").write_text("fail_on: security-warning\n")
    env = gate_env.emulator.env()
    r = run("create", "--roles", "spec.yaml", "--no-wait", "--force", env=env)
    assert r.exit_code == 0, r.stderr
    assert "--force: going on despite 1 finding(s)" in r.stderr
    assert len(role_writes(gate_env.emulator)) == 1


def test_every_command_names_the_config_it_used(gate_env):
    (gate_env.dir / ".rbactool.yaml").write_text(
        "fail_on: warning\nseverity:\n  ENTRA_ROLE_NAME: error\n"
        "ignore:\n  - code: CREDENTIAL_EXPOSURE\n    reason: by design\n")
    for name, r in gate_env("--fail-on", "error").items():
        line = next(x for x in r.stderr.splitlines() if x.startswith("using "))
        assert line.startswith("using config .rbactool.yaml (1 ignore, 1 severity override), fail-on error, "
                               "catalog packaged"), (name, line)
    for name, r in gate_env("--no-config").items():
        assert "using no config (--no-config), fail-on error" in r.stderr, name
    (gate_env.dir / ".rbactool.yaml").unlink()
    for name, r in gate_env().items():
        assert "using no config (no .rbactool.yaml found), fail-on error" in r.stderr, name


def test_plan_validates_each_role_once(gate_env, run, monkeypatch):
    """make_plan's diff needs the effective operations, not a second (and third) validation."""
    import rbactool.checks
    import rbactool.validate

    emu = gate_env.emulator
    env = emu.env()
    sub = emu.subscription_id
    emu.reset()
    assert run("apply", "--roles", "spec.yaml", "-s", sub, "--auto-approve", env=env).exit_code == 0
    (gate_env.dir / "spec.yaml").write_text(spec_text(sub, actions=KEYS[:1]))  # an update: old and new differ
    calls = []
    real = rbactool.checks.all_checks

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(rbactool.checks, "all_checks", counting)
    monkeypatch.setattr(rbactool.validate, "all_checks", counting)
    r = run("plan", "--roles", "spec.yaml", "-s", sub, "--format", "json", env=env)
    assert r.exit_code == 0, r.stderr
    assert r.json()["summary"]["update"] == 1
    assert len(calls) == 1


def test_gate_library_refuses_consistently():
    from rbactool.catalog import load_catalog
    from rbactool.config import Config
    from rbactool.model import Permission, RoleDefinition
    from rbactool.validate import ValidationRefused, gate

    role = RoleDefinition(name="k", permissions=(Permission(actions=tuple(KEYS)),),
                          assignable_scopes=("/subscriptions/11111111-2222-3333-4444-555555555555",))
    catalog = load_catalog()
    assert not gate([role], catalog, Config()).failed()
    report = gate([role], catalog, Config(), fail_on="SECURITY_WARNING")
    assert report.failed() and "CREDENTIAL_EXPOSURE" in report.codes
    with pytest.raises(ValidationRefused) as e:
        gate([role], catalog, Config(fail_on="SECURITY_WARNING"), refuse=True)
    assert e.value.report.failed() and e.value.exit_code == 3
