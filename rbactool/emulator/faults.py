"""Fault rules (answer the n next matching requests with an error) and the token-bucket throttle."""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rbactool.emulator.armerror import ArmError, throttled

_DEFAULT_CODES = {
    400: ("BadRequest", "The request is invalid."),
    401: ("InvalidAuthenticationToken", "The access token is invalid."),
    403: ("AuthorizationFailed", "The client does not have authorization to perform this action."),
    404: ("NotFound", "The resource was not found."),
    409: ("Conflict", "The request conflicts with the current state."),
    429: ("TooManyRequests", "The request is being throttled as the limit has been reached for operation type - "
                             "Write_Subscription. For more information, see - https://aka.ms/armthrottling"),
    500: ("InternalServerError", "Encountered internal server error."),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "The service is unavailable."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
}


@dataclass
class FaultRule:
    status: int
    method: str | None = None
    path_contains: str | None = None
    path_regex: str | None = None
    times: int = 1  # 0 or less: forever
    skip: int = 0  # let this many matching requests through first ("fail the 3rd PUT": skip=2)
    every: int = 1  # fire on every Nth matching request after the skipped ones ("every 10th write": every=10)
    code: str | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0
    passed: int = 0
    seen: int = 0
    _regex: re.Pattern | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FaultRule:
        """Build a rule from the control API's JSON; raises ValueError naming the bad field."""
        if not isinstance(d, dict):
            raise ValueError("a fault rule must be a JSON object")
        known = {"status", "method", "path_contains", "path_regex", "times", "skip", "every", "code", "message",
                 "headers"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {', '.join(sorted(unknown))}")
        status = d.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("fault rule 'status' must be an HTTP error status (400-599)")
        times = d.get("times", 1)
        if not isinstance(times, int):
            raise ValueError("fault rule 'times' must be an integer")
        skip = d.get("skip", 0)
        if not isinstance(skip, int) or skip < 0:
            raise ValueError("fault rule 'skip' must be a non-negative integer")
        every = d.get("every", 1)
        if not isinstance(every, int) or every < 1:
            raise ValueError("fault rule 'every' must be a positive integer")
        headers = d.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValueError("fault rule 'headers' must map names to strings")
        regex = None
        if d.get("path_regex") is not None:
            try:
                regex = re.compile(d["path_regex"], re.IGNORECASE)
            except re.error as e:
                raise ValueError(f"fault rule 'path_regex' is not a valid regex: {e}") from e
        for key in ("method", "path_contains", "code", "message"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise ValueError(f"fault rule {key!r} must be a string")
        return cls(status=status, method=d.get("method"), path_contains=d.get("path_contains"),
                   path_regex=d.get("path_regex"), times=times, skip=skip, every=every, code=d.get("code"),
                   message=d.get("message"),
                   headers=dict(headers), _regex=regex)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path_contains and self.path_contains.lower() not in path.lower():
            return False
        return not (self._regex and not self._regex.search(path))

    def error(self) -> ArmError:
        code, message = _DEFAULT_CODES.get(self.status, ("Error", "Injected fault."))
        return ArmError(self.status, self.code or code, self.message or message, dict(self.headers))

    def to_json(self) -> dict:
        return {"status": self.status, "method": self.method, "path_contains": self.path_contains,
                "path_regex": self.path_regex, "times": self.times, "skip": self.skip, "every": self.every,
                "code": self.code,
                "message": self.message,
                "headers": self.headers, "hits": self.hits}


class Faults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict]:
        with self._lock:
            return [r.to_json() for r in self._rules]

    def check(self, method: str, path: str) -> None:
        """Raise the first matching rule's error (and count the hit)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    if rule.passed < rule.skip:
                        rule.passed += 1
                        continue
                    rule.seen += 1
                    if rule.seen % rule.every:
                        continue
                    rule.hits += 1
                    if rule.times > 0 and rule.hits >= rule.times:
                        self._rules.remove(rule)
                    raise rule.error()


class Throttle:
    """ARM-style token buckets per (caller, subscription, read|write), refilled continuously."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def take(self, caller: str, subscription: str, write: bool, per_hour: int) -> int:
        """Take one token; return the remaining count, or raise 429 with Retry-After."""
        kind = "write" if write else "read"
        key = (caller.lower(), subscription.lower(), kind)
        rate = per_hour / 3600.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(per_hour), now))
            tokens = min(float(per_hour), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / rate) if rate > 0 else 3600
                raise throttled("Write_Subscription" if write else "Read_Subscription", max(1, wait))
            self._buckets[key] = (tokens - 1.0, now)
            return int(tokens - 1.0)
