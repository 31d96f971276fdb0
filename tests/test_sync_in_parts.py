"""An EHF folder is stored part by part while it is read (issue 18: a large client's sync never holds the
whole folder), and ends exactly as one batch would: same invoices, first document kept against a later
conflicting one in another part, the last document's customer, one transaction for all of it. Each test runs
twice: the parts read here, and read by forked helpers while this process stores them (connector.forked)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connector import forked, interrupt, pipeline
from connector.bank import feed
from connector.sources import ehf
from connector.store import ledger, schema
from connector.store.conflicts import open_conflicts
from connector.store.facts import load_facts
from connector.store.ledger import load_attachments
from tests.builders import Entry, Workspace, client_table, kid, pdf_bytes, ubl_invoice

ISSUE, DUE = date(2026, 5, 1), date(2026, 5, 15)
LATE = date(2026, 6, 20)


def _acme(ws: Workspace, monkeypatch: pytest.MonkeyPatch, how: str) -> Workspace:
    monkeypatch.setattr(ehf, "PART_FILES", 2)  # a part every two files: a six-file folder is three parts
    if how == "read here":
        monkeypatch.setattr(pipeline, "processes_now", lambda quiesce=None: 1)
    elif not forked.can_fork():
        pytest.skip("helpers are forked: Linux only")
    else:  # two helpers even on one CPU, or with a thread another test left idle
        monkeypatch.setattr(pipeline, "processes_now", lambda quiesce=None: 2)
    ws.write_config(client_table("acme"))
    ws.bank_heartbeat(LATE)
    return ws


@pytest.fixture(params=["read here", "read by helpers"])
def acme(ws: Workspace, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Workspace:
    return _acme(ws, monkeypatch, request.param)


@pytest.fixture
def acme_helpers(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """For what only helpers do: die, be stopped."""
    return _acme(ws, monkeypatch, "read by helpers")


def _file(ws: Workspace, name: str, number: str, amount: str, **kw: Any) -> None:
    (ws.ehf_dir() / name).write_text(ubl_invoice(number, issue=ISSUE, due=DUE, amount=amount, **kw), encoding="utf-8")


def test_a_folder_read_in_parts_stores_what_one_batch_would(acme: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(6):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), f"{100 * (i + 1)}.00")
    events: list[str] = []
    parts, store_ledger = ehf.EhfFolderSource.parts, pipeline._store_ledger

    def read(self: ehf.EhfFolderSource, ctx: Any) -> Any:
        for part in parts(self, ctx):
            events.append(f"read {len(part.files)}")
            yield part

    def store(*args: Any) -> None:
        events.append("store")
        store_ledger(*args)

    monkeypatch.setattr(ehf.EhfFolderSource, "parts", read)
    monkeypatch.setattr(pipeline, "_store_ledger", store)
    items = acme.items(LATE)

    assert events == ["read 2", "store"] * 3  # each part stored before the next is read
    assert sorted(items) == [str(1001 + i) for i in range(6)]
    assert all(item["action"] == "reminder" for item in items.values())
    facts = acme.store.read(load_facts, "acme")
    assert {i.number: str(i.amount) for i in facts.invoices}["1006"] == "600.00"

    # the next night: every file known, nothing new read or stored twice
    events.clear()
    assert acme.items(LATE) == items
    assert events == ["read 0", "store"] * 3


def test_a_conflicting_document_in_a_later_part_is_refused_as_in_one_batch(acme: Workspace) -> None:
    _file(acme, "a-1001.xml", "1001", "1000.00")
    _file(acme, "b-filler.xml", "2001", "50.00")
    _file(acme, "c-1001.xml", "1001", "1200.00")  # the next part: another amount for the same number

    result = acme.cli("run", "--as-of", LATE.isoformat())
    item = acme.items(LATE)["1001"]

    assert "conflicting document: invoice 1001: c-1001.xml carries the number" in result.output
    assert item["amount"] == "1000.00" and "conflicting_document" in item["holds"]
    [conflict] = acme.store.read(open_conflicts, "acme")
    assert conflict.other_ref == "c-1001.xml"


def test_a_customer_named_in_two_parts_ends_as_the_last_document_names_it(acme: Workspace) -> None:
    _file(acme, "a.xml", "1001", "100.00", customer="Kunde AS")
    _file(acme, "b.xml", "1002", "100.00", customer="Kunde AS")
    _file(acme, "c.xml", "1003", "100.00", customer="Kunde Nytt Navn AS")  # same org no, renamed

    acme.items(LATE)

    [customer] = acme.store.read(load_facts, "acme").customers.values()
    assert customer.name == "Kunde Nytt Navn AS"


def test_a_customer_renamed_and_renamed_back_ends_as_the_last_document_names_it(acme: Workspace) -> None:
    for name, number, buyer in [
        ("a.xml", "1001", "Kunde AS"),
        ("b.xml", "1002", "Kunde AS"),
        ("c.xml", "1003", "Kunde Nytt Navn AS"),  # the second part renames it
        ("d.xml", "1004", "Kunde Nytt Navn AS"),
        ("e.xml", "1005", "Kunde AS"),  # the third names it as the first did
        ("f.xml", "1006", "Kunde AS"),
    ]:
        _file(acme, name, number, "100.00", customer=buyer)

    acme.items(LATE)

    [customer] = acme.store.read(load_facts, "acme").customers.values()
    assert customer.name == "Kunde AS"


def test_a_customer_named_alike_in_every_part_is_written_once(acme: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # a first night's folder names most customers in every part: each is written when it first comes or
    # changes, not once per part (a 100k-invoice folder: 100,000 customer rows written for 20,000 customers)
    for i in range(6):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00", customer="Kunde AS")
    written: list[str] = []
    upsert_many = ledger.upsert_many

    def counting(conn: Any, table: Any, rows: Any) -> None:
        rows = list(rows)
        if table is schema.customers:
            written.extend(r["name"] for r in rows)
        upsert_many(conn, table, rows)

    monkeypatch.setattr(ledger, "upsert_many", counting)
    acme.items(LATE)

    assert written == ["Kunde AS"]
    assert [c.name for c in acme.store.read(load_facts, "acme").customers.values()] == ["Kunde AS"]


def test_a_part_that_fails_to_store_leaves_nothing_of_the_folder(
    acme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00")
    stored = pipeline._store_ledger
    calls: list[int] = []

    def fails_on_the_third_part(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        stored(*args)

    monkeypatch.setattr(pipeline, "_store_ledger", fails_on_the_third_part)
    result = acme.cli("reconcile", "--as-of", LATE.isoformat())

    assert "storing the sync failed, previous state kept: disk full" in result.output
    assert acme.store.read(load_facts, "acme").invoices == ()  # the first two parts are not kept either

    monkeypatch.setattr(pipeline, "_store_ledger", stored)
    assert len(acme.items(LATE)) == 5  # the next run reads the folder again, whole


def test_a_bank_file_stored_in_parts_pays_as_one_read_whole(acme: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(6):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00")
    paid = [Entry(f"REF{i}", "100.00", LATE, kid=kid(str(1001 + i))) for i in range(0, 6, 2)]
    acme.add_bank_file("camt-paid.xml", paid, created=LATE)
    whole = acme.items(LATE)
    assert [n for n, item in sorted(whole.items()) if item["state"] == "settled"] == ["1001", "1003", "1005"]

    acme.store.close()
    (acme.root / "state" / "arsync.db").unlink()  # a fresh store: everything is read again
    acme._store = None
    monkeypatch.setattr(feed, "PART_BYTES", 100)  # every camt file in parts of one payment
    monkeypatch.setattr(feed, "PART_PAYMENTS", 1)

    assert acme.items(LATE) == whole


def test_a_stop_asked_for_while_parts_are_stored_keeps_nothing_of_the_sync(
    acme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00")
    store_ledger = pipeline._store_ledger

    def stop_after_the_first_part(*args: Any) -> None:
        store_ledger(*args)
        interrupt.request(signal.SIGTERM)

    monkeypatch.setattr(pipeline, "_store_ledger", stop_after_the_first_part)
    try:
        result = acme.cli("run", "--as-of", LATE.isoformat())
    finally:
        interrupt.reset()

    assert result.exit_code == 143
    assert "a stop was asked for before the sync was stored whole" in result.output
    assert acme.store.read(load_facts, "acme").invoices == ()  # the first part is not kept either
    assert acme.letters() == []


def test_a_file_that_cannot_be_opened_is_held_and_the_others_are_stored(
    acme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read inside the sync's transaction, a file that cannot be opened must not undo the rest: it is listed
    and held as unreadable; a file removed since the folder was listed is as if it had not been there."""
    for i in range(4):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00")
    read = ehf._read_bounded

    def refusing(folder: str, name: str) -> bytes | int:
        if name == "1002.xml":
            raise PermissionError(13, "Permission denied")
        if name == "1003.xml":
            raise FileNotFoundError(2, "No such file or directory")
        return read(folder, name)

    monkeypatch.setattr(ehf, "_read_bounded", refusing)
    result = acme.cli("run", "--as-of", LATE.isoformat())

    assert "1002.xml: could not be opened (Permission denied)" in result.output
    numbers = sorted(i.number for i in acme.store.read(load_facts, "acme").invoices)
    assert numbers == ["1001", "1004"]
    files = acme.cli("files", "list", "--client", "acme")
    assert "1002.xml" in files.output and "1003.xml" not in files.output


