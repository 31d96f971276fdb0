"""Files shared with others: drop folders we read (a link may not lead out of the folder) and outbox
folders we write (atomic, with names safe on every file system)."""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(value: str) -> str:
    return _UNSAFE.sub("_", value).strip("._") or "x"


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
