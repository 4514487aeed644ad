"""The sandbox bounds a result before it is computed, and a template's size before it is compiled.

A result that grows with separator length x item count (``join``), with the number of matches
(``replace``) or with an argument (``round``'s ``10 ** precision``) is refused from its arguments,
before Python builds it: the render clock cannot stop one long C call. Each case runs the real CLI
in a child process, whose peak memory is measured (``RUSAGE_CHILDREN`` of a wrapper process that
runs nothing else)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SUB
from rbactool import render as rendering

resource = pytest.importorskip("resource")

FRONT = "{#---\nname: x\ndescription: y\n---#}\n"
MAX_RSS_MB = 500

SPLIT_500K = '{% set l = (" " * 500000).split(" ") %}'
TEN_K = '{% set l = range(10000) | map("string") | list %}'
# name -> (template body, key phrase of the refusal)
BOMBS: dict[str, tuple[str, str]] = {
    # the review's repros
    "str-join-of-split": (SPLIT_500K + '{% set s = "x" * 6000 %}{{ s.join(l) | length | tojson }}', "refused"),
    "join-filter-of-split": ('{% set l = (" " * 400000).split(" ") %}{% set s = "x" * 2000 %}'
                             "{{ l | join(s) | length | tojson }}", "refused"),
    "replace-with-a-list": ('{{ ("a" * 20000) | replace("", range(10000) | list) | length | tojson }}', "'replace'"),
    # the same products from lists the item bound allows
    "str-join-10k": (TEN_K + '{{ ("x" * 60000).join(l) | length | tojson }}', "'join'"),
    "join-filter-10k": (TEN_K + '{{ l | join("x" * 60000) | length | tojson }}', "'join'"),
    "join-filter-int-separator": (TEN_K + "{{ l | join(10 ** 1200) | length | tojson }}", "'join'"),
    "replace-method-empty": ('{{ ("a" * 20000).replace("", "b" * 60000) | length | tojson }}', "'replace'"),
    "map-replace": (TEN_K + '{{ l | map("replace", "", "x" * 30000) | list | length | tojson }}', "'map'"),
    "str-join-of-dict-keys": ("{{ ('y' * 600000).join({'a': 1, 'b': 2, 'c': 3}.keys()) | length | tojson }}",
                              "'join'"),
    # item counts are bounded before a list is built
    "split-half-a-million": ('{{ ("a " * 500000).split() | length | tojson }}', "'split'"),
    "split-separator": ('{{ ("a," * 500000).split(",") | length | tojson }}', "'split'"),
    "splitlines": ('{{ ("\\n" * 1000000).splitlines() | length | tojson }}', "'splitlines'"),
    "list-of-a-string": ('{{ ("x" * 1000000) | list | length | tojson }}', "'list'"),
    "repeat-items": ("{{ ([1] * 100000) | length | tojson }}", "items"),
    # round computes 10 ** precision
    "round-floor": ('{{ 1 | round(100000000, "floor") | tojson }}', "'round'"),
    "round-common": ("{{ 5 | round(-100000000) | tojson }}", "'round'"),
}

MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)
print(json.dumps({"rc": p.returncode, "stderr": p.stderr, "stdout": p.stdout, "seconds": time.monotonic() - start,
                  "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def measured(*argv) -> dict:
    """Run rbactool in a grandchild; its exit code, output, wall time and peak RSS (MB)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RBACTOOL_TEMPLATES", "AZURE_SUBSCRIPTION_ID")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    p = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "rbactool", *map(str, argv)],
                       capture_output=True, text=True, timeout=90, env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    out["rss_mb"] = out["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return out


def template_dir(tmp_path: Path, name: str, body: str) -> Path:
    d = tmp_path / "t"
    d.mkdir(exist_ok=True)
    (d / f"{name}.json.j2").write_text(FRONT + body)
    return d


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_result_too_large_is_refused_before_it_is_built(tmp_path, name):
    body, phrase = BOMBS[name]
    d = template_dir(tmp_path, name, body)
    r = measured("render", name, "--templates", d, "-s", SUB)
    assert r["rc"] == 3, r
    assert r["stderr"].startswith("Error: ") and r["stderr"].count("\n") == 1, r["stderr"]
    assert f"'{name}'" in r["stderr"] and "refused" in r["stderr"] and phrase in r["stderr"], r["stderr"]
    assert r["stdout"] == ""
    assert r["rss_mb"] < MAX_RSS_MB, r


def test_templates_can_still_join_replace_split_and_round(tmp_path):
    body = """{%- set ops = "read write delete".split() -%}
{%- set name_parts = ["-".join(ops), ops | join(","), "a-b" | replace("-", "+"), "x y".replace(" ", "_"),
                      2.567 | round(2) | string, "a\\nb".splitlines() | length | string] -%}
{
  "Name": {{ name_parts | join(" ") | tojson }},
  "IsCustom": true,
  "Description": {{ ("Microsoft.Web/sites/read".split("/") | list | length) | string | tojson }},
  "Actions": {{ ops | map("lower") | map("replace", "", "") | list | sort | tojson }},
  "NotActions": [],
  "AssignableScopes": {{ assignable_scopes | tojson }}
}
"""
    d = template_dir(tmp_path, "fine", body)
    role = rendering.render_role(rendering.load_template("fine", [d]), subscription=SUB)
    assert role.name == "read-write-delete read,write,delete a+b x_y 2.57 2"
    assert role.description == "3"
    assert list(role.actions) == ["delete", "read", "write"]


@pytest.mark.parametrize("expression", [
    "name | center(100000000)", "name | wordwrap(5)", "name | indent(100000000)", "name | truncate(5)",
    "[1, 2] | batch(100000000) | list", "[1, 2] | slice(100000000) | list", "'%s' | format(name)",
    "name.center(100000000)", "name.ljust(100000000)", "name.zfill(100000000)", "name.expandtabs(100000000)",
    "'{}'.format(name)",
])
def test_size_multiplying_filters_and_methods_are_not_available(run, tmp_path, expression):
    d = template_dir(tmp_path, "multiply", "{{ (" + expression + ") | tojson }}")
    r = run("render", "multiply", "--templates", d, "-s", SUB)
    assert r.exit_code == 3 and r.stderr.count("\n") == 1 and "not available" in r.stderr, r.stderr


# --------------------------------------------------------------------------- compiling


def _hostile(kind: str) -> str:
    if kind == "many-tags":  # 3,000 tags in 90 KB
        return "{% macro m0() %}{% endmacro %}" * 1500
    if kind == "many-tokens":  # one tag, 20,000 tokens
        return "{{ 1 | default(" + ",".join(["1"] * 10000) + ") | tojson }}"
    if kind == "big-file":  # the review's 839 KB of macros
        return "{% macro m0() %}{% endmacro %}" * 25000
    if kind == "big-front-matter":
        return ""
    raise AssertionError(kind)


COMPILE_CASES = {"many-tags": "Jinja tags (", "many-tokens": "tokens inside its Jinja tags", "big-file": "byte limit",
                 "big-front-matter": "the front matter is"}


def _compile_bomb(tmp_path: Path, kind: str) -> Path:
    d = tmp_path / "t"
    d.mkdir()
    front = FRONT
    if kind == "big-front-matter":
        front = FRONT.replace("description: y\n", "description: y\nparameters:\n" + "".join(
            f"  p{i}: {{type: string, default: a, help: h}}\n" for i in range(2000)))
    (d / f"{kind}.json.j2").write_text(front + _hostile(kind))
    (d / "good.json.j2").write_text((ROOT / "templates" / "online-endpoint-credentials.json.j2").read_text())
    (d / "spec.yaml").write_text(f"version: 1\nname: s\ntemplates: [.]\ndefaults: {{subscription: {SUB}}}\n"
                                 f"roles:\n  - key: a\n    template: {kind}\n")
    return d


@pytest.mark.parametrize("kind", list(COMPILE_CASES))
@pytest.mark.parametrize("command", ["render", "validate --roles", "templates"])
def test_a_template_too_large_to_compile_quickly_is_refused_before_compiling(tmp_path, kind, command):
    d = _compile_bomb(tmp_path, kind)
    argv = {"render": ["render", kind, "--templates", d, "-s", SUB],
            "validate --roles": ["validate", "--roles", d / "spec.yaml", "--no-config"],
            "templates": ["templates", "--templates", d, "--format", "json"]}[command]
    r = measured(*argv)
    assert r["rc"] == 3, r
    assert r["stderr"].startswith("Error: ") and r["stderr"].count("\n") == 1, r["stderr"]
    assert r["rss_mb"] < MAX_RSS_MB, r
    if command == "templates":
        listed = {t["name"]: t for t in json.loads(r["stdout"])["templates"]}
        assert listed["good"]["error"] is None
        error = listed[kind]["error"]
    else:
        error = r["stderr"]
    assert f"'{kind}'" in error and COMPILE_CASES[kind] in error, error


def test_the_shipped_templates_are_far_inside_the_compile_limits():
    for path in sorted((ROOT / "templates").glob("*.json.j2")):
        template = rendering._parse_front_matter(path.name, path, path.read_text())
        body = template.body
        assert body.count("{%") + body.count("{{") + body.count("{#") * 10 < rendering.MAX_TEMPLATE_TAGS
        assert rendering._code_tokens(body) * 10 < rendering.MAX_TEMPLATE_TOKENS
        assert path.stat().st_size * 10 < rendering.MAX_TEMPLATE_BYTES
