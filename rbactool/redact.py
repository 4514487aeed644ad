"""Redaction of secrets in messages and log lines: one function, applied where text leaves rbactool.

``redact(text, secrets)`` (pure) replaces with ``<redacted>``:

* each of *secrets* (the configured token, a client secret), also when a line break or blanks were
  put inside it, and each long enough piece of it on its own (a token split across lines may be
  printed one half at a time); and any run of 16 or more characters that is a substring of a
  secret, whatever split it from the rest (a zero-width space, a quote, a cut);
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
#: Any MIN_PIECE or more consecutive characters of a secret are redacted, however the rest was cut off.
MIN_PIECE = 16
_GRAM = MIN_PIECE // 2

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


@functools.lru_cache(maxsize=16)
def _secret_grams(secret: str) -> tuple[str, dict[str, tuple[int, ...]]]:
    """The secret without whitespace, and where each of its _GRAM-character pieces occurs in it."""
    chars = "".join(secret.split())
    where: dict[str, list[int]] = {}
    for i in range(len(chars) - _GRAM + 1):
        where.setdefault(chars[i:i + _GRAM], []).append(i)
    return chars, {g: tuple(offsets[:4]) for g, offsets in where.items()}


def _redact_pieces(text: str, secret: str) -> str:
    """Every run of MIN_PIECE or more characters of *text* that is a substring of *secret* replaced,
    whatever separates it from the rest of the secret (a zero-width space, a quote, a cut).

    Any such run covers a whole _GRAM-character block of the text that starts at a multiple of
    _GRAM (MIN_PIECE = 2 * _GRAM), so only those blocks are looked up, each hit extended both ways
    along the secret: linear in the text, a few milliseconds for 100 KB."""
    chars, grams = _secret_grams(secret)
    if len(chars) < MIN_PIECE or len(text) < MIN_PIECE:
        return text
    spans: list[tuple[int, int]] = []
    n, m = len(text), len(chars)
    covered = 0
    for q in range(0, n - _GRAM + 1, _GRAM):
        if q + _GRAM <= covered:
            continue
        offsets = grams.get(text[q:q + _GRAM])
        if not offsets:
            continue
        for o in offsets:
            left = 0
            while left < q and left < o and text[q - left - 1] == chars[o - left - 1]:
                left += 1
            right = _GRAM
            while q + right < n and o + right < m and text[q + right] == chars[o + right]:
                right += 1
            if left + right >= MIN_PIECE:
                spans.append((q - left, q + right))
                covered = max(covered, q + right)
    if not spans:
        return text
    out, pos = [], 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        out.append(text[pos:max(start, pos)])
        if start >= pos:
            out.append(REDACTED)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """*text* with every secret, bearer token, JWT-shaped string and keyed credential replaced. Pure."""
    if not text:
        return text
    for secret in secrets:
        if secret:
            for pattern in _secret_patterns(secret):
                text = pattern.sub(REDACTED, text)
            text = _redact_pieces(text, secret)
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
