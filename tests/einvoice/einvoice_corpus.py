"""Where the shared Peppol corpus lives (``<repo>/../shared/testdata/peppol``, read in place) and readers.

Plain helpers, not fixtures: a second ``conftest`` module would shadow ``tests/conftest.py`` for the
tests that ``from conftest import …``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.einvoice.document import EDocument, StatusEvent
from connector.einvoice.read import read_document

REPO = Path(__file__).resolve().parents[2]
PEPPOL = REPO / ".." / "shared" / "testdata" / "peppol"
RULES = REPO / ".." / "shared" / "testdata" / "peppol-rules"


def peppol_file(rel: str) -> Path:
    path = PEPPOL / rel
    if not path.is_file():
        pytest.skip(f"shared test corpus not found: {path} (expected ../shared/testdata/peppol next to the repo)")
    return path


def read_doc(rel: str) -> EDocument:
    doc = read_document(peppol_file(rel).read_bytes(), rel)
    assert isinstance(doc, EDocument), doc
    return doc


def read_status(rel: str) -> StatusEvent:
    doc = read_document(peppol_file(rel).read_bytes(), rel)
    assert isinstance(doc, StatusEvent), doc
    return doc
