"""Output helpers: JSON-pointer positions (SARIF line numbers), text formatting."""

from __future__ import annotations

import json

from test_validate_helpers import VDATA

from rbactool.output import json_pointer_positions


def _walk(doc, ptr=""):
    yield ptr, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _walk(v, f"{ptr}/{k.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _walk(v, f"{ptr}/{i}")


def _value_at(text: str, line: int, col: int):
    offset = sum(len(x) + 1 for x in text.split("\n")[: line - 1]) + col - 1
    return json.JSONDecoder().raw_decode(text, offset)[0]


def test_every_value_gets_its_position():
    text = '{\r\n  "a/b": [1, {"c~d": "x\\"/y"}],\n  "e": {"f": [true, null, -1.5e3]}, "g": []\n}'
    positions = json_pointer_positions(text)
    doc = json.loads(text)
    for ptr, value in _walk(doc):
        assert ptr in positions, ptr
        assert _value_at(text, *positions[ptr]) == value, ptr


def test_positions_on_real_role_files():
    for path in (VDATA / "seeds").glob("*.json"):
        text = path.read_text()
        positions = json_pointer_positions(text)
        for ptr, value in _walk(json.loads(text)):
            assert _value_at(text, *positions[ptr]) == value, (path.name, ptr)


def test_malformed_text_gives_partial_positions_not_an_error():
    positions = json_pointer_positions('{"a": [1, 2')
    assert positions[""] == (1, 1)
    assert "/a/1" in positions
