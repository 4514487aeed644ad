"""Atomic file output: everything is written to temporary files first, then renamed into place,
so an error leaves no partial output behind.

Modes are the ones a user expects: a new file gets 0666 minus the umask (like any other tool), an
existing file keeps its mode, and a symlink is written through to its target (the link stays a link;
the temporary file goes in the target's directory, so the rename stays atomic). A dangling symlink is
refused rather than followed to wherever it points.

A target that is not a regular file (a FIFO, a character device, ``/dev/stdout``) is a stream: it
is written into, never replaced by a regular file, after every regular file is staged.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
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


def _is_stream(path: Path) -> bool:
    """True for an existing target that is not a regular file or a directory (stat follows links,
    so ``/dev/stdout`` -> ``/proc/self/fd/1`` -> a pipe counts)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _target(path: Path, what: str) -> Path:
    """The file a write to *path* changes: *path* itself, or the end of its symlink chain."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.exists():
        raise OutputError(f"{what}: {path} is a symlink to {target}, which does not exist (not followed)")
    return target


def _open_temp(target: Path) -> tuple[int, Path]:
    """A new temporary file beside *target*, with the mode the final file must have."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0666 & ~umask for a new file (the kernel applies the umask); an existing file's mode after
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666 if mode is None else 0o600)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                tmp.chmod(mode)
            except OSError:
                os.close(fd)
                tmp.unlink(missing_ok=True)
                raise
        return fd, tmp
    raise FileExistsError(f"no free temporary name beside {target}")


def write_files(files: Mapping[Path, str], what: str = "-o") -> None:
    """Write every file or none: temp files in the target directories, then os.replace each."""
    targets: dict[Path, str] = {}
    streams: dict[Path, str] = {}
    for path, text in files.items():
        if _is_stream(path):
            streams[path] = text
            continue
        target = _target(path, what)
        _check_dir(target.parent, what)
        if target.is_dir():
            raise OutputError(f"{what}: {path} is a directory")
        targets[target] = text
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in targets.items():
            fd, tmp = _open_temp(target)
            staged.append((tmp, target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        for path, text in streams.items():
            try:
                with open(path, "w", encoding="utf-8", newline="\n") as f:
                    f.write(text)
            except OSError as e:
                if e.errno == errno.EPIPE:  # `-o /dev/stdout | head`: the reader went away, as with SIGPIPE
                    raise BrokenPipeError(errno.EPIPE, "Broken pipe") from None
                raise OSError(e.errno, e.strerror, str(path)) from None
        for tmp, target in staged:
            tmp.replace(target)
    except BaseException as e:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if isinstance(e, BrokenPipeError):
            raise  # the CLI ends quietly with 141
        if isinstance(e, OSError):
            raise OutputError(f"{what}: cannot write {e.filename or ''}: {e.strerror or e}") from e
        raise
