"""Credit checks of a client's customers (table ``credit_checks``): one row per customer and day.

:func:`save_check` replaces a check of the same customer and day (a re-run of the night, or a manual
check after the nightly one); :func:`latest_checks` reads the newest check of every customer of a
client — what the nightly stage compares against and what other views show (``credit_line``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from connector.credit.checks import CreditCheck, assessment_from_json
from connector.store import schema


def save_check(conn: Connection, check: CreditCheck, *, at: datetime) -> None:
    t = schema.credit_checks
    key = and_(
        t.c.client_id == check.client_id, t.c.customer_id == check.customer_id, t.c.checked_on == check.checked_on
    )
    conn.execute(t.delete().where(key))
    conn.execute(
        t.insert().values(
            client_id=check.client_id,
            customer_id=check.customer_id,
            checked_on=check.checked_on,
            org_no=check.assessment.org_no,
            level=str(check.level),
            assessment=json.dumps(check.assessment.as_json(), ensure_ascii=False, sort_keys=True),
            trigger=check.trigger,
            invoices_through=check.invoices_through,
            seen_last_day=json.dumps(list(check.seen_last_day)),
            checked_at=at,
        )
    )


def latest_checks(conn: Connection, client_id: str) -> dict[str, CreditCheck]:
    """Customer id → the newest check of that customer (customers never checked are absent)."""
    t = schema.credit_checks
    newest = (
        select(t.c.customer_id, func.max(t.c.checked_on).label("day"))
        .where(t.c.client_id == client_id)
        .group_by(t.c.customer_id)
        .subquery()
    )
    query = (
        select(t)
        .join(newest, and_(t.c.customer_id == newest.c.customer_id, t.c.checked_on == newest.c.day))
        .where(t.c.client_id == client_id)
    )
    return {r.customer_id: _from_row(r) for r in conn.execute(query)}


def _from_row(r: Any) -> CreditCheck:
    return CreditCheck(
        client_id=r.client_id,
        customer_id=r.customer_id,
        assessment=assessment_from_json(json.loads(r.assessment)),
        trigger=r.trigger,
        invoices_through=r.invoices_through,
        seen_last_day=tuple(json.loads(r.seen_last_day or "[]")),
    )