def _by_helpers(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params["acme"] == "read by helpers")


def _reader_pids(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each part's reader writes its process id to ``log`` (a helper's memory is its own)."""
    part = ehf.EhfFolderSource._part

    def logged(self: ehf.EhfFolderSource, ctx: Any, names: Any) -> Any:
        with log.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return part(self, ctx, names)

    monkeypatch.setattr(ehf.EhfFolderSource, "_part", logged)


def test_a_first_night_folder_is_read_by_two_helpers_while_this_process_stores(
    acme: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for i in range(6):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), f"{100 * (i + 1)}.00")
    log = tmp_path / "readers"
    _reader_pids(monkeypatch, log)

    items = acme.items(LATE)

    readers = log.read_text().split()
    assert len(readers) == 3  # three parts, each read once
    if _by_helpers(request):
        assert str(os.getpid()) not in readers and len(set(readers)) == 2
    else:
        assert set(readers) == {str(os.getpid())}
    assert sorted(items) == [str(1001 + i) for i in range(6)]
    assert {i.number: str(i.amount) for i in acme.store.read(load_facts, "acme").invoices}["1006"] == "600.00"


def test_a_helper_killed_while_reading_keeps_nothing_of_the_sync_and_the_next_run_reads_it_all(
    acme_helpers: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = acme_helpers
    for i in range(6):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00")
    parent, take = os.getpid(), ehf._take

    def killed_on_1004(*args: Any) -> None:
        if args[3] == "1004.xml" and os.getpid() != parent:  # a helper, as the OOM killer would
            os.kill(os.getpid(), signal.SIGKILL)
        take(*args)

    monkeypatch.setattr(ehf, "_take", killed_on_1004)
    result = acme.cli("reconcile", "--as-of", LATE.isoformat())

    assert "storing the sync failed, previous state kept: a reading process ended (exit code -9)" in result.output
    assert acme.store.read(load_facts, "acme").invoices == ()  # the part stored before it is not kept either

    monkeypatch.setattr(ehf, "_take", take)
    assert len(acme.items(LATE)) == 6  # the next run reads the folder again, whole


def test_a_part_of_large_documents_is_handed_on_in_pieces_that_store_as_the_part_would(
    acme: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invoices with large PDFs: a part is never held whole, in a helper or here (every file its own piece
    below); an invoice's attachment, a conflicting document and the customers end as in one batch."""
    monkeypatch.setattr(ehf, "PART_FILES", 3)
    monkeypatch.setattr(ehf, "AHEAD_FILES", 1)
    monkeypatch.setattr(ehf, "PIECE_BYTES", 1)
    _file(acme, "a.xml", "1001", "100.00", customer="Kunde AS", pdf=pdf_bytes("the invoice"))
    _file(acme, "b.xml", "1002", "200.00", customer="Kunde AS")
    _file(acme, "c.xml", "1001", "150.00", customer="Kunde AS", pdf=pdf_bytes("forged"))  # a later piece: refused
    _file(acme, "d.xml", "1003", "300.00", customer="Kunde Nytt Navn AS")  # same org no, renamed
    stored: list[int] = []
    store_ledger = pipeline._store_ledger

    def counted(*args: Any) -> None:
        stored.append(len(args[2].invoices))
        store_ledger(*args)

    monkeypatch.setattr(pipeline, "_store_ledger", counted)
    items = acme.items(LATE)

    assert sum(stored) == 4 and len(stored) >= 4  # a piece per file (and a last one with the customers)
    assert {n: item["amount"] for n, item in items.items()} == {"1001": "100.00", "1002": "200.00", "1003": "300.00"}
    assert "conflicting_document" in items["1001"]["holds"]
    facts = acme.store.read(load_facts, "acme")
    [customer] = facts.customers.values()
    assert customer.name == "Kunde Nytt Navn AS"
    [pdf] = acme.store.read(load_attachments, "acme", "1001")  # the kept invoice's own, not the refused one's
    assert pdf.filename == "faktura-1001.pdf" and pdf.content == pdf_bytes("the invoice")


