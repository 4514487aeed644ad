"""Azure Activity Log events, streamed from any export, folded into what each caller did.

Reads (``../shared/research/azure-access-model.md`` section 8), gzip or not (magic bytes):

* ``az monitor activity-log list`` output: a JSON array of events, or a REST ``{"value": [...]}`` page;
* diagnostic-settings exports (Storage, Event Hubs): JSON lines of ``{"records": [...]}`` or of
  single records (``time``, ``operationName``, ``resultType``, ``identity{authorization, claims}``);
* Log Analytics ``AzureActivity`` query results: a JSON array of row objects, the REST
  ``{"tables": [{"columns", "rows"}]}`` shape, or CSV (the portal's export).

Every value goes through ``rbactool.readers.JsonStream`` (each event at most 1 MiB and 64 levels
deep, lines and CSV fields bounded), so memory grows with the number of distinct
(caller, operation, scope) triples, never with the number of events. A malformed event is counted
(and the first few reported), never a traceback; a file in none of these shapes is one
``InputError`` line.

Each event gives: the operation (``authorization.action``, the RBAC action ARM checked, else
``operationName``), the caller's object id (the ``objectidentifier`` claim, else ``oid``, else
``evidence.principalId`` of a user or service principal, else ``caller`` when it is a GUID; a UPN
is kept as it is), the scope (``authorization.scope``, else ``resourceId``), the status, the time
and ``evidence.roleAssignmentId`` when present. Pure: no azure.*, no network.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rbactool.errors import InputError
from rbactool.readers import (
    MAX_ITEM_BYTES,
    JsonStream,
    Oversize,
    StreamSyntaxError,
    bounded_lines,
    clip,
    loads_item,
    open_binary,
)

__all__ = ["OID_CLAIM", "ActivityLog", "Use", "read_activity_logs"]

OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
#: Categories that are a principal's own control-plane calls (a diagnostic record says "Write" etc.).
_ADMIN = frozenset({"administrative", "write", "delete", "action"})
_ADMIN_SPELLED = frozenset({"Administrative", "Write", "Delete", "Action"})
_START = frozenset({"started", "accepted", "in progress"})
_SUCCEEDED = frozenset({"Succeeded", "Success", "Started", "Accepted"})
_DENIED = ("forbidden", "unauthorized", "authorizationfailed", "403", "401", "linkedauthorizationfailed")
_GUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_US_TIME = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?\s*([AP]M)?$", re.I)
MAX_PROBLEMS = 20
#: Distinct (caller, operation, scope) triples held: memory grows with them, not with the events,
#: so a crafted export of unique scopes is refused here rather than exhausting memory.
MAX_USES = 2_000_000
MAX_OPERATION = 512
MAX_SCOPE = 4096
MAX_CSV_FIELD = 128 * 1024


@dataclass
class Use:
    """What one caller did with one operation at one scope: calls (end events), start events,
    denied attempts (403/401), first and last time, and the assignments evidence names."""
    calls: int = 0
    starts: int = 0
    denied: int = 0
    first: str = ""
    last: str = ""
    evidence: set[str] | None = None

    @property
    def allowed(self) -> bool:
        return self.calls + self.starts > 0

    def count(self) -> int:
        return self.calls or self.starts


@dataclass
class ActivityLog:
    """The events of some exports, folded: ``uses[(caller, operation lower, scope lower)]``."""
    uses: dict[tuple[str, str, str], Use] = field(default_factory=dict)
    operations: dict[str, str] = field(default_factory=dict)  # lower -> first spelling seen
    scopes: dict[str, str] = field(default_factory=dict)
    since: str | None = None
    events: int = 0  # events read (before filters)
    counted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    malformed: int = 0
    problems: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    first: str = ""
    last: str = ""
    caller_sources: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def bad(self, where: str | tuple, why: str) -> None:
        """Count a malformed event; *where* is text, or parts joined only when it is reported."""
        self.malformed += 1
        if len(self.problems) < MAX_PROBLEMS:
            place = where if isinstance(where, str) else "".join(map(str, where))
            self.problems.append(f"{place}: {why}")

    def callers(self) -> set[str]:
        return {c for c, _, _ in self.uses}

    def of(self, caller: str) -> Iterator[tuple[str, str, Use]]:
        """(operation lower, scope lower, use) of one caller."""
        for (c, op, scope), use in self.uses.items():
            if c == caller:
                yield op, scope, use

    def summary(self) -> dict[str, Any]:
        return {"files": self.files, "events": self.events, "counted": self.counted, "skipped": dict(self.skipped),
                "malformed": self.malformed, "problems": list(self.problems), "since": self.since,
                "firstEvent": self.first or None, "lastEvent": self.last or None,
                "callerFrom": dict(self.caller_sources)}

    # ------------------------------------------------------------------ folding one event
    def add(self, event: Any, where: str | tuple) -> None:
        self.events += 1
        if not isinstance(event, dict):
            self.bad(where, f"an event must be a JSON object, got {type(event).__name__}")
            return
        try:
            fields = _fields(event)
        except _Malformed as e:
            self.bad(where, str(e))
            return
        if fields is None:
            self.skip("category")
            return
        op, caller, source, scope, status, substatus, when, evidence = fields
        if self.since and (not when or when < self.since):
            self.skip("before --since" if when else "no time (with --since)")
            return
        self.counted += 1
        self.caller_sources[source] = self.caller_sources.get(source, 0) + 1
        low_op, low_scope = op.lower(), scope.lower().rstrip("/") or "/"
        if low_op not in self.operations:
            self.operations[low_op] = op
        if low_scope not in self.scopes:
            self.scopes[low_scope] = scope.rstrip("/") or "/"
        key = (caller, low_op, low_scope)
        use = self.uses.get(key)
        if use is None:
            if len(self.uses) >= MAX_USES:
                raise InputError(f"{where if isinstance(where, str) else ''.join(map(str, where))}: more than "
                                 f"{MAX_USES:,} distinct (caller, operation, scope) uses; give fewer or "
                                 "shorter exports (--since)")
            use = self.uses[key] = Use()
        st = status if status == "Succeeded" else status.lower()
        if st in _START:
            use.starts += 1
        elif st.startswith("fail") and any(d in substatus for d in _DENIED):
            use.denied += 1
        else:
            use.calls += 1
        if evidence:
            if use.evidence is None:
                use.evidence = set()
            if len(use.evidence) < 16:
                use.evidence.add(evidence)
        if when:
            if not use.first or when < use.first:
                use.first = when
            if when > use.last:
                use.last = when
            if not self.first or when < self.first:
                self.first = when
            if when > self.last:
                self.last = when


class _Malformed(Exception):
    pass


_EMPTY: dict = {}


def _obj(value: Any) -> dict:
    """A nested object, which Log Analytics may give as JSON text (Claims, Authorization, Properties)."""
    if type(value) is dict:
        return value
    if value is None:
        return _EMPTY
    if type(value) is str and value[:1] == "{":
        try:
            parsed = loads_item(value, "field")
        except (InputError, UnicodeEncodeError):
            return _EMPTY
        return parsed if type(parsed) is dict else _EMPTY
    return _EMPTY


def _text(value: Any) -> str:
    """A string field, or the ``value`` of a ``{value, localizedValue}`` pair."""
    if type(value) is dict:
        value = value.get("value")
    return value if type(value) is str else ""


_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d*)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$")


def _time(value: Any) -> str:
    """An event time as ``YYYY-MM-DDTHH:MM:SS`` (UTC, comparable as text); '' when unreadable."""
    if type(value) is not str or len(value) < 10 or len(value) > 64:
        return ""
    if value[-1] == "Z" and len(value) >= 20 and value[10] == "T" and value[4] == "-" and value[13] == ":" \
            and value[19] in ".Z" and value[:4].isdigit():
        return value[:19]  # the common case: 2026-11-02T10:00:00.1234567Z
    t = value.strip()
    m = _ISO.match(t)
    if m:
        date, clock, _, sign, oh, om = m.groups()
        if not sign or (oh == "00" and om == "00"):
            return f"{date}T{clock}"
        try:
            d = dt.datetime.fromisoformat(f"{date}T{clock}")
        except ValueError:
            return ""
        shift = dt.timedelta(hours=int(oh), minutes=int(om))
        return (d - shift if sign == "+" else d + shift).strftime("%Y-%m-%dT%H:%M:%S")
    m = _US_TIME.match(t)
    if m:
        month, day, year, hour, minute, second, half = m.groups()
        h = int(hour) % 12 + (12 if half.upper() == "PM" else 0) if half else int(hour)
        try:
            return dt.datetime(int(year), int(month), int(day), h, int(minute), int(second)).strftime(
                "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return ""
    return ""


def parse_since(value: str) -> str:
    """``--since``: a date or a date-time (UTC unless an offset is given)."""
    t = _time(value if len(value) > 10 else value + "T00:00:00")
    if not t:
        raise InputError(f"--since {clip(value)}: expected a date such as 2026-11-01 or 2026-11-01T08:00:00Z")
    return t


def _fields(e: dict) -> tuple[str, str, str, str, str, str, str, str] | None:
    """(operation, caller, caller source, scope, status, substatus lower, time, evidence assignment) of
    one event in any shape; None for an event of another category (service health, policy...)."""
    identity = None if "authorization" in e else e.get("identity")
    if type(identity) is dict:  # a diagnostic-settings record
        authz = _obj(identity.get("authorization"))
        claims = _obj(identity.get("claims"))
        status, sub_raw = _text(e.get("resultType")), e.get("resultSignature")
        when = e.get("time")
        cat_raw = e.get("category")
        props = _obj(e.get("properties"))
        op_name = e.get("operationName")
    elif "eventTimestamp" not in e and ("OperationNameValue" in e or "TimeGenerated" in e or
                                        "ActivityStatusValue" in e):  # AzureActivity
        authz = _obj(e.get("Authorization_d") or e.get("Authorization"))
        claims = _obj(e.get("Claims_d") or e.get("Claims"))
        status = _text(e.get("ActivityStatusValue") or e.get("ActivityStatus"))
        sub_raw = e.get("ActivitySubstatusValue") or e.get("ActivitySubstatus")
        when = e.get("TimeGenerated")
        cat_raw = e.get("CategoryValue") or e.get("Category")
        props = _obj(e.get("Properties_d") or e.get("Properties"))
        op_name = e.get("OperationNameValue") or e.get("OperationName")
        e = {"caller": e.get("Caller"), "resourceId": e.get("_ResourceId") or e.get("ResourceId")}
    else:  # az monitor activity-log list / REST
        authz = e.get("authorization")
        if type(authz) is not dict:
            authz = _obj(authz)
        claims = e.get("claims")
        if type(claims) is not dict:
            claims = _obj(claims)
        status = e.get("status")
        if type(status) is dict:
            status = status.get("value")
        if type(status) is not str:
            status = ""
        sub_raw = e.get("subStatus")
        when = e.get("eventTimestamp")
        cat_raw = e.get("category")
        props = e.get("properties")
        if type(props) is not dict:
            props = _obj(props)
        op_name = e.get("operationName")
    kind = props.get("eventCategory") or _text(cat_raw)
    if kind and type(kind) is str and kind not in _ADMIN_SPELLED and kind.lower() not in _ADMIN:
        return None
    op = authz.get("action")
    if type(op) is not str or not op:
        op = _text(op_name)
    if not op:
        raise _Malformed("no operation (authorization.action or operationName)")
    if len(op) > MAX_OPERATION or "/" not in op or not op.isprintable():
        raise _Malformed(f"operation {clip(op)} is not an Azure operation")
    scope = authz.get("scope")
    if type(scope) is not str or not scope:
        scope = e.get("resourceId")
    if type(scope) is not str or scope[:1] != "/" or len(scope) > MAX_SCOPE or not scope.isprintable():
        raise _Malformed("no scope (authorization.scope or resourceId)" if not scope else
                         f"scope {clip(scope)} is not an ARM scope")
    evidence = _obj(authz.get("evidence"))
    caller, source = _caller(claims, evidence, e.get("caller"))
    if not caller:
        raise _Malformed("no caller (objectidentifier claim, evidence.principalId or caller)")
    assignment = ""
    if evidence:
        found = evidence.get("roleAssignmentId")
        if type(found) is str and _GUID.match(found.rsplit("/", 1)[-1]):
            assignment = found.rsplit("/", 1)[-1].replace("-", "").lower()
    substatus = ""
    if status not in _SUCCEEDED:
        code = props.get("statusCode")
        substatus = f"{_text(sub_raw)} {code if type(code) is str else ''}".lower()
    return op, caller, source, scope, status, substatus, _time(when), assignment


def _caller(claims: dict, evidence: dict, caller: Any) -> tuple[str, str]:
    v = claims.get(OID_CLAIM) or claims.get("oid")
    if type(v) is str and _GUID.match(v):
        return (v if v.islower() and len(v) == 36 else _guid(v)), "claims"
    pid, ptype = evidence.get("principalId"), evidence.get("principalType")
    if isinstance(pid, str) and _GUID.match(pid) and isinstance(ptype, str) and ptype.lower() != "group":
        return _guid(pid), "evidence"
    if isinstance(caller, str) and caller:
        if _GUID.match(caller):
            return _guid(caller), "caller"
        if len(caller) <= 256 and caller.isprintable():
            return caller.lower(), "caller-name"
    return "", ""


def _guid(v: str) -> str:
    v = v.lower()
    return v if "-" in v else f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"


# --------------------------------------------------------------------------- files


def read_activity_logs(paths: Iterable[str], *, since: str | None = None) -> ActivityLog:
    """Stream every file into one ``ActivityLog`` (``since``: from ``parse_since``)."""
    log = ActivityLog(since=since)
    for path in paths:
        before, bad = log.events, log.malformed
        shape = _read_file(str(path), log)
        log.files.append({"path": str(path), "shape": shape, "events": log.events - before,
                          "malformed": log.malformed - bad})
    return log


def _read_file(path: str, log: ActivityLog) -> str:
    stream = open_binary(path, what="Activity Log export")
    try:
        js = JsonStream(stream, path)
        first = js.peek()
        if first in ("[", "{"):
            return _read_json(js, log)
        if first == "":
            return "empty"
    finally:
        stream.close()
    stream = open_binary(path, what="Activity Log export")
    try:
        return _read_csv(stream, path, log)
    finally:
        stream.close()


class _Shape:
    def __init__(self, path: str):
        self.path = path
        self.name = ""
        self.seen_event = False

    def check(self, item: Any) -> None:
        """The first item must look like an event: otherwise the file is not an export at all."""
        if self.seen_event:
            return
        if isinstance(item, dict) and (set(item) & _EVENT_KEYS):
            self.seen_event = True
            return
        raise InputError(f"{self.path}: not an Activity Log export (az monitor activity-log list JSON, "
                         "diagnostic-settings records, or Log Analytics AzureActivity JSON or CSV): the first "
                         f"item has none of {', '.join(sorted(_SHOWN_KEYS))}")


_EVENT_KEYS = frozenset({"operationName", "authorization", "eventTimestamp", "OperationNameValue", "OperationName",
                         "TimeGenerated", "resultType", "identity", "Authorization", "Authorization_d"})
_SHOWN_KEYS = ("operationName", "authorization", "OperationNameValue", "TimeGenerated")


def _read_json(js: JsonStream, log: ActivityLog) -> str:
    shape = _Shape(js.where)
    while (c := js.peek()) != "":
        at = js.offset
        try:
            if c == "[" and shape.name and shape.name != "json-array":  # a line of JSON lines: one value
                try:
                    item = js.value()
                except Oversize:
                    item = _Bad(f"a line larger than {js.limit:,} characters (skipped)")
                _take(log, shape, item, f"{js.where}:{at}")
            elif c == "[":
                shape.name = shape.name or "json-array"
                _read_array(js, log, shape)
            elif c == "{":
                for kind, where, item in _object(js):
                    shape.name = shape.name or kind
                    _take(log, shape, item, where)
            else:
                raise StreamSyntaxError(f"{js.where}: expected an event, an array or an object at character {at}", at)
        except StreamSyntaxError as e:
            if not shape.seen_event:
                raise InputError(f"{js.where}: not an Activity Log export ({str(e).removeprefix(js.where + ': ')})") \
                    from None
            log.bad(f"{js.where}:{e.offset}", str(e).removeprefix(js.where + ": "))
            if shape.name == "json-array":  # inside one array: nothing after the break can be trusted
                log.problems.append(f"{js.where}: the rest of the file after character {e.offset} was not read")
                break
            js.skip_line()  # JSON lines: go on with the next line
        else:
            if c == "{" and shape.name in ("json-array",):
                shape.name = "json-lines"
    return shape.name or "json"


def _read_array(js: JsonStream, log: ActivityLog, shape: _Shape) -> None:
    """``_array`` with ``_take`` inlined: the hot loop of an ``az monitor activity-log list`` file."""
    js.expect("[")
    if js.peek() == "]":
        js.pos += 1
        return
    add, path, value, expect = log.add, js.where, js.value, js.expect
    while True:
        at = js.base + js.pos
        try:
            item = value()
        except Oversize:
            item = _Bad(f"an event larger than {js.limit:,} characters (skipped)")
        if shape.seen_event and type(item) is dict:
            add(item, (path, ":", at))
        else:
            _take(log, shape, item, (path, ":", at))
        if expect(",]") == "]":
            return


def _take(log: ActivityLog, shape: _Shape, item: Any, where: str | tuple) -> None:
    if isinstance(item, _Bad):
        if not shape.seen_event:
            raise InputError(f"{shape.path}: {item.why}")
        log.bad(where, item.why)
        log.events += 1
        return
    shape.check(item)
    log.add(item, where)


class _Bad:
    def __init__(self, why: str):
        self.why = why


def _array(js: JsonStream) -> Iterator[tuple[tuple, Any]]:
    js.expect("[")
    if js.peek() == "]":
        js.pos += 1
        return
    while True:
        at = js.offset
        try:
            item = js.value()
        except Oversize:
            item = _Bad(f"an event larger than {js.limit:,} characters (skipped)")
        yield (js.where, ":", at), item
        if js.expect(",]") == "]":
            return


_CONTAINERS = ("records", "value")


def _object(js: JsonStream) -> Iterator[tuple[str, str | tuple, Any]]:
    """The events of one top-level object: a container (records / value / tables) or one event."""
    at = js.offset
    ok, doc = js.try_value()
    where = f"{js.where}:{at}"
    if ok:
        if isinstance(doc, dict):
            for key in _CONTAINERS:
                if isinstance(doc.get(key), list):
                    for i, item in enumerate(doc[key]):
                        yield (f"{key}-lines" if key == "records" else "rest-page"), (where, f"/{key}/", i), item
                    return
            if isinstance(doc.get("tables"), list):
                for i, item in enumerate(_rows_of_tables(doc["tables"], where)):
                    yield "log-analytics-tables", (where, "/row/", i), item
                return
        yield "json-lines", where, doc
        return
    # larger than one event: walk it key by key, streaming its container
    js.expect("{")
    if js.peek() == "}":
        js.pos += 1
        return
    found = False
    while True:
        key = js.key()
        if key in _CONTAINERS and js.peek() == "[":
            found = True
            for w, item in _array(js):
                yield ("records-lines" if key == "records" else "rest-page"), w, item
        elif key == "tables" and js.peek() == "[":
            found = True
            for w, item in _tables(js):
                yield "log-analytics-tables", w, item
        else:
            try:
                js.value()
            except Oversize:
                if not found:
                    yield "json-lines", where, _Bad(f"an event larger than {js.limit:,} characters (skipped)")
                    found = True
        if js.expect(",}") == "}":
            break


def _rows_of_tables(tables: list, where: str) -> Iterator[Any]:
    for t in tables:
        if not isinstance(t, dict):
            continue
        names = _column_names(t.get("columns"), where)
        for row in t.get("rows") or ():
            yield _row(names, row)


def _column_names(columns: Any, where: str) -> list[str]:
    if not isinstance(columns, list):
        raise InputError(f"{where}: a Log Analytics table without columns")
    return [c.get("name") if isinstance(c, dict) and isinstance(c.get("name"), str) else str(c) for c in columns]


def _row(names: list[str], row: Any) -> Any:
    if not isinstance(row, list) or len(row) != len(names):
        return _Bad(f"a Log Analytics row of {len(row) if isinstance(row, list) else 'no'} values for "
                    f"{len(names)} columns")
    return dict(zip(names, row, strict=True))


def _tables(js: JsonStream) -> Iterator[tuple[tuple, Any]]:
    js.expect("[")
    if js.peek() == "]":
        js.pos += 1
        return
    while True:
        js.expect("{")
        names: list[str] | None = None
        if js.peek() != "}":
            while True:
                key = js.key()
                if key == "columns":
                    names = _column_names(js.value(), js.where)
                elif key == "rows":
                    if names is None:
                        raise InputError(f"{js.where}: a Log Analytics table whose rows come before its columns")
                    for w, row in _array(js):
                        yield w, row if isinstance(row, _Bad) else _row(names, row)
                else:
                    js.value()
                if js.expect(",}") == "}":
                    break
        else:
            js.pos += 1
        if js.expect(",]") == "]":
            return


def _read_csv(stream, path: str, log: ActivityLog) -> str:
    lines = bounded_lines(stream, path, limit=MAX_ITEM_BYTES)
    line = [0]  # the number of the line read last (a row may span lines)

    def texts() -> Iterator[str]:
        for number, text in lines:
            line[0] = number
            if text is None:
                log.bad(f"{path}:{number}", f"a line longer than {MAX_ITEM_BYTES:,} bytes (skipped)")
                continue
            yield text

    old = csv.field_size_limit()
    csv.field_size_limit(MAX_CSV_FIELD)
    try:
        reader = csv.reader(texts(), strict=False)
        try:
            header = next(reader)
        except StopIteration:
            return "empty"
        except csv.Error as e:
            raise InputError(f"{path}: not an Activity Log export ({e})") from None
        names = [re.sub(r"\s*\[(UTC|Local)\]$", "", h.strip()) for h in header]
        if not ({"OperationNameValue", "OperationName"} & set(names)) or len(names) < 3:
            raise InputError(f"{path}: not an Activity Log export (az monitor activity-log list JSON, "
                             "diagnostic-settings records, or Log Analytics AzureActivity JSON or CSV with an "
                             f"OperationNameValue column); it starts with {clip(','.join(header)[:60])}")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                log.events += 1
                log.bad(f"{path}:{line[0]}", f"not valid CSV ({e})")
                continue
            if not row:
                continue
            if len(row) != len(names):
                log.events += 1
                log.bad(f"{path}:{line[0]}", f"a row of {len(row)} fields for {len(names)} columns")
                continue
            log.add({k: v for k, v in zip(names, row, strict=True) if v != ""}, f"{path}:{line[0]}")
    finally:
        csv.field_size_limit(old)
    return "log-analytics-csv"
