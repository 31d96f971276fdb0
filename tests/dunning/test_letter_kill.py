"""Fault injection for letters: SIGKILL the real ``arsync run`` while it writes the night's letters — each naming
both invoices of one of eight customers — at many points (just after the k-th EHF document of a run appeared,
before its PDF; and at timed moments in start-up, sync, decisions and the store writes), then run again.

Afterwards, for the reminders and for the notices: every invoice has its step exactly once, every customer
exactly one letter that counts naming both invoices, one PDF per such letter in the outbox, no EHF document
that belongs to no letter, and no send left pending."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from connector.store import Store, sends
from connector.store import letters as book
from connector.store.facts import load_facts
from tests.builders import Workspace, client_table

ORGS = ("934567897", "974760673", "987654325", "912345674", "923456791", "945678909", "978901239", "989012347")
REMINDERS, NOTICES = date(2026, 1, 19), date(2026, 2, 5)


def _eight_customers(ws: Workspace) -> None:
    ws.write_config(client_table("acme", policy={"customer_interval_days": 0}))
    for i, org in enumerate(ORGS):
        for j in range(2):
            day, name = date(2025, 12, 22), f"Kunde {i} AS"
            ws.add_invoice(f"7{i}{j}1", issue=day, due=date(2026, 1, 5), amount="1000.00", customer=name, org=org)


def _assert_each_letter_once(ws: Workspace) -> None:
    """Every invoice has its reminder and notice step once; every customer one letter of each that counts,
    naming both invoices; one PDF per such letter; no EHF document of no letter; nothing left pending."""
    folder = ws.reminders_dir()
    store = Store(ws.settings().store.url)
    try:
        steps = sorted((s.invoice_number, str(s.step)) for s in store.read(load_facts, "acme").steps)
        numbers = sorted(f"7{i}{j}1" for i in range(len(ORGS)) for j in range(2))
        assert steps == sorted((n, kind) for n in numbers for kind in ("collection_notice", "reminder"))
        records = store.read(book.load, "acme")
        counted = [r for r in records if r.status in (book.SENT, book.UNCONFIRMED)]
        for kind in ("reminder", "collection_notice"):
            mine = [r for r in counted if r.kind == kind]
            assert sorted(r.invoices for r in mine) == [(f"7{i}01", f"7{i}11") for i in range(len(ORGS))]
        assert not [r for r in records if r.status == book.PENDING]
        assert not [i for i in store.read(sends.intents, "acme") if i.status == sends.PENDING]
        files = ws.outbox_files(folder)
        pdfs = {f for f in files if f.endswith(".pdf")}
        assert pdfs == {f"{r.stem}.pdf" for r in counted if r.status == book.SENT}
        for xml in (f for f in files if f.endswith(".xml")):
            assert any(xml.startswith(f"{r.stem}--") for r in counted), f"{xml} belongs to no letter"
    finally:
        store.close()


def _new_files(folder: Path, before: set[str], suffix: str) -> int:
    try:
        names = {e.name for e in os.scandir(folder) if e.name.endswith(suffix) and not e.name.startswith(".")}
    except FileNotFoundError:
        return 0
    return len(names - before)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_while_writing_grouped_letters_never_duplicates_or_loses_one(ws: Workspace) -> None:
    _eight_customers(ws)
    folder = ws.reminders_dir()
    kills = 0

    def run(day: date, *, after_xml: int | None = None, after_seconds: float | None = None) -> None:
        nonlocal kills
        argv = [
            sys.executable,
            "-m",
            "connector.cli",
            "--config",
            str(ws.config_path),
            "run",
            "--as-of",
            day.isoformat(),
        ]
        before = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        while proc.poll() is None:
            late = after_seconds is not None and time.monotonic() - started >= after_seconds
            written = after_xml is not None and _new_files(folder, before, ".xml") >= after_xml
            if late or written:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.002)
        proc.wait(timeout=60)

    for day in (REMINDERS, NOTICES):
        ws.bank_heartbeat(day)
        for k in (1, 2, 5, 1, 8, 3, 11, 2):
            run(day, after_xml=k)
        for seconds in (0.3, 0.7, 1.1):
            run(day, after_seconds=seconds)
        final = subprocess.run(
            [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), "run", "--as-of", day.isoformat()],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert final.returncode == 0, final.stdout + final.stderr
    assert kills >= 12  # the windows were really hit

    _assert_each_letter_once(ws)


# (point, k): where ``tests.dunning.kill_points`` kills the run, with batches of three letters. Each next run
# resolves what the kill left (a letter whose PDF exists is recorded sent, one without is written again), then
# sends the rest: 8 letters, then 8 (all three of the first batch failed), 4, 1.
BATCH_KILLS = (
    ("claimed", 1),  # the first batch claimed (letters and intents committed), nothing written
    ("written", 4),  # the first batch recorded; the second's first letter written, the others not
    ("claimed", 2),  # a first batch recorded, the second claimed, nothing of it written
    ("recording", 1),  # a batch written and the folder fsynced, its completion not committed
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_inside_a_batch_of_letters_settles_each_letter_exactly_once(ws: Workspace) -> None:
    _eight_customers(ws)
    folder = ws.reminders_dir()
    store = Store(ws.settings().store.url)
    try:
        for day in (REMINDERS, NOTICES):
            ws.bank_heartbeat(day)
            for point, k in BATCH_KILLS:
                argv = [sys.executable, "-m", "tests.dunning.kill_points", point, str(k), "3"]
                argv += ["--", "--config", str(ws.config_path), "run", "--as-of", day.isoformat()]
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
                assert proc.returncode == -signal.SIGKILL, f"{point} {k}: {proc.stdout}{proc.stderr}"
                # the kill hit inside a batch: letters begun with their intents, no step recorded for them
                left = [r for r in store.read(book.load, "acme") if r.status == book.PENDING]
                assert left, f"{point} {k}: no letter was pending"
                pending = {(i.invoice_number, str(i.step)) for i in store.read(sends.intents, "acme", status="pending")}
                assert pending == {(n, r.kind) for r in left for n in r.invoices}
                written = [(folder / f"{r.stem}.pdf").is_file() for r in left]
                if point == "claimed":
                    assert not any(written)  # committed before any letter is written
                elif point == "recording":
                    assert all(written)
                else:
                    assert any(written) and not all(written)
            final = subprocess.run(
                [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), "run", "--as-of",
                 day.isoformat()],
                capture_output=True,
                text=True,
                timeout=120,
            )  # fmt: skip
            assert final.returncode == 0, final.stdout + final.stderr
            assert "may have been sent" not in final.stdout + final.stderr  # an outbox letter is settled exactly
    finally:
        store.close()
    _assert_each_letter_once(ws)
