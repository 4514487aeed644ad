"""ARM's REST API over HTTPS with the standard library: the transport of ``azure_adapter.AzureGateway``.

Why not the SDK's pipeline: a cold ``rbactool assign`` spent about 0.2 s importing azure-core,
requests, urllib3 and the SDK's multi-API package (and compiling their regular expressions)
before its first request. This client does what rbactool needs of that pipeline and no more:

* TLS always (certificate checked against ``--ca-bundle``, ``$REQUESTS_CA_BUNDLE``,
  ``$CURL_CA_BUNDLE`` or certifi's bundle, as requests does), one kept-alive connection per
  client, ``$HTTPS_PROXY`` / ``$NO_PROXY`` honoured; every answer read within limits (status and
  header lines, header count, 1xx answers, plain-hex chunk sizes, the readers' size limit) and
  time (``TIMEOUT_S`` per read, ``ANSWER_TIMEOUT_S`` per answer); redirects are not followed;
* the bearer token from a ``TokenCredential`` (``get_token(scope).token``), renewed before it expires;
* retries as azure-core's ``RetryPolicy`` makes them: 408/429/500/502/503/504 (and any error
  with ``Retry-After``) up to 3 times, ``Retry-After`` capped (``waits.retry_after_seconds``),
  else 0, 1.6, 3.2 s; a connection that fails gets one immediate retry, so an endpoint that is
  gone fails in about a second (``plan.apply_plan``'s circuit breaker counts on it);
* ARM's error body (``{"error": {"code", "message"}}``) as ``AzureOperationError`` with the HTTP
  status and the ARM code; answers are JSON read with ``rbactool.readers``' limits, and paging
  follows ``nextLink`` only to the same endpoint (the token is never sent elsewhere).

No ``azure.*`` import here; nothing is logged but the method and path.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from rbactool import waits
from rbactool.arm_errors import explain
from rbactool.errors import AzureOperationError
from rbactool.readers import MAX_INPUT_BYTES, loads_json
from rbactool.redact import redact_configured

logger = logging.getLogger(__name__)

API_VERSION = "2022-04-01"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
STATUS_RETRIES = 3
BACKOFF_FACTOR = 0.8
BACKOFF_MAX = 30.0
TIMEOUT_S = 120.0  # each read of the socket
ANSWER_TIMEOUT_S = 300.0  # one answer, whole: a server that trickles bytes cannot hold a command forever
MAX_PAGES = 10_000
#: Characters left as they are in a path (RFC 3986 pchar, and '%' for ids Azure already encoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/:@!$'()*+,;=-._~"
_USER_AGENT = f"rbactool python/{sys.version_info[0]}.{sys.version_info[1]}"


class ConnectionFailed(Exception):
    """No usable answer: refused, reset, TLS failure, timeout (``sent``: the request went out)."""

    def __init__(self, message: str, *, sent: bool):
        super().__init__(message)
        self.sent = sent


def _ca_file(ca_bundle: str | None) -> str | None:
    found = ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
    if found:
        return found
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with azure-identity's dependencies
        return None
    return certifi.where()


def _proxy_for(host: str) -> tuple[str, int, dict[str, str]] | None:
    """The HTTPS proxy for *host* from the environment (as requests reads it), or None."""
    proxy = next((os.environ[k] for k in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
                  if os.environ.get(k)), None)
    if not proxy:
        return None
    from urllib.request import proxy_bypass_environment

    if proxy_bypass_environment(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    headers = {}
    if parts.username:
        import base64
        from urllib.parse import unquote

        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), headers


def error_of(status: int, reason: str, body: bytes) -> tuple[str | None, str]:
    """(ARM error code or None, ARM's message or the HTTP reason) of an error answer."""
    try:
        doc = json.loads(body.decode("utf-8", "replace")) if body.strip() else None
    except (ValueError, RecursionError):  # a hostile endpoint's body nested deep enough to crash the parser
        doc = None
    err = doc.get("error", doc) if isinstance(doc, dict) else None
    if isinstance(err, dict):
        code, message = err.get("code"), err.get("message")
        return (code if isinstance(code, str) and code else None,
                message if isinstance(message, str) and message else f"HTTP {status} {reason}")
    return None, f"Operation returned an invalid status '{reason or status}'"


MAX_LINE = 65_536
MAX_HEADERS = 100
MAX_INTERIM = 10  # 1xx answers before the final one
_HEX = frozenset(b"0123456789abcdefABCDEF")


class MalformedAnswer(OSError):
    """An answer that is not HTTP/1.1 as rbactool reads it (or exceeds its limits)."""


class _DeadlineReader(io.RawIOBase):
    """The socket as a raw stream whose reads end at ``deadline`` (monotonic), not only after
    ``TIMEOUT_S`` of silence."""

    def __init__(self, sock: socket.socket):
        self.sock, self.deadline = sock, None

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the answer took longer than the answer deadline")
            self.sock.settimeout(min(TIMEOUT_S, left))
        return self.sock.recv_into(buf)


def _reader(sock: socket.socket) -> io.BufferedReader:
    return io.BufferedReader(_DeadlineReader(sock))


class _Connection:
    """One HTTPS connection speaking HTTP/1.1 with keep-alive: just what ARM needs (``http.client``
    would import the email package and compile its regular expressions on every start)."""

    def __init__(self, host: str, port: int, ctx: ssl.SSLContext, proxy: tuple[str, int, dict[str, str]] | None):
        self.host, self.port, self._ctx, self._proxy = host, port, ctx, proxy
        self._sock: ssl.SSLSocket | None = None
        self._file = None

    def _open(self) -> None:
        if self._proxy is None:
            raw = socket.create_connection((self.host, self.port), timeout=TIMEOUT_S)
        else:
            raw = socket.create_connection(self._proxy[:2], timeout=TIMEOUT_S)
            try:
                self._tunnel(raw)
            except BaseException:
                raw.close()
                raise
        try:
            self._sock = self._ctx.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        self._file = _reader(self._sock)

    def _tunnel(self, raw: socket.socket) -> None:
        target = f"{self.host}:{self.port}"
        head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in self._proxy[2].items()) + "\r\n"
        raw.sendall(head.encode("latin-1"))
        reader = raw.makefile("rb")
        status, _, _ = _status_line(reader)
        _headers(reader)
        if status != 200:
            raise MalformedAnswer(f"the proxy refused the tunnel to {target} (HTTP {status})")

    def request(self, method: str, target: str, body: bytes | None, headers: dict[str, str]):
        """Send one request; returns (status, reason, headers (lower-case), body, keep-alive)."""
        if self._sock is None:
            self._open()
        host = self.host if self.port == 443 else f"{self.host}:{self.port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()),
                 f"Content-Length: {len(body or b'')}"]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        raw = getattr(self._file, "raw", None)
        if isinstance(raw, _DeadlineReader):
            raw.deadline = time.monotonic() + ANSWER_TIMEOUT_S
        return self._response(method)

    def _response(self, method: str):
        for _ in range(MAX_INTERIM + 1):
            status, reason, version = _status_line(self._file)
            head = _headers(self._file)
            if not 100 <= status < 200:
                break
        else:
            raise MalformedAnswer(f"more than {MAX_INTERIM} interim (1xx) answers")
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in head.get("transfer-encoding", "").lower():
            body = _chunked(self._file)
        elif "content-length" in head:
            try:
                n = int(head["content-length"])
            except ValueError:
                raise MalformedAnswer("a Content-Length that is not a number") from None
            if not 0 <= n <= MAX_INPUT_BYTES:
                raise MalformedAnswer(f"an answer larger than {MAX_INPUT_BYTES:,} bytes")
            body = _exactly(self._file, n)
        else:  # until the server closes
            body = self._file.read(MAX_INPUT_BYTES + 1)
            if len(body) > MAX_INPUT_BYTES:
                raise MalformedAnswer(f"an answer larger than {MAX_INPUT_BYTES:,} bytes")
            head["connection"] = "close"
        conn = head.get("connection", "").lower()
        keep = "close" not in conn and (version == "HTTP/1.1" or "keep-alive" in conn)
        return status, reason, head, body, keep

    def close(self) -> None:
        for thing in (self._file, self._sock):
            if thing is not None:
                with contextlib.suppress(OSError):
                    thing.close()
        self._sock = self._file = None


