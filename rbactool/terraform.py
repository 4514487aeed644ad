"""Terraform: ``azurerm_role_definition`` resources in ``.tf`` files and in ``terraform show -json``.

``.tf`` (HCL2) is parsed with python-hcl2's grammar and parser (lark), only in a child process
(``_WORKER``: it reads lark's tree into ``hcl2.loads``'s shape itself, falling back to
``hcl2.loads``; rbactool's own process never imports either): the
file is refused past ``MAX_TF_BYTES`` or ``MAX_TF_DEPTH`` levels of brackets before parsing, and
the parser runs with a time limit (``PARSE_TIMEOUT``) and, where the platform has it, a memory
limit, so crafted HCL (python-hcl2 is quadratic in the attributes of one block) cannot hang
or exhaust the run. Nothing is evaluated: an interpolation (``${...}``, or a bare reference such
as ``data.azurerm_subscription.primary.id``) is resolved only when it is one of

* ``data.azurerm_subscription.<n>.id`` / ``.subscription_id`` (``--subscription``),
* ``data.azurerm_resource_group.<n>.id`` / ``.name`` (``--subscription`` and ``--resource-group``),
* ``data.azurerm_management_group.<n>.id`` / ``.name`` (``--management-group``),
* ``var.<x>`` with a literal ``default``, ``local.<x>`` with a literal value, in the same file;

anything else is an unresolved expression (``rbactool.arm_templates.Unresolved``).

``terraform show -json`` output (plan or state) is read for ``planned_values`` (or, failing
that, ``resource_changes[].change.after``) and ``values.root_module``, child modules included.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from rbactool.arm_templates import ExpressionContext, Unresolved
from rbactool.errors import RoleFormatError
from rbactool.readers import pointer_token, shorten

__all__ = ["MAX_TF_BYTES", "hcl_roles", "is_terraform_json", "plan_roles"]

RESOURCE_TYPE = "azurerm_role_definition"
MAX_TF_BYTES = 1024 * 1024
MAX_TF_DEPTH = 100
PARSE_TIMEOUT = 20.0
MEMORY_LIMIT = 2 * 1024 ** 3

_WORKER = r"""
import importlib.util, json, os, sys
try:
    from lark import Lark, Token, Tree
    spec = importlib.util.find_spec("hcl2")  # where python-hcl2 is, without importing the whole package
    if spec is None or spec.origin is None:
        raise ImportError
except ImportError:
    sys.stdout.write(json.dumps({"error": "python-hcl2 is not installed (pip install python-hcl2)"})); sys.exit(0)
text = sys.stdin.buffer.read().decode("utf-8")
PKG = os.path.dirname(spec.origin)

def parser():
    # python-hcl2's own parser (hcl2.parser.parser: its grammar, options and parser cache), built
    # without importing the package, whose other modules cost more than lark itself
    post = importlib.util.spec_from_file_location("_rbactool_hcl2_postlexer", os.path.join(PKG, "postlexer.py"))
    module = importlib.util.module_from_spec(post)
    post.loader.exec_module(module)
    return Lark.open(os.path.join(PKG, "hcl2.lark"), parser="lalr", cache=os.path.join(PKG, ".lark_cache.bin"),
                     propagate_positions=True, postlex=module.PostLexer())

# hcl2.loads's shape (strings as written, quoted; expressions as "${...}"), from the lark tree
# directly: python-hcl2's own transform costs as much again as the parse. Anything unexpected
# falls back to hcl2.loads.
def src(node):
    return text[node.meta.start_pos:node.meta.end_pos]

def kids(node):
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]

def value(node):
    if node.data == "expr_term":
        inner = kids(node)
        if len(inner) == 1 and not any(isinstance(c, Token) and c.type in ("LPAR",) for c in node.children):
            return value(inner[0])
        return "${" + src(node) + "}"
    if node.data == "string":
        return src(node)
    if node.data in ("heredoc_template", "heredoc_template_trim"):
        return '"' + str(node.children[0]).rstrip("\n") + '"'
    if node.data == "tuple":
        return [value(c) for c in kids(node)]
    if node.data == "int_lit":
        return int(str(node.children[0]))
    if node.data == "float_lit":
        return float(str(node.children[0]))
    if node.data == "identifier":
        return str(node.children[0])
    if node.data == "object":
        out = {}
        for elem in kids(node):
            key, val = kids(elem)[0], kids(elem)[-1]
            key = kids(key)[0] if kids(key) else key
            key = kids(key)[0] if key.data == "expr_term" and kids(key) else key
            out[src(key) if key.data == "string" else str(key.children[0])] = value(val)
        return out
    if node.data == "literal_value":
        word = str(node.children[0])
        return {"true": True, "false": False, "null": None}.get(word, "${" + word + "}")
    return "${" + src(node) + "}"

