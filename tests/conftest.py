"""Shared helpers for rbactool's tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rbactool.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SUB = "11111111-2222-3333-4444-555555555555"


def pytest_addoption(parser, pluginmanager):
    """pyproject's addopts ask pytest-xdist for one worker per CPU (-n, --maxprocesses, --dist).
    Without pytest-xdist (not installed, or `-p no:xdist`) accept those options and run the tests
    in one process: every test passes either way."""
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is not loaded: these options are accepted and ignored")
    # _addoption: pytest reserves lowercase short options for itself; pytest-xdist registers -n the same way
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None, metavar="numprocesses")
    group.addoption("--maxprocesses", dest="maxprocesses", default=None, metavar="maxprocesses")
    group.addoption("--dist", dest="dist", default="no", metavar="distmode")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test sees a catalog that `rbactool catalog refresh` cached on this machine."""
    monkeypatch.setenv("RBACTOOL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def builtin_roles_export(tmp_path_factory) -> Path:
    """The packaged built-in roles written back as the `az role definition list` export they were
    built from (928 roles, the same items sorted by name): no data from outside the repository."""
    import gzip

    from rbactool.catalog import packaged_data_path

    doc = json.loads(gzip.decompress(packaged_data_path("builtin-roles.json.gz").read_bytes()))
    path = tmp_path_factory.mktemp("builtins") / "built-in-roles-raw.json"
    path.write_text(json.dumps(doc["roles"], indent=2), encoding="utf-8")
    return path


class Run:
    def __init__(self, result):
        self.result = result
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def run(monkeypatch):
    """Invoke the CLI in-process: run("render", "x", env={...}) -> Run(exit_code, stdout, stderr)."""
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.delenv("RBACTOOL_TEMPLATES", raising=False)
    monkeypatch.delenv("RBACTOOL_CATALOG", raising=False)

    def _run(*args, env=None, input=None):
        result = CliRunner().invoke(cli, [str(a) for a in args], env=env, input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result)

    return _run
