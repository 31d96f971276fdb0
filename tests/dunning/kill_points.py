"""The command line with a SIGKILL at a chosen point of the batched send, for tests/dunning/test_letter_kill.py:

    python -m tests.dunning.kill_points POINT K BATCH -- <arsync arguments>

``BATCH``: letters per batch (``connector.actions.send.BATCH_LETTERS``). ``POINT``, counted in this process:

- ``claimed``: the K-th batch's letters begun and their intents claimed (committed), no file written yet;
- ``written``: the K-th letter's files renamed into the outbox, its batch's folder not fsynced nor recorded;
- ``recording``: the K-th batch's letters all written and the folder fsynced, their completion not committed.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from connector.actions import send
from connector.channels.outbox import OutboxChannel


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    point, k, batch = argv[0], int(argv[1]), int(argv[2])
    send.BATCH_LETTERS = batch
    seen = 0

    def count() -> None:
        nonlocal seen
        seen += 1
        if seen == k:
            _kill()

    if point == "claimed":
        claim = send._claim

        def claimed(*args: Any) -> Any:
            out = claim(*args)
            count()
            return out

        send._claim = claimed  # type: ignore[assignment]
    elif point == "written":
        deliver = OutboxChannel.deliver_letter

        def written(self: OutboxChannel, message: Any) -> Any:
            out = deliver(self, message)
            count()
            return out

        OutboxChannel.deliver_letter = written  # type: ignore[method-assign]
    elif point == "recording":
        complete = send._complete

        def recording(store: Any, delivered: Any, *rest: Any) -> Any:
            if delivered:
                count()
            return complete(store, delivered, *rest)

        send._complete = recording  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown kill point {point!r}")
    from connector.cli import main as cli

    cli(argv[argv.index("--") + 1 :])


if __name__ == "__main__":
    main(sys.argv[1:])
