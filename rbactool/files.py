"""Atomic file output: everything is written to temporary files first, then renamed into place,
so an error leaves no partial output behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from rbactool.errors import OutputError


def _check_dir(d: Path, what: str) -> None:
    if not d.exists():
        raise OutputError(f"{what}: directory {d} does not exist")
    if not d.is_dir():
        raise OutputError(f"{what}: {d} is not a directory")
    if not os.access(d, os.W_OK | os.X_OK):
        raise OutputError(f"{what}: directory {d} is not writable")


def write_files(files: Mapping[Path, str], what: str = "-o") -> None:
    """Write every file or none: temp files in the target directories, then os.replace each."""
    for path in files:
        _check_dir(path.parent, what)
        if path.is_dir():
            raise OutputError(f"{what}: {path} is a directory")
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        for tmp, path in staged:
            Path(tmp).replace(path)
    except OSError as e:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{what}: cannot write {e.filename or ''}: {e.strerror}") from e