def _line(reader) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise MalformedAnswer("a header line longer than 64 KiB")
    return line


def _status_line(reader) -> tuple[int, str, str]:
    line = _line(reader)
    if not line:
        raise ConnectionResetError("the server closed the connection without an answer")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise MalformedAnswer(f"not an HTTP answer: {line[:40]!r}")
    return int(parts[1]), parts[2] if len(parts) > 2 else "", parts[0]


def _headers(reader) -> dict[str, str]:
    head: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in (b"\r\n", b"\n", b""):
            return head
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise MalformedAnswer("a header line without a colon")
        key = name.strip().lower()
        head[key] = f"{head[key]}, {value.strip()}" if key in head else value.strip()
    raise MalformedAnswer(f"more than {MAX_HEADERS} header lines")


def _exactly(reader, n: int) -> bytes:
    data = reader.read(n)
    if len(data) != n:
        raise ConnectionResetError("the connection closed in the middle of the answer")
    return data


def _chunked(reader) -> bytes:
    parts, total = [], 0
    while True:
        size_text = _line(reader).split(b";", 1)[0].strip()
        if not size_text or not _HEX.issuperset(size_text):  # int() would take "-1", "+2", "0x2", "2_0"
            raise MalformedAnswer("a chunk size that is not a hexadecimal number")
        size = int(size_text, 16)
        if size == 0:
            _headers(reader)  # trailers
            return b"".join(parts)
        total += size
        if total > MAX_INPUT_BYTES:
            raise MalformedAnswer(f"an answer larger than {MAX_INPUT_BYTES:,} bytes")
        parts.append(_exactly(reader, size))
        if _line(reader) not in (b"\r\n", b"\n"):
            raise MalformedAnswer("a chunk not followed by a line break")


