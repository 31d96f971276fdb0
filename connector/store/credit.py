"""The dated cache of register answers for credit checks (table ``credit_facts``): the last definite
answer (found / not found) per register and org no, and when a later lookup failed. Answers are shared by
every client: they are public facts about a company. The lookup through this cache is
``connector.registry.credit_lookup.cached_lookup``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update

from connector.credit.facts import (
    FACT_TYPES,
    AnswerStatus,
    RegisterAnswer,
    facts_from_json,
    facts_to_json,
)
from connector.store import schema
from connector.store.upsert import upsert


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
    upsert(conn, schema.credit_facts, [row])


def note_failure(conn: Connection, register: str, org_no: str, on: date, why: str) -> None:
    t = schema.credit_facts
    where = and_(t.c.register == register, t.c.org_no == org_key(org_no))
    conn.execute(update(t).where(where).values(failed_on=on, failure=why[:2000]))
