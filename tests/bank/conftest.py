"""Fixtures for the bank tests: the shared bank test data, read in place (never copied)."""

from __future__ import annotations

import pytest
from bank_testdata import TESTDATA


@pytest.fixture
def bank_file():
    def get(name: str) -> bytes:
        path = TESTDATA / name
        if not path.is_file():
            pytest.skip(f"shared bank test data not found at {path} (see shared/testdata/bank/SOURCES.md)")
        return path.read_bytes()

    return get