class ArmClient:
    """One ARM endpoint: ``request`` and ``pages``. *token* gives a bearer token, *on_send* is
    called before every attempt (counting, the shared throttling gate), *on_throttled* with the
    accepted Retry-After of a 429, *cancel* ends retry waits (Ctrl-C in apply)."""

    def __init__(self, endpoint: str, *, token: Callable[[], str], ca_bundle: str | None = None,
                 on_send: Callable[[], None] = lambda: None, on_throttled: Callable[[float], None] = lambda s: None,
                 retry_after: Callable[[str], float] = waits.retry_after_seconds,
                 cancel: Callable[[], threading.Event | None] = lambda: None, connect_retries: int = 1):
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"endpoint {endpoint!r} must be an https:// URL")
        self.endpoint = endpoint.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or 443
        self.base_path = parts.path.rstrip("/")
        self._origin = (self.host.lower(), self.port)
        self._token = token
        self._ca_bundle = ca_bundle
        self._on_send = on_send
        self._on_throttled = on_throttled
        self._retry_after = retry_after
        self._cancel = cancel
        self._connect_retries = connect_retries
        self._conn: _Connection | None = None
        self._used = False  # the connection has carried an answer: a failure may be a stale keep-alive
        self._lock = threading.Lock()

    # ---- the connection
    def _connection(self) -> _Connection:
        if self._conn is None:
            ctx = ssl.create_default_context(cafile=_ca_file(self._ca_bundle))
            self._conn, self._used = _Connection(self.host, self.port, ctx, _proxy_for(self.host)), False
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send_once(self, method: str, target: str, body: bytes | None) -> tuple[int, str, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {self._token()}", "Accept": "application/json",
                   "User-Agent": _USER_AGENT, "x-ms-client-request-id": str(uuid.uuid4())}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn, reused = self._connection(), self._used
            sent = False
            try:
                if conn._sock is None:
                    conn._open()
                    reused = False
                sent = True
                status, reason, head, data, keep = conn.request(method, target, body, headers)
            except OSError as e:
                self.close()
                # a kept-alive connection the server has closed: send again at once, on a new one
                if reused and attempt == 1 and isinstance(e, (ConnectionResetError, BrokenPipeError)):
                    continue
                raise ConnectionFailed(_describe(e), sent=sent) from e
            self._used = True
            if not keep:
                self.close()
            return status, reason, head, data
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- requests
    def request(self, method: str, path: str, *, action: str, query: dict[str, str] | None = None,
                body: Any = None, not_found: bool = False, api_version: str | None = API_VERSION
                ) -> tuple[int, Any]:
        """(status, parsed JSON or None). *path* is below the endpoint (or an absolute nextLink);
        *not_found*: a 404 is returned, not raised."""
        target = self._target(path, query, api_version)
        data = None if body is None else json.dumps(body).encode("utf-8")
        status_retries, connect_retries, history = STATUS_RETRIES, self._connect_retries, 0
        while True:
            self._on_send()
            logger.debug("%s %s", method, target.split("?")[0])
            try:
                with self._lock:
                    status, reason, headers, raw = self._send_once(method, target, data)
            except ConnectionFailed as e:
                if connect_retries > 0:
                    connect_retries -= 1
                    history += 1
                    continue
                what = "no usable answer from" if e.sent else "cannot reach"
                raise AzureOperationError(f"{action}: {what} {self.endpoint}: {e}", connection=True) from None
            if status == 429:
                self._on_throttled(self._retry_after(headers.get("retry-after", "1")))
            if status < 400 or (status == 404 and not_found):
                return status, self._parse(raw, action) if status != 204 else None
            history += 1
            if status_retries > 0 and (status in RETRY_STATUS or headers.get("retry-after")):
                status_retries -= 1
                delay = self._retry_after(headers["retry-after"]) if headers.get("retry-after") else \
                    (0.0 if history <= 1 else min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (history - 1)))
                if delay > 0:
                    waits.pause(delay, self._cancel())
                continue
            code, message = error_of(status, reason, raw)
            if status == 401 and not code:
                code = "AuthenticationFailed"
            raise arm_error(action, status, code, message)

    def pages(self, path: str, *, action: str, query: dict[str, str] | None = None,
              api_version: str | None = API_VERSION, limit: int = MAX_PAGES,
              next_key: str = "nextLink") -> Iterator[dict]:
        """Every item of a list, following ``nextLink`` (only to this endpoint; at most *limit* pages).
        Microsoft Graph: ``api_version=None``, ``next_key="@odata.nextLink"``."""
        link: str | None = path
        for _ in range(limit):
            _, doc = self.request("GET", link, action=action, query=query if link is path else None,
                                  api_version=api_version)
            if not isinstance(doc, dict) or not isinstance(doc.get("value", []), list):
                raise AzureOperationError(f"{action}: {self.endpoint} answered a list that is not a list")
            for item in doc.get("value") or []:
                if isinstance(item, dict):
                    yield item
            link = doc.get(next_key)
            if not link:
                return
            if not isinstance(link, str):
                raise AzureOperationError(f"{action}: {self.endpoint} answered a nextLink that is not a URL")
        raise AzureOperationError(f"{action}: more than {limit:,} pages from {self.endpoint}")

    def _target(self, path: str, query: dict[str, str] | None, api_version: str | None = API_VERSION) -> str:
        if "://" in path:  # a nextLink: the same endpoint only, never another host with our token
            parts = urlsplit(path)
            if parts.scheme != "https" or ((parts.hostname or "").lower(), parts.port or 443) != self._origin:
                raise AzureOperationError(f"{self.endpoint} answered a nextLink to another host; not followed")
            # as ASCII without spaces: latin-1 could not encode it, a space would split the request line
            path, q = quote(parts.path, safe=_PATH_SAFE), quote(parts.query, safe=_QUERY_SAFE + "&%?")
            return path + (f"?{q}" if q else "")
        params = {**({"api-version": api_version} if api_version else {}), **(query or {})}
        q = "&".join(f"{k}={quote(v, safe=_QUERY_SAFE)}" for k, v in params.items())
        return f"{self.base_path}{quote(path, safe=_PATH_SAFE)}" + (f"?{q}" if q else "")

    def _parse(self, raw: bytes, action: str) -> Any:
        if not raw.strip():
            return None
        try:
            return loads_json(raw.decode("utf-8"), f"{action}: the answer", AzureOperationError, duplicates=False)
        except UnicodeDecodeError:
            raise AzureOperationError(f"{action}: {self.endpoint} answered text that is not UTF-8") from None


def one_line(text: str) -> str:
    """Secrets redacted (before any cut: a cut token would no longer be recognised), on one line."""
    return " ".join(redact_configured(str(text)).split())


def arm_error(action: str, status: int, code: str | None, message: str) -> AzureOperationError:
    """One line: what failed, the ARM code and status, ARM's message, and what to do."""
    hint = explain(code)
    text = f"{action}: {code or 'HTTP error'} ({status}): {one_line(message)}" + (f" -> {hint}" if hint else "")
    return AzureOperationError(text, status_code=status, error_code=code)


def _describe(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({e.verify_message}); give --ca-bundle for a private endpoint"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return f"no answer within {TIMEOUT_S:.0f} s"
    return f"{type(e).__name__}: {one_line(str(e))}"[:200]


def token_source(credential, scope: str) -> Callable[[], str]:
    """A function giving a bearer token from *credential* for *scope*, renewed 5 minutes before it
    expires; a failure of the credential propagates as the credential raised it."""
    cached: list = []

    def token() -> str:
        if not cached or cached[0].expires_on - 300 < time.time():
            cached[:] = [credential.get_token(scope)]
        return cached[0].token

    return token
