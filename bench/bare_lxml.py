"""The baseline every parsing bench prints beside its own figures: a bare lxml iterparse of the same bytes,
measured in the same run (on a shared machine the ratio to it holds when the absolute times do not).

"Bare" is lxml with its defaults and nothing else: no hostile-XML settings, no size checks, no field read,
no record built. A bank file is streamed (``iterparse``, every element cleared as it ends, so memory stays
flat as our streaming reader keeps it): it may be hundreds of MB. An e-invoice is a small document parsed
whole (``etree.fromstring`` of the file's bytes, the tree dropped at once), as bench/einvoice_ingest.py's
bare row: an iterparse of each would hand every element to Python and cost more than our whole read of it.
"""

from __future__ import annotations

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


def parse_folder(folder: Path, suffix: str = ".xml") -> int:
    """Every file of a folder read and parsed whole, one after another (as a folder source reads them);
    returns how many."""
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(suffix))
    for name in names:
        etree.fromstring((folder / name).read_bytes())
    return len(names)


def timed(paths: Iterable[Path]) -> float:
    """Wall seconds of a bare parse of the files (streamed) and the folders' files (each whole) given."""
    started = time.perf_counter()
    for path in paths:
        if path.is_dir():
            parse_folder(path)
        else:
            iterparse_file(path)
    return time.perf_counter() - started
