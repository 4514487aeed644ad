"""A local HTTPS emulator of ARM's ``Microsoft.Authorization`` API (``rbactool emulator``).

Imported only by the emulator command and by tests; the rest of rbactool never imports it,
and it never imports ``azure.*`` (the server side is plain HTTP and JSON).
"""

from __future__ import annotations

from rbactool.emulator.config import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT, EmulatorConfig
from rbactool.emulator.server import Emulator

__all__ = ["DEFAULT_SUBSCRIPTION", "DEFAULT_TENANT", "Emulator", "EmulatorConfig"]
