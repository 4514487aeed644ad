"""HTTPS plumbing: a ThreadingHTTPServer on loopback, TLS per connection, one write per response."""

from __future__ import annotations

import errno
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import rbactool.emulator.armerror as armerror
from rbactool.emulator.app import MAX_BODY, App, Request
from rbactool.emulator.certs import CertPaths, ensure_certificates, server_context
from rbactool.emulator.config import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT, EmulatorConfig
from rbactool.emulator.persist import load_state
from rbactool.emulator.routing import Response
from rbactool.emulator.state import State
from rbactool.errors import InputError

logger = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_REGION = "LOCALEMULATOR"
_DRAIN_LIMIT = 64 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address, handler, app: App, ssl_context: ssl.SSLContext, family: int):
        self.address_family = family
        self.app = app
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's own thread, so a slow client never blocks accept().
        request.settimeout(30)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            logger.debug("TLS handshake with %s failed: %s", client_address, e)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            self.shutdown_request(tls)

    def handle_error(self, request, client_address):
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rbactool-emulator"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = 256 * 1024
    timeout = 120

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (bad request line, unsupported method...) as ARM JSON, not HTML."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        body = {"error": {"code": phrase.title().replace(" ", "").replace("-", ""), "message": message or phrase}}
        self._write(Response(code, body), close=True)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        logger.debug("%s - %s", self.address_string(), format % args)

    def _read_chunked(self) -> bytes | None:
        """A chunked request body, or None when it exceeds MAX_BODY or is malformed."""
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)  # CRLF after the chunk

    def _serve(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
            if body is None:
                e = armerror.body_too_large(MAX_BODY)
                self._write(Response(e.status, e.body()), close=True)
                return
            self._dispatch(body)
            return
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header else 0
        except ValueError:
            length = -1
        if length < 0:
            e = armerror.invalid_request_content("the Content-Length header is not valid.")
            self._write(Response(e.status, e.body()), close=True)
            return
        if length > MAX_BODY:
            # Read and drop the body (up to a bound) so the client sees the 413 instead of a reset.
            left = length if length <= _DRAIN_LIMIT else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
            e = armerror.body_too_large(MAX_BODY)
            self._write(Response(e.status, e.body()), close=True)
            return
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, body: bytes) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or f"127.0.0.1:{self.server.server_address[1]}"
        resp = self.server.app.handle(Request(self.command, self.path, headers, body, host))
        self._write(resp)

    do_GET = do_PUT = do_DELETE = do_POST = do_PATCH = do_HEAD = _serve

    def _write(self, resp: Response, close: bool = False) -> None:
        payload = b"" if resp.body is None or resp.status == 204 else json.dumps(
            resp.body, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        rid = str(uuid.uuid4())
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.send_response(resp.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Pragma", "no-cache")
        self.send_header("Expires", "-1")
        self.send_header("x-ms-request-id", rid)
        self.send_header("x-ms-correlation-request-id", rid)
        self.send_header("x-ms-routing-request-id", f"{_REGION}:{stamp}:{rid}")
        self.send_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()


class Emulator:
    """One emulator instance: state, app, certificates and an HTTPS server on loopback."""

    def __init__(
        self,
        *,
        state_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        tenant_id: str | None = None,
        subscriptions: tuple[str, ...] | list[str] | None = None,
        config: EmulatorConfig | None = None,
        persist: str | Path | None = None,
        seed: str | Path | dict | None = None,
    ):
        if host not in LOOPBACK:
            raise InputError(f"the emulator binds to loopback only (127.0.0.1, ::1 or localhost), not {host!r}")
        self.state = State()
        self.persist_path = Path(persist) if persist is not None else None
        if self.persist_path is not None:
            load_state(self.persist_path, self.state)
        if tenant_id is not None:
            self.state.tenant_id = tenant_id
        if subscriptions:
            self.state.subscriptions = tuple(subscriptions)
        elif not self.state.subscriptions:
            self.state.subscriptions = (DEFAULT_SUBSCRIPTION,)
        self.state.tenant_id = self.state.tenant_id or DEFAULT_TENANT
        if config is not None:
            self.state.config = config
        self.app = App(self.state, persist_path=self.persist_path)
        #: what the seed loaded (None without one)
        self.seed_counts: dict[str, int] | None = None
        if seed is not None:
            self._load_seed(seed, tenant_id, bool(subscriptions))
        self.certs: CertPaths = ensure_certificates(Path(state_dir).expanduser().resolve())
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        bind = "127.0.0.1" if host == "localhost" else host
        try:
            self._server = _Server((bind, port), _Handler, self.app, server_context(self.certs), family)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} on {bind} is already in use; pick another with --port") from e
            raise InputError(f"cannot listen on {bind}:{port}: {e.strerror or e}") from e
        self.host = "localhost" if host == "localhost" else bind
        self._thread: threading.Thread | None = None
        self._serving = False
        if self.persist_path is not None:
            self.app._persist()

    def _load_seed(self, seed: str | Path | dict, tenant_id: str | None, keep_subscriptions: bool) -> None:
        from rbactool.emulator.seed import SeedError, read_seed

        where = "seed" if isinstance(seed, dict) else str(seed)
        doc = seed if isinstance(seed, dict) else read_seed(seed)
        declared = doc.get("tenant") if isinstance(doc, dict) else None
        if tenant_id is not None and isinstance(declared, str) and declared.lower() != tenant_id.lower():
            raise SeedError(f"{where}: tenant: {declared} differs from --tenant {tenant_id}")
        self.seed_counts = self.app.load_seed(doc, where, keep_subscriptions=keep_subscriptions)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_path(self) -> Path:
        return self.certs.ca

    def start(self) -> Emulator:
        """Serve in a background thread (for tests)."""
        self._thread = threading.Thread(target=self.serve_forever, name=f"rbactool-emulator:{self.port}",
                                        daemon=True)
        self._serving = True
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        try:
            self._server.serve_forever(poll_interval=0.1)
        finally:
            self._serving = False

    def stop(self) -> None:
        if self._serving:
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
