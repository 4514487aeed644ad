"""Redaction of secrets in messages and log lines: one function, applied where text leaves rbactool.

``redact(text, secrets)`` (pure) replaces with ``<redacted>``:

* each of *secrets* (the configured token, a client secret), also when a line break or blanks were
  put inside it, and each long enough piece of it on its own (a token split across lines may be
  printed one half at a time);
* ``Bearer <anything>`` (RFC 6750 token characters);
* anything shaped like a JWT: ``eyJ`` and base64url characters and dots, also across a real or an
  escaped (``\\n``) line break, and even truncated (a message cut in the middle of a token);
* the values of ``access_token=``, ``"refresh_token": "..."``, ``client_secret`` and the like.

It is applied by the log formatter of ``rbactool -v/-vv`` (rbactool's loggers and azure's), by the
CLI's error output, and by the adapter before it cuts an SDK error to one line.
``configured_secrets()`` reads the secrets rbactool is configured with from the environment.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterable

REDACTED = "<redacted>"
#: Environment variables whose values are secrets.
SECRET_ENV = ("RBACTOOL_ACCESS_TOKEN", "AZURE_CLIENT_SECRET")
MIN_SECRET = 8  # shorter pieces of a secret are not redacted on their own (they would match ordinary text)

_B64URL = r"[A-Za-z0-9_\-]"
_TOKEN_CHAR = r"[A-Za-z0-9_\-.~+/=]"  # RFC 6750 b64token
_BREAK = r"(?:\r?\n|\r|\\r\\n|\\n|\\r)"  # a line break inside a token, real or escaped as in a repr
_JWT = re.compile(rf"eyJ{_B64URL}{{6,}}(?:{_B64URL}|\.|{_BREAK}(?={_B64URL}|\.))*")
# "Bearer" and a token (16 characters at least before any break: "bearer tokens" in prose stays)
_BEARER = re.compile(
    rf"(?i)\b(bearer)(?:\s|%20|\\[nrt])+{_TOKEN_CHAR}{{16,}}(?:{_TOKEN_CHAR}|{_BREAK}(?={_TOKEN_CHAR}))*")
_KEYED = re.compile(
    r"""(?ix)
    (["']?\b(?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|password)\b["']?
     \s*[:=]\s*["']?)
    [^"'&\s,;}]+""")


@functools.lru_cache(maxsize=16)
def _secret_patterns(secret: str) -> tuple[re.Pattern, ...]:
    pieces = secret.split()
    chars = "".join(pieces)
    gap = r"(?:\s|\\[nrt])*"
    out = [re.compile(gap.join(re.escape(c) for c in chars))] if len(chars) >= MIN_SECRET else []
    out += [re.compile(re.escape(p)) for p in sorted(set(pieces), key=len, reverse=True)
            if len(p) >= MIN_SECRET and p != chars]
    return tuple(out)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* with every secret, bearer token, JWT-shaped string and keyed credential replaced. Pure."""
    if not text:
        return text
    for secret in secrets:
        if secret:
            for pattern in _secret_patterns(secret):
                text = pattern.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _KEYED.sub(lambda m: m.group(1) + REDACTED, text)


def configured_secrets() -> tuple[str, ...]:
    """The secrets rbactool is configured with (from the environment), stripped."""
    return tuple(v.strip() for v in (os.environ.get(k) for k in SECRET_ENV) if v and v.strip())


def redact_configured(text: str) -> str:
    return redact(text, configured_secrets())


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (message, arguments, exception text) goes through ``redact``."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_configured(super().format(record))