def body(node):
    out = {}
    for item in kids(node):
        if item.data == "attribute":
            name, expr = kids(item)[0], kids(item)[-1]
            out[str(name.children[0])] = value(expr)
        elif item.data == "block":
            parts = kids(item)
            kind = str(parts[0].children[0])
            labels = [src(p) if p.data == "string" else str(p.children[0]) for p in parts[1:-1]]
            inner = body(parts[-1]) if parts[-1].data == "body" else {}
            inner["__is_block__"] = True
            for label in reversed(labels):
                inner = {label: inner}
            out.setdefault(kind, []).append(inner)
        else:
            raise ValueError(item.data)
    return out

try:
    try:
        tree = parser().parse(text)
        doc = body(kids(tree)[0]) if kids(tree) else {}
    except RecursionError:
        raise
    except Exception:
        import hcl2
        doc = hcl2.loads(text)
except RecursionError:
    out = {"error": "nested too deeply"}
except Exception as e:
    out = {"error": " ".join(str(e).split())[:400] or type(e).__name__}
else:
    out = {"doc": doc}
sys.stdout.write(json.dumps(out))
"""


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass


def _depth(text: str) -> int:
    depth = best = 0
    for c in text:
        if c in "{[(":
            depth += 1
            best = max(best, depth)
        elif c in "}])":
            depth -= 1
    return best


class PendingParse:
    """A parse running in its child process (``start_parse``); ``result()`` waits for it."""

    def __init__(self, text: str, where: str):
        self.where = where
        self.error: RoleFormatError | None = None
        self.proc: subprocess.Popen | None = None
        try:
            _precheck(text, where)
        except RoleFormatError as e:
            self.error = e
            return
        kwargs: dict[str, Any] = {}
        if sys.platform != "win32":
            kwargs["preexec_fn"] = _limit_memory
        self.data = text.encode("utf-8")
        try:
            # -I: `-c` would put the working directory first on sys.path (a repository's json.py ran)
            self.proc = subprocess.Popen([sys.executable, "-I", "-c", _WORKER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        except OSError as e:
            self.error = RoleFormatError(f"{where}: cannot run the HCL parser: {e.strerror or e}")
            return
        import threading
        import time

        self.started = time.monotonic()
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.writer.start()  # the child reads while the caller goes on

    def _write(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        stdin = self.proc.stdin
        try:
            stdin.write(self.data)
            stdin.close()
        except OSError:  # the child died (memory limit): result() reports it
            pass
        self.proc.stdin = None  # written and closed: communicate() only reads

    def cancel(self) -> None:
        """Stop the child (its result is not wanted)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(ValueError, OSError, subprocess.TimeoutExpired):
                self.writer.join(2)
                self.proc.communicate(timeout=5)

    def result(self) -> dict:
        if self.error is not None:
            raise self.error
        assert self.proc is not None
        import time

        where = self.where
        try:
            self.writer.join(max(0.05, PARSE_TIMEOUT - (time.monotonic() - self.started)))
            if self.writer.is_alive():  # the child does not even read its input
                raise subprocess.TimeoutExpired("hcl2", PARSE_TIMEOUT)
            stdout, _ = self.proc.communicate(timeout=max(0.05, PARSE_TIMEOUT - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.writer.join(2)
            with contextlib.suppress(ValueError, OSError, subprocess.TimeoutExpired):
                self.proc.communicate(timeout=5)
            raise RoleFormatError(f"{where}: the HCL parser took longer than {PARSE_TIMEOUT:g} s") from None
        from rbactool.readers import loads_json

        if self.proc.returncode != 0 or not stdout:
            raise RoleFormatError(f"{where}: the HCL parser failed (exit {self.proc.returncode}; too large or "
                                  "too deep?)")
        out = loads_json(stdout.decode("utf-8", "replace"), where, RoleFormatError)
        if "error" in out:
            raise RoleFormatError(f"{where}: not valid HCL: {shorten(str(out['error']), 240)}")
        return out["doc"]


def start_parse(text: str, where: str) -> PendingParse:
    """Start parsing *text* in a bounded child process; ``.result()`` is ``parse_hcl``'s answer
    (a caller with several .tf files starts them all, then collects: they parse side by side)."""
    return PendingParse(text, where)


def _precheck(text: str, where: str) -> None:
    if len(text.encode("utf-8")) > MAX_TF_BYTES:
        raise RoleFormatError(f"{where}: a .tf file larger than the {MAX_TF_BYTES:,}-byte limit")
    if _depth(text) > MAX_TF_DEPTH:
        raise RoleFormatError(f"{where}: nested deeper than {MAX_TF_DEPTH} levels")


def parse_hcl(text: str, where: str) -> dict:
    """The python-hcl2 document of *text*, parsed in a bounded child process."""
    return start_parse(text, where).result()


# --------------------------------------------------------------------------- HCL values

_ESCAPES = re.compile(r'\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)')
_INTERP = re.compile(r"\$\{([^{}]*)\}")
_REF = re.compile(r"^\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*$")


def _unescape(s: str) -> str:
    def sub(m: re.Match) -> str:
        c = m.group(1)
        if c[0] in "uU":
            return chr(int(c[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(c, "\\" + c)

    return _ESCAPES.sub(sub, s)


class _Scope:
    def __init__(self, ctx: ExpressionContext, variables: dict, locals_: dict):
        self.ctx, self.variables, self.locals = ctx, variables, locals_
        self.active: set[str] = set()
        self.cache: dict[str, Any] = {}

    def reference(self, ref: str, text: str) -> Any:
        parts = ref.split(".")
        ctx = self.ctx
        if len(parts) == 4 and parts[0] == "data":
            kind, attr = parts[1], parts[3]
            if kind == "azurerm_subscription" and attr in ("id", "subscription_id"):
                if ctx.subscription:
                    return f"/subscriptions/{ctx.subscription}" if attr == "id" else ctx.subscription
                return Unresolved(text, f"{ref} needs --subscription")
            if kind == "azurerm_resource_group" and attr in ("id", "name"):
                if ctx.subscription and ctx.resource_group:
                    return ctx.resource_group if attr == "name" else \
                        f"/subscriptions/{ctx.subscription}/resourceGroups/{ctx.resource_group}"
                return Unresolved(text, f"{ref} needs --subscription and --resource-group")
            if kind == "azurerm_management_group" and attr in ("id", "name"):
                if ctx.management_group:
                    return ctx.management_group if attr == "name" else \
                        f"/providers/Microsoft.Management/managementGroups/{ctx.management_group}"
                return Unresolved(text, f"{ref} needs --management-group")
        if len(parts) == 2 and parts[0] in ("var", "local"):
            table = self.variables if parts[0] == "var" else self.locals
            if parts[1] not in table:
                why = "has no default" if parts[0] == "var" else "is not declared in this file"
                return Unresolved(text, f"{ref} {why}")
            if ref in self.cache:
                value = self.cache[ref]
            else:
                if ref in self.active:
                    return Unresolved(text, f"{ref} refers to itself")
                self.active.add(ref)
                try:
                    value = self.value(table[parts[1]], 0)
                finally:
                    self.active.discard(ref)
                from rbactool.arm_templates import MAX_NODES, too_large

                if too_large(value):
                    value = Unresolved(text, f"{ref} is larger than {MAX_NODES:,} values")
                self.cache[ref] = value
            if isinstance(value, Unresolved):
                return Unresolved(text, value.why)
            from rbactool.arm_templates import _first_unresolved

            bad = _first_unresolved(value)
            return Unresolved(text, f"{ref}: {bad.why}") if bad is not None else value
        return Unresolved(text, "a Terraform expression rbactool does not evaluate")

    def string(self, raw: str) -> Any:
        if raw.startswith('"<<') and raw.endswith('"') and "\n" in raw:  # a heredoc
            lines = raw[1:-1].split("\n")[1:-1]
            if raw.startswith('"<<-'):
                indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
                lines = [x[indent:] for x in lines]
            text = "\n".join(lines) + "\n"
            return Unresolved(raw, "a heredoc with interpolations") if "${" in text else text
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            body = raw[1:-1]
        elif raw.startswith("${") and raw.endswith("}"):
            body = raw
        else:
            return Unresolved(raw, "a Terraform expression rbactool does not evaluate")
        if "${" not in body and "%{" not in body:
            return _unescape(body)
        whole = _INTERP.fullmatch(body)
        if whole:
            m = _REF.match(whole.group(1))
            return self.reference(m.group(1), raw) if m else \
                Unresolved(raw, "a Terraform expression rbactool does not evaluate")
        if "%{" in body:
            return Unresolved(raw, "a Terraform template directive")
        pieces: list[str] = []
        pos = 0
        for m in _INTERP.finditer(body):
            pieces.append(_unescape(body[pos:m.start()]))
            ref = _REF.match(m.group(1))
            value = self.reference(ref.group(1), raw) if ref else Unresolved(raw, "an expression inside ${...}")
            if isinstance(value, Unresolved):
                return Unresolved(raw, value.why)
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                return Unresolved(raw, "interpolates a value that is not a string")
            pieces.append(str(value))
            if sum(map(len, pieces)) > 64 * 1024:
                return Unresolved(raw, "the interpolated string is longer than 65,536 characters")
            pos = m.end()
        rest = body[pos:]
        if "${" in rest:
            return Unresolved(raw, "an interpolation rbactool does not read")
        pieces.append(_unescape(rest))
        return "".join(pieces)

    def value(self, v: Any, depth: int) -> Any:
        if depth > 64:
            return Unresolved("...", "nested too deeply")
        if isinstance(v, str):
            return self.string(v)
        if isinstance(v, list):
            return [self.value(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x, depth + 1) for k, x in v.items() if k != "__is_block__"}
        return v


def _unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def _blocks(doc: dict, kind: str) -> Iterator[dict]:
    items = doc.get(kind)
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            yield item


def hcl_roles(text: str, where: str, ctx: ExpressionContext,
              pending: PendingParse | None = None) -> list[tuple[str, dict]]:
    """(pseudo JSON pointer ``/resource/azurerm_role_definition/NAME``, attributes with expressions
    resolved or Unresolved) for each ``azurerm_role_definition`` in a ``.tf`` file (*pending*: its
    parse, started earlier with ``start_parse``)."""
    doc = (pending or start_parse(text, where)).result()
    variables: dict[str, Any] = {}
    for block in _blocks(doc, "variable"):
        for name, body in block.items():
            if isinstance(body, dict) and "default" in body:
                variables[_unquote(name)] = body["default"]
    locals_: dict[str, Any] = {}
    for block in _blocks(doc, "locals"):
        locals_.update({k: v for k, v in block.items() if k != "__is_block__"})
    scope = _Scope(ctx, variables, locals_)
    out = []
    for block in _blocks(doc, "resource"):
        for rtype, named in block.items():
            if _unquote(rtype) != RESOURCE_TYPE or not isinstance(named, dict):
                continue
            for name, body in named.items():
                if isinstance(body, dict):
                    ptr = f"/resource/{RESOURCE_TYPE}/{pointer_token(_unquote(name))}"
                    out.append((ptr, scope.value(body, 0)))
    return out


# --------------------------------------------------------------------------- terraform show -json


def is_terraform_json(doc: Any) -> bool:
    return isinstance(doc, dict) and "format_version" in doc and bool(
        {"planned_values", "values", "resource_changes", "terraform_version"} & set(doc))


def _module(module: Any, pointer: str, depth: int = 0) -> Iterator[tuple[str, dict]]:
    if not isinstance(module, dict) or depth > 50:
        return
    resources = module.get("resources")
    for i, r in enumerate(resources if isinstance(resources, list) else []):
        if isinstance(r, dict) and r.get("type") == RESOURCE_TYPE and r.get("mode", "managed") == "managed" \
                and isinstance(r.get("values"), dict):
            yield f"{pointer}/resources/{i}/values", r["values"]
    children = module.get("child_modules")
    for i, child in enumerate(children if isinstance(children, list) else []):
        yield from _module(child, f"{pointer}/child_modules/{i}", depth + 1)


def plan_roles(doc: dict) -> list[tuple[str, dict]]:
    """(JSON pointer, values) of each ``azurerm_role_definition`` in ``terraform show -json`` output:
    ``planned_values`` of a plan (else ``resource_changes[].change.after``), ``values`` of a state."""
    planned = doc.get("planned_values")
    if isinstance(planned, dict):
        found = list(_module(planned.get("root_module"), "/planned_values/root_module"))
        if found:
            return found
    changes = doc.get("resource_changes")
    out = []
    for i, c in enumerate(changes if isinstance(changes, list) else []):
        change = c.get("change") if isinstance(c, dict) else None
        after = change.get("after") if isinstance(change, dict) else None
        if c.get("type") == RESOURCE_TYPE and isinstance(after, dict):
            out.append((f"/resource_changes/{i}/change/after", after))
    if out:
        return out
    values = doc.get("values")
    if isinstance(values, dict):
        return list(_module(values.get("root_module"), "/values/root_module"))
    return []


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(parse_hcl(sys.stdin.read(), "<stdin>"), indent=1))
