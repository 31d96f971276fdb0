"""The command line with a SIGKILL at a chosen point of a batch of pushes, for tests/collection/test_kill.py:

    python -m tests.collection.kill_points POINT K BATCH -- <arsync arguments>

``BATCH``: pushes per batch (``connector.actions.collection.BATCH_PUSHES``). ``POINT``, counted in this process:

- ``claimed``: the K-th batch's intents committed, no request sent for it yet;
- ``sent``: the K-th request of the run answered (its case is at the provider), its batch's outcomes not
  recorded;
- ``recording``: the K-th batch's requests all answered, its outcomes not committed;
- ``found``: the K-th earlier push found at the provider by the lookup before the push, not yet recorded.

``recording`` and ``found`` are both the moment before ``collection._record`` commits: a lookup's find goes
through it too, so each counts only its own calls.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from connector.actions import collection
from tests.kill_points import KillAt, run_cli


def _found_by_lookup(sent: Sequence[Any]) -> bool:
    """The outcomes handed to ``_record`` are an earlier push found by the lookup (not a batch's)."""
    return len(sent) == 1 and sent[0].how == collection._FOUND_EARLIER


def main(argv: list[str]) -> None:
    point, k, batch = argv[0], int(argv[1]), int(argv[2])
    collection.BATCH_PUSHES = batch
    kill = KillAt(k)
    if point == "claimed":
        kill.after(collection, "_claim")
    elif point == "sent":
        kill.after(collection, "_send")
    elif point == "recording":
        # the batch's outcomes (none when another run held all its cases)
        kill.before(collection, "_record", lambda *args: bool(args[-1]) and not _found_by_lookup(args[-1]))
    elif point == "found":
        kill.before(collection, "_record", lambda *args: _found_by_lookup(args[-1]))
    else:
        raise SystemExit(f"unknown kill point {point!r}")
    run_cli(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
