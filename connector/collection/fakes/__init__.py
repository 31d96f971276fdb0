"""Local fake inkasso providers (Kravia, Debitura) on 127.0.0.1, for tests, the bench and trying things out."""

from connector.collection.fakes.debitura import FakeDebitura
from connector.collection.fakes.kravia import FakeKravia
from connector.collection.fakes.server import Failure, FakeServer, Recorded

__all__ = ["Failure", "FakeDebitura", "FakeKravia", "FakeServer", "Recorded"]
