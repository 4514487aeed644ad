"""The Jinja sandbox every template renders in. Templates are untrusted input.

A template may come from a pull request (``validate --roles`` and ``diff --roles --base`` render
the pull request's own templates in CI), so rendering one must not run code, read files, hang or
exhaust memory. On top of :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`:

* **Allowlists, not denylists.** The only globals are ``range`` (bounded); the only filters are
  the pure ones in :data:`FILTERS` plus rbactool's ``tojson``; attributes and methods are
  allowed only on ``str``, ``list``/``tuple``, ``dict`` and the loop variable, by name
  (:data:`ATTRIBUTES`); a name starting with ``_`` is always refused; the only things a
  template can call are its own macros, ``loop(...)`` of a recursive loop, ``range`` and the
  allowed methods. ``str.format``, ``%``-formatting of strings, ``{% include %}``,
  ``{% import %}``, ``{% from %}`` and ``{% extends %}`` are refused (there is no loader).
* **Bounds.** ``range`` yields at most :data:`MAX_RANGE` items; no value a template builds
  (literal, ``+``, ``*``, ``~``, a filter or method result) weighs more than
  :data:`MAX_VALUE` (characters plus items, counted through nested lists); integers stay below
  :data:`MAX_INT_BITS` bits; all text a render produces, macro output included, is at most
  :data:`MAX_OUTPUT` characters; macros and recursive loops nest at most :data:`MAX_DEPTH`
  deep; one render stops after :data:`MAX_SECONDS` of CPU time (its thread's); no value holds more
  than :data:`MAX_ITEMS` items (list elements and dict entries, through nesting).
* **Checked before computing.** The clock cannot stop one long C call, so an operation whose
  result can outgrow its inputs is refused from its arguments before Python builds it:
  ``str.join`` and the ``join`` filter (separator length x item count), ``str.replace`` and the
  ``replace`` filter (matches x replacement, any argument type), ``*`` and ``+`` of sequences,
  ``split``/``rsplit``/``splitlines`` and every list-making filter (item counts), ``round``
  (``10 ** precision``). A lazy filter result (``map``, ``select``, ...) is collected item by
  item and refused as soon as it is too large. Other results are at most a few times their
  (bounded) inputs and are checked right after.

The time bound is a per-thread deadline, checked from every sandbox hook and from a
``sys.settrace`` line tracer that only traces frames of compiled template code, so a silent
loop (``{% for a in range(9999) %}{% for b in range(9999) %}{% endfor %}{% endfor %}``) stops
too. Everything is per thread: renders in worker threads are bounded the same way.

A refusal raises :func:`refused_class` (a ``jinja2.sandbox.SecurityError``) at render time,
or :func:`refused_statement_class` (a ``TemplateAssertionError``) at compile time;
:func:`template_line` finds the template line of any render error.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sys
import threading
import time
from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from contextlib import contextmanager
from typing import Any

#: The filename of compiled template code (how the tracer and error messages find its frames).
TEMPLATE_FILENAME = "<rbactool-template>"
MAX_RANGE = 10_000
#: Items (list/tuple elements, dict entries, counted through nesting) in one value.
MAX_ITEMS = 10_000
MAX_VALUE = 1 << 20
#: Digits ``round`` may round to (``10 ** precision`` is computed).
MAX_ROUND_DIGITS = 64
MAX_OUTPUT = 1 << 20
MAX_INT_BITS = 4096
MAX_DEPTH = 64
MAX_SECONDS = 1.0

#: Jinja's built-in filters a template may use (pure, output bounded by input).
FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "groupby", "int",
    "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
    "replace", "reverse", "round", "select", "selectattr", "sort", "string", "sum", "title", "trim",
    "unique", "upper", "wordcount",
)
_STR_METHODS = frozenset({
    "lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith", "endswith",
    "split", "rsplit", "splitlines", "replace", "join", "count", "find", "rfind", "partition",
    "rpartition", "removeprefix", "removesuffix", "isdigit", "isalpha", "isalnum", "islower",
    "isupper", "isspace",
})
_LOOP_ATTRIBUTES = frozenset({
    "index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
    "previtem", "nextitem", "cycle", "changed",
})
#: Attributes (and methods) a template may use, by the type of the object.
ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    dict: frozenset({"items", "keys", "values", "get"}),
    list: frozenset({"index", "count"}),
    tuple: frozenset({"index", "count"}),
}
_PLAIN = (str, bytes, int, float, bool, type(None), list, tuple, dict, range)


class _State(threading.local):
    deadline: float | None = None
    output: int = 0
    depth: int = 0


_state = _State()


def _refusal(message: str) -> Exception:
    """The exception for a refusal (raise it)."""
    return refused_class()(message)


def _tick() -> None:
    deadline = _state.deadline
    if deadline is not None and time.thread_time() > deadline:
        _state.deadline = None  # report once; the render is being torn down
        raise _refusal(f"rendering took longer than {MAX_SECONDS:g} s of CPU time (a loop that does not end?)")


def measure(value: Any, limit: int = MAX_VALUE, what: str = "a value", *, items_limit: int = MAX_ITEMS
            ) -> tuple[int, int]:
    """(weight, items) of *value*: weight is characters plus items, items the list/tuple elements
    and dict entries, both through nested lists, tuples, dicts, ranges and dict views. Refused above
    *limit* / *items_limit*."""
    total = items = 0
    stack = [value]
    while stack:
        v = stack.pop()
        total += 1
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, (list, tuple, KeysView, ValuesView, ItemsView)):
            items += len(v)
            stack.extend(v)
        elif isinstance(v, dict):
            items += len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, range):
            items += len(v)
            total += len(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            total += v.bit_length() // 8
        if total > limit:
            raise _refusal(f"{what} would exceed {limit:,} characters/items")
        if items > items_limit:
            raise _refusal(f"{what} would hold more than {items_limit:,} items")
    return total, items


def weigh(value: Any, limit: int = MAX_VALUE, what: str = "a value") -> int:
    """Characters plus items of *value*, through nested lists/tuples/dicts; refused above *limit*
    (or above MAX_ITEMS items)."""
    return measure(value, limit, what)[0]


def _length(value: Any) -> int:
    """How many items iterating *value* yields (a string: its characters), without iterating."""
    try:
        return len(value)
    except TypeError:
        return 0  # not sized: iterating it is bounded by the value's own limits


def _check_count(n: int, what: str) -> None:
    if n > MAX_ITEMS:
        raise _refusal(f"{what} would make {n:,} items (at most {MAX_ITEMS:,})")


def _check_size(n: int, what: str) -> None:
    if n > MAX_VALUE:
        raise _refusal(f"{what} would make {n:,} characters (at most {MAX_VALUE:,})")


def _join_size(sep: str, items: Any) -> int | None:
    """The length of ``sep.join(items)``, or None when an item is not a string (join raises)."""
    if isinstance(items, str):
        return len(items) + len(sep) * max(len(items) - 1, 0)
    if not isinstance(items, (list, tuple)):
        items = list(items)  # a range, a dict or a dict view: bounded by its own size
    total = len(sep) * max(len(items) - 1, 0)
    for item in items:
        if not isinstance(item, str):
            return None
        total += len(item)
    return total


_LINE_BREAKS = ("\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_WORD = None


def _split_count(s: str, sep: Any = None, maxsplit: Any = -1) -> int:
    """How many pieces ``s.split(sep, maxsplit)`` makes (at most; counted, not built)."""
    global _WORD
    if sep is None:
        if _WORD is None:
            import re

            _WORD = re.compile(r"\S+")
        n = sum(1 for _ in itertools.islice(_WORD.finditer(s), MAX_ITEMS + 1))
    elif isinstance(sep, str) and sep:
        n = s.count(sep) + 1
    else:
        return 0  # split raises
    if _is_int(maxsplit) and maxsplit >= 0:
        n = min(n, maxsplit + 1)
    return n


def _arg(args: Any, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _check_method(owner: Any, name: str, args: tuple, kwargs: dict) -> None:
    """Refuse a string method whose result would be too large, before it is computed."""
    if not isinstance(owner, str):
        return
    if name == "join" and args:
        weigh(args[0], what="the input of 'join'")
        size = _join_size(owner, args[0])
        if size is not None:
            _check_size(size, "'join'")
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = _arg(args, kwargs, 2, "count", -1)
        _check_size(_replace_size(owner, args[0], args[1], count if _is_int(count) else None), "'replace'")
    elif name in ("split", "rsplit"):
        _check_count(_split_count(owner, _arg(args, kwargs, 0, "sep"), _arg(args, kwargs, 1, "maxsplit", -1)),
                     f"{name!r}")
    elif name == "splitlines":
        _check_count(sum(owner.count(c) for c in _LINE_BREAKS) + 1, "'splitlines'")


#: Filters that make a list of (at most) one item per input item.
_LIST_FILTERS = frozenset({"list", "unique", "sort", "dictsort", "items", "groupby", "map", "select", "reject",
                           "selectattr", "rejectattr", "reverse"})


def _check_filter(name: str, values: list, kwargs: dict) -> None:
    """Refuse a filter whose result would be too large, before it is computed."""
    if not values:
        return
    value = values[0]
    if name in _LIST_FILTERS or name in ("string", "join", "sum"):
        weigh(value, what=f"the input of '{name}'")
    if name in _LIST_FILTERS and not (name == "reverse" and isinstance(value, str)):
        _check_count(_length(value), f"{name!r}")
    if name == "join":
        sep = _arg(values, kwargs, 1, "d", "")
        weigh(sep, what="the separator of 'join'")
        sep = str(sep)
        # each item becomes text: a string as itself, anything else bounded by its weight (checked after)
        _check_size(weigh(value) + len(sep) * max(_length(value) - 1, 0), "'join'")  # weight >= text
    elif name == "replace" and len(values) >= 3:
        parts = []
        for v in values[:3]:
            weigh(v, what="an argument of 'replace'")
            parts.append(v if isinstance(v, str) else str(v))
        count = _arg(values, kwargs, 3, "count")
        _check_size(_replace_size(*parts, count if _is_int(count) else None), "'replace'")
    elif name == "sum":
        start = _arg(values, kwargs, 2, "start", 0)
        if not isinstance(start, (int, float)):
            raise _refusal("'sum' adds numbers only")
    elif name == "round":
        precision = _arg(values, kwargs, 1, "precision", 0)
        if _is_int(precision) and abs(precision) > MAX_ROUND_DIGITS:
            raise _refusal(f"'round' to {precision:,} digits (at most {MAX_ROUND_DIGITS})")


def _collect(iterator: Iterator, name: str) -> list:
    """A filter's lazy result as a list, refused as soon as it grows too large (``map`` of a
    filter that makes a big value from every item stops at the first items, not after all)."""
    out = []
    total = items = 0
    what = f"the result of '{name}'"
    for item in iterator:
        weight, inner = measure(item, what=what)
        total += weight
        items += inner + 1
        if total > MAX_VALUE:
            raise _refusal(f"{what} would exceed {MAX_VALUE:,} characters/items")
        if items > MAX_ITEMS:
            raise _refusal(f"{what} would hold more than {MAX_ITEMS:,} items")
        out.append(item)
    return out


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise _refusal(f"an integer would exceed {MAX_INT_BITS} bits")
    return value


def _plain(value: Any) -> Any:
    """Markup (other than tojson's own output) becomes plain text: only ``tojson`` marks JSON."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return str(value)
    return value


def safe_range(*args: int) -> range:
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise _refusal("range() takes integers")
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise _refusal(f"range() of {len(rng):,} items (at most {MAX_RANGE:,})")
    return rng


def _replace_size(s: str, old: str, new: str, count: int | None = None) -> int:
    n = (len(s) + 1) if not old else s.count(old)
    if count is not None and count >= 0:
        n = min(n, count)
    return len(s) + n * (len(new) - len(old))


def _wrap_filter(name: str, func: Callable) -> Callable:
    """A filter whose result is bounded: checked before it is computed where its size can be told
    from the arguments (``join``, ``replace``, the list-making filters, ``round``), and after."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _tick()
        values = [a for a in args if not _is_jinja_internal(a)]
        _check_filter(name, values, kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, Iterator):
            result = _collect(result, name)
        weigh(result, what=f"the result of '{name}'")
        return _check_int(_plain(result))

    return wrapper


def _is_jinja_internal(value: Any) -> bool:
    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

    return isinstance(value, (EvalContext, Context)) or getattr(value, "sandboxed", None) is True


def _allowed_attributes(obj: Any) -> frozenset[str]:
    from jinja2.runtime import LoopContext

    if isinstance(obj, LoopContext):
        return _LOOP_ATTRIBUTES
    for kind, names in ATTRIBUTES.items():
        if isinstance(obj, kind):
            return names
    return frozenset()


def _describe(obj: Any) -> str:
    return type(obj).__name__


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "**": operator.pow, "%": operator.mod,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _binop(op: str, left: Any, right: Any) -> Any:
    """An arithmetic operator, refused where the result would be huge (checked before computing)."""
    seqs = (str, list, tuple)
    if op == "%" and isinstance(left, str):
        raise _refusal("'%' formatting of strings is not available (use '~')")
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, seqs) and _is_int(n) and n > 0:
                weight, items = measure(seq)
                if (weight - 1) * n + 1 > MAX_VALUE:  # the copies' contents, in one container
                    raise _refusal(f"repeating a value {n:,} times would exceed {MAX_VALUE:,} characters/items")
                if items * n > MAX_ITEMS:
                    raise _refusal(f"repeating a value {n:,} times would exceed {MAX_ITEMS:,} items")
        if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _refusal(f"an integer would exceed {MAX_INT_BITS} bits")
    if op == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1 \
            and (left.bit_length() - 1) * right > MAX_INT_BITS:
        raise _refusal(f"an integer would exceed {MAX_INT_BITS} bits")
    if op == "+" and isinstance(left, seqs) and isinstance(right, seqs):
        (lw, li), (rw, ri) = measure(left), measure(right)
        if lw + rw > MAX_VALUE or li + ri > MAX_ITEMS:
            raise _refusal(f"'+' would exceed {MAX_VALUE:,} characters/items")
    return _check_int(_BINOPS[op](left, right))


def _concat(parts: tuple) -> str:
    """``a ~ b``: every part as text, the total bounded."""
    total = 0
    out = []
    for p in parts:
        if not isinstance(p, (str, int, float, bool, type(None))):
            weigh(p, what="a value joined with '~'")
        s = str(p)
        total += len(s)
        if total > MAX_VALUE:
            raise _refusal(f"'~' would exceed {MAX_VALUE:,} characters")
        out.append(s)
    return "".join(out)


def _count_output(text: Any) -> Any:
    """Every piece of text a template writes (also into macro and ``{% set %}`` buffers)."""
    _tick()
    _state.output += len(text)
    if _state.output > MAX_OUTPUT:
        raise _refusal(f"the template writes more than {MAX_OUTPUT:,} characters")
    return text


def _check_value(value: Any) -> Any:
    """A list, tuple or dict literal."""
    weigh(value)
    return value


@functools.lru_cache(maxsize=1)
def _classes():
    """The environment and code generator classes (jinja2 is imported on first use)."""
    from jinja2.compiler import CodeGenerator
    from jinja2.exceptions import TemplateAssertionError
    from jinja2.runtime import LoopContext, Macro, Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class Refused(SecurityError):
        """A template did something the sandbox does not allow."""

    class RefusedStatement(TemplateAssertionError):
        """A statement or filter the sandbox does not allow (found at compile time)."""

    class SandboxCodeGenerator(CodeGenerator):
        """Routes output, ``~`` and literals through the environment's bounds; refuses file access."""

        def _refuse_statement(self, node, what):
            raise RefusedStatement(f"refused: {what} (templates cannot read other files)", node.lineno,
                                   self.name, self.filename)

        def visit_Extends(self, node, frame):
            self._refuse_statement(node, "{% extends %}")

        def visit_Include(self, node, frame):
            self._refuse_statement(node, "{% include %}")

        def visit_Import(self, node, frame):
            self._refuse_statement(node, "{% import %}")

        def visit_FromImport(self, node, frame):
            self._refuse_statement(node, "{% from ... import %}")

        def visit_Filter(self, node, frame):
            if node.name not in self.environment.filters:
                raise RefusedStatement(f"refused: filter {node.name!r} is not available in templates",
                                       node.lineno, self.name, self.filename)
            super().visit_Filter(node, frame)

        def visit_Concat(self, node, frame):
            self.write("environment.rbactool_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

        def visit_List(self, node, frame):
            self.write("environment.rbactool_value(")
            super().visit_List(node, frame)
            self.write(")")

        def visit_Dict(self, node, frame):
            self.write("environment.rbactool_value(")
            super().visit_Dict(node, frame)
            self.write(")")

        def visit_Tuple(self, node, frame):
            if node.ctx != "load":
                super().visit_Tuple(node, frame)
                return
            self.write("environment.rbactool_value(")
            super().visit_Tuple(node, frame)
            self.write(")")

        def _output_const_repr(self, group):
            return f"environment.rbactool_output({super()._output_const_repr(group)})"

        def _output_child_pre(self, node, frame, finalize):
            self.write("environment.rbactool_output(")
            super()._output_child_pre(node, frame, finalize)

        def _output_child_post(self, node, frame, finalize):
            super()._output_child_post(node, frame, finalize)
            self.write(")")

    class TemplateSandbox(ImmutableSandboxedEnvironment):
        """rbactool's sandbox: allowlisted globals, filters, attributes and calls; bounded."""

        code_generator_class = SandboxCodeGenerator
        intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.globals.clear()
            self.globals["range"] = safe_range
            builtin = self.filters
            self.filters = {name: _wrap_filter(name, builtin[name]) for name in FILTERS}
            self.rbactool_output = _count_output
            self.rbactool_concat = _concat
            self.rbactool_value = _check_value

        def call_binop(self, context, operator, left, right):
            _tick()
            return _binop(operator, left, right)

        def is_safe_attribute(self, obj, attr, value):
            return isinstance(attr, str) and not attr.startswith("_") and attr in _allowed_attributes(obj)

        def getattr(self, obj, attribute):
            _tick()
            if not isinstance(attribute, str) or attribute.startswith("_"):
                raise _refusal(f"attribute {attribute!r} (names starting with '_' are not available in templates)")
            if isinstance(obj, Undefined):
                return getattr(obj, attribute)  # StrictUndefined: the usual "is undefined" error
            if attribute in _allowed_attributes(obj):
                return getattr(obj, attribute)
            if isinstance(obj, dict):
                if attribute in obj:
                    return obj[attribute]
                return self.undefined(obj=obj, name=attribute)
            if isinstance(obj, _PLAIN) and not hasattr(obj, attribute):
                return self.undefined(obj=obj, name=attribute)
            raise _refusal(f"attribute {attribute!r} of a {_describe(obj)} is not available in templates")

        def getitem(self, obj, argument):
            _tick()
            if isinstance(obj, (str, list, tuple, dict, range, Undefined)):
                try:
                    return obj[argument]
                except (TypeError, LookupError):
                    pass
            if isinstance(argument, str):
                return self.getattr(obj, argument)
            return self.undefined(obj=obj, name=argument)

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
            _tick()
            if isinstance(__obj, (Macro, LoopContext)):
                if _state.depth >= MAX_DEPTH:
                    raise _refusal(f"macros or recursive loops nested deeper than {MAX_DEPTH} levels")
                _state.depth += 1
                try:
                    return __context.call(__obj, *args, **kwargs)
                finally:
                    _state.depth -= 1
            if isinstance(__obj, Undefined):
                return __obj()  # StrictUndefined: the usual "is undefined" error
            if __obj is safe_range:
                return __context.call(safe_range, *args, **kwargs)
            owner = getattr(__obj, "__self__", None)
            name = getattr(__obj, "__name__", None)
            if owner is not None and not isinstance(owner, type) and name in _allowed_attributes(owner):
                args = tuple(args)
                _check_method(owner, name, args, kwargs)
                result = __context.call(__obj, *args, **kwargs)
                weigh(result, what=f"the result of {name!r}")
                return _plain(result)
            label = name or _describe(__obj)
            raise _refusal(f"calling {label!r} is not available in templates (only macros, loop() and range())")

    return TemplateSandbox, Refused, RefusedStatement


def environment_class():
    return _classes()[0]


def refused_class():
    """The exception a refusal raises at render time (a ``jinja2.sandbox.SecurityError``)."""
    return _classes()[1]


def refused_statement_class():
    """The exception a refusal raises at compile time (a ``TemplateAssertionError``)."""
    return _classes()[2]


def _trace_lines(frame, event, arg):
    if event == "line":
        _tick()
    return _trace_lines


@contextmanager
def bounded() -> Iterator[None]:
    """Run one render under the time, output and depth bounds (this thread only)."""
    previous = sys.gettrace()

    def trace_calls(frame, event, arg):
        if frame.f_code.co_filename == TEMPLATE_FILENAME:
            return _trace_lines
        return previous(frame, event, arg) if previous is not None else None

    # CPU time of this thread, not wall time: a loaded machine (a busy CI runner) does not turn a
    # legitimate render into a refusal, and a runaway loop is stopped all the same
    _state.deadline = time.thread_time() + MAX_SECONDS
    _state.output = 0
    _state.depth = 0
    sys.settrace(trace_calls)
    try:
        yield
    finally:
        sys.settrace(previous)
        _state.deadline = None
        _state.output = 0
        _state.depth = 0


def template_line(exc: BaseException) -> int | None:
    """The template line (1-based, in the template body) where *exc* was raised, if known."""
    lineno = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            found = tb.tb_lineno
        tb = tb.tb_next
    return found if found is not None else lineno
