"""One reader for every input: JSON and YAML text with limits, files and standard input.

Every input can be hostile (a pull request's role file, spec, template front matter or
``.rbactool.yaml``). These readers refuse, with one line naming the input and the place:

* more than ``MAX_INPUT_BYTES`` (16 MiB) from a file or standard input;
* nesting deeper than ``MAX_DEPTH`` (200) levels;
* duplicate keys (JSON and YAML keep the last one silently; a second ``"Actions"`` would win);
* integers of more than ``MAX_INT_DIGITS`` digits, non-finite numbers (``NaN``, ``1e999``);
* strings longer than ``MAX_STRING`` characters, and more than ``MAX_NODES`` values in all
  (a YAML alias bomb expands to billions of values from a few hundred bytes).

Values echoed in messages are cut to a short prefix by ``clip``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import IO, Any

from rbactool.errors import InputError

MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 200
MAX_INT_DIGITS = 20
MAX_STRING = 1024 * 1024
MAX_NODES = 1_000_000
CLIP = 60


def clip(value: Any, n: int = CLIP) -> str:
    """``repr`` of *value* cut to about *n* characters, for error messages that echo input."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii") if not text.isprintable() else text
    if len(text) > n:
        return repr(text[:n]) + f"... ({len(text):,} characters)"
    return repr(text)


def shorten(text: str, n: int = 240) -> str:
    """A message that may quote input (a library's error text), cut to *n* characters."""
    if not text.isprintable():
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= n else f"{text[:n]}... ({len(text):,} characters)"


def pointer_token(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def clip_pointer(pointer: str, n: int = 80) -> str:
    """A JSON pointer for a message: ``/`` for the root, long ones (deep nesting, huge keys) cut
    in the middle, keeping the start and the end."""
    if not pointer:
        return "/"
    if not pointer.isprintable():
        pointer = pointer.encode("unicode_escape", "backslashreplace").decode("ascii")
    if len(pointer) <= n:
        return pointer
    return f"{pointer[: n * 2 // 3]}...{pointer[-(n // 3):]}"


# --------------------------------------------------------------------------- bytes


def decode_text(data: bytes, where: str, what: str, error: type[InputError] = InputError) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"{where}: {what} is not UTF-8 text (byte {e.start})") from e


def read_stream(stream: IO[bytes] | None = None, *, where: str = "<stdin>", what: str = "standard input",
                limit: int = MAX_INPUT_BYTES, error: type[InputError] = InputError) -> str:
    """Read standard input (or *stream*) as UTF-8 text, refusing more than *limit* bytes."""
    if stream is None:
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
        if stream is None:  # a text stream (tests): encode what it holds
            text = sys.stdin.read(limit + 1)
            if len(text) > limit:
                raise error(f"{where}: {what} is larger than the {limit:,}-byte limit")
            return text.removeprefix("\ufeff")
    data = stream.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise error(f"{where}: {what} is larger than the {limit:,}-byte limit")
    return decode_text(data, where, what, error)


def _open_regular(p: Path, where: str, what: str, error: type[InputError]) -> int:
    """A descriptor of *p* opened for reading, refused unless it is a regular file. The open does
    not block (a FIFO would wait for a writer forever) and the check is on the opened file."""
    import stat as st

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError as e:
        raise error(f"{where}: no such file" + (" (a dangling symlink)" if p.is_symlink() else "")) from e
    except IsADirectoryError as e:
        raise error(f"{where}: is a directory, expected a {what}") from e
    except OSError as e:
        raise error(f"{where}: cannot read: {e.strerror or e}") from e
    try:
        mode = os.fstat(fd).st_mode
    except OSError as e:
        os.close(fd)
        raise error(f"{where}: cannot read: {e.strerror or e}") from e
    if st.S_ISREG(mode):
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return fd
    os.close(fd)
    if st.S_ISDIR(mode):
        raise error(f"{where}: is a directory, expected a {what}")
    raise error(f"{where}: not a regular file ({_file_kind(mode)}), expected a {what}")


