"""Send intents: a crash between sending and recording never sends twice — per invoice and per letter, a
letter naming several invoices of one customer included; a failing channel records nothing, fails only its
client (exit 1), lets the other invoices and clients go on, and retries."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from typing import Any

import pytest
import responses

from connector.channels import outbox as outbox_channel
from connector.model import Action
from connector.store import letters as book
from connector.store import sends
from connector.store.facts import load_facts
from tests.builders import Workspace, client_table, ubl_invoice

DUE = date(2026, 1, 5)
DAY = date(2026, 1, 19)  # 14 days after due: the default ladder's reminder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Smtp:
    """A real local SMTP server (aiosmtpd), startable on a fixed port to simulate an outage."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.received: list[bytes] = []
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        received = self.received

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                received.append(envelope.original_content)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=5)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def invoices(self) -> list[str]:
        return sorted(str(message_from_bytes(m)["Subject"]).rsplit(" ", 1)[-1] for m in self.received)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    yield server
    server.stop()


def _email_client(port: int, client_id: str = "acme") -> dict[str, Any]:
    table = client_table(client_id)
    table["policy"] = {
        **table["policy"],
        "steps": [
            {"action": "reminder", "days": 14, "fee": True, "channel": "email"},
            {"action": "collection_notice", "days": 14, "channel": "email"},
            {"action": "collection_case", "days": 14},
        ],
    }
    table["reminders"] = {
        **table["reminders"],
        "email": {"host": "127.0.0.1", "port": port, "starttls": False, "from_address": "purring@acme.example"},
    }
    return table


def _add_invoice(ws: Workspace, number: str, *, email: str | None = "faktura@kunde.example", **kw: str) -> None:
    xml = ubl_invoice(number, issue=date(2025, 12, 22), due=DUE, amount="5000.00", **kw)
    if email:
        head, _, tail = xml.partition("<cac:AccountingCustomerParty>")
        contact = f"<cac:Contact><cbc:ElectronicMail>{email}</cbc:ElectronicMail></cac:Contact>"
        tail = tail.replace("</cac:PartyLegalEntity>", f"</cac:PartyLegalEntity>\n      {contact}", 1)
        xml = head + "<cac:AccountingCustomerParty>" + tail
    path = ws.ehf_dir() / f"{number}.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml, encoding="utf-8")


def _run(ws: Workspace, day: date = DAY) -> Any:
    ws.bank_heartbeat(day)
    ws.bank_heartbeat(day, client_id="beta") if (ws.root / "clients" / "beta").exists() else None
    return ws.cli("run", "--as-of", day.isoformat())


def _steps(ws: Workspace, client: str = "acme") -> list[tuple[str, Action, date, str]]:
    return [(s.invoice_number, s.step, s.sent_on, s.detail) for s in ws.store.read(load_facts, client).steps]


class Killed(BaseException):
    """The process dying: nothing after it runs, no handler catches it."""


# ---- the crash window --------------------------------------------------------------------------------


