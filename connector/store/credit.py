"""The dated cache of register answers for credit checks (table ``credit_facts``).

:func:`cached_lookup` is the one way to ask a register for a credit check:
- an answer given on ``today`` or later is used as it is: the register is not asked again that day
  (a backfill with an older ``--as-of`` also counts a later answer as fresh);
- otherwise the register is asked; a definite answer (found / not found) replaces the stored one;
- when the lookup fails, the previous answer is kept and returned with ``stale_reason`` saying so,
  and the failure is noted on its row; with no previous answer the failure itself is returned.
Answers are shared by every client: they are public facts about a company.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.credit.facts import (
    FACT_TYPES,
    REGISTER_NAMES,
    AnswerStatus,
    RegisterAnswer,
    facts_from_json,
    facts_to_json,
)
from connector.store import schema
from connector.store.repository import Store


def org_key(org_no: str) -> str:
    """ "NO 923 456 791 MVA" and "923456791" are one company."""
    digits = "".join(ch for ch in org_no if ch.isdigit())
    return digits or org_no.strip()


def load_answer(conn: Connection, register: str, org_no: str) -> RegisterAnswer[Any] | None:
    t = schema.credit_facts
    row = conn.execute(select(t).where(and_(t.c.register == register, t.c.org_no == org_key(org_no)))).first()
    if row is None:
        return None
    facts = None
    if row.facts is not None and register in FACT_TYPES:
        facts = facts_from_json(FACT_TYPES[register], json.loads(row.facts))
    return RegisterAnswer(register, row.org_no, AnswerStatus(row.status), row.answered_on, facts, row.detail or "")


def save_answer(conn: Connection, answer: RegisterAnswer[Any], fetched_at: datetime) -> None:
    """Store a definite answer (found / not found), replacing the previous one and its failure note."""
    if not answer.answered or answer.fetched_on is None:
        raise ValueError(f"only a dated definite answer is stored, not {answer.status} ({answer.register})")
    row = {
        "register": answer.register,
        "org_no": org_key(answer.org_no),
        "status": str(answer.status),
        "facts": json.dumps(facts_to_json(answer.facts), sort_keys=True) if answer.facts is not None else None,
        "detail": answer.detail,
        "answered_on": answer.fetched_on,
        "fetched_at": fetched_at,
        "failed_on": None,
        "failure": None,
    }
    t = schema.credit_facts
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(row)
    keys = ["register", "org_no"]
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_={k: v for k, v in row.items() if k not in keys}))


def note_failure(conn: Connection, register: str, org_no: str, on: date, why: str) -> None:
    t = schema.credit_facts
    where = and_(t.c.register == register, t.c.org_no == org_key(org_no))
    conn.execute(update(t).where(where).values(failed_on=on, failure=why[:2000]))


def cached_lookup(
    store: Store,
    register: str,
    org_no: str,
    today: date,
    fetch: Callable[[], RegisterAnswer[Any]],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RegisterAnswer[Any]:
    with store.engine.connect() as conn:
        previous = load_answer(conn, register, org_no)
    if previous is not None and previous.fetched_on is not None and previous.fetched_on >= today:
        return previous
    fresh = fetch()
    if fresh.answered:
        with store.transaction() as conn:
            save_answer(conn, fresh, now())
        return fresh
    if fresh.status is not AnswerStatus.UNAVAILABLE or previous is None:
        return fresh  # not covered, or nothing known from before: the failure is the answer
    failed_on = fresh.fetched_on or today
    with store.transaction() as conn:
        note_failure(conn, register, org_no, failed_on, fresh.detail)
    name = REGISTER_NAMES.get(register, register)
    why = f" ({fresh.detail})" if fresh.detail else ""
    answered = previous.fetched_on.isoformat() if previous.fetched_on else "an earlier day"
    return previous.as_stale(
        f"{name} could not be reached on {failed_on.isoformat()}{why}; its answer of {answered} is used."
    )
