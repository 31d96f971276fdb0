"""One run per client, and every intent claimed by exactly one run (issue 13, item 1).

Two ``Store`` objects with different run identities stand for two processes on one store: same host
and pid (so both "run"), different tokens. Real processes are in tests/collection/test_two_runs.py.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.actions.resolve import resolve_pending
from connector.errors import ClientLocked
from connector.model import Action
from connector.store import RunId, Store, schema, sends
from connector.store import cases as case_store
from connector.store.locks import advisory_key
from tests.builders import Workspace, client_table

AS_OF = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _other_run(token: str = "other") -> RunId:
    """Another live run: this very process under another token (alive, but not this store's)."""
    me = RunId.current()
    return RunId(me.host, me.pid, me.started, token)


def _dead_run() -> RunId:
    """A run of a process on this host that has ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    me = RunId.current()
    return RunId(me.host, int(proc.stdout), "1", "gone")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arsync.db'}"


def test_a_second_run_is_refused_with_who_holds_the_client_and_since_when(url: str) -> None:
    first, second = Store(url, clock=lambda: AT), Store(url, run=_other_run())
    with first.lock("acme", "run") as note:
        assert note is None
        with pytest.raises(ClientLocked) as refused:
            second.lock("acme", "cases push").__enter__()
        message = str(refused.value)
        assert message.startswith("another arsync run holds client acme since 2026-03-02 06:00:00 UTC")
        assert f"run, pid {first.run.pid} on {first.run.host}" in message
        with second.lock("other-client", "run"):  # the lock is per client
            pass
    with second.lock("acme", "cases push"):  # released by the first run: the second gets it now
        assert "acme" in second.held
    assert second.read(lambda conn: conn.execute(select(schema.client_locks)).all()) == []


def test_a_stale_lock_of_a_dead_process_on_this_host_is_taken_over(url: str) -> None:
    store = Store(url)
    dead = _dead_run()
    with store.transaction() as conn:
        row = {"client_id": "acme", "owner": dead.key, "pid": dead.pid, "host": dead.host, "command": "run"}
        conn.execute(schema.client_locks.insert().values(**row, since=AT))
    with store.lock("acme", "run") as note:
        assert note is not None and f"pid {dead.pid}" in note and "no longer running" in note
        [held] = store.read(lambda conn: conn.execute(select(schema.client_locks)).all())
        assert held.owner == store.run.key


def test_a_lock_of_another_host_or_a_live_process_is_never_taken_over(url: str) -> None:
    store = Store(url)
    for holder in (RunId("elsewhere.example", 4242, "1", "x"), _other_run()):
        with store.transaction() as conn:
            conn.execute(schema.client_locks.delete())
            row = {"client_id": "acme", "owner": holder.key, "pid": holder.pid, "host": holder.host}
            conn.execute(schema.client_locks.insert().values(**row, command="run", since=AT))
        with pytest.raises(ClientLocked, match=f"pid {holder.pid} on {holder.host}"):
            store.lock("acme", "run").__enter__()


def test_run_identity_tells_a_live_process_from_an_ended_one() -> None:
    me = RunId.current()
    assert RunId.parse(me.key) == me
    assert me.alive() is True
    assert _dead_run().alive() is False
    assert RunId("elsewhere.example", 1, "", "x").alive() is None  # another host: cannot tell
    assert advisory_key("acme") == advisory_key("acme") != advisory_key("acme2")


# ---- the push intent: a compare-and-set -------------------------------------------------------------


def _intent(store: Store, replaces: str | None = None) -> case_store.Op | None:
    return store.write(
        case_store.record_intent,
        client_id="acme",
        op_key="acme-1001|submit",
        case_id="acme-1001",
        kind="submit",
        provider="kravia",
        owner=store.run.key,
        replaces=replaces,
        at=AT,
    )


def test_only_one_of_two_runs_claims_a_push_intent(url: str) -> None:
    a, b = Store(url, run=_other_run("a")), Store(url, run=_other_run("b"))
    op = _intent(a)
    assert op is not None and op.pending and op.claimed_by == a.run.key
    assert _intent(b) is None  # pending, claimed by a live run: never b's to send
    assert not b.may_resolve("acme", op.claimed_by)
    again = _intent(a)  # the owner itself may come back to it (same key, nothing new)
    assert again is not None and again.idem_key == op.idem_key
    with a.transaction() as conn:
        case_store.settle_op(conn, "acme", "acme-1001|submit", case_store.FAILED, at=AT, error="refused")
    retry = _intent(b)  # failed: a new generation, claimed by whoever comes first
    assert retry is not None and retry.claimed_by == b.run.key and retry.idem_key != op.idem_key
    assert _intent(a) is None


def test_a_pending_intent_of_a_stopped_run_is_taken_over_once(url: str) -> None:
    dead = Store(url, run=_dead_run())
    left = _intent(dead)
    assert left is not None
    a, b = Store(url, run=_other_run("a")), Store(url, run=_other_run("b"))
    assert a.may_resolve("acme", left.claimed_by) and b.may_resolve("acme", left.claimed_by)
    taken = _intent(a, replaces=left.claimed_by)
    assert taken is not None and taken.claimed_by == a.run.key and taken.idem_key == left.idem_key
    assert _intent(b, replaces=left.claimed_by) is None  # the claim b judged stale is no longer on it


# ---- reminder sends: the same ----------------------------------------------------------------------


def _send(store: Store) -> sends.SendIntent | None:
    intent = sends.SendIntent("acme", "1001", Action.REMINDER, AS_OF, "email", sends.PENDING, Decimal("0"), "NOK")
    return store.write(sends.begin, intent, owner=store.run.key, at=AT)


def test_only_one_of_two_runs_begins_a_send_and_the_other_gets_no_error(url: str) -> None:
    a, b = Store(url, run=_other_run("a")), Store(url, run=_other_run("b"))
    mine = _send(a)
    assert mine is not None and mine.claimed_by == a.run.key
    assert _send(b) is None  # pending: no IntegrityError, no ValueError, just "not yours"
    with a.transaction() as conn:
        sends.settle(conn, mine, sends.FAILED, at=AT, error="smtp down")
    retried = _send(b)
    assert retried is not None and retried.attempts == 2
    assert _send(a) is None
    b.write(sends.complete, retried, sends.SENT, ref="<id@x>", detail="<id@x>", at=AT)
    assert _send(a) is None and _send(b) is None  # sent: never again


def test_a_send_in_flight_in_another_live_run_raises_no_unconfirmed_alarm(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    client = ws.client()
    other = Store(ws.settings().store.url, run=_other_run("night-run"))
    assert _send(other) is not None  # the other run is sending right now
    result = resolve_pending(ws.store, client, AS_OF)
    assert result.warnings == [] and result.recorded == 0
    [still] = ws.store.read(sends.intents, "acme")
    assert still.status == sends.PENDING and still.claimed_by == other.run.key
    # once that run has stopped, its leftover is resolved as before ("may have been sent")
    with ws.store.transaction() as conn:
        conn.execute(schema.dunning_sends.update().values(claimed_by=_dead_run().key))
    result = resolve_pending(ws.store, client, AS_OF)
    assert result.recorded == 1 and "sent-unconfirmed" in result.warnings[0]
    other.close()
