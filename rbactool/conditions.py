"""Azure ABAC conditions on role assignments: parse, and evaluate for one request.

Enough of the condition language (``conditionVersion`` 2.0) to decide what a delegation condition
allows: ``ActionMatches{'...'}``, ``SubOperationMatches{'...'}``, ``!``/``NOT``, ``AND``/``&&``,
``OR``/``||``, parentheses, and comparisons of ``@Request[...]``, ``@Resource[...]``,
``@Principal[...]`` and ``@Environment[...]`` attributes with the Guid, String and cross-product
(``ForAnyOfAnyValues:`` ...) operators. An attribute the request does not supply makes the
condition *not evaluable* (``NotEvaluable``): it is reported, never assumed true or false.

Hostile input is bounded: 8,192 characters (conditions longer than this are refused), 2,000
tokens, nesting 32.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rbactool.readers import clip

__all__ = ["ConditionError", "NotEvaluable", "Condition", "parse_condition", "evaluate"]

MAX_LENGTH = 8192
MAX_TOKENS = 2000
MAX_DEPTH = 32


class ConditionError(ValueError):
    """The condition cannot be parsed."""


class NotEvaluable(ValueError):
    """The condition needs an attribute the request does not supply (e.g. a blob path)."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<attr>@(?:Request|Resource|Principal|Environment|Subject)\[[^\]]{1,512}\])
  | (?P<punct>&&|\|\||[(){},!])
  | (?P<word>[A-Za-z0-9_.:\-/*]+)
""", re.VERBOSE)

_QUANTIFIERS = ("foranyofanyvalues", "forallofanyvalues", "foranyofallvalues", "forallofallvalues")


def _tokens(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"condition is {len(text):,} characters (at most {MAX_LENGTH:,})")
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConditionError(f"unexpected {clip(text[pos:pos + 20])} at character {pos + 1}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
            if len(out) > MAX_TOKENS:
                raise ConditionError(f"condition has more than {MAX_TOKENS:,} tokens")
    return out


@dataclass(frozen=True)
class _Not:
    operand: object


@dataclass(frozen=True)
class _Bool:
    op: str  # "and" | "or"
    operands: tuple


@dataclass(frozen=True)
class _Action:
    kind: str  # "action" | "suboperation"
    pattern: str


@dataclass(frozen=True)
class _Compare:
    attribute: str  # e.g. "@request[microsoft.authorization/roleassignments:roledefinitionid]" (lower case)
    quantifier: str  # "" or one of _QUANTIFIERS
    operator: str  # lower case, e.g. "guidequals"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    text: str
    tree: object

    def attributes(self) -> set[str]:
        found: set[str] = set()

        def walk(node: object) -> None:
            if isinstance(node, _Compare):
                found.add(node.attribute)
            elif isinstance(node, _Not):
                walk(node.operand)
            elif isinstance(node, _Bool):
                for o in node.operands:
                    walk(o)

        walk(self.tree)
        return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.t = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ConditionError("condition ends too early" + (f" (expected {value!r})" if value else ""))
        if value is not None and tok[1].lower() != value.lower():
            raise ConditionError(f"expected {value!r}, got {clip(tok[1])}")
        self.i += 1
        return tok

    def expr(self) -> object:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"condition nests deeper than {MAX_DEPTH}")
        parts = [self.term()]
        while (tok := self.peek()) and tok[1].lower() in ("or", "||"):
            self.take()
            parts.append(self.term())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else _Bool("or", tuple(parts))

    def term(self) -> object:
        parts = [self.factor()]
        while (tok := self.peek()) and tok[1].lower() in ("and", "&&"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else _Bool("and", tuple(parts))

    def factor(self) -> object:
        kind, value = self.take()
        low = value.lower()
        if value == "!" or low == "not":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ConditionError(f"condition nests deeper than {MAX_DEPTH}")
            node = _Not(self.factor())
            self.depth -= 1
            return node
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        if low in ("actionmatches", "suboperationmatches"):
            self.take("{")
            kind2, pattern = self.take()
            if kind2 != "str":
                raise ConditionError(f"{value} needs a quoted string, got {clip(pattern)}")
            self.take("}")
            return _Action("action" if low == "actionmatches" else "suboperation", _unquote(pattern))
        if kind == "attr":
            return self.comparison(value)
        raise ConditionError(f"unexpected {clip(value)}")

    def comparison(self, attribute: str) -> _Compare:
        kind, op = self.take()
        if kind != "word":
            raise ConditionError(f"expected an operator after {clip(attribute)}, got {clip(op)}")
        quantifier, _, operator = op.lower().rpartition(":")
        if quantifier and quantifier not in _QUANTIFIERS:
            raise ConditionError(f"unknown operator {clip(op)}")
        values: list[str] = []
        if (tok := self.peek()) and tok[1] == "{":
            self.take()
            while True:
                k, v = self.take()
                if k not in ("str", "word"):
                    raise ConditionError(f"unexpected {clip(v)} in a value list")
                values.append(_unquote(v))
                k, v = self.take()
                if v == "}":
                    break
                if v != ",":
                    raise ConditionError(f"expected ',' or '}}' in a value list, got {clip(v)}")
        else:
            k, v = self.take()
            if k not in ("str", "word", "attr"):
                raise ConditionError(f"unexpected {clip(v)} after {clip(op)}")
            values.append(v.lower() if k == "attr" else _unquote(v))
        return _Compare(attribute.lower(), quantifier, operator, tuple(values))


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", s[1:-1])
    return s


def parse_condition(text: str) -> Condition:
    """Parse a condition; ConditionError (one line) when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("condition is empty")
    p = _Parser(_tokens(text))
    tree = p.expr()
    if p.peek() is not None:
        raise ConditionError(f"unexpected {clip(p.peek()[1])} after the end of the condition")
    return Condition(text, tree)


def _compare(operator: str, left: str, right: str) -> bool:
    op = operator
    negate = "notequals" in op or "notstartswith" in op or "notlike" in op
    base = op.replace("not", "", 1) if negate else op
    ignore_case = base.endswith("ignorecase") or base.startswith("guid")
    base = base.removesuffix("ignorecase")
    a, b = (left.lower(), right.lower()) if ignore_case else (left, right)
    if base == "guidequals" or base == "stringequals":
        result = a.strip("{}") == b.strip("{}") if base == "guidequals" else a == b
    elif base == "stringstartswith":
        result = a.startswith(b)
    elif base == "stringlike":
        result = fnmatch.fnmatchcase(a, b)
    else:
        raise NotEvaluable(f"operator {operator!r} is not evaluated by rbactool")
    return not result if negate else result


def _eval_compare(node: _Compare, attributes: Mapping[str, Sequence[str]]) -> bool:
    if node.attribute not in attributes:
        raise NotEvaluable(f"the condition reads {node.attribute}, which the request does not supply")
    left = list(attributes[node.attribute])
    right = list(node.values)
    if any(v.startswith("@") for v in right):
        raise NotEvaluable("comparisons between two attributes are not evaluated by rbactool")
    q = node.quantifier or "foranyofanyvalues"
    outer_all = q.startswith("forall")
    inner_all = q.endswith("allvalues")

    def inner(lv: str) -> bool:
        checks = (_compare(node.operator, lv, rv) for rv in right)
        return all(checks) if inner_all else any(checks)

    results = (inner(lv) for lv in left)
    return all(results) if outer_all else any(results)


def evaluate(condition: Condition, action: str, attributes: Mapping[str, Sequence[str]]) -> bool:
    """Whether *condition* allows a request for *action* with these attribute values (keys are
    lower-case attribute references such as ``@request[microsoft.authorization/roleassignments:
    roledefinitionid]``; values are lists). NotEvaluable when it needs anything else."""
    act = action.lower()

    def ev(node: object) -> bool:
        if isinstance(node, _Not):
            return not ev(node.operand)
        if isinstance(node, _Bool):
            values = (ev(o) for o in node.operands)
            return all(values) if node.op == "and" else any(values)
        if isinstance(node, _Action):
            if node.kind == "suboperation":
                return False  # role-assignment requests have no sub-operation
            return fnmatch.fnmatchcase(act, node.pattern.lower())
        if isinstance(node, _Compare):
            return _eval_compare(node, attributes)
        raise NotEvaluable("unknown condition node")

    return ev(condition.tree)