def _file_kind(mode: int) -> str:
    import stat as st

    for test, kind in ((st.S_ISFIFO, "a FIFO"), (st.S_ISCHR, "a character device"), (st.S_ISBLK, "a block device"),
                       (st.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def read_file(path: str | os.PathLike, *, what: str = "file", limit: int = MAX_INPUT_BYTES,
              error: type[InputError] = InputError) -> str:
    """Read a UTF-8 text file with a size limit; every failure is one *error* line. Anything but a
    regular file (a FIFO, a device, a dangling symlink) is refused: standard input is read_stream."""
    p = Path(path)
    fd = _open_regular(p, str(p), what, error)
    try:
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise error(f"{p}: {what} is {size:,} bytes, larger than the {limit:,}-byte limit")
            data = f.read(limit + 1)
    except OSError as e:
        raise error(f"{p}: cannot read: {e.strerror}") from e
    if len(data) > limit:  # grew while read
        raise error(f"{p}: {what} is larger than the {limit:,}-byte limit")
    return decode_text(data, str(p), what, error)


def json_files_under(directory: str | os.PathLike, *, what: str = "role file",
                     error: type[InputError] = InputError) -> list[Path]:
    """Every ``*.json`` under *directory* (recursively, sorted). One that is not a regular file (a
    dangling symlink, a FIFO, a device) is refused, never skipped: it is input the user meant."""
    import stat as st

    out = []
    for f in sorted(Path(directory).rglob("*.json")):
        try:
            mode = f.stat().st_mode
        except OSError as e:
            dangling = " (a dangling symlink)" if f.is_symlink() else ""
            raise error(f"{f}: cannot read {what}{dangling}: {e.strerror or e}") from e
        if st.S_ISDIR(mode):
            continue  # a directory named *.json: its files are found by the walk
        if not st.S_ISREG(mode):
            raise error(f"{f}: not a regular file ({_file_kind(mode)}), expected a {what}")
        out.append(f)
    return out


#: Directories a directory run does not descend into: git's own, Terraform's module and provider
#: cache (copies of other people's .tf files), npm's packages.
SKIPPED_DIRECTORIES = frozenset({".git", ".terraform", "node_modules"})


def files_under(directory: str | os.PathLike, suffixes: tuple[str, ...]) -> list[Path]:
    """Every file under *directory* (recursively, sorted; not in ``SKIPPED_DIRECTORIES``) whose name
    ends with one of *suffixes* (case-insensitive). Unlike ``json_files_under``, one that is not a
    regular file is listed, not refused: the reader refuses it in one line, for that file alone.
    Symlinked directories are not followed (as ``Path.rglob``)."""
    out = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRECTORIES]
        out.extend(Path(root) / n for n in names if n.lower().endswith(suffixes))
        # a directory named *.json is walked, not read; a symlink to one is neither
    return sorted(out)


def read_json_file(path: str | os.PathLike, *, what: str = "file", where: str | None = None,
                   limit: int = MAX_INPUT_BYTES, error: type[InputError] = InputError) -> Any:
    """A JSON file, gzip-compressed or not (rbactool's caches), with every limit of this module;
    a compressed file may expand to *limit* bytes at most (no gzip bomb is expanded whole)."""
    import gzip
    import zlib

    p = Path(path)
    where = where or str(p)
    fd = _open_regular(p, where, what, error)
    try:
        with os.fdopen(fd, "rb") as f:
            if os.fstat(f.fileno()).st_size > limit:
                raise error(f"{where}: {what} is larger than the {limit:,}-byte limit")
            data = f.read(limit + 1)
            if data[:2] == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as z:
                    data = z.read(limit + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise error(f"{where}: {what} is not valid gzip data") from e
    except OSError as e:
        raise error(f"{where}: cannot read: {e.strerror or e}") from e
    if len(data) > limit:
        raise error(f"{where}: {what} is larger than the {limit:,}-byte limit")
    return loads_json(decode_text(data, where, what, error), where, error)


def read_path_or_stdin(name: str, *, what: str = "file", error: type[InputError] = InputError) -> tuple[str, str]:
    """``-`` is standard input (as ``<stdin>``), anything else a file: (where, text)."""
    if name == "-":
        return "<stdin>", read_stream(what="standard input", error=error)
    return name, read_file(name, what=what, error=error)


# --------------------------------------------------------------------------- checks on parsed values


class _Refused:
    """A number the JSON decoder handed us that is refused; reported with its pointer by the walk."""

    __slots__ = ("text", "why")

    def __init__(self, text: str, why: str):
        self.text, self.why = text, why


class _DupDict(dict):
    """A JSON object that had duplicate keys: ``duplicates`` lists them (each once, in order)."""

    __slots__ = ("duplicates",)


_DUPLICATES_SEEN = [0]  # objects with a duplicate key built so far (duplicate_keys skips the walk if none)


def _object_pairs(pairs):
    if len(pairs) == len({k for k, _ in pairs}):
        return dict(pairs)
    _DUPLICATES_SEEN[0] += 1
    d = _DupDict()
    dups: list[str] = []
    for k, v in pairs:
        if k in d and k not in dups:
            dups.append(k)
        d[k] = v
    d.duplicates = tuple(dups)
    return d


def _parse_int(s: str):
    digits = len(s.lstrip("-"))
    return _Refused(s, f"an integer of {digits:,} digits (limit {MAX_INT_DIGITS})") if digits > MAX_INT_DIGITS \
        else int(s)


def _parse_float(s: str):
    if len(s) > 64:
        return _Refused(s, f"a number written with {len(s):,} characters")
    f = float(s)
    return f if math.isfinite(f) else _Refused(s, "a number too large to represent")


def _parse_constant(s: str):
    return _Refused(s, f"{s}, which is not JSON")


def check_value(doc: Any, where: str, error: type[InputError] = InputError, *, duplicates: bool = True,
                max_nodes: int = MAX_NODES) -> None:
    """Walk a parsed document once: depth, sizes, refused numbers, duplicate keys (JSON)."""
    nodes = 0
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise error(f"{where}: more than {max_nodes:,} values (is an alias or anchor expanding?)")
        if depth >= MAX_DEPTH and isinstance(value, (dict, list)):
            raise error(f"{where}: nested deeper than {MAX_DEPTH} levels at {clip_pointer(pointer)}")
        if isinstance(value, dict):
            if duplicates and isinstance(value, _DupDict):
                key = value.duplicates[0]
                raise error(f"{where}: duplicate key {clip(key)} at {clip_pointer(f'{pointer}/{pointer_token(key)}')}")
            for k, v in value.items():
                if isinstance(k, str) and len(k) > MAX_STRING:
                    raise error(f"{where}: a key at {clip_pointer(pointer)} is {len(k):,} characters long")
                stack.append((v, f"{pointer}/{pointer_token(k)}", depth + 1))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                stack.append((v, f"{pointer}/{i}", depth + 1))
        elif isinstance(value, str):
            if len(value) > MAX_STRING:
                raise error(f"{where}: the string at {clip_pointer(pointer)} is {len(value):,} characters long "
                            f"(limit {MAX_STRING:,})")
        elif isinstance(value, _Refused):
            raise error(f"{where}: {value.why} at {clip_pointer(pointer)}: {clip(value.text, 24)}")
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if len(str(abs(value))) > MAX_INT_DIGITS:
                raise error(f"{where}: an integer of more than {MAX_INT_DIGITS} digits at {clip_pointer(pointer)}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise error(f"{where}: a number too large to represent at {clip_pointer(pointer)}")


# --------------------------------------------------------------------------- JSON

_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth_position(text: str) -> tuple[int, int] | None:
    """Line and column where nesting first goes past MAX_DEPTH (strings skipped), if it does."""
    depth = 0
    for m in _TOKEN_RE.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                return line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        elif c in "]}":
            depth -= 1
    return None


def loads_json(text: str, where: str, error: type[InputError] = InputError, *, duplicates: bool = True,
               limit: int = MAX_INPUT_BYTES, max_nodes: int = MAX_NODES) -> Any:
    """Parse JSON text with every limit of this module; errors are one *error* line naming *where*.

    ``duplicates=False`` lets duplicate keys through (last wins), for callers that report them
    as findings themselves. ``limit`` and ``max_nodes`` raise the size limits for the few inputs
    that are large by design (an emulator seed of a whole estate); depth and value limits stay.
    """
    if len(text) > limit:
        raise error(f"{where}: larger than the {limit:,}-byte limit")
    try:
        doc = json.loads(text, object_pairs_hook=_object_pairs, parse_int=_parse_int,
                         parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        pos = _depth_position(text)
        at = f" at line {pos[0]} column {pos[1]}" if pos else ""
        raise error(f"{where}: nested deeper than {MAX_DEPTH} levels{at}") from None
    except json.JSONDecodeError as e:
        raise error(f"{where}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except ValueError as e:  # e.g. Python's own integer-string limit
        raise error(f"{where}: not valid JSON: {clip(str(e), 80)}") from e
    check_value(doc, where, error, duplicates=duplicates, max_nodes=max_nodes)
    return doc


def duplicate_keys(doc: Any) -> list[tuple[str, str]]:
    """(JSON pointer, key) of every duplicate key in a document read with ``duplicates=False``,
    in document order (each key once per object)."""
    out: list[tuple[str, str]] = []
    if not _DUPLICATES_SEEN[0]:
        return out  # no object with a duplicate key was ever parsed
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, _DupDict):
            out.extend((f"{pointer}/{pointer_token(k)}", k) for k in value.duplicates)
        if isinstance(value, dict):
            stack.extend(reversed([(v, f"{pointer}/{pointer_token(k)}") for k, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(v, f"{pointer}/{i}") for i, v in enumerate(value)]))
    return out


def duplicate_key(doc: Any) -> tuple[str, str] | None:
    """(JSON pointer, key) of the first duplicate key in a document read with ``duplicates=False``."""
    found = duplicate_keys(doc)
    return found[0] if found else None


# --------------------------------------------------------------------------- YAML


def _yaml_loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""

    def construct_mapping(loader, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable (complex) key: reported by the caller
                raise yaml.constructor.ConstructorError(
                    None, None, "keys must be plain strings, numbers or booleans", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {clip(key)}", key_node.start_mark)
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return UniqueKeyLoader


_LOADER = None


def yaml_error_message(e: Exception) -> str:
    """PyYAML's error as one line: the problem, where it is, and a hint for tabs."""
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    tab = " (YAML indents with spaces, not tabs)" if "\t" in problem or "'\\t'" in problem else ""
    return f"{problem}{at}{tab}"


def loads_yaml(text: str, where: str, error: type[InputError] = InputError, *, limit: int = MAX_INPUT_BYTES,
               max_nodes: int = MAX_NODES) -> Any:
    """Parse YAML (safe types only) refusing duplicate keys, deep nesting, huge values and alias bombs.
    ``limit`` and ``max_nodes`` as for :func:`loads_json`."""
    global _LOADER
    import yaml

    if _LOADER is None:
        _LOADER = _yaml_loader()
    if len(text) > limit:
        raise error(f"{where}: larger than the {limit:,}-byte limit")
    try:
        doc = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise error(f"{where}: invalid YAML: nested deeper than Python can read") from None
    except yaml.YAMLError as e:
        raise error(f"{where}: invalid YAML: {yaml_error_message(e)}") from e
    except (TypeError, ValueError) as e:  # unhashable keys; Python's own integer-string limit
        raise error(f"{where}: invalid YAML: {clip(str(e), 80)}") from e
    check_value(doc, where, error, duplicates=False, max_nodes=max_nodes)
    return doc


# --------------------------------------------------------------------------- lenient JSON

_LENIENT_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?\*/|[,\]}]|[^\s"/,\]}]+|\S', re.S)


def strip_json_extensions(text: str) -> tuple[str, list[str]]:
    """*text* with ``//`` and ``/* */`` comments and trailing commas blanked out (same length, line
    breaks kept, so line, column and SARIF positions are unchanged), and what was removed (each
    kind once, with its first line). Linear in the length of *text*; strings are left alone."""
    out = list(text) if ("/" in text or "," in text) else None
    if out is None:
        return text, []
    found: dict[str, int] = {}
    pending: int | None = None

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if out[i] != "\n":
                out[i] = " "

    for m in _LENIENT_RE.finditer(text):
        tok = m.group()
        if tok.startswith("//") or tok.startswith("/*"):
            if "a comment" not in found:  # the line of the first one only: counting is linear once
                found["a comment"] = text.count("\n", 0, m.start()) + 1
            blank(m.start(), m.end())
        elif tok == ",":
            pending = m.start()
        elif tok in ("]", "}"):
            if pending is not None:
                if "a trailing comma" not in found:
                    found["a trailing comma"] = text.count("\n", 0, pending) + 1
                out[pending] = " "
            pending = None
        else:
            pending = None
    if not found:
        return text, []
    return "".join(out), [f"{what} (line {line})" for what, line in found.items()]


def loads_json_lenient(text: str, where: str, error: type[InputError] = InputError, *,
                       duplicates: bool = True) -> tuple[Any, list[str]]:
    """``loads_json``; JSON that fails only for comments or trailing commas (JSONC, as editors and
    published examples write it) is read with them blanked out. Returns (document, what was
    blanked: empty for strict JSON). Every limit still applies; other errors are the strict ones."""
    try:
        return loads_json(text, where, error, duplicates=duplicates), []
    except InputError as e:
        if "not valid JSON" not in str(e):
            raise
        original = e
        stripped, notes = strip_json_extensions(text)
        if not notes:
            raise
    try:
        return loads_json(stripped, where, error, duplicates=duplicates), notes
    except InputError as e:
        if "not valid JSON" in str(e):
            raise original from None  # invalid for another reason: the strict reader's message
        raise  # a limit (nesting, sizes) of the JSON as read


# --------------------------------------------------------------------------- streams (Activity Log exports)

#: One value read from a stream (an event, a row, a line) may be at most this large.
MAX_ITEM_BYTES = 1024 * 1024
#: ... and nested at most about this deep: the parsers' own limit (orjson refuses more than 1,024
#: levels, json past the recursion limit). Nothing walks an item recursively: fields are read at fixed
#: paths, at most 4 levels down.
MAX_ITEM_DEPTH = 1000
_CHUNK = 1024 * 1024


try:  # a C parser about 2.5 times as fast as json's; optional: without it the stdlib parses every value
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the fallback is tested by disabling it
    _orjson = None
_MISS = object()


class StreamSyntaxError(InputError):
    """Invalid JSON in a stream, at ``offset`` (characters from the start)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


class Oversize(InputError):
    """A value in a stream is larger than the item limit (it was skipped, never held whole)."""


def open_binary(path: str | os.PathLike, *, what: str = "file", error: type[InputError] = InputError) -> IO[bytes]:
    """A regular file opened for streaming, transparently gunzipped when it starts with gzip's
    magic bytes (whatever its name). Read it in chunks: nothing here loads it whole."""
    import gzip

    p = Path(path)
    f = os.fdopen(_open_regular(p, str(p), what, error), "rb")
    try:
        magic = f.read(2)
        f.seek(0)
    except OSError as e:
        f.close()
        raise error(f"{p}: cannot read: {e.strerror or e}") from e
    if magic == b"\x1f\x8b":
        z = gzip.GzipFile(fileobj=f, mode="rb")
        z.myfileobj = f  # closing the gzip stream closes the file too
        return z  # type: ignore[return-value]
    return f


class JsonStream:
    """JSON values read incrementally from a binary stream (UTF-8), each one bounded: at most
    *item_limit* characters, nested no deeper than the parsers allow (``MAX_ITEM_DEPTH``), no
    ``NaN``/``Infinity``. The buffer never holds more than about two chunks plus one item, so
    memory does not grow with the stream. Values are parsed by the C decoder; duplicate keys in an
    item keep the last value (an item is a system-written log record, not a reviewed document).

    ``peek()`` the next non-blank character, ``value()`` one bounded value, ``try_value()`` one
    value if it fits within the limit, ``skip_value()`` one of any size, ``expect(c)``, ``key()``.
    """

    def __init__(self, stream: IO[bytes], where: str, *, item_limit: int = MAX_ITEM_BYTES,
                 error: type[InputError] = InputError):
        import codecs

        self.stream, self.where, self.limit, self.error = stream, where, item_limit, error
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters dropped from the front of buf
        self.eof = False
        refused: list[_Refused] = []

        def note(value: Any) -> Any:
            if isinstance(value, _Refused):
                refused.append(value)
            return value

        self._refused = refused
        self._json = json.JSONDecoder(parse_int=lambda s: note(_parse_int(s)),
                                      parse_float=lambda s: note(_parse_float(s)),
                                      parse_constant=lambda s: note(_parse_constant(s)))
        self._first = True
        self._short = False

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def _fill(self) -> bool:
        """Read one more chunk; False at the end of the stream."""
        if self.eof:
            return False
        try:
            data = self.stream.read(_CHUNK)
        except (OSError, EOFError) as e:
            raise self.error(f"{self.where}: cannot read: {getattr(e, 'strerror', None) or e}") from e
        except Exception as e:  # zlib.error, gzip.BadGzipFile
            raise self.error(f"{self.where}: not valid gzip data ({shorten(str(e), 80)})") from e
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as e:
            raise self.error(f"{self.where}: not UTF-8 text near character {self.offset + len(self.buf) - self.pos}")\
                from e
        if self._first:
            text = text.removeprefix("\ufeff")
            self._first = False
        if self.pos > _CHUNK:
            self.base += self.pos
            self.buf, self.pos = self.buf[self.pos:], 0
        self.buf += text
        if not data:
            self.eof = True
        return bool(data) or bool(text)

    def peek(self) -> str:
        """The next character that is not white space ('' at the end); the position moves to it."""
        while True:
            buf, n = self.buf, len(self.buf)
            p = self.pos
            while p < n and buf[p] in " \t\r\n":
                p += 1
            self.pos = p
            if p < n:
                return buf[p]
            if not self._fill():
                return ""

    def expect(self, chars: str) -> str:
        c = self.peek()
        if not c or c not in chars:
            got = "the end of the input" if not c else clip(c)
            raise StreamSyntaxError(f"{self.where}: expected {' or '.join(map(repr, chars))}, got {got} "
                                    f"at character {self.offset}", self.offset)
        self.pos += 1
        return c

    def _fast(self) -> Any:
        """The next value parsed by orjson when its end can be found without a scan: it ends its
        line (JSON lines, one element per line), or it is pretty-printed and closes at its own
        indentation (``az ... -o json``). A raw line break cannot be inside a JSON string, so these
        ends are structural; when the candidate does not parse, the C decoder takes over."""
        buf, pos = self.buf, self.pos
        first = buf[pos]
        self._short = False
        if first not in "{[":
            return _MISS
        nl = buf.find("\n", pos, pos + self.limit + 2)
        if nl < 0:
            self._short = True
            return _MISS
        end = nl
        while end > pos and buf[end - 1] in " \t\r,":
            end -= 1
        if end - pos > 1:
            try:
                value = _orjson.loads(buf[pos:end])
            except _orjson.JSONDecodeError:
                pass
            else:
                return self._took(value, pos, end)
        start = buf.rfind("\n", 0, pos) + 1
        indent = buf[start:pos]
        if indent.strip(" ") or self.pos - start > 64:
            return _MISS
        closing = "\n" + indent + ("}" if first == "{" else "]")
        close = buf.find(closing, pos, pos + self.limit + len(closing))
        if close < 0:
            self._short = True
            return _MISS
        end = close + len(closing)
        try:
            value = _orjson.loads(buf[pos:end])
        except _orjson.JSONDecodeError:
            return _MISS
        return self._took(value, pos, end)

    def _took(self, value: Any, start: int, end: int) -> Any:
        self.pos = end
        return value

    def try_value(self) -> tuple[bool, Any]:
        """(True, value) when the next value is complete within the limit; (False, None) when it is
        larger (nothing consumed: walk it or ``skip_value``). Invalid JSON: ``StreamSyntaxError``."""
        self.peek()
        while _orjson is not None and self.pos < len(self.buf):
            value = self._fast()
            if value is not _MISS:
                return True, value
            if not self._short or self.eof or len(self.buf) - self.pos >= self.limit:
                break
            self._fill()  # its end is not in the buffer yet: read on rather than fail a parse
        while True:
            self._refused.clear()
            try:
                value, end = self._json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                incomplete = e.pos >= len(self.buf) - 1 or e.msg.startswith("Unterminated string")
                if incomplete and not self.eof:
                    if len(self.buf) - self.pos >= self.limit:
                        return False, None
                    self._fill()
                    continue
                raise StreamSyntaxError(f"{self.where}: not valid JSON: {e.msg} at character {self.base + e.pos}",
                                        self.base + e.pos) from None
            except RecursionError:
                if len(self.buf) - self.pos < self.limit and self._fill():
                    continue
                raise StreamSyntaxError(f"{self.where}: nested deeper than about {MAX_ITEM_DEPTH} levels at character "
                                        f"{self.offset}", self.offset) from None
            except ValueError as e:  # Python's integer-string limit
                raise StreamSyntaxError(f"{self.where}: {clip(str(e), 80)} at character {self.offset}",
                                        self.offset) from None
            if end - self.pos > self.limit:
                return False, None
            if end == len(self.buf) and not self.eof and self._fill():
                continue  # a number (or the value) may go on in the next chunk
            start, self.pos = self.pos, end
            self._check(value, start, end)
            return True, value

    def _check(self, value: Any, start: int, end: int) -> None:
        if self._refused:
            why = self._refused[0].why
            self._refused.clear()
            raise StreamSyntaxError(f"{self.where}: {why} in the value at character {self.base + start}",
                                    self.base + start)

    def value(self) -> Any:
        """The next value, bounded: ``Oversize`` (after skipping it) when it is larger than the limit."""
        start = self.offset
        ok, value = self.try_value()
        if not ok:
            self.skip_value()
            raise Oversize(f"{self.where}: a value at character {start} is larger than the {self.limit:,}-character "
                           "limit (skipped)")
        return value

    def key(self) -> str:
        """An object key and its colon."""
        if self.peek() != '"':
            raise StreamSyntaxError(f"{self.where}: expected an object key at character {self.offset}", self.offset)
        k = self.value()
        self.expect(":")
        return k

    def skip_value(self) -> None:
        """Move past the next value of any size without holding it (strings and nesting tracked)."""
        depth, in_string, escaped = 0, False, False
        self.peek()
        started = False
        while True:
            buf, n, p = self.buf, len(self.buf), self.pos
            while p < n:
                c = buf[p]
                p += 1
                if in_string:
                    if escaped:
                        escaped = False
                    elif c == "\\":
                        escaped = True
                    elif c == '"':
                        in_string = False
                        if depth == 0:
                            self.pos = p
                            return
                elif c == '"':
                    in_string, started = True, True
                elif c in "[{":
                    depth, started = depth + 1, True
                elif c in "]}":
                    depth -= 1
                    if depth <= 0:
                        self.pos = p
                        return
                elif c in ",: \t\r\n" and depth == 0 and started:
                    self.pos = p - 1
                    return
                else:
                    started = True
            self.pos = p
            if not self._fill():
                return

    def skip_line(self) -> None:
        """Move past the rest of the current line (to resume after a broken JSON line)."""
        while True:
            i = self.buf.find("\n", self.pos)
            if i >= 0:
                self.pos = i + 1
                return
            self.pos = len(self.buf)
            if not self._fill():
                return


def loads_item(text: str, where: str) -> Any:
    """One item of a stream given as text (a Log Analytics ``Claims`` column holds JSON text): at
    most ``MAX_ITEM_BYTES`` characters, parsed as ``JsonStream`` parses items."""
    if len(text) > MAX_ITEM_BYTES:
        raise Oversize(f"{where}: larger than the {MAX_ITEM_BYTES:,}-character limit")
    if _orjson is not None:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    js = JsonStream(io.BytesIO(text.encode("utf-8", "surrogatepass")), where)
    value = js.value()
    if js.peek():
        raise StreamSyntaxError(f"{where}: more than one JSON value", js.offset)
    return value


def bounded_lines(stream: IO[bytes], where: str, *, limit: int = MAX_ITEM_BYTES,
                  error: type[InputError] = InputError):
    """(line number, text) of each line of a UTF-8 stream, each at most *limit* bytes: a longer
    one is cut off and yields (number, None) instead, never held whole."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    pending = b""
    number = 0
    skipping = False
    first = True
    while True:
        try:
            data = stream.read(_CHUNK)
        except Exception as e:  # OSError, EOFError, zlib.error, gzip.BadGzipFile
            raise error(f"{where}: cannot read: {shorten(str(e), 80)}") from e
        if not data:
            break
        pending += data
        start = 0
        while True:
            i = pending.find(b"\n", start)
            if i < 0:
                break
            number += 1
            line = pending[start:i + 1]
            start = i + 1
            if skipping:
                skipping = False
                yield number, None
                continue
            if len(line) > limit:
                yield number, None
                continue
            try:
                text = decoder.decode(line)
            except UnicodeDecodeError as e:
                raise error(f"{where}: line {number} is not UTF-8 text") from e
            if first:
                text, first = text.removeprefix("\ufeff"), False
            yield number, text
        pending = pending[start:]
        if len(pending) > limit:
            skipping, pending = True, b""
    if skipping:
        yield number + 1, None
    elif pending:
        try:
            text = decoder.decode(pending, final=True)
        except UnicodeDecodeError as e:
            raise error(f"{where}: line {number + 1} is not UTF-8 text") from e
        yield number + 1, text.removeprefix("\ufeff") if first else text
