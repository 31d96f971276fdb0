"""A grouped letter is claimed by exactly one run (issue 15 on issue 13's claims): its own row is inserted
once, every invoice's send intent is a compare-and-set, and a pending letter of a live other run is never
resolved (nor its intents one by one).

Two ``Store`` objects with different run identities stand for two processes on one store, as in
tests/test_locks.py; real processes are killed while writing letters in tests/dunning/test_letter_kill.py.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.actions import letters as content
from connector.actions import send
from connector.actions.resolve import resolve_pending
from connector.engine.decisions import decide_client
from connector.model import Action
from connector.store import RunId, Store, schema, sends
from connector.store import letters as book
from connector.store.facts import load_facts
from tests.builders import Workspace, client_table, real_pdf

DUE = date(2026, 1, 5)
DAY = date(2026, 1, 19)  # the reminder of both invoices, in one letter to their one customer
AT = datetime(2026, 1, 19, 6, 0, tzinfo=UTC)


def _other_run(token: str) -> RunId:
    """Another live run: this very process under another token (alive, but not this store's)."""
    me = RunId.current()
    return RunId(me.host, me.pid, me.started, token)


def _dead_run() -> RunId:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    me = RunId.current()
    return RunId(me.host, int(proc.stdout), "1", "gone")


def _synced(ws: Workspace, **table: object) -> None:
    ws.write_config(client_table("acme", **table))
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00", pdf=real_pdf())
    ws.add_invoice("7002", issue=date(2025, 12, 23), due=DUE, amount="2000.00")
    ws.bank_heartbeat(DAY)
    assert ws.cli("sync", "--as-of", DAY.isoformat()).exit_code == 0


def _send_tonight(ws: Workspace, store: Store, warnings: list[str]) -> list[tuple[str, str]]:
    client = ws.client()
    facts = store.read(load_facts, client.id)
    [group] = content.groups(client, facts, decide_client(store, client, DAY), DAY)
    assert group.numbers == ("7001", "7002")
    return send.send_letter(store, client, facts, group, DAY, {}, warnings)


def _record(letter_id: str, invoices: tuple[str, ...] = ("7001", "7002")) -> book.LetterRecord:
    return book.LetterRecord(
        "acme", letter_id, "reminder", "934567897", DAY, "email", book.PENDING, invoices, "NOK",
        Decimal("7037.50"), Decimal("37.50"), f"acme--934567897--reminder--{DAY.isoformat()}", "{}",
    )  # fmt: skip


def _pdfs(ws: Workspace) -> list[str]:
    return [f for f in ws.outbox_files(ws.reminders_dir()) if f.endswith(".pdf")]


def test_a_letter_id_is_begun_by_one_run_and_a_stopped_runs_letter_taken_over_once(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    url = ws.settings().store.url
    a, b = Store(url, run=_other_run("a")), Store(url, run=_other_run("b"))
    mine = a.write(book.begin, _record("R-1"), owner=a.run.key, at=AT)
    assert mine is not None and mine.claimed_by == a.run.key
    assert b.write(book.begin, _record("R-1"), owner=b.run.key, at=AT) is None  # no IntegrityError: not b's
    assert not b.may_resolve("acme", mine.claimed_by)  # a live run's letter in flight

    dead = Store(url, run=_dead_run())
    left = dead.write(book.begin, _record("R-2"), owner=dead.run.key, at=AT)
    assert left is not None and a.may_resolve("acme", left.claimed_by) and b.may_resolve("acme", left.claimed_by)
    taken = a.write(book.take_over, left, owner=a.run.key, at=AT)
    assert taken is not None and taken.claimed_by == a.run.key
    assert b.write(book.take_over, left, owner=b.run.key, at=AT) is None  # the claim b read is gone
    for s in (a, b, dead):
        s.close()


def test_an_invoice_another_live_run_is_sending_is_left_out_quietly(ws: Workspace) -> None:
    _synced(ws)
    other = Store(ws.settings().store.url, run=_other_run("night"))
    theirs = sends.SendIntent("acme", "7002", Action.REMINDER, DAY, "outbox", sends.PENDING, Decimal("0"), "NOK")
    assert other.write(sends.begin, theirs, owner=other.run.key, at=AT) is not None
    warnings: list[str] = []
    lines = _send_tonight(ws, ws.store, warnings)
    assert [n for n, _ in lines] == ["7001"] and warnings == []  # 7002 is that run's: no alarm, never twice
    [letter] = ws.letter_records()
    assert (letter.status, letter.invoices) == (book.SENT, ("7001",))
    other.close()


def test_a_letter_whose_invoice_another_run_claims_first_is_not_sent_at_all(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synced(ws)
    other = Store(ws.settings().store.url, run=_other_run("night"))
    real_claim = send._claim

    def raced(night: object, batch: object) -> object:
        # the other run claims 7002 between our check (the letter rendered) and our batch's claims
        theirs = sends.SendIntent("acme", "7002", Action.REMINDER, DAY, "outbox", sends.PENDING, Decimal("0"), "NOK")
        assert other.write(sends.begin, theirs, owner=other.run.key, at=AT) is not None
        return real_claim(night, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(send, "_claim", raced)
    assert _send_tonight(ws, ws.store, []) == []
    assert _pdfs(ws) == []  # nothing reached the debtor
    [letter] = ws.letter_records()
    assert letter.status == book.FAILED and "7002 was begun elsewhere" in (letter.last_error or "")
    by_invoice = {i.invoice_number: i for i in ws.store.read(sends.intents, "acme")}
    assert by_invoice["7001"].status == sends.FAILED  # ours, released: the next run tries again
    assert (by_invoice["7002"].status, by_invoice["7002"].claimed_by) == (sends.PENDING, other.run.key)
    other.close()


def test_a_pending_letter_of_a_live_run_is_not_resolved_and_its_intents_not_one_by_one(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _synced(ws)
    other = Store(ws.settings().store.url, run=_other_run("night"))

    class Stop(BaseException):
        pass

    def stop(*_a: object, **_k: object) -> None:
        raise Stop  # the other run is between its claims and the channel: it stays there

    with monkeypatch.context() as m:
        m.setattr(send, "plan_charges", stop)
        with pytest.raises(Stop):
            _send_tonight(ws, other, [])
    [letter] = ws.letter_records()
    assert (letter.status, letter.claimed_by) == (book.PENDING, other.run.key)
    result = resolve_pending(ws.store, ws.client(), DAY)
    assert result.warnings == [] and result.recorded == 0
    intents = ws.store.read(sends.intents, "acme")
    assert [(i.invoice_number, i.status, i.claimed_by) for i in intents] == [
        ("7001", sends.PENDING, other.run.key),
        ("7002", sends.PENDING, other.run.key),
    ]
    assert ws.letter_records()[0].status == book.PENDING
    # its intents alone look abandoned (a dead claimer), the letter does not: they wait for the letter
    with ws.store.transaction() as conn:
        conn.execute(schema.dunning_sends.update().values(claimed_by=_dead_run().key))
    result = resolve_pending(ws.store, ws.client(), date(2026, 1, 20))
    assert result.warnings == [] and result.recorded == 0
    assert {i.status for i in ws.store.read(sends.intents, "acme")} == {sends.PENDING}

    # once that run has stopped, the letter is resolved whole: today's, with no PDF written, it never left,
    # so it and both intents fail and tonight's decision writes it again
    with ws.store.transaction() as conn:
        conn.execute(schema.letters.update().values(claimed_by=_dead_run().key))
    result = resolve_pending(ws.store, ws.client(), DAY)
    assert result.warnings == [] and result.recorded == 0
    assert ws.letter_records()[0].status == book.FAILED
    assert {i.status for i in ws.store.read(sends.intents, "acme")} == {sends.FAILED}
    lines = _send_tonight(ws, ws.store, [])
    assert [n for n, _ in lines] == ["7001", "7002"] and len(_pdfs(ws)) == 1
    other.close()


def _about(letter_id: str, about: str) -> book.LetterRecord:
    return book.LetterRecord(
        "acme", letter_id, "follow_up", "934567897", DAY, "outbox", book.PENDING, ("7001",), "NOK",
        Decimal("1000.00"), Decimal("0.00"), f"acme--934567897--follow_up--{letter_id}", "{}", about=about,
    )  # fmt: skip


def test_a_follow_up_is_begun_once_per_agreement_whatever_its_id(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    url = ws.settings().store.url
    a, b = Store(url, run=_other_run("a")), Store(url, run=_other_run("b"))
    mine = a.write(book.begin_once, _about("F-1", "AG-1"), owner=a.run.key, at=AT)
    assert mine is not None
    # b found the agreement unconfirmed before a began, and took the next free id: it must not send too
    assert b.write(book.begin_once, _about("F-1-2", "AG-1"), owner=b.run.key, at=AT) is None
    assert b.write(book.begin_once, _about("F-2", "AG-2"), owner=b.run.key, at=AT) is not None  # another one
    assert [(r.letter_id, r.claimed_by) for r in ws.letter_records()] == [("F-1", a.run.key), ("F-2", b.run.key)]
    a.write(book.fail, mine, [], "refused by the channel", at=AT)  # nothing went: it may be begun again
    assert b.write(book.begin_once, _about("F-1-2", "AG-1"), owner=b.run.key, at=AT) is not None
    for s in (a, b):
        s.close()


def test_a_follow_up_another_run_began_is_not_sent_again(ws: Workspace) -> None:
    from connector.letters import LetterKind
    from tests.letters.letter_samples import letter

    ws.write_config(client_table("acme"))
    other = Store(ws.settings().store.url, run=_other_run("night"))
    assert other.write(book.begin_once, _about("F-1", "AG-1"), owner=other.run.key, at=AT) is not None
    follow_up = letter(LetterKind.FOLLOW_UP, reference="F-1-2")  # our run's check missed the other's letter
    facts = ws.store.read(load_facts, "acme")
    line = send.send_document(ws.store, ws.client(), facts, follow_up, channel_name="outbox", about="AG-1", channels={})
    assert "begun by another run, not sent again" in line
    assert _pdfs(ws) == []  # nothing reached the debtor twice
    assert [r.letter_id for r in ws.letter_records()] == ["F-1"]
    other.close()


def test_two_letters_to_one_customer_in_one_batch_get_two_ids(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    ws.add_invoice("7002", issue=date(2025, 12, 23), due=DUE, amount="2000.00", currency="EUR")  # its own letter
    ws.bank_heartbeat(DAY)
    assert ws.cli("run", "--as-of", DAY.isoformat()).exit_code == 0
    records = ws.letter_records()
    assert sorted((r.letter_id, r.invoices, r.status) for r in records) == [
        ("R-20260119-934567897", ("7001",), book.SENT),
        ("R-20260119-934567897-2", ("7002",), book.SENT),
    ]
    assert len(_pdfs(ws)) == 2
