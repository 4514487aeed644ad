"""The library API: docs/api.md's examples run as written against the emulator, and the package
re-exports exactly the API's names without importing it (or azure.*) up front."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT
from rbactool.emulator.testing import emulator, emulator_server  # noqa: F401 (fixtures)

DOC = ROOT / "docs" / "api.md"


def examples() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), flags=re.S)
    assert len(blocks) >= 2
    return "\n".join(blocks)


def test_the_documented_examples_run_against_the_emulator(emulator, monkeypatch):  # noqa: F811
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)
    exec(compile(examples(), str(DOC), "exec"), {"__name__": "api_docs"})  # noqa: S102 - our own docs
    state = emulator.state()
    assert {r["roleName"] for r in state["customRoles"]} >= {"Custom role for scoring - online endpoint"}
    assert len(state["assignments"]) == 2  # the spec's two; the example's own one was unassigned


def test_package_reexports_the_api_lazily():
    import rbactool
    from rbactool import api

    assert sorted(rbactool._API) == sorted(api.__all__)
    for name in api.__all__:
        assert getattr(rbactool, name) is getattr(api, name) and getattr(api, name).__doc__
    code = "import sys, rbactool; print(sorted(m for m in sys.modules if m.startswith(('azure', 'rbactool.'))))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"  # nothing but the package itself until a name is used


def test_offline_api_imports_no_azure():
    code = ("import sys, rbactool; r = rbactool.render_template('online-endpoint-scoring', "
            "subscription='00000000-0000-0000-0000-000000000001'); rbactool.validate_roles([r]); "
            "rbactool.diff_roles(None, r); print([m for m in sys.modules if m.split('.')[0] == 'azure'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
