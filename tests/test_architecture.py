"""The shape of the package: a pure core that never imports azure.*, a CLI that starts fast."""

import ast
import subprocess
import sys

import pytest

from conftest import ROOT
from rbactool.cli import COMMANDS, cli

PKG = ROOT / "rbactool"
# The only places allowed to import azure.*: the Azure adapter (and the emulator's test helpers).
ALLOWED = ("azure.py", "azure_adapter.py", "adapter", "emulator/testing.py")


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_no_module_outside_the_adapter_imports_azure():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if any(rel == a or rel.startswith(a + "/") or rel.endswith("/" + a) for a in ALLOWED):
            continue
        offenders += [f"{rel}: {m}" for m in _imports(path) if m == "azure" or m.startswith("azure.")]
    assert offenders == []


@pytest.mark.parametrize("argv", [["--help"], ["render", "online-endpoint-scoring", "-s",
                                                 "11111111-2222-3333-4444-555555555555"]])
def test_offline_commands_do_not_import_azure(argv):
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['rbactool', *{argv!r}]\n"
        "try:\n    runpy.run_module('rbactool', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "bad = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.'))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_python_dash_m_works():
    r = subprocess.run([sys.executable, "-m", "rbactool", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "rbactool" in r.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name, run):
    cmd = cli.get_command(None, name)
    assert cmd is not None and cmd.help
    assert run(name, "--help").exit_code == 0


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in COMMANDS if f"rbactool {name}" not in readme]
    assert missing == []


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(["rendr"], "did you mean 'render'"), (["render"], "TEMPLATE"), (["render", "x", "--format", "yaml"], "--format"),
     (["assign", "-i", "x", "--role", "r", "--principal-type", "user"], "--principal-type"),
     (["validate", "--nope"], "--nope")],
)
def test_usage_errors_are_one_line_with_exit_2(run, argv, needle):
    r = run(*argv)
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1 and needle in r.stderr
    assert "-h')" in r.stderr
