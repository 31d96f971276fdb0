"""Local fake inkasso providers (Kravia, Debitura) on 127.0.0.1, for tests, the bench and trying things out."""

from tests.fakes.debitura import FakeDebitura
from tests.fakes.kravia import FakeKravia
from tests.fakes.server import Failure, FakeServer, Recorded

__all__ = ["Failure", "FakeDebitura", "FakeKravia", "FakeServer", "Recorded"]
