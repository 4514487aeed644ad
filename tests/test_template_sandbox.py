"""Templates are untrusted input: a hostile-template corpus renders nowhere and exits 3 quickly,
through every command that renders; the shipped templates give no findings of their own."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, SUB
from rbactool import render as rendering
from rbactool.errors import TemplateError

FRONT = "{#---\nname: Hostile role\ndescription: d\n---#}\n"
# The hostile line is line 6 of every corpus file: 4 lines of front matter, then "{".
HOSTILE_LINE = 6
BIG_SET = "{% set x = 'abcdefghijklmnopqrstuvwxyz0123456789' %}" + "{% set x = x ~ x %}" * 22
NESTED_LITERALS = "{% set x = [name, name, name, name, name, name, name, name] %}" \
    + "{% set x = [x, x, x, x, x, x, x, x] %}" * 8
REPLACE_BOMB = "{% set x = name * 1000 %}" + "{% set x = x | replace(name, x) %}" * 3

# name -> (template line, key phrase of the refusal or None)
CORPUS: dict[str, tuple[str, str | None]] = {
    # attribute escapes
    "mro": ("{{ ''.__class__.__mro__[1].__subclasses__() | tojson }}", "'__class__'"),
    "cycler-globals": ("{{ cycler.__init__.__globals__.os.system('id') | tojson }}", "'__init__'"),
    "template-reference": ("{{ self._TemplateReference__context | tojson }}", "'_TemplateReference__context'"),
    "lipsum-globals": ("{{ lipsum.__globals__['os'].popen('id').read() | tojson }}", "'__globals__'"),
    "range-self": ("{{ range.__self__ | tojson }}", "'__self__'"),
    "config": ("{{ config.items() | tojson }}", "undefined"),
    "request": ("{{ request.application.__globals__ | tojson }}", "undefined"),
    "namespace": ("{% set ns = namespace(x=1) %}{{ ns.x | tojson }}", "undefined"),
    "namespace-assign": ("{% set ns = {} %}{% set ns.x = 1 %}{{ ns | tojson }}", None),
    "getitem-dunder": ("{{ name['__class__'] | tojson }}", "'__class__'"),
    "attr-filter": ("{{ ''|attr('__class__') | tojson }}", "filter 'attr'"),
    "map-attribute": ("{{ [''] | map(attribute='__class__') | list | tojson }}", "'__class__'"),
    "sort-attribute": ("{{ ['a'] | sort(attribute='__class__') | tojson }}", "'__class__'"),
    "format-method": ("{{ '{0.__class__}'.format(name) | tojson }}", "'format'"),
    "format-map": ("{{ '{0.__class__}'.format_map({'0': name}) | tojson }}", "'format_map'"),
    "format-filter": ("{{ '%s'|format(name) | tojson }}", "filter 'format'"),
    "percent-format": ("{{ ('%s' % name) | tojson }}", "'%'"),
    "percent-width": ("{{ ('%0999999999d' % 1) | tojson }}", "'%'"),
    "loop-internals": ("{% for x in [1] %}{{ loop._iterator | tojson }}{% endfor %}", "'_iterator'"),
    "macro-internals": ("{% macro m() %}{% endmacro %}{{ m.arguments | tojson }}", "of a Macro"),
    "str-method": ("{{ name.encode('utf-8') | tojson }}", "'encode'"),
    "raw-through-method": ("{{ (name | tojson).replace('a', 'b') }}", "tojson"),
    # file reads (there is no loader)
    "include": ("{% include '/etc/passwd' %}", "{% include %}"),
    "import": ("{% import '/etc/passwd' as p %}", "{% import %}"),
    "from-import": ("{% from '/etc/passwd' import x %}", "{% from ... import %}"),
    "extends": ("{% extends '/etc/passwd' %}", "{% extends %}"),
    # loops
    "range-huge": ("{% for i in range(10**9) %}{% endfor %}", "range()"),
    "nested-silent-loops": ("{% for a in range(9999) %}{% for b in range(9999) %}{% endfor %}{% endfor %}",
                            "longer than"),
    "nested-set-loops": ("{% for a in range(9999) %}{% for b in range(9999) %}{% set c = a %}{% endfor %}"
                         "{% endfor %}", "longer than"),
    "recursive-loop": ("{% for a in [[1]] recursive %}{{ loop([a]) | tojson }}{% endfor %}", "nested deeper"),
    "recursive-loop-wide": ("{% for a in [1, 2] recursive %}{% if loop.depth < 60 %}{{ loop([1, 2]) | tojson }}"
                            "{% endif %}{% endfor %}", "refused"),
    "macro-recursion": ("{% macro f(n) %}{{ f(n + 1) | tojson }}{% endmacro %}{{ f(0) | tojson }}",
                        "nested deeper"),
    "macro-fork": ("{% macro f(n) %}{% if n < 50 %}{{ f(n + 1) | tojson }}{{ f(n + 1) | tojson }}{% endif %}"
                   "{% endmacro %}{{ f(0) | tojson }}", "refused"),
    # huge output and values
    "huge-output": ("{% for a in range(9999) %}{% for b in range(9999) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxx' | tojson }}"
                    "{% endfor %}{% endfor %}", "refused"),
    "huge-macro-buffer": ("{% macro m() %}{% for a in range(9999) %}{% for b in range(9999) %}xxxxxxxxxxxxxxxxxxxx"
                          "{% endfor %}{% endfor %}{% endmacro %}{{ m() | tojson }}", "refused"),
    "string-multiplication": ("{{ ('a' * 10**9) | tojson }}", "repeating"),
    "list-multiplication": ("{{ ([name] * 10**9) | join | tojson }}", "repeating"),
    "list-of-big-strings": ("{{ ([name * 10000] * 1000) | join | tojson }}", "repeating"),
    "power-tower": ("{{ (10**10**10**10**10) | tojson }}", "bits"),
    "big-power": ("{{ (9 ** 999999) | tojson }}", "bits"),
    "concat-doubling": (BIG_SET + "{{ x | tojson }}", "'~'"),
    "nested-literals": (NESTED_LITERALS + "{{ x | tojson }}", "refused"),
    "replace-bomb": (REPLACE_BOMB + "{{ x | tojson }}", "'replace'"),
    "center": ("{{ name.center(1000000000) | tojson }}", "'center'"),
    "sum-lists": ("{{ [[1], [2]] | sum(start=[]) | tojson }}", "'sum'"),
    "deep-parentheses": ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " | tojson }}", None),
}

SLOW = {"nested-silent-loops", "nested-set-loops", "huge-output", "huge-macro-buffer", "macro-fork",
        "recursive-loop-wide"}


def hostile_dir(tmp_path: Path, name: str) -> Path:
    d = tmp_path / "hostile"
    d.mkdir(exist_ok=True)
    body, _ = CORPUS[name]
    (d / f"{name}.json.j2").write_text(FRONT + "{\n" + body + "\n}\n")
    (d / "spec.yaml").write_text(
        f"version: 1\nname: hostile\ntemplates: [.]\ndefaults: {{subscription: {SUB}}}\n"
        f"roles:\n  - key: hostile\n    template: {name}\n"
    )
    return d


def entry_point(kind: str, name: str, d: Path) -> tuple[list, dict]:
    if kind == "render":
        return ["render", name, "-s", SUB, "--templates", d, "-o", d / "out.json"], {}
    if kind == "render --roles":
        return ["render", "--roles", d / "spec.yaml", "-o", d], {}
    if kind == "validate --roles":
        return ["validate", "--roles", d / "spec.yaml", "--no-config"], {}
    if kind == "explain":
        return ["explain", name], {"RBACTOOL_TEMPLATES": str(d)}
    if kind == "diff":
        return ["diff", "online-endpoint-scoring", name, "--templates", d, "-s", SUB], {}
    if kind == "create --dry-run":
        return ["create", name, "--templates", d, "-s", SUB, "--dry-run"], {}
    raise AssertionError(kind)


ENTRY_POINTS = ("render", "render --roles", "validate --roles", "explain", "diff", "create --dry-run")


def _cases():
    for name in CORPUS:
        kinds = ENTRY_POINTS if name not in SLOW else ("render", "validate --roles")
        for kind in kinds:
            yield pytest.param(name, kind, id=f"{name}-{kind.replace(' ', '')}")


@pytest.mark.parametrize(("name", "kind"), list(_cases()))
def test_hostile_template_is_refused(run, tmp_path, name, kind):
    d = hostile_dir(tmp_path, name)
    argv, env = entry_point(kind, name, d)
    r = run(*argv, env=env)
    assert r.exit_code == 3, r.stderr
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert f"'{name}'" in r.stderr
    phrase = CORPUS[name][1]
    if phrase is not None:
        assert phrase in r.stderr
    assert r.stdout == ""
    assert sorted(p.name for p in d.iterdir()) == sorted([f"{name}.json.j2", "spec.yaml"])  # nothing written


@pytest.mark.parametrize("name", [n for n, (_, phrase) in CORPUS.items() if phrase and n != "deep-parentheses"])
def test_refusal_names_the_template_line(tmp_path, name):
    d = hostile_dir(tmp_path, name)
    template = rendering.load_template(name, [d])
    with pytest.raises(TemplateError) as e:
        rendering.render_text(template, subscription=SUB)
    assert f"line {HOSTILE_LINE}" in str(e.value)


def test_refusal_line_is_the_line_in_the_file(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    (d / "evil.json.j2").write_text(FRONT + '{\n  "Name": {{ name | tojson }},\n\n  "x": {{ name.__class__ | tojson }}\n}')
    with pytest.raises(TemplateError, match=r"'evil' .* line 8: refused: attribute '__class__'"):
        rendering.render_text(rendering.load_template("evil", [d]), subscription=SUB)
    (d / "evil.json.j2").write_text(FRONT + "{\n\n{{ name | tojson }\n}")
    with pytest.raises(TemplateError, match="syntax error at line 7"):
        rendering.render_text(rendering.load_template("evil", [d]), subscription=SUB)


def test_a_loop_in_a_worker_thread_stops_too(tmp_path):
    d = hostile_dir(tmp_path, "nested-silent-loops")
    template = rendering.load_template("nested-silent-loops", [d])
    tracer = sys.gettrace()

    def render():
        try:
            rendering.render_text(template, subscription=SUB)
        except TemplateError as e:
            return str(e), threading.current_thread() is threading.main_thread()
        return None, None

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: render(), range(2)))
    for message, in_main in results:
        assert message is not None and "longer than" in message and in_main is False
    assert sys.gettrace() is tracer  # the main thread's tracer (a debugger, coverage) is untouched


def test_templates_can_still_use_the_language(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    (d / "rich.json.j2").write_text(FRONT.replace("description: d\n", "description: d\nparameters:\n"
                                                  "  ops: {type: list, default: [read, write, read]}\n") + """\
{%- macro prefix() -%}Microsoft.Web/sites/{%- endmacro -%}
{%- set extra = {"delete": "Microsoft.Web/sites/delete"} -%}
{
  "Name": {{ (name.upper().replace("HOSTILE", "Friendly") ~ " " ~ (2 * 3 + 1) | string) | tojson }},
  "IsCustom": true,
  "Description": {{ (description ~ " (" ~ (ops | unique | sort | join(", ")) ~ ")") | tojson }},
  "Actions": [
{%- for op in ops | unique | sort %}
    {{ (prefix() ~ op | lower) | tojson }},
{%- endfor %}
{%- for item in ["config/read", "config/list/action"] if not item.startswith("x") %}
    {{ (prefix() ~ item) | tojson }},{% if loop.last %}{% endif %}
{%- endfor %}
    {{ extra.delete | tojson }},
    {{ (["Microsoft.Web/sites/restart/action"] + [])[0] | tojson }}{% for i in range(1) %}{% endfor %}
  ],
  "NotActions": [],
  "AssignableScopes": {{ assignable_scopes | tojson }}
}
""")
    role = rendering.render_role(rendering.load_template("rich", [d]), subscription=SUB)
    assert role.name == "Friendly ROLE 7"
    assert role.description == "d (read, write)"
    assert list(role.actions) == [
        "Microsoft.Web/sites/read", "Microsoft.Web/sites/write", "Microsoft.Web/sites/config/read",
        "Microsoft.Web/sites/config/list/action", "Microsoft.Web/sites/delete",
        "Microsoft.Web/sites/restart/action",
    ]


def test_one_environment_factory_and_it_is_the_sandbox():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = rendering._environment()
    assert isinstance(env, ImmutableSandboxedEnvironment)
    assert set(env.globals) == {"range"}
    assert "attr" not in env.filters and "format" not in env.filters and "tojson" in env.filters
    importers, factories = set(), set()
    for path in (ROOT / "rbactool").rglob("*.py"):
        rel = path.relative_to(ROOT / "rbactool").as_posix()
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "jinja2" or n.startswith("jinja2.") for n in names):
                importers.add(rel)
        if any(s in text for s in ("from_string(", "Environment(", "jinja2.Template(", "from_code(")):
            factories.add(rel)
    # jinja2 only in the renderer and the sandbox; templates are compiled in one place (render._compiled)
    assert importers == {"render.py", "sandbox.py"}
    assert factories == {"render.py"}
    assert (ROOT / "rbactool" / "render.py").read_text().count("from_code(") == 1


def test_a_huge_template_file_is_refused_before_it_is_read(run, tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    (d / "huge.json.j2").write_text(FRONT + "{" + " " * (2 * 1024 * 1024) + "}")
    r = run("render", "huge", "-s", SUB, "--templates", d)
    assert r.exit_code == 3 and "'huge'" in r.stderr and "byte limit" in r.stderr
    assert r.stderr.count("\n") == 1


# --------------------------------------------------------------------------- templates listing


def test_a_broken_template_is_listed_with_its_error_while_the_others_list(run, tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    good = (ROOT / "templates" / "online-endpoint-credentials.json.j2").read_text()
    (d / "team-good.json.j2").write_text(good)
    (d / "team-front.json.j2").write_text("{#---\nname: [\n---#}\n{}")
    (d / "team-syntax.json.j2").write_text(FRONT + "{{ name | tojson }\n")
    (d / "team-include.json.j2").write_text(FRONT + "{% include '/etc/passwd' %}\n")
    r = run("templates", "--templates", d)
    assert r.exit_code == 3
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert "3 of" in r.stderr and "team-front" in r.stderr and "team-syntax" in r.stderr
    for name in ("team-good", "online-endpoint-scoring", "online-endpoint-control-plane"):
        assert name in r.stdout
    assert "error:" in r.stdout and "refused: {% include %}" in r.stdout
    r = run("templates", "--templates", d, "--format", "json")
    assert r.exit_code == 3
    listed = {t["name"]: t for t in r.json()["templates"]}
    assert listed["team-good"]["error"] is None and listed["team-good"]["summary"]
    assert listed["online-endpoint-scoring-strict"]["parameters"][0]["name"] == "auth_mode"
    assert "front matter" in listed["team-front"]["error"]
    assert "syntax error at line 5" in listed["team-syntax"]["error"]
    assert "line 5: refused" in listed["team-include"]["error"]
    assert run("templates").exit_code == 0


# --------------------------------------------------------------------------- diff --roles --base


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, capture_output=True, text=True, check=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("name", ["mro", "include", "nested-silent-loops"])
def test_a_hostile_template_at_the_base_revision_is_refused(run, tmp_path, monkeypatch, name):
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    repo = tmp_path / "repo"
    (repo / "tpl").mkdir(parents=True)
    body, _ = CORPUS[name]
    (repo / "tpl" / "team.json.j2").write_text(FRONT + "{\n" + body + "\n}\n")
    (repo / "spec.yaml").write_text(f"version: 1\nname: t\ntemplates: [tpl]\ndefaults: {{subscription: {SUB}}}\n"
                                    "roles:\n  - key: team\n    template: team\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "hostile")
    shutil.copy(ROOT / "templates" / "online-endpoint-credentials.json.j2", repo / "tpl" / "team.json.j2")
    monkeypatch.chdir(repo)
    r = run("diff", "--roles", "spec.yaml", "--base", "HEAD")
    assert r.exit_code == 3, r.stderr
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert "HEAD:" in r.stderr and "'team'" in r.stderr and f"line {HOSTILE_LINE}" in r.stderr
    assert r.stdout == ""


# --------------------------------------------------------------------------- shipped templates


CREDENTIAL = "CREDENTIAL_EXPOSURE"
# What each shipped template grants on purpose (its summary says so); nothing else may be found.
DELIBERATE = {
    "online-endpoint-control-plane": {(CREDENTIAL, "/Actions/3"), (CREDENTIAL, "/Actions/4"),
                                      (CREDENTIAL, "/Actions/5")},
    "online-endpoint-credentials": {(CREDENTIAL, "/Actions/0"), (CREDENTIAL, "/Actions/1")},
    "online-endpoint-scoring": {(CREDENTIAL, "/Actions/0"), ("NARROWER_THAN_WILDCARD", "/Actions/0")},
    "online-endpoint-scoring-strict": set(),
    "online-endpoint-scoring-strict?auth_mode=aml_token": {(CREDENTIAL, "/Actions/1")},
}


def _shipped_cases():
    for name, path in sorted(rendering.discover([rendering.shipped_templates_dir()]).items()):
        template = rendering.load_template(name, [path.parent])
        choices = [p for p in template.params if p.type == "choice"]
        combos = [{}]
        for p in choices:
            combos = [{**c, p.name: v} for c in combos for v in p.choices]
        for values in combos:
            for scope in ({"subscription": SUB}, {"subscription": SUB, "resource_group": "ml-rg"},
                          {"management_group": "mg-1"}):
                yield pytest.param(name, values, scope, id=f"{name}-{values}-{'-'.join(scope)}")


@pytest.mark.parametrize(("name", "values", "scope"), list(_shipped_cases()))
def test_shipped_templates_give_no_findings_of_their_own(name, values, scope):
    from rbactool.catalog import load_catalog
    from rbactool.validate import validate

    template = rendering.load_template(name, [rendering.shipped_templates_dir()])
    role = rendering.render_role(template, values, **scope)
    found = {(f.code, f.location.pointer) for f in validate(role, load_catalog()).findings}
    key = name + "".join(f"?{k}={v}" for k, v in values.items() if v == "aml_token")
    assert found == DELIBERATE[key]
    assert not any(code in ("CASE_MISMATCH", "UNKNOWN_OPERATION") for code, _ in found)


def test_every_shipped_template_is_covered():
    shipped = set(rendering.discover([rendering.shipped_templates_dir()]))
    assert shipped == {k.split("?")[0] for k in DELIBERATE}
