"""Peak memory of reading one camt entry with very many transaction details (issue 13, item 7).

    .venv/bin/python bench/camt_memory.py --transactions 390000

A bank once sent a single camt.054 entry with 390,000 TxDtls; read as one tree it took 2.3 GB. The
file is generated (tests/hostile/hostile_corpus.py), then read in a fresh child process, which
reports its peak resident memory (``ru_maxrss``: lxml allocates outside Python, so tracemalloc alone
would not see the tree) and the Python-level peak from tracemalloc. After that (its memory then not
counted) a bare lxml iterparse of the same file is timed (bench/bare_lxml.py): "of_bare" = its seconds /
ours. Run it against another checkout with ``PYTHONPATH=/path/to/checkout`` to compare.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "hostile"), str(ROOT)]

from hostile_corpus import camt_huge_entry  # noqa: E402

from bench import bare_lxml  # noqa: E402


def child(path: str, trace: bool) -> None:
    import tracemalloc

    from connector.bank.camt import CamtHeader, iter_camt

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    head = CamtHeader()
    payments = list(iter_camt(Path(path), "huge.xml", head))  # what the bank feed keeps, as it keeps it
    took = time.perf_counter() - t0
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_payments = len(payments)
    del payments  # the bare baseline's memory is not ours
    bare_s = bare_lxml.timed([Path(path)])  # the same bytes, in the same run, after ours (its peak is not ours)
    out = {
        "payments": n_payments,
        "seconds": round(took, 1),
        "bare_lxml_iterparse_seconds": round(bare_s, 1),
        "of_bare": round(bare_s / took, 2),
        "rss_before_mb": round(base),
        "rss_peak_mb": round(peak),
        "python_peak_mb": round(traced) if traced is not None else None,
    }
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=390_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also the Python-level peak (slower)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.tracemalloc)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = camt_huge_entry(Path(tmp) / "huge.xml", args.transactions)
        size = path.stat().st_size / 2**20
        cmd = [sys.executable, __file__, "--child", str(path)] + (["--tracemalloc"] if args.tracemalloc else [])
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(f"one entry, {args.transactions} TxDtls, file {size:.0f} MB")
    for key, value in result.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
