"""Drop-folder files already read, known by their stat (as git's index and rsync know them): a file whose
name, size, modification time and inode are what they were when it was last read is not opened again.

Anything else — another size, time or inode, a new name, a link, a stat taken too close to the read — is
read and hashed as before, and its content hash decides whether it is new. So the stat only ever saves a
read; it never decides that a file is new or old by itself.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Set
from typing import NamedTuple

# A file last seen with an mtime this close to (or after) the moment it was read is not trusted by stat:
# coarse file-system timestamps (FAT: 2 s; ext3, HFS+, some network shares: 1 s) let an edit made just
# after the read keep the very same mtime — and, written in place at the same length, the same size and
# inode. Such a file is hashed again the next night (git's "racy clean" problem); once its mtime is
# older than this, the stat recorded with its hash can be trusted.
RACY_NS = 2_000_000_000

_INO_BITS = (1 << 64) - 1


class FileStat(NamedTuple):
    """What the file's own directory entry said: size, mtime in nanoseconds, inode."""

    size: int
    mtime_ns: int
    ino: int


KnownStats = Set[str]  # ``stat_key`` of each file read and not failed


def stat_key(name: str, size: int, mtime_ns: int, ino: int) -> str:
    """One string per known file: a million of them take half the memory of tuples of four objects."""
    return f"{name}\0{size}\0{mtime_ns}\0{ino}"  # no file name holds a NUL


def stat_of(folder: str, name: str) -> FileStat | None:
    """The entry's own stat if it is a plain file; None for a link (its target may change without its
    stat changing: it is always opened, through ``connector.files``' check) or anything unreadable."""
    try:
        st = os.lstat(os.path.join(folder, name))
    except OSError:
        return None  # gone or unreadable: the read says what is wrong, as before
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileStat(st.st_size, st.st_mtime_ns, _signed64(st.st_ino))


def unchanged(known: KnownStats, name: str, now: FileStat | None) -> bool:
    """Whether the file ``name`` is, by its stat, the one read before: then it need not be opened."""
    return now is not None and stat_key(name, *now) in known


def settled(read: FileStat | None) -> FileStat | None:
    """The stat to record for a file just read: None when its mtime is within ``RACY_NS`` of now, so the
    next night hashes it again instead of trusting the stat.

    The stat is taken before the read: a change in between leaves the recorded stat older than the content
    hashed, which only costs a read the next night; "now" is taken after the read, so the racy window
    covers every edit the content read could have missed."""
    if read is None or read.mtime_ns >= time.time_ns() - RACY_NS:
        return None
    return read


def _signed64(ino: int) -> int:
    """The inode as a signed 64-bit integer, as SQLite and PostgreSQL store one: NFS and Windows give
    unsigned 64-bit (Windows up to 128-bit) numbers that would not fit as they are."""
    ino &= _INO_BITS
    return ino - (1 << 64) if ino >= 1 << 63 else ino
