"""``--persist FILE``: the state as JSON, written atomically after every change.

A file that exists but cannot be read as emulator state is an error (never silently reset).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from rbactool.emulator.state import State
from rbactool.errors import InputError
from rbactool.readers import loads_json, read_file

logger = logging.getLogger(__name__)


class PersistError(InputError):
    """The --persist file cannot be read or written."""


def load_state(path: Path, state: State) -> bool:
    """Fill *state* from *path*; False when the file does not exist yet."""
    if not path.exists() and not path.is_symlink():
        return False
    from rbactool.emulator.seed import SEED_MAX_BYTES, SEED_MAX_VALUES

    # a seeded estate (100,000 assignments) is larger than the reader's default limits
    text = read_file(path, what="emulator state file", limit=SEED_MAX_BYTES * 2, error=PersistError)
    doc = loads_json(text, str(path), PersistError, limit=SEED_MAX_BYTES * 2, max_nodes=SEED_MAX_VALUES * 2)
    try:
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        state.load_json(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        detail = f"missing key {e}" if isinstance(e, KeyError) else str(e)
        raise PersistError(
            f"{path}: not a valid emulator state file ({detail}); fix it or move it away to start empty"
        ) from e
    logger.info("loaded emulator state from %s", path)
    return True


def save_state(path: Path, state: State) -> None:
    """Write atomically (temporary file in the same directory, fsync, rename). Caller holds the lock."""
    data = json.dumps(state.to_json(), indent=1, sort_keys=True).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise PersistError(f"{path}: cannot write the emulator state file: {e.strerror or e}") from e
