"""Waiting, in one place: back-off between retries, the cancellable sleep, and the Retry-After policy.

Pure (no ``azure.*``): ``operations`` and ``plan`` wait with it, and the Azure adapter caps the
waits ARM asks for with ``retry_after_seconds``.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from rbactool.errors import Cancelled

#: Longest wait rbactool accepts from a Retry-After header (a huge one must not stall a run).
MAX_RETRY_AFTER = 60.0


def retry_after_seconds(value: float | str, cap: float = MAX_RETRY_AFTER) -> float:
    """How long to wait for a Retry-After of *value* (seconds, or the header's text): between 0 and
    *cap*; 1 s when it is not a number."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return min(1.0, cap)
    if math.isnan(value):
        value = 1.0
    return min(max(value, 0.0), cap)


def pause(delay: float, cancel: threading.Event | None = None) -> None:
    """Sleep *delay* seconds, or until *cancel* is set (then raise Cancelled)."""
    if cancel is None:
        time.sleep(delay)
    elif cancel.wait(delay):
        raise Cancelled("interrupted")


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff with jitter: first, 2*first, ... capped, until *timeout* seconds."""

    timeout: float = 90.0
    first: float = 1.0
    cap: float = 10.0

    def delays(self) -> Iterator[float]:
        deadline = time.monotonic() + self.timeout
        delay = self.first
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            yield min(left, delay * random.uniform(0.6, 1.0))  # noqa: S311 - jitter, not crypto
            delay = min(self.cap, delay * 2)


DEFAULT_BACKOFF = Backoff()


class ThrottleGate:
    """Shared back-off: when any worker is throttled (429 + Retry-After), every worker waits."""

    MAX_HOLD = MAX_RETRY_AFTER

    def __init__(self, cancel: threading.Event | None = None):
        self._until = 0.0
        self._lock = threading.Lock()
        self.cancel = cancel or threading.Event()

    def hold(self, seconds: float) -> None:
        seconds = retry_after_seconds(seconds, self.MAX_HOLD)  # a silly Retry-After must not stall the run
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> None:
        while True:
            with self._lock:
                left = self._until - time.monotonic()
            if left <= 0:
                return
            pause(min(left, 1.0), self.cancel)
