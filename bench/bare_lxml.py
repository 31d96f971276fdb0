"""The baseline every parsing bench prints beside its own figures: a bare lxml iterparse of the same bytes,
measured in the same run (on a shared machine the ratio to it holds when the absolute times do not).

"Bare" is lxml's default ``iterparse`` with every element cleared as it ends (so memory stays flat, as
our streaming readers keep it), nothing else: no hostile-XML settings, no size checks, no field read,
no record built.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable
from pathlib import Path

from lxml import etree


def iterparse_file(path: Path) -> int:
    """Elements in one file, parsed by a bare iterparse; returns how many ended (so nothing is skipped)."""
    n = 0
    for _event, element in etree.iterparse(str(path), events=("end",)):
        element.clear()
        n += 1
    return n


def iterparse_bytes(data: bytes) -> int:
    n = 0
    for _event, element in etree.iterparse(io.BytesIO(data), events=("end",)):
        element.clear()
        n += 1
    return n


def iterparse_folder(folder: Path, suffix: str = ".xml") -> int:
    """Every file of a folder read and bare-iterparsed, one after another (as a folder source reads them)."""
    n = 0
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(suffix))
    for name in names:
        n += iterparse_bytes((folder / name).read_bytes())
    return n


def timed(paths: Iterable[Path]) -> float:
    """Wall seconds of a bare iterparse of the files and folders given, one after another."""
    started = time.perf_counter()
    for path in paths:
        if path.is_dir():
            iterparse_folder(path)
        else:
            iterparse_file(path)
    return time.perf_counter() - started
