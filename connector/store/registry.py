"""The business-register cache (Brønnøysund and its kind): answers shared by every client, keyed by register
and org no, with the time they were fetched."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from connector.model import RegistryFact
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, aware, checked_rows
from connector.store.upsert import upsert


def save_registry(conn: Connection, facts: Iterable[RegistryFact]) -> None:
    upsert(
        conn,
        schema.registry_cache,
        [
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
        ],
    )


REGISTRY = RowSpec.of(schema.registry_cache, ["register", "org_no"], invoice=None)


def load_registry(
    conn: Connection, register: str | None = None, skipped: Skipped | None = None
) -> dict[str, RegistryFact]:
    """Cached register answers by org no (an answer that cannot be read is as none: asked again)."""
    t = schema.registry_cache
    q = select(t)
    if register is not None:
        q = q.where(t.c.register == register)
    out = {}
    for r in checked_rows(conn, q, REGISTRY, skipped):
        out[r.org_no] = RegistryFact(
            register=r.register,
            org_no=r.org_no,
            fetched_at=aware(r.fetched_at),
            ok=bool(r.ok),
            insolvent=bool(r.insolvent),
            status=r.status or "",
            detail=r.detail or "",
            name=r.name,
        )
    return out
