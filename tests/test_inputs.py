"""rbactool.inputs: what each kind of argument names, in which order, and the errors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pytest

from conftest import SUB
from rbactool import inputs
from rbactool.errors import InputError, ParameterError, RoleFormatError
from rbactool.inputs import (
    BUILTIN,
    CREATE_KINDS,
    DIFF_KINDS,
    DIRECTORY,
    EXPLAIN_KINDS,
    FILE,
    PATTERN,
    PLACEHOLDER_SUBSCRIPTION,
    REVISION,
    STDIN,
    TEMPLATE,
    VALIDATE_KINDS,
    RenderOptions,
    classify,
    resolve,
)

READER_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def role(name: str, actions=("Microsoft.Storage/storageAccounts/read",)) -> dict:
    return {"Name": name, "IsCustom": True, "Description": "d", "Actions": list(actions), "NotActions": [],
            "DataActions": [], "NotDataActions": [], "AssignableScopes": [f"/subscriptions/{SUB}"]}


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RBACTOOL_TEMPLATES", raising=False)
    (tmp_path / "one.json").write_text(json.dumps(role("one")))
    (tmp_path / "two.json").write_text(json.dumps([role("two-a"), role("two-b")]))
    d = tmp_path / "dir" / "nested"
    d.mkdir(parents=True)
    (tmp_path / "dir" / "b.json").write_text(json.dumps(role("b")))
    (d / "a.json").write_text(json.dumps(role("a")))
    (d / "notes.txt").write_text("not a role")
    (tmp_path / "empty").mkdir()
    return tmp_path


def stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(("argument", "kinds", "kind"), [
    ("one.json", DIFF_KINDS, FILE),
    ("dir", DIFF_KINDS, DIRECTORY),
    ("dir", EXPLAIN_KINDS, None),  # explain takes no directory
    ("origin/main:roles/x.json", DIFF_KINDS, REVISION),
    ("origin/main:roles/x.json", EXPLAIN_KINDS, None),  # looks like a path: no such file
    ("online-endpoint-scoring", DIFF_KINDS, TEMPLATE),
    ("online-endpoint-scoring", VALIDATE_KINDS, None),
    ("Reader", DIFF_KINDS, BUILTIN),
    (READER_ID, EXPLAIN_KINDS, BUILTIN),
    ("SignalR/Web PubSub Contributor", EXPLAIN_KINDS, BUILTIN),  # a built-in name with a slash
    ("Microsoft.Storage/*/read", EXPLAIN_KINDS, PATTERN),
    ("*", EXPLAIN_KINDS, PATTERN),
    ("Microsoft.Storage/*/read", DIFF_KINDS, None),
    ("Reader", CREATE_KINDS, None),  # create makes custom roles only: Azure resolves built-ins
    ("missing.json", DIFF_KINDS, None),
    ("./missing", EXPLAIN_KINDS, None),
    ("-", VALIDATE_KINDS, STDIN),
    ("-", CREATE_KINDS, None),
])
def test_classify(files, argument, kinds, kind):
    assert classify(argument, kinds) == kind


def test_a_file_wins_over_a_template_of_the_same_name(files):
    (files / "online-endpoint-scoring").write_text(json.dumps(role("local")))
    assert classify("online-endpoint-scoring", DIFF_KINDS) == FILE
    assert [r.name for r in resolve("online-endpoint-scoring").roles] == ["local"]


# --------------------------------------------------------------------------- reading


def test_file_and_list_file(files):
    found = resolve("one.json")
    assert (found.kind, [r.name for r in found.roles], found.roles[0].source) == (FILE, ["one"], "one.json")
    assert found.single().name == "one"
    two = resolve("two.json")
    assert [r.name for r in two.roles] == ["two-a", "two-b"]
    with pytest.raises(RoleFormatError, match="two.json: expected one role definition, found 2"):
        two.single()


def test_directory_is_every_json_file_recursively_sorted(files):
    found = resolve("dir")
    assert found.kind == DIRECTORY
    assert [r.name for r in found.roles] == ["b", "a"]  # dir/b.json < dir/nested/a.json
    assert inputs.document_names(["one.json", "dir", "-"]) == ["one.json", "dir/b.json", "dir/nested/a.json", "-"]


def test_empty_directory_is_an_error(files):
    with pytest.raises(InputError, match="empty: directory contains no role files"):
        resolve("empty")
    with pytest.raises(InputError, match="directory contains no"):
        inputs.document_names(["empty"])


def test_stdin_is_read_once_by_the_stdin_reader(files, monkeypatch):
    stdin(monkeypatch, json.dumps(role("piped")))
    found = resolve("-")
    assert (found.kind, found.roles[0].name, found.roles[0].source) == (STDIN, "piped", "<stdin>")
    stdin(monkeypatch, "{}")
    doc = inputs.read_document("-")
    assert (doc.name, doc.where, doc.text) == ("-", "<stdin>", "{}")


def test_read_documents_keeps_the_text_as_read(files, monkeypatch):
    stdin(monkeypatch, '{"Name": "x"}')
    docs = inputs.read_documents(["one.json", "-"])
    assert [(d.name, d.where) for d in docs] == [("one.json", "one.json"), ("-", "<stdin>")]
    assert docs[0].text == (files / "one.json").read_text() and docs[1].text == '{"Name": "x"}'


def test_read_document_errors_are_role_format_errors(files):
    with pytest.raises(RoleFormatError, match="nope.json: no such file"):
        inputs.read_document("nope.json")
    with pytest.raises(RoleFormatError, match="is a directory"):
        inputs.read_document("dir")


def test_template_with_values_and_scope(files):
    found = resolve("online-endpoint-scoring-strict", DIFF_KINDS,
                    RenderOptions(set_values=("name=Mine",), scope={"subscription": SUB, "resource_group": "rg"}))
    assert found.kind == TEMPLATE
    [r] = found.roles
    assert r.name == "Mine" and r.assignable_scopes == (f"/subscriptions/{SUB}/resourceGroups/rg",)


def test_template_without_scope_uses_the_placeholder_subscription_unless_told_not_to(files):
    [r] = resolve("online-endpoint-scoring").roles
    assert r.assignable_scopes == (f"/subscriptions/{PLACEHOLDER_SUBSCRIPTION}",)
    with pytest.raises(ParameterError, match="missing scope"):
        resolve("online-endpoint-scoring", CREATE_KINDS, RenderOptions(placeholder=False))


def test_set_values_are_parsed_only_for_a_template(files):
    options = RenderOptions(set_values=("not-key-value",))
    assert resolve("one.json", DIFF_KINDS, options).roles  # a file ignores --set
    with pytest.raises(ParameterError, match="expected key=value"):
        resolve("online-endpoint-scoring", DIFF_KINDS, options)


def test_template_from_an_extra_directory(files):
    d = files / "tpl"
    d.mkdir()
    shipped = inputs.classify("online-endpoint-scoring", DIFF_KINDS)
    assert shipped == TEMPLATE
    import rbactool.render as rendering

    src = rendering.discover(rendering.template_dirs())["online-endpoint-scoring"]
    (d / "my-copy.json.j2").write_text(src.read_text())
    assert classify("my-copy", DIFF_KINDS) is None
    assert classify("my-copy", DIFF_KINDS, template_dirs=[d]) == TEMPLATE
    assert resolve("my-copy", DIFF_KINDS, RenderOptions(template_dirs=[d])).roles[0].source == "template:my-copy"


def test_builtin_by_name_and_guid(files):
    by_name = resolve("reader")  # case-insensitive
    by_id = resolve(READER_ID)
    assert by_name.kind == by_id.kind == BUILTIN
    assert by_name.roles[0].role_id == by_id.roles[0].role_id and not by_name.roles[0].is_custom


def test_pattern_is_returned_not_checked(files):
    found = resolve(" Microsoft.Storage/*/read ", EXPLAIN_KINDS)
    assert (found.kind, found.pattern, found.roles) == (PATTERN, "Microsoft.Storage/*/read", ())


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_revision(files, monkeypatch):
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                        *args], cwd=files, check=True, capture_output=True)

    git("init", "-q")
    git("add", "one.json")
    git("commit", "-q", "-m", "one")
    (files / "one.json").write_text(json.dumps(role("changed")))
    found = resolve("HEAD:one.json")
    assert (found.kind, found.roles[0].name, found.roles[0].source) == (REVISION, "one", "HEAD:one.json")
    with pytest.raises(InputError, match="does not exist|not exist|no such"):
        resolve("HEAD:missing.json")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("argument", ["missing.json", "roles/x.yaml", "./x", "/nowhere/x", "~/x"])
def test_path_like_arguments_are_no_such_file(files, argument):
    for kinds in (DIFF_KINDS, EXPLAIN_KINDS, CREATE_KINDS):
        with pytest.raises(InputError, match=f"^{argument}: no such file$"):
            resolve(argument, kinds)


def test_a_slash_is_a_path_for_create_but_not_for_diff(files):
    with pytest.raises(InputError, match="^roles/x: no such file$"):
        resolve("roles/x", CREATE_KINDS)
    with pytest.raises(InputError, match="'roles/x' is not"):
        resolve("roles/x", DIFF_KINDS)


def test_unknown_name_names_what_was_tried_and_the_closest(files):
    with pytest.raises(InputError) as e:
        resolve("Readr", DIFF_KINDS)
    assert str(e.value).startswith("'Readr' is not '-', a file, a directory, REV:path, a template")
    assert "or a built-in role (did you mean 'Reader'" in str(e.value)
    with pytest.raises(InputError, match="or a permission string"):
        resolve("nothing at all", EXPLAIN_KINDS)
    with pytest.raises(InputError, match=r"^'online-endpoint-scorin' is not a file or a template .*"
                                         r"\(did you mean 'online-endpoint-scoring'\?\)$"):
        resolve("online-endpoint-scorin", CREATE_KINDS)


def test_stdin_not_accepted(files):
    with pytest.raises(InputError, match="'-' is not a file or a template"):
        resolve("-", CREATE_KINDS)