def test_crash_after_smtp_send_never_sends_a_second_email(
    ws: Workspace, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp.start()
    ws.write_config(_email_client(smtp.port))
    _add_invoice(ws, "7001")
    _add_invoice(ws, "7005")  # the same customer: one letter names both

    def die(*_args: Any, **_kwargs: Any) -> None:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(book, "complete", die)  # the e-mail went out; recording the steps never happens
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    assert len(smtp.received) == 1 and _steps(ws) == []
    assert [i.status for i in ws.store.read(sends.intents, "acme")] == [sends.PENDING, sends.PENDING]

    again = _run(ws)  # the same day: the pending letter may have been sent → recorded, not re-sent
    assert again.exit_code == 0, again.output
    assert "may have been sent" in again.stderr and "7001, 7005" in again.stderr
    assert len(smtp.received) == 1
    steps = _steps(ws)
    assert [(i, s, d) for i, s, d, _ in steps] == [("7001", Action.REMINDER, DAY), ("7005", Action.REMINDER, DAY)]
    assert all("unconfirmed" in detail for *_, detail in steps)
    assert [i.status for i in ws.store.read(sends.intents, "acme")] == [sends.UNCONFIRMED, sends.UNCONFIRMED]
    assert [r.status for r in ws.letter_records()] == [book.UNCONFIRMED]

    for day in (date(2026, 1, 20), date(2026, 1, 21)):
        assert _run(ws, day).exit_code == 0
    assert len(smtp.received) == 1


def test_crash_on_a_later_day_is_resolved_before_deciding(
    ws: Workspace, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp.start()
    ws.write_config(_email_client(smtp.port))
    _add_invoice(ws, "7002")
    with monkeypatch.context() as m:
        m.setattr(book, "complete", lambda *a, **k: (_ for _ in ()).throw(Killed()))
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    nxt = date(2026, 1, 20)  # next night: the decision would say "reminder" again without the resolution
    result = _run(ws, nxt)
    assert result.exit_code == 0, result.output
    assert len(smtp.received) == 1
    assert [(i, s, d) for i, s, d, _ in _steps(ws)] == [("7002", Action.REMINDER, DAY)]


def test_interrupted_outbox_send_is_completed_not_duplicated(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7003", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    ws.add_invoice("7004", issue=date(2025, 12, 22), due=DUE, amount="700.00")  # the same customer
    with monkeypatch.context() as m:
        m.setattr(book, "complete", lambda *a, **k: (_ for _ in ()).throw(Killed()))
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    files = ws.outbox_files(ws.reminders_dir())
    pdf = "acme--934567897--reminder--2026-01-19.pdf"
    assert pdf in files  # the PDF is written last: the letter is complete
    result = _run(ws, date(2026, 1, 20))
    assert result.exit_code == 0, result.output
    assert ws.outbox_files(ws.reminders_dir()) == files  # nothing new written
    assert [(i, s, d, det) for i, s, d, det in _steps(ws)] == [
        ("7003", Action.REMINDER, DAY, pdf),
        ("7004", Action.REMINDER, DAY, pdf),
    ]
    assert [i.status for i in ws.store.read(sends.intents, "acme")] == [sends.SENT, sends.SENT]
    assert [(r.status, r.invoices) for r in ws.letter_records()] == [(book.SENT, ("7003", "7004"))]


# A crash at each point of a grouped letter's send: after the letter is written ahead, after the first
# invoice's intent, after the EHF documents but before the PDF, after the PDF but before the record.
CRASH_POINTS = ["letter_begun", "first_intent", "before_pdf", "after_pdf"]


def _crash_at(m: pytest.MonkeyPatch, point: str) -> None:
    def die(*_a: Any, **_k: Any) -> None:
        raise Killed

    if point == "letter_begun":
        real_begin = book.begin

        def begin_then_die(conn: Any, *a: Any, **k: Any) -> None:
            real_begin(conn, *a, **k)
            conn.commit()  # written ahead and committed, as the send commits it: then the process dies
            raise Killed

        m.setattr(book, "begin", begin_then_die)
    elif point == "first_intent":
        real = sends.begin

        def first_then_die(conn: Any, *a: Any, **k: Any) -> Any:
            real(conn, *a, **k)
            conn.commit()
            raise Killed

        m.setattr(sends, "begin", first_then_die)
    elif point == "before_pdf":
        real_write = outbox_channel.write_atomic

        def write(path: Any, data: bytes) -> None:
            if str(path).endswith(".pdf"):
                raise Killed
            real_write(path, data)

        m.setattr(outbox_channel, "write_atomic", write)
    else:
        m.setattr(book, "complete", die)


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("resumed", ["same day", "next day"])
def test_a_grouped_letter_is_sent_once_wherever_the_run_dies(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, point: str, resumed: str
) -> None:
    ws.write_config(client_table())
    for number, amount in (("7101", "5000.00"), ("7102", "700.00"), ("7103", "1200.00")):
        ws.add_invoice(number, issue=date(2025, 12, 22), due=DUE, amount=amount)  # one customer
    ws.add_invoice("7201", issue=date(2025, 12, 22), due=DUE, amount="900.00", customer="Annen AS", org="974760673")
    with monkeypatch.context() as m:
        _crash_at(m, point)
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    later = DAY if resumed == "same day" else date(2026, 1, 20)
    for day in (later, later, date(2026, 1, 21)):  # cron runs twice, then the next night
        assert _run(ws, day).exit_code == 0
    steps = [(i, s) for i, s, _, _ in _steps(ws)]
    # every invoice reminded exactly once, in exactly one letter that counts
    assert sorted(steps) == [(n, Action.REMINDER) for n in ("7101", "7102", "7103", "7201")]
    counted = [r for r in ws.letter_records() if r.status in (book.SENT, book.UNCONFIRMED)]
    assert sorted(r.invoices for r in counted) == [("7101", "7102", "7103"), ("7201",)]
    pdfs = [f for f in ws.outbox_files(ws.reminders_dir()) if f.endswith(".pdf")]
    xmls = [f for f in ws.outbox_files(ws.reminders_dir()) if f.endswith(".xml")]
    if point == "before_pdf" and resumed == "next day":
        # an older letter with some files written may have gone out: recorded unconfirmed, never sent again
        assert [r.status for r in counted if len(r.invoices) == 3] == [book.UNCONFIRMED]
        assert len(pdfs) == 1 and len(xmls) == 4
    else:
        assert len(pdfs) == 2 and len(xmls) == 4  # one PDF per letter, one EHF document per invoice; no leftovers
        assert {f"{r.stem}.pdf" for r in counted} == set(pdfs)
    assert not [i for i in ws.store.read(sends.intents, "acme") if i.status == sends.PENDING]


# ---- channel failures -----------------------------------------------------------------------------------


def test_smtp_down_records_nothing_fails_the_client_and_retries(ws: Workspace, smtp: Smtp) -> None:
    beta = client_table("beta")
    ws.write_config(_email_client(smtp.port), beta)
    _add_invoice(ws, "7010")
    # no e-mail address for the e-mail channel: held by step 1 of the playbook, never tried (issue 14)
    _add_invoice(ws, "7011", email=None, customer="Annen Kunde AS", org="974760673")
    ws.add_invoice("9001", client_id="beta", issue=date(2025, 12, 22), due=DUE, amount="5000.00")

    down = _run(ws)  # nothing listens on the port
    assert down.exit_code == 1
    assert "7010" in down.stderr and "error: client acme" in down.stderr and "7011" not in down.stderr
    assert _steps(ws) == []
    assert {i.invoice_number: i.status for i in ws.store.read(sends.intents, "acme")} == {"7010": sends.FAILED}
    assert [s[0] for s in _steps(ws, "beta")] == ["9001"]  # the other client went on
    held = ws.items(DAY, "--no-sync")["7011"]
    assert held["action"] == "review" and held["holds"] == ["invoice_defect"]
    assert any("no e-mail address" in e["detail"] for e in held["evidence"])

    smtp.start()
    up = _run(ws)  # the same day: a failed send is tried again
    assert up.exit_code == 0
    assert smtp.invoices() == ["7010"]
    assert [s[0] for s in _steps(ws)] == ["7010"]
    intents = {i.invoice_number: i for i in ws.store.read(sends.intents, "acme")}
    assert intents["7010"].status == sends.SENT and intents["7010"].attempts == 2

    assert _run(ws).exit_code == 0
    assert smtp.invoices() == ["7010"]  # sent once


TT = "https://tt.example/v2"


def _tripletex_client() -> dict[str, Any]:
    table = client_table()
    table["policy"] = {
        **table["policy"],
        "steps": [
            {"action": "reminder", "days": 14, "fee": True, "channel": "tripletex"},
            {"action": "collection_notice", "days": 14, "channel": "tripletex"},
            {"action": "collection_case", "days": 14},
        ],
    }
    table["reminders"] = {**table["reminders"], "tripletex": {"base_url": TT, "session_token_env": "TT_TOKEN"}}
    return table


def _tt_invoice(ws: Workspace, number: str) -> None:
    ws.add_invoice(number, issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    responses.get(
        f"{TT}/invoice",
        json={"values": [{"id": int(number) * 10, "invoiceNumber": int(number)}]},
        match=[responses.matchers.query_param_matcher({"invoiceNumber": number}, strict_match=False)],
    )


@responses.activate
def test_tripletex_500_records_nothing_and_other_invoices_go_on(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TT_TOKEN", "tt-secret-token")
    ws.write_config(_tripletex_client())
    _tt_invoice(ws, "7020")
    _tt_invoice(ws, "7021")
    bad = responses.put(f"{TT}/invoice/70200/:createReminder", status=500)
    good = responses.put(f"{TT}/invoice/70210/:createReminder", json={"value": 5})
    result = _run(ws)
    assert result.exit_code == 1 and "7020" in result.stderr and "HTTP 500" in result.stderr
    assert "tt-secret-token" not in result.output + result.stderr
    assert [s[0] for s in _steps(ws)] == ["7021"] and good.call_count == 1 and bad.call_count == 1

    responses.replace(responses.PUT, f"{TT}/invoice/70200/:createReminder", json={"value": 6})
    retry = _run(ws)
    assert retry.exit_code == 0, retry.output
    assert sorted(s[0] for s in _steps(ws)) == ["7020", "7021"] and good.call_count == 1


@responses.activate
@pytest.mark.parametrize("exists", [True, False])
def test_tripletex_crash_is_resolved_by_asking_for_the_reminder(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    monkeypatch.setenv("TT_TOKEN", "tt-secret-token")
    ws.write_config(_tripletex_client())
    _tt_invoice(ws, "7030")
    put = responses.put(f"{TT}/invoice/70300/:createReminder", json={"value": 77})
    with monkeypatch.context() as m:
        m.setattr(sends, "complete", lambda *a, **k: (_ for _ in ()).throw(Killed()))
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    assert put.call_count == 1
    listed = [{"id": 77, "reminderDate": DAY.isoformat(), "type": "REMINDER"}] if exists else []
    lookup = responses.get(
        f"{TT}/reminder",
        json={"values": listed},
        match=[responses.matchers.query_param_matcher({"invoiceId": "70300"}, strict_match=False)],
    )
    result = _run(ws)
    assert result.exit_code == 0, result.output
    assert lookup.call_count == 1
    steps = _steps(ws)
    assert [(i, s, d) for i, s, d, _ in steps] == [("7030", Action.REMINDER, DAY)]
    if exists:  # it was created: recorded, never created again
        assert put.call_count == 1 and steps[0][3] == "tripletex reminder 77"
    else:  # Tripletex has none: it never happened, so today's reminder is sent (once)
        assert put.call_count == 2


@responses.activate
def test_tripletex_unreachable_keeps_the_intent_pending_and_sends_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TT_TOKEN", "tt-secret-token")
    ws.write_config(_tripletex_client())
    _tt_invoice(ws, "7040")
    put = responses.put(f"{TT}/invoice/70400/:createReminder", json={"value": 1})
    with monkeypatch.context() as m:
        m.setattr(sends, "complete", lambda *a, **k: (_ for _ in ()).throw(Killed()))
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    responses.get(f"{TT}/reminder", status=503)
    result = _run(ws, date(2026, 1, 20))
    assert "unresolved" in result.stderr
    assert put.call_count == 1 and _steps(ws) == []
    assert [i.status for i in ws.store.read(sends.intents, "acme")] == [sends.PENDING]
