"""The emulator is a leaf: the core never imports it, and it never imports azure.*."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "rbactool"


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_only_the_command_imports_the_emulator():
    users = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith("emulator/") or rel == "commands/emulator.py":
            continue
        if any(m == "rbactool.emulator" or m.startswith("rbactool.emulator.") for m in _imports(path)):
            users.append(rel)
    assert users == []


def test_emulator_never_imports_azure():
    offenders = [
        f"{path.name}: {m}"
        for path in (PKG / "emulator").rglob("*.py")
        for m in _imports(path)
        if m == "azure" or m.startswith("azure.")
    ]
    assert offenders == []