_SLOW_RUN = """
import os, sys, time
from pathlib import Path
from connector.sources import ehf
from connector.cli import main
ehf.PART_FILES = 2
take, reading = ehf._take, Path(sys.argv[3])

def slow(*args):  # a slow disk: the stop comes while the helpers read the folder
    with reading.open("a") as out:
        out.write(f"{os.getpid()}\\n")
    time.sleep(0.25)
    take(*args)

ehf._take = slow
sys.argv = ["arsync", "--config", sys.argv[1], "run", "--as-of", sys.argv[2]]
main()
"""


@pytest.mark.parametrize("whom", ["the command", "the whole process group"])
def test_sigterm_while_helpers_read_stops_at_once_and_keeps_nothing(
    acme_helpers: Workspace, whom: str, tmp_path: Path
) -> None:
    """`kill PID`, or systemd stopping the unit (every process of it): the command exits 143 within
    seconds, no helper is left, and nothing of the half-read folder is stored."""
    acme = acme_helpers
    for i in range(40):
        _file(acme, f"{1001 + i}.xml", str(1001 + i), "100.00")
    reading = tmp_path / "reading"
    command = [sys.executable, "-c", _SLOW_RUN, str(acme.config_path), LATE.isoformat(), str(reading)]
    with subprocess.Popen(
        command, cwd=acme.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    ) as run:
        for _ in range(300):  # the helpers have started reading (the command line is up)
            if reading.exists() or run.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(1)  # a part or two stored, the helpers reading the next (the folder takes 5 s)
        assert run.poll() is None
        if whom == "the command":
            run.send_signal(signal.SIGTERM)
        else:
            os.killpg(run.pid, signal.SIGTERM)
        output, _ = run.communicate(timeout=20)
    assert run.returncode == 143, output.decode()
    assert str(run.pid) not in reading.read_text().split()  # the folder was being read by helpers
    assert b"a stop was asked for before the sync was stored whole" in output
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)  # no helper left behind in its process group
    assert acme.store.read(load_facts, "acme").invoices == ()
