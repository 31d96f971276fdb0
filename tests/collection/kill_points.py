"""The command line with a SIGKILL at a chosen point of a batch of pushes, for tests/collection/test_kill.py:

    python -m tests.collection.kill_points POINT K BATCH -- <arsync arguments>

``BATCH``: pushes per batch (``connector.actions.collection.BATCH_PUSHES``). ``POINT``, counted in this process:

- ``claimed``: the K-th batch's intents committed, no request sent for it yet;
- ``sent``: the K-th request of the run answered (its case is at the provider), its batch's outcomes not
  recorded;
- ``recording``: the K-th batch's requests all answered, its outcomes not committed.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from connector.actions import collection


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    point, k, batch = argv[0], int(argv[1]), int(argv[2])
    collection.BATCH_PUSHES = batch
    seen = 0

    def count() -> None:
        nonlocal seen
        seen += 1
        if seen == k:
            _kill()

    if point == "claimed":
        claim = collection._claim

        def claimed(*args: Any) -> Any:
            out = claim(*args)
            count()
            return out

        collection._claim = claimed  # type: ignore[assignment]
    elif point == "sent":
        send = collection._send

        def sent(*args: Any) -> Any:
            out = send(*args)
            count()
            return out

        collection._send = sent  # type: ignore[assignment]
    elif point == "recording":
        record = collection._record

        def recording(*args: Any) -> Any:
            if args[-1]:  # the batch's outcomes (none when another run held all its cases)
                count()
            return record(*args)

        collection._record = recording  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown kill point {point!r}")
    from connector.cli import main as cli

    cli(argv[argv.index("--") + 1 :])


if __name__ == "__main__":
    main(sys.argv[1:])
