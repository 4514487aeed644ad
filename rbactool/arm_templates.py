"""ARM deployment templates: find every role definition in one, resolving the common expressions.

A template (``$schema`` ``.../deploymentTemplate.json#``, or ``resources`` with ``contentVersion``)
holds its role definitions as ``Microsoft.Authorization/roleDefinitions`` resources in
``resources`` -- a list, or an object keyed by symbolic name (language version 2.0, what Bicep
writes) -- also inside nested inline ``Microsoft.Resources/deployments`` templates. Each is
returned with its JSON pointer in the document.

ARM expressions (``"[...]"``) are never evaluated in general. The ones role templates use are:
``subscription()``, ``resourceGroup()``, ``managementGroup()`` (from the scope the caller gives:
``--subscription``, ``--resource-group``, ``--management-group``), ``parameters('x')`` (the value a
nested deployment passes, else the parameter's ``defaultValue``), ``variables('x')``, ``concat``,
``format``, ``toLower``, ``toUpper``, ``string``, with ``.property`` and ``[index]`` access. Anything
else is left as an :class:`Unresolved` value saying why; the role reader reports it as an
*unresolved expression* and checks the rest of the role.

Every evaluation is bounded: expression text (``MAX_EXPRESSION``), call nesting (``MAX_CALL_DEPTH``),
steps per document (``MAX_STEPS``) and result size (``MAX_RESULT``), so a crafted template (a
variable that doubles itself forty times, a cycle of variables) costs milliseconds and ends as an
unresolved expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExpressionContext", "TemplateRole", "Unresolved", "is_template", "template_roles"]

ROLE_DEFINITIONS = "microsoft.authorization/roledefinitions"
DEPLOYMENTS = "microsoft.resources/deployments"
MAX_EXPRESSION = 8 * 1024
MAX_CALL_DEPTH = 32
MAX_STEPS = 200_000
MAX_RESULT = 64 * 1024
MAX_TEMPLATE_DEPTH = 10


class Unresolved:
    """A value rbactool does not evaluate: the expression as written and why."""

    __slots__ = ("text", "why")

    def __init__(self, text: str, why: str):
        self.text, self.why = text, why

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Unresolved({self.text!r}, {self.why!r})"


class _Stop(Exception):
    """Evaluation gives up: the message says why."""


@dataclass
class ExpressionContext:
    """The values expressions may use: the scope the caller gave, and a template's parameters
    (given values first, then defaults) and variables."""

    subscription: str | None = None
    resource_group: str | None = None
    management_group: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)  # name -> parameter declaration
    given: Mapping[str, Any] = field(default_factory=dict)  # name -> value passed by a deployment
    variables: Mapping[str, Any] = field(default_factory=dict)
    budget: list[int] = field(default_factory=lambda: [MAX_STEPS])
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    _active: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def from_scope(cls, scope: Mapping[str, str | None] | None) -> ExpressionContext:
        scope = scope or {}
        return cls(scope.get("subscription"), scope.get("resource_group"), scope.get("management_group"))

    def for_template(self, template: Mapping, given: Mapping[str, Any] | None = None) -> ExpressionContext:
        params = template.get("parameters")
        variables = template.get("variables")
        return ExpressionContext(self.subscription, self.resource_group, self.management_group,
                                 params if isinstance(params, dict) else {}, dict(given or {}),
                                 variables if isinstance(variables, dict) else {}, self.budget)

    # ------------------------------------------------------------------ values

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """*value* with every expression string in it evaluated (or an Unresolved in its place)."""
        if isinstance(value, str):
            return self.evaluate_string(value)
        if depth > 64:
            return Unresolved("...", "nested too deeply")
        if isinstance(value, dict):
            return {k: self.resolve(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, depth + 1) for v in value]
        return value

    def evaluate_string(self, text: str) -> Any:
        if not (text.startswith("[") and text.endswith("]")) or text.startswith("[["):
            return text[1:] if text.startswith("[[") else text
        if len(text) > MAX_EXPRESSION:
            return Unresolved(text, f"an expression of {len(text):,} characters is not evaluated")
        try:
            parser = _Parser(text[1:-1])
            node = parser.expression()
            parser.end()
            result = self._eval(node, 0)
        except _Stop as e:
            return Unresolved(text, str(e))
        except RecursionError:
            return Unresolved(text, "nested too deeply")
        return result

    def _step(self) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise _Stop(f"evaluation budget ({MAX_STEPS:,} steps per document) used up")

    def _eval(self, node: Any, depth: int) -> Any:
        self._step()
        if depth > MAX_CALL_DEPTH:
            raise _Stop(f"calls nested deeper than {MAX_CALL_DEPTH}")
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "call":
            name, args = node[1], [self._eval(a, depth + 1) for a in node[2]]
            return _bounded(self._call(name.lower(), name, args))
        if kind == "prop":
            base = self._eval(node[1], depth + 1)
            if isinstance(base, dict):
                for k, v in base.items():
                    if k.lower() == node[2].lower():
                        return v
            raise _Stop(f"no property {node[2]!r}")
        if kind == "index":
            base, index = self._eval(node[1], depth + 1), self._eval(node[2], depth + 1)
            if isinstance(base, list) and isinstance(index, int) and not isinstance(index, bool) \
                    and 0 <= index < len(base):
                return base[index]
            if isinstance(base, dict) and isinstance(index, str):
                return self._eval(("prop", ("lit", base), index), depth + 1)
            raise _Stop("index out of range")
        raise _Stop("not an expression")  # pragma: no cover

    def _call(self, lname: str, name: str, args: list) -> Any:
        if lname == "subscription" and not args:
            if not self.subscription:
                raise _Stop("subscription() needs --subscription")
            return {"id": f"/subscriptions/{self.subscription}", "subscriptionId": self.subscription}
        if lname == "resourcegroup" and not args:
            if not (self.subscription and self.resource_group):
                raise _Stop("resourceGroup() needs --subscription and --resource-group")
            return {"id": f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}",
                    "name": self.resource_group}
        if lname == "managementgroup" and not args:
            if not self.management_group:
                raise _Stop("managementGroup() needs --management-group")
            return {"id": f"/providers/Microsoft.Management/managementGroups/{self.management_group}",
                    "name": self.management_group}
        if lname == "tenant" and not args:
            raise _Stop("tenant() is known only at deployment")
        if lname in ("parameters", "variables") and len(args) == 1 and isinstance(args[0], str):
            return self._named(lname, args[0])
        if lname == "concat" and args:
            if all(isinstance(a, list) for a in args):
                return [x for a in args for x in a]
            if all(isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in args):
                return "".join(str(a) for a in args)
            raise _Stop("concat() of mixed types")
        if lname == "format" and args and isinstance(args[0], str):
            return _format(args[0], args[1:])
        if lname in ("tolower", "toupper") and len(args) == 1 and isinstance(args[0], str):
            return args[0].lower() if lname == "tolower" else args[0].upper()
        if lname == "string" and len(args) == 1 and isinstance(args[0], str):
            return args[0]
        raise _Stop(f"{name}() is not evaluated")

    def _named(self, kind: str, key: str) -> Any:
        ident = (kind, key.lower())
        if ident in self._cache:
            value = self._cache[ident]
            if isinstance(value, _Stop):
                raise _Stop(str(value))
            return value
        if ident in self._active:
            raise _Stop(f"{kind}('{key}') refers to itself")
        self._active.add(ident)
        try:
            value = self._lookup(kind, key)
        except _Stop as e:
            self._cache[ident] = e  # a failure is remembered too: never evaluated twice
            raise
        finally:
            self._active.discard(ident)
        self._cache[ident] = value
        return value

    def _lookup(self, kind: str, key: str) -> Any:
        if kind == "parameters":
            given = _ci_get(self.given, key)
            if given is not _MISSING:
                value = given
            else:
                decl = _ci_get(self.parameters, key)
                if decl is _MISSING:
                    raise _Stop(f"parameter '{key}' is not declared")
                value = decl.get("defaultValue", _MISSING) if isinstance(decl, dict) else _MISSING
                if value is _MISSING:
                    raise _Stop(f"parameter '{key}' has no defaultValue (its value is given at deployment)")
        else:
            value = _ci_get(self.variables, key)
            if value is _MISSING:
                raise _Stop(f"variable '{key}' is not declared")
        resolved = self.resolve(value)
        if too_large(resolved):
            raise _Stop(f"{kind}('{key}') is larger than {MAX_NODES:,} values")
        bad = _first_unresolved(resolved)
        if bad is not None:
            raise _Stop(f"{kind}('{key}'): {bad.why}")
        return resolved


_MISSING = object()


def _ci_get(mapping: Mapping[str, Any], key: str) -> Any:
    if key in mapping:
        return mapping[key]
    lower = key.lower()
    return next((v for k, v in mapping.items() if isinstance(k, str) and k.lower() == lower), _MISSING)


MAX_NODES = 10_000


def too_large(value: Any, limit: int = MAX_NODES) -> bool:
    """More than *limit* values, or strings of more than MAX_RESULT characters in all (a value built
    of shared parts can be exponentially larger than its text): counted with an early stop."""
    stack, nodes, chars = [value], 0, 0
    while stack:
        v = stack.pop()
        nodes += 1
        if nodes > limit:
            return True
        if isinstance(v, str):
            chars += len(v)
            if chars > MAX_RESULT * 4:
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _first_unresolved(value: Any) -> Unresolved | None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Unresolved):
            return v
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_RESULT:
        raise _Stop(f"the result is longer than {MAX_RESULT:,} characters")
    if isinstance(value, list) and len(value) > 10_000:
        raise _Stop("the result has more than 10,000 items")
    return value


_FORMAT_RE = re.compile(r"\{\{|\}\}|\{(\d+)(?::[^}]*)?\}")


def _format(fmt: str, args: list) -> str:
    def sub(m: re.Match) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        i = int(m.group(1)) if len(m.group(1)) <= 6 else len(args)  # int() refuses 4,300+ digits (a crash)
        if i >= len(args) or not isinstance(args[i], (str, int, float)) or isinstance(args[i], bool):
            raise _Stop(f"format() argument {{{i}}} is missing or not a string")
        return str(args[i])

    return _FORMAT_RE.sub(sub, fmt)


# --------------------------------------------------------------------------- expression parser

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>[().,\[\]]))")


class _Parser:
    """Recursive descent over ARM's expression grammar: calls, string and integer literals,
    ``.property`` and ``[index]``. Nesting is bounded by MAX_CALL_DEPTH."""

    def __init__(self, text: str):
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                if text[pos:].strip() == "":
                    break
                raise _Stop(f"not an expression rbactool reads (at {text[pos:pos + 20]!r})")
            kind = m.lastgroup or "op"
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise _Stop("not an expression rbactool reads")
        self.i += 1
        return tok

    def end(self) -> None:
        if self.peek() is not None:
            raise _Stop("not an expression rbactool reads")

    def expression(self) -> Any:
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise _Stop(f"calls nested deeper than {MAX_CALL_DEPTH}")
        kind, text = self.take()
        if kind == "str":
            node: Any = ("lit", text[1:-1].replace("''", "'"))
        elif kind == "num":
            node = ("lit", int(text)) if len(text) < 16 else ("lit", text)
        elif kind == "name":
            if text.lower() in ("true", "false") and (self.peek() or ("", ""))[1] != "(":
                node = ("lit", text.lower() == "true")
            else:
                self.take("(")
                args = []
                if (self.peek() or ("", ""))[1] != ")":
                    args.append(self.expression())
                    while (self.peek() or ("", ""))[1] == ",":
                        self.take(",")
                        args.append(self.expression())
                self.take(")")
                node = ("call", text, args)
        else:
            raise _Stop("not an expression rbactool reads")
        while (self.peek() or ("", ""))[1] in (".", "["):
            if self.take()[1] == ".":
                node = ("prop", node, self.take()[1])
            else:
                node = ("index", node, self.expression())
                self.take("]")
        self.depth -= 1
        return node


# --------------------------------------------------------------------------- templates


def is_template(doc: Any) -> bool:
    """A deployment template (or a parameters file, which holds no roles)."""
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    if isinstance(schema, str) and ("deploymenttemplate" in schema.lower() or "deploymentparameters" in schema.lower()):
        return True
    return "resources" in doc and ("contentVersion" in doc or "languageVersion" in doc)


@dataclass(frozen=True)
class TemplateRole:
    """A roleDefinitions resource: its pointer in the document and its value with expressions
    resolved (Unresolved objects where they are not)."""

    pointer: str
    resource: dict


def _resources(template: dict, pointer: str) -> Iterator[tuple[str, Any]]:
    from rbactool.readers import pointer_token

    res = template.get("resources")
    if isinstance(res, list):
        for i, r in enumerate(res):
            yield f"{pointer}/resources/{i}", r
    elif isinstance(res, dict):  # languageVersion 2.0: symbolic name -> resource
        for name, r in res.items():
            yield f"{pointer}/resources/{pointer_token(name)}", r


def template_roles(doc: dict, ctx: ExpressionContext, pointer: str = "", depth: int = 0) -> list[TemplateRole]:
    """Every roleDefinitions resource of a template, nested inline deployments included."""
    out: list[TemplateRole] = []
    if depth > MAX_TEMPLATE_DEPTH:
        return out
    tctx = ctx.for_template(doc) if depth == 0 else ctx
    for ptr, res in _resources(doc, pointer):
        if not isinstance(res, dict) or res.get("existing") is True:
            continue
        rtype = res.get("type")
        if not isinstance(rtype, str):
            continue
        if rtype.lower() == ROLE_DEFINITIONS:
            out.append(TemplateRole(ptr, {k: (v if k in ("type", "apiVersion") else tctx.resolve(v))
                                          for k, v in res.items()}))
        elif rtype.lower() == DEPLOYMENTS:
            props = res.get("properties")
            inner = props.get("template") if isinstance(props, dict) else None
            if not isinstance(inner, dict):
                continue  # a templateLink is another file: not followed
            options = props.get("expressionEvaluationOptions")
            scope = options.get("scope") if isinstance(options, dict) else None
            if isinstance(scope, str) and scope.lower() == "inner":
                given = {}
                params = props.get("parameters")
                if isinstance(params, dict):
                    for k, v in params.items():
                        if isinstance(v, dict) and "value" in v:
                            given[k] = tctx.resolve(v["value"])
                child = tctx.for_template(inner, given)
            else:
                child = tctx  # the default: the nested template sees the outer parameters and variables
            out.extend(template_roles(inner, child, f"{ptr}/properties/template", depth + 1))
    return out
