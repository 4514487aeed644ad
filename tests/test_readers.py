"""The one JSON/YAML reader: limits, duplicate keys, pointers (rbactool.readers)."""

from __future__ import annotations

import pytest

from rbactool.errors import InputError
from rbactool.readers import MAX_DEPTH, clip, loads_json, loads_yaml


def refused(fn, text):
    with pytest.raises(InputError) as e:
        fn(text, "f.json")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("f.json: ")
    return msg


def test_deep_nesting_beyond_python_recursion_is_one_line():
    assert "nested deeper than 200 levels at line 1" in refused(loads_json, "[" * 5000 + "]" * 5000)


def test_nesting_just_past_the_limit_names_the_pointer():
    text = '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    msg = refused(loads_json, text)
    assert "nested deeper than 200 levels at /a/0/0/" in msg and msg.endswith("/0/0")
    assert len(msg) < 160  # the 400-character pointer is cut in the middle
    assert loads_json("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "ok") is not None


def test_duplicate_key_named_with_its_pointer():
    msg = refused(loads_json, '{"Permissions": [{"Actions": ["a"], "Actions": ["*"]}]}')
    assert "duplicate key 'Actions' at /Permissions/0/Actions" in msg


def test_duplicates_allowed_when_the_caller_reports_them():
    from rbactool.readers import duplicate_key

    doc = loads_json('{"a": 1, "a": 2}', "x", duplicates=False)
    assert doc == {"a": 2} and duplicate_key(doc) == ("/a", "a")


@pytest.mark.parametrize("text, part", [
    ("[" + "9" * 5000 + "]", "integer of 5,000 digits"),
    ('{"x": 1e999}', "too large"),
    ('{"x": NaN}', "NaN"),
])
def test_numbers_beyond_bounds(text, part):
    assert part in refused(loads_json, text)


def test_huge_string_not_echoed():
    msg = refused(loads_json, '{"x": "' + "A" * (1024 * 1024 + 1) + '"}')
    assert "the string at /x" in msg and len(msg) < 200


def test_yaml_duplicate_key_and_alias_bomb():
    assert "duplicate key 'fail_on'" in refused(loads_yaml, "fail_on: security-warning\nfail_on: none\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    assert "more than 1,000,000 values" in refused(loads_yaml, bomb)


def test_yaml_deep_nesting():
    assert "nested deeper" in refused(loads_yaml, "[" * 3000 + "]" * 3000)


def test_clip_cuts_long_values():
    assert len(clip("x" * 10_000)) < 100 and clip("ab") == "'ab'"


def test_every_duplicate_key_listed_with_its_pointer():
    from rbactool.readers import duplicate_keys

    doc = loads_json('{"a": 1, "a": 2, "b": [{"c": 1, "c": 2, "c": 3}], "a": 3}', "x", duplicates=False)
    assert duplicate_keys(doc) == [("/a", "a"), ("/b/0/c", "c")]


def test_pointer_with_a_huge_key_is_cut():
    key = "k" * 5000
    msg = refused(loads_json, f'{{"{key}": 1, "{key}": 2}}')
    assert "duplicate key 'kkkk" in msg and len(msg) < 250
