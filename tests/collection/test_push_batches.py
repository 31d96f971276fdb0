"""The push in batches (``connector.actions.collection``): one transaction claims a batch's intents, the requests
go out, one transaction records every outcome. What happens to the others when one case is refused, when the
operator asks to stop mid-batch, and when one request fails unexpectedly; batches smaller than the cases."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from collection_env import CASE, DEBITURA_KEY, KRAVIA_TOKEN, nightly, setup_client, statuses

from connector import interrupt
from connector.actions import collection
from connector.store import cases as case_store
from tests.builders import Workspace
from tests.fakes import FakeDebitura, FakeKravia
from tests.fakes.server import Request

NUMBERS = ("1001", "1002", "1003", "1004", "1005")
REGISTER = "/api/v2/invoice/register"  # Kravia's create


def _approve_all(ws: Workspace) -> None:
    assert nightly(ws, CASE).exit_code == 0  # proposes the cases
    approved = ws.cli("cases", "approve", *(f"acme-{n}" for n in NUMBERS), "--as-of", CASE.isoformat())
    assert approved.exit_code == 0, approved.output


def _submits(ws: Workspace) -> dict[str, str]:
    return {op.case_id: op.state for op in ws.store.read(case_store.ops, "acme") if op.kind == "submit"}


def _on_request(n: int, method: str, path: str, action: Any) -> Any:
    """A fake's hook calling ``action`` as its n-th ``method path`` arrives (before it is processed)."""
    seen = 0

    def hook(req: Request, when: str) -> None:
        nonlocal seen
        if when == "before" and req.method == method and req.path.endswith(path):
            seen += 1
            if seen == n:
                action()

    return hook


def test_a_refusal_in_a_batch_sends_that_case_back_and_pushes_the_others(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url, invoices=NUMBERS)
        _approve_all(ws)
        refusal = ("MissingDebtCollectionContract", "Sign the agreement first", None)
        fake.hook = _on_request(3, "POST", "/cases", lambda: fake.next_business_errors.append(refusal))
        result = nightly(ws, CASE)  # one batch of five, pushed in case-id order: the third is refused
        assert result.exit_code == 0, result.output
        assert "case acme-1003: debitura refused the case, back to review" in result.output
        assert sorted(fake.by_creditor_reference()) == ["1001", "1002", "1004", "1005"]
        assert statuses(ws) == {
            "1001": "pushed",
            "1002": "pushed",
            "1003": "proposed",
            "1004": "pushed",
            "1005": "pushed",
        }
        submits = _submits(ws)
        assert submits.pop("acme-1003") == case_store.FAILED
        assert set(submits.values()) == {case_store.DONE}
        [case] = [c for c in ws.store.read(case_store.load_cases, ["acme"]) if c.invoice_number == "1003"]
        assert "debitura refused: MissingDebtCollectionContract: Sign the agreement first" in case.note


def test_a_stop_mid_batch_sends_nothing_more_and_releases_the_unsent_intents(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:  # no idempotency key: a resend would make a second case
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=NUMBERS)
        _approve_all(ws)
        fake.hook = _on_request(2, "POST", REGISTER, lambda: interrupt.request(signal.SIGTERM))
        before = len(fake.requests)
        try:
            result = nightly(ws, CASE)
        finally:
            fake.hook = None
            interrupt.reset()
        assert result.exit_code == 143, result.output
        # the push in hand when the stop came finished and is recorded; no further request of any kind
        assert [r.path for r in fake.requests[before:]] == [REGISTER] * 2
        assert sorted(fake.by_accounting_id()) == ["acme-1001", "acme-1002"]
        assert statuses(ws) == {"1001": "pushed", "1002": "pushed", "1003": "approved", "1004": "approved",
                                "1005": "approved"}  # fmt: skip
        submits = _submits(ws)
        assert [submits[f"acme-{n}"] for n in NUMBERS] == ["done", "done", "cancelled", "cancelled", "cancelled"]
        ops = {op.case_id: op for op in ws.store.read(case_store.ops, "acme")}
        assert ops["acme-1003"].last_error == "not sent: the run was stopped first"

        # The next run pushes the rest (new intents for the released ones), each once.
        assert nightly(ws, CASE).exit_code == 0
        made = fake.by_accounting_id()
        assert {case: len(v) for case, v in made.items()} == {f"acme-{n}": 1 for n in NUMBERS}
        assert set(statuses(ws).values()) == {"pushed"}
        assert set(_submits(ws).values()) == {case_store.DONE}


