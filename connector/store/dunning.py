"""Store functions for dunning facts: exclusions (manual) and the business-register cache."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.model import Exclusion, RegistryFact
from connector.store import schema


def add_exclusion(conn: Connection, exclusion: Exclusion) -> None:
    conn.execute(
        schema.exclusions.insert().values(
            client_id=exclusion.client_id,
            exclusion_id=exclusion.exclusion_id,
            invoice_number=exclusion.invoice_number,
            customer_id=exclusion.customer_id,
            created_on=exclusion.created_on,
            until=exclusion.until,
            reason=exclusion.reason,
        )
    )


def end_exclusion(conn: Connection, client_id: str, exclusion_id: str, until: object) -> bool:
    t = schema.exclusions
    res = conn.execute(
        update(t).where(and_(t.c.client_id == client_id, t.c.exclusion_id == exclusion_id)).values(until=until)
    )
    return bool(res.rowcount)


def load_exclusions(conn: Connection, client_id: str) -> Iterator[Exclusion]:
    t = schema.exclusions
    for r in conn.execute(select(t).where(t.c.client_id == client_id).order_by(t.c.created_on, t.c.exclusion_id)):
        yield Exclusion(
            client_id=r.client_id,
            exclusion_id=r.exclusion_id,
            invoice_number=r.invoice_number,
            customer_id=r.customer_id,
            created_on=r.created_on,
            until=r.until,
            reason=r.reason,
        )


def save_registry(conn: Connection, facts: Iterable[RegistryFact]) -> None:
    rows = [
        {
            "register": f.register,
            "org_no": f.org_no,
            "fetched_at": f.fetched_at,
            "ok": f.ok,
            "insolvent": f.insolvent,
            "status": f.status,
            "detail": f.detail,
            "name": f.name,
        }
        for f in facts
    ]
    if not rows:
        return
    t = schema.registry_cache
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t)
    keys = ["register", "org_no"]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c.name: stmt.excluded[c.name] for c in t.columns if c.name not in keys}
    )
    conn.execute(stmt, rows)


def load_registry(conn: Connection, register: str | None = None) -> dict[str, RegistryFact]:
    """Cached register answers by org no."""
    t = schema.registry_cache
    q = select(t)
    if register is not None:
        q = q.where(t.c.register == register)
    out = {}
    for r in conn.execute(q):
        fetched = r.fetched_at if r.fetched_at.tzinfo else r.fetched_at.replace(tzinfo=UTC)
        out[r.org_no] = RegistryFact(
            register=r.register,
            org_no=r.org_no,
            fetched_at=fetched,
            ok=bool(r.ok),
            insolvent=bool(r.insolvent),
            status=r.status or "",
            detail=r.detail or "",
            name=r.name,
        )
    return out
