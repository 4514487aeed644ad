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


# --------------------------------------------------------------------------- import cycles
#
# The import graph of rbactool/: one node per module (a package is its __init__), one edge per
# import statement that names another rbactool module. Every import counts, wherever it is:
# at module level, inside a function (a lazy import is still a dependency: it only moves the
# cost, not the coupling) and under ``if TYPE_CHECKING:`` (two modules that name each other's
# types know each other). ``from P import X`` is an edge to the module P.X when X is a
# submodule, else to P. A package's __init__ is not an implied dependency of its submodules
# (Python runs it first, but a submodule does not use it); re-exporting submodules from an
# __init__ is fine as long as no submodule imports names from that __init__.


def _module_name(path, root) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root=PKG) -> dict[str, set[str]]:
    """Module -> the rbactool modules it imports (see the rules above)."""
    paths = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in paths)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([base] if base else [])])
                for a in node.names:
                    if f"{base}.{a.name}" in paths:
                        deps.add(f"{base}.{a.name}")
                    elif base in paths:
                        deps.add(base)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted; a
    module importing itself is not counted. Iterative, so a deep graph cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return sorted(out)


def test_cycle_detector_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}, "g": {"g"}, "h": set()}
    assert cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    chain = {str(i): {str(i + 1)} for i in range(5000)} | {"5000": {"0"}}  # deep, and one big cycle
    assert [len(c) for c in cycles(chain)] == [5001]


def test_import_graph_reads_every_kind_of_import(tmp_path):
    pkg = tmp_path / "rbactool"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rbactool.b import B\n")
    (pkg / "b.py").write_text("def f():\n    from rbactool.sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("from rbactool.sub.c import C\n")
    (pkg / "sub" / "c.py").write_text("from .. import a\nimport rbactool.b\nfrom rbactool.sub import C\n")
    graph = import_graph(pkg)
    assert graph == {"rbactool": set(), "rbactool.a": {"rbactool.b"}, "rbactool.b": {"rbactool.sub.c"},
                     "rbactool.sub": {"rbactool.sub.c"},
                     "rbactool.sub.c": {"rbactool.a", "rbactool.b", "rbactool.sub"}}
    assert cycles(graph) == [["rbactool.a", "rbactool.b", "rbactool.sub", "rbactool.sub.c"]]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


COMMAND_MODULE_MAX_LINES = 150


def test_command_modules_stay_small():
    """Commands are click plumbing, one library call and formatting: domain logic lives in the core."""
    sizes = {p.name: len(p.read_text("utf-8").splitlines()) for p in (ROOT / "rbactool" / "commands").glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > COMMAND_MODULE_MAX_LINES} == {}


def test_commands_use_no_private_names_of_the_library():
    """A command may import what the library publishes, never a module's private helpers."""
    import ast

    offenders = []
    for path in (ROOT / "rbactool" / "commands").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rbactool") \
                    and not (node.module or "").startswith("rbactool.commands"):
                offenders += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


# What a command module may import from rbactool: the public API, the output (formatting)
# modules, the errors, and the shared click options in rbactool.commands. `rbactool emulator`
# also runs its own subsystem (rbactool.emulator.*).
COMMAND_IMPORTS = ("rbactool.api", "rbactool.output", "rbactool.diff_format", "rbactool.plan_format",
                   "rbactool.operations_format", "rbactool.access_format", "rbactool.usage_format",
                   "rbactool.errors", "rbactool.commands")
COMMAND_EXTRA_IMPORTS = {"emulator.py": ("rbactool.emulator",)}


def _rbactool_imports(path):
    """(line, module) for every import of an rbactool module, at any level (``from rbactool import
    x`` names rbactool.x)."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "rbactool")
        elif isinstance(node, ast.ImportFrom) and node.level:
            yield from ((node.lineno, f"rbactool.commands.{node.module or a.name}") for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rbactool":
            if node.module == "rbactool":
                yield from ((node.lineno, f"rbactool.{a.name}") for a in node.names)
            else:
                yield node.lineno, node.module


def test_commands_import_only_the_api_and_output_modules():
    """Commands call the library API plus output formatting, never the core modules behind it."""
    offenders = []
    for path in sorted((PKG / "commands").glob("*.py")):
        allowed = COMMAND_IMPORTS + COMMAND_EXTRA_IMPORTS.get(path.name, ())
        offenders += [f"{path.name}:{line}: {module}" for line, module in _rbactool_imports(path)
                      if not any(module == a or module.startswith(a + ".") for a in allowed)]
    assert offenders == []


def test_command_format_choices_are_the_models_shapes():
    """convert and render spell the role shapes out (rbactool.model is not theirs to import)."""
    from rbactool.commands import convert, render
    from rbactool.model import SHAPE_ARM, SHAPE_AZ, SHAPES

    assert convert.SHAPES == SHAPES and render.FORMATS == (SHAPE_AZ, SHAPE_ARM)
