"""Where the shared bank test data lives (read in place, never copied into the repo)."""

from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "bank"