def test_an_unexpected_error_in_one_request_keeps_the_outcomes_of_the_others(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=NUMBERS)
        _approve_all(ws)
        send = collection._send

        def send_or_break(provider: Any, ready: Any, op: Any) -> Any:
            if ready.case.case_id == "acme-1003":
                raise RuntimeError("a bug while sending acme-1003")
            return send(provider, ready, op)

        with monkeypatch.context() as m:
            m.setattr(collection, "_send", send_or_break)
            result = nightly(ws, CASE)
        assert result.exit_code == 1
        assert "a bug while sending acme-1003" in result.output
        assert "acme-1001 pushed" in result.output and "acme-1002 pushed" in result.output  # recorded, so told
        assert sorted(fake.by_accounting_id()) == ["acme-1001", "acme-1002"]  # nothing sent after the error
        submits = _submits(ws)
        assert [submits[f"acme-{n}"] for n in NUMBERS] == ["done", "done", "pending", "cancelled", "cancelled"]

        # The next run asks the provider about the one whose outcome is unknown, then pushes it and the rest.
        assert nightly(ws, CASE).exit_code == 0
        made = fake.by_accounting_id()
        assert {case: len(v) for case, v in made.items()} == {f"acme-{n}": 1 for n in NUMBERS}
        assert set(_submits(ws).values()) == {case_store.DONE}


def test_cases_beyond_one_batch_are_pushed_in_several_batches_once_each(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collection, "BATCH_PUSHES", 2)
    claims: list[list[str]] = []
    claim = collection._claim

    def counted(store: Any, client: Any, provider: Any, batch: Any) -> Any:
        claims.append([r.case.case_id for r in batch])
        return claim(store, client, provider, batch)

    monkeypatch.setattr(collection, "_claim", counted)
    with FakeDebitura(api_key=DEBITURA_KEY, latency=0.005) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url, invoices=NUMBERS, collection={"concurrency": 3})
        _approve_all(ws)
        assert nightly(ws, CASE).exit_code == 0
    assert claims == [["acme-1001", "acme-1002"], ["acme-1003", "acme-1004"], ["acme-1005"]]
    assert {ref: len(v) for ref, v in fake.by_creditor_reference().items()} == {n: 1 for n in NUMBERS}
    assert set(statuses(ws).values()) == {"pushed"}


def test_a_second_ctrl_c_in_a_request_records_what_was_sent_before_it_and_releases_the_rest(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyboardInterrupt (the second Ctrl-C) while a request is out, one push at a time: the pushes before
    it are recorded as pushed, its own stays pending (the next run asks the provider), the rest released."""
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=NUMBERS, collection={"concurrency": 1})
        _approve_all(ws)
        send = collection._send

        def interrupted(provider: Any, ready: Any, op: Any) -> Any:
            if ready.case.case_id == "acme-1003":
                send(provider, ready, op)  # it reached the provider; the answer never came back
                raise KeyboardInterrupt
            return send(provider, ready, op)

        with monkeypatch.context() as m:
            m.setattr(collection, "_send", interrupted)
            result = nightly(ws, CASE)
        assert result.exit_code == 130
        submits = _submits(ws)
        assert [submits[f"acme-{n}"] for n in NUMBERS] == ["done", "done", "pending", "cancelled", "cancelled"]
        assert sorted(fake.by_accounting_id()) == ["acme-1001", "acme-1002", "acme-1003"]

        assert nightly(ws, CASE).exit_code == 0  # 1003 found at the provider, 1004 and 1005 pushed: once each
        made = fake.by_accounting_id()
        assert {case: len(v) for case, v in made.items()} == {f"acme-{n}": 1 for n in NUMBERS}
        assert set(_submits(ws).values()) == {case_store.DONE}


def test_interrupted_while_requests_are_out_on_threads_every_case_at_the_provider_is_recorded(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrency 3: a KeyboardInterrupt while this run waits for the requests. The ones out finish and are
    recorded, none not yet started goes out; whatever was sent is recorded as pushed, nothing else is."""
    real_wait = collection.wait
    calls = 0

    def interrupted_wait(futures: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first wait is for the re-checks; the second for the batch's requests
            real_wait(futures, return_when="FIRST_COMPLETED")  # some requests answered, others out or queued
            raise KeyboardInterrupt
        return real_wait(futures, *args, **kwargs)

    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        numbers = tuple(str(1001 + i) for i in range(12))
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=numbers, collection={"concurrency": 3})
        assert nightly(ws, CASE).exit_code == 0
        assert ws.cli("cases", "approve", *(f"acme-{n}" for n in numbers), "--as-of", CASE.isoformat()).exit_code == 0
        with monkeypatch.context() as m:
            m.setattr(collection, "wait", interrupted_wait)
            assert nightly(ws, CASE).exit_code == 130
        at_provider = set(fake.by_accounting_id())
        submits = _submits(ws)
        assert at_provider and len(at_provider) < len(numbers)  # interrupted mid-batch
        assert {case for case, state in submits.items() if state == case_store.DONE} == at_provider
        assert set(submits.values()) <= {case_store.DONE, case_store.CANCELLED}

        assert nightly(ws, CASE).exit_code == 0
        made = fake.by_accounting_id()
        assert {case: len(v) for case, v in made.items()} == {f"acme-{n}": 1 for n in numbers}
