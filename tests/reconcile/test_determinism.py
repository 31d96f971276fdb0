"""The core is deterministic: the same facts give the same evidence text in every process, whatever
Python's string hashing seed (sets of text tokens must not leak their order into the output)."""

from __future__ import annotations

import os
import subprocess
import sys

_SCRIPT = """
from datetime import date
from decimal import Decimal
from connector.model import DocKind, Invoice, Payment
from connector.reconcile import reconcile
invoices = [
    Invoice("c", n, DocKind.INVOICE, "a", date(2026, 1, 1), date(2026, 2, 1), "NOK", Decimal("100"), "ehf")
    for n in ("INV-1", "INV-2", "INV-3", "INV-4")
]
pay = Payment("c", "camt", "1", "R", 0, date(2026, 2, 2), Decimal("400"), "NOK", free_text="INV-3 INV-1 INV-4 INV-2")
print(reconcile(invoices, [pay]).allocations["INV-1"][0].evidence)
"""


def test_text_match_evidence_is_the_same_whatever_the_hash_seed() -> None:
    seen = set()
    for seed in range(1, 9):
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        )
        seen.add(out.stdout.strip())
    assert len(seen) == 1, seen
    assert seen.pop().startswith("invoice number INV-1 in the text; invoice number INV-2 in the text;")
