"""Files shared with others: drop folders we read (a link may not lead out of the folder) and outbox
folders we write (atomic, with names safe on every file system)."""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(value: str) -> str:
    return _UNSAFE.sub("_", value).strip("._") or "x"


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename: readers never see half a file. The temp
    file's name carries the writer's pid, so one a crash leaves behind is known as such (``remove_unfinished``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fsync_dir(folder: Path) -> None:
    """Make the names renamed into ``folder`` durable (a rename is only in the directory until it is synced):
    once per batch of files, not per file. A no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


TEMP_SUFFIX = ".tmp"
LEGACY_TEMP_AGE = 3600  # seconds: a temp file without a pid in its name (older arsync) is stale after this


def remove_unfinished(folder: Path) -> list[str]:
    """Remove the temp files ``write_atomic`` left in ``folder`` when its process stopped mid-write (the
    file they were for was never completed); returns their names. A temp file of a process that still
    runs is left alone: it is being written right now."""
    removed: list[str] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    with os.scandir(folder) as entries:
        temps = [
            e
            for e in entries
            if e.name.startswith(".") and e.name.endswith(TEMP_SUFFIX) and e.is_file(follow_symlinks=False)
        ]
    for entry in temps:
        parts = entry.name[: -len(TEMP_SUFFIX)].rsplit(".", 2)  # ".<name>.<pid>.<random>"
        pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
        if pid is not None and _running(pid):
            continue
        if pid is None and now - entry.stat(follow_symlinks=False).st_mtime < LEGACY_TEMP_AGE:
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # its writer finished (renamed it) meanwhile
        removed.append(entry.name)
    return sorted(removed)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- reading drop folders ------------------------------------------------------------------------


class LinkLeavesFolder(ValueError):
    """A drop-folder entry is a link to something outside the folder; the message names both."""


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)  # O_BINARY: Windows would translate line ends
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def resolve_in_folder(folder: str | os.PathLike[str], name: str) -> str:
    """The path to read for the entry ``name`` of a drop folder: itself, or — for a link — where the
    link finally leads, if that is inside the folder. A link that leaves the folder is refused
    (``LinkLeavesFolder``): whoever can write the folder must not make us import any file they point at.
    """
    path = os.path.join(folder, name)
    if not os.path.islink(path):
        return path
    root = os.path.realpath(folder)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        raise LinkLeavesFolder(f"{name}: a link leading out of the folder (to {real}); refused, not read")
    return real


def open_in_folder(folder: str | os.PathLike[str], name: str) -> int:
    """A read-only descriptor for a drop-folder entry; a link is followed only while it stays inside.

    A plain file costs no more than ``os.open`` (``O_NOFOLLOW`` fails only on a link)."""
    if _NOFOLLOW:
        try:
            return os.open(os.path.join(folder, name), _READ_FLAGS | _NOFOLLOW)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
    return os.open(resolve_in_folder(folder, name), _READ_FLAGS)
