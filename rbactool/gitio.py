"""Read files as they are at a git revision, for ``rbactool diff``.

* ``read_at_revision("origin/main", "roles/scoring.json")`` -- one file (``REV:path``); the path is
  relative to the repository root, or to the current directory when it starts with ``./``/``../``
  (git's own rule).
* ``snapshot(rev, paths)`` -- a context manager extracting some paths of a revision (``git
  archive``) into a temporary directory, so a roles spec and its templates can be rendered as they
  were.

git runs as a subprocess with a list argv (never a shell). Every failure -- git missing, not a
repository, unknown revision, missing path -- is a one-line ``GitInputError`` (exit 3).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from rbactool.errors import InputError
from rbactool.readers import MAX_INPUT_BYTES, clip, decode_text, shorten

logger = logging.getLogger(__name__)

#: Largest file read from a revision (the limit every reader applies, rbactool.readers).
MAX_BLOB_BYTES = MAX_INPUT_BYTES
#: What ``snapshot`` extracts at most: files, and bytes in all.
MAX_SNAPSHOT_FILES = 10_000
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024
_TIMEOUT = 60
# A Windows drive ("C:\roles\x.json", "C:/x") is not a revision.
_DRIVE_RE = re.compile(r"^[A-Za-z]:[\\/]")


class GitInputError(InputError):
    """A git revision or path cannot be read (exit 3)."""


def split_rev_path(text: str) -> tuple[str, str] | None:
    """``"origin/main:roles/x.json"`` -> ``("origin/main", "roles/x.json")``; None if not that form."""
    if _DRIVE_RE.match(text):
        return None
    rev, sep, path = text.partition(":")
    if not sep or not rev or not path:
        return None
    return rev, path


def _git(args: Sequence[str], cwd: str | os.PathLike | None = None, *, binary: bool = False):
    argv = ["git", *args]
    logger.debug("running %s", argv)
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, check=False, timeout=_TIMEOUT,
                              text=not binary, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError as e:
        raise GitInputError("git is not installed or not on PATH (needed to read REV:path)") from e
    except subprocess.TimeoutExpired as e:
        raise GitInputError(f"git {' '.join(args[:2])} did not finish in {_TIMEOUT} s") from e


def _git_bounded(args: Sequence[str], cwd: str | os.PathLike | None, limit: int, what: str) -> bytes:
    """git's standard output, read at most *limit* bytes: a hostile revision's huge blob or
    archive is never held in memory whole (git is stopped once the limit is passed)."""
    argv = ["git", *args]
    logger.debug("running %s", argv)
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError as e:
        raise GitInputError("git is not installed or not on PATH (needed to read REV:path)") from e
    assert proc.stdout is not None
    try:
        chunks, total = [], 0
        while total <= limit:
            chunk = proc.stdout.read(min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise GitInputError(f"{what} is larger than the {limit:,}-byte limit")
        try:
            code = proc.wait(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise GitInputError(f"git {' '.join(args[:2])} did not finish in {_TIMEOUT} s") from e
        if code != 0:
            raise GitInputError(f"cannot read {what}")
        return b"".join(chunks)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def repo_root(cwd: str | os.PathLike | None = None) -> Path:
    """The top of the work tree containing *cwd*; GitInputError outside a repository."""
    r = _git(["rev-parse", "--show-toplevel"], cwd)
    if r.returncode != 0 or not r.stdout.strip():
        where = Path(cwd or Path.cwd())
        raise GitInputError(f"{where} is not in a git repository (a git revision needs one)")
    return Path(r.stdout.strip())


def resolve_revision(rev: str, cwd: str | os.PathLike | None = None) -> str:
    """The commit id *rev* names; GitInputError if it names none."""
    repo_root(cwd)
    if rev.startswith("-") or not rev.strip():
        raise GitInputError(f"invalid git revision {clip(rev)}")
    r = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd)
    if r.returncode != 0 or not r.stdout.strip():
        raise GitInputError(f"unknown git revision {clip(rev)} (try `git fetch`, or check the branch name)")
    return r.stdout.strip()


def _object_type(commit: str, path: str, cwd) -> str | None:
    r = _git(["cat-file", "-t", f"{commit}:{path}"], cwd)
    return r.stdout.strip() if r.returncode == 0 else None


def read_at_revision(rev: str, path: str, cwd: str | os.PathLike | None = None,
                     *, limit: int = MAX_BLOB_BYTES) -> str:
    """The text of *path* at revision *rev* (what ``git show REV:path`` prints)."""
    commit = resolve_revision(rev, cwd)
    kind = _object_type(commit, path, cwd)
    if kind is None:
        raise GitInputError(f"{clip(path)} does not exist at revision {clip(rev)} (paths are relative to the "
                            "repository root; start with ./ for the current directory)")
    if kind != "blob":
        raise GitInputError(f"{rev}:{path} is a {'directory' if kind == 'tree' else kind}, expected a file")
    size = _git(["cat-file", "-s", f"{commit}:{path}"], cwd)
    if size.returncode == 0 and size.stdout.strip().isdigit() and int(size.stdout) > limit:
        raise GitInputError(f"{rev}:{path} is {int(size.stdout):,} bytes, larger than the {limit:,}-byte limit")
    data = _git_bounded(["cat-file", "blob", f"{commit}:{path}"], cwd, limit, f"{rev}:{path}")
    return decode_text(data, f"{rev}:{path}", "the file", GitInputError)


def repo_relative(path: str | os.PathLike, root: Path) -> str | None:
    """*path* (relative to the current directory, or absolute) as a repository path, or None when
    it lies outside the repository."""
    p = Path(path)
    absolute = p if p.is_absolute() else Path.cwd() / p
    for candidate in (Path(os.path.normpath(absolute)), absolute.resolve()):
        try:
            rel = candidate.relative_to(root.resolve())
        except ValueError:
            try:
                rel = candidate.relative_to(root)
            except ValueError:
                continue
        return PurePosixPath(*rel.parts).as_posix() if rel.parts else "."
    return None


def exists_at(commit: str, path: str, cwd: str | os.PathLike | None = None) -> bool:
    return _object_type(commit, path, cwd) is not None


def _snapshot_budget(rev: str, commit: str, paths: Sequence[str], root: Path) -> int:
    """Refuse, before extracting anything, a revision whose *paths* hold a file larger than the
    read limit, more than MAX_SNAPSHOT_FILES files or more than MAX_SNAPSHOT_BYTES in all; the
    bytes ``git archive`` may then print at most."""
    listing = _git_bounded(["ls-tree", "-r", "-t", "-l", "-z", commit, "--", *paths], root,
                           MAX_SNAPSHOT_FILES * 512, f"the listing of {', '.join(paths)} at {rev!r}")
    files = total = entries = 0
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        entries += 1
        if len(fields) < 4 or fields[1] != b"blob":
            continue
        size = int(fields[3]) if fields[3].isdigit() else 0
        files += 1
        total += size
        shown = name.decode("utf-8", "replace")
        if size > MAX_BLOB_BYTES:
            raise GitInputError(f"{rev}:{clip(shown)} is {size:,} bytes, larger than the {MAX_BLOB_BYTES:,}-byte limit")
        if files > MAX_SNAPSHOT_FILES:
            raise GitInputError(f"{', '.join(paths)} at {rev!r} hold more than {MAX_SNAPSHOT_FILES:,} files")
        if total > MAX_SNAPSHOT_BYTES:
            raise GitInputError(f"{', '.join(paths)} at {rev!r} hold more than {MAX_SNAPSHOT_BYTES:,} bytes")
    # tar: a 512-byte header per entry (and a long-name header), data padded to 512, 10 KiB at the end
    return total + entries * 2048 + 64 * 1024


@contextmanager
def snapshot(rev: str, paths: Sequence[str], cwd: str | os.PathLike | None = None) -> Iterator[Path]:
    """Extract repository *paths* (files or directories, relative to the root) as they are at *rev*
    into a temporary directory, and yield that directory (removed afterwards). Paths that do not
    exist at *rev* are skipped; check the ones you need with ``exists_at`` first."""
    commit = resolve_revision(rev, cwd)
    root = repo_root(cwd)
    present = sorted({p for p in paths if p and exists_at(commit, p, root)})
    archive_limit = _snapshot_budget(rev, commit, present, root) if present else 0
    tmp = Path(tempfile.mkdtemp(prefix="rbactool-rev-"))
    try:
        if present:
            data = _git_bounded(["archive", "--format=tar", commit, "--", *present], root, archive_limit,
                                f"the git archive of {', '.join(present)} at {rev!r}")
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                data_filter = getattr(tarfile, "data_filter", None)
                if data_filter is not None:
                    try:
                        tar.extractall(tmp, filter=data_filter)
                    except tarfile.FilterError as e:  # a symlink out of the tree, an absolute path, ...
                        name = getattr(getattr(e, "tarinfo", None), "name", "?")
                        raise GitInputError(f"{rev}: refusing {clip(name)} from the revision: {shorten(str(e), 160)}"
                                            ) from e
                else:  # pragma: no cover - Python without extraction filters
                    for member in tar.getmembers():
                        if member.name.startswith(("/", "..")) or ".." in PurePosixPath(member.name).parts \
                                or member.issym() or member.islnk():
                            raise GitInputError(f"{rev}: refusing {clip(member.name)} from the revision "
                                                "(links are not extracted without tarfile filters)")
                    tar.extractall(tmp)  # noqa: S202 - names checked above
        logger.info("extracted %s at %s (%s) into %s", present, rev, commit[:12], tmp)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
