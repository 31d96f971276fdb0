"""The command line killed (SIGKILL) the K-th time a point of its work is passed: what the crash tests of
batched sends run (tests/dunning/kill_points.py for letters, tests/collection/kill_points.py for pushes).

A point is a function of the product, wrapped so that the count goes up when it returns — or, with
``before``, just before it runs — for the calls ``when`` accepts (all by default)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any


class KillAt:
    def __init__(self, k: int):
        self.k, self.seen = k, 0

    def count(self) -> None:
        self.seen += 1
        if self.seen == self.k:
            os.kill(os.getpid(), signal.SIGKILL)

    def after(self, owner: Any, name: str) -> None:
        """Count each time ``owner.name`` returns (its work done and, where it commits, committed)."""
        function = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            out = function(*args, **kwargs)
            self.count()
            return out

        setattr(owner, name, counted)

    def before(self, owner: Any, name: str, when: Callable[..., bool]) -> None:
        """Count just before ``owner.name`` runs, for the calls ``when(*args)`` accepts."""
        function = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            if when(*args):
                self.count()
            return function(*args, **kwargs)

        setattr(owner, name, counted)


def run_cli(argv: list[str]) -> None:
    """``arsync`` with the arguments after ``--``."""
    from connector.cli import main as cli

    cli(argv[argv.index("--") + 1 :])
