"""The command line with a SIGKILL at a chosen point of the batched send, for tests/dunning/test_letter_kill.py:

    python -m tests.dunning.kill_points POINT K BATCH -- <arsync arguments>

``BATCH``: letters per batch (``connector.actions.send.BATCH_LETTERS``). ``POINT``, counted in this process:

- ``claimed``: the K-th batch's letters begun and their intents claimed (committed), no file written yet;
- ``written``: the K-th letter's files renamed into the outbox, its batch's folder not fsynced nor recorded;
- ``recording``: the K-th batch's letters all written and the folder fsynced, their completion not committed.
"""

from __future__ import annotations

import sys

from connector.actions import send
from connector.channels.outbox import OutboxChannel
from tests.kill_points import KillAt, run_cli


def main(argv: list[str]) -> None:
    point, k, batch = argv[0], int(argv[1]), int(argv[2])
    send.BATCH_LETTERS = batch
    kill = KillAt(k)
    if point == "claimed":
        kill.after(send, "_claim")
    elif point == "written":
        kill.after(OutboxChannel, "deliver_letter")
    elif point == "recording":
        kill.before(send, "_complete", lambda _store, delivered, *rest: bool(delivered))
    else:
        raise SystemExit(f"unknown kill point {point!r}")
    run_cli(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
