"""Files that do not read, and the accountant's decisions about them (``arsync files``).

Every sync that reached a folder replaces that source's list of unreadable files (``replace_unreadable``): a
file that now reads, was removed, or sits in a folder no longer read drops out, and holds nothing. The
accountant's quarantines and releases are appended (who, when, why) and never changed; the last one for a
file's content (path + hash) counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from connector.model import FileRole, Salvaged, UnreadableFile
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped

QUARANTINE = "quarantine"
RELEASE = "release"


@dataclass(frozen=True)
class FileDecision:
    client_id: str
    path: str
    file_hash: str
    action: str  # quarantine / release
    reason: str
    actor: str
    on: date
    recorded_at: datetime


def replace_unreadable(
    conn: Connection, client_id: str, source: str, files: Sequence[UnreadableFile], *, at: datetime
) -> None:
    """The files ``source`` could not read in this sync, instead of those of the last one. A file whose
    content is unchanged keeps the day it was first found unreadable."""
    t = schema.unreadable_files
    where = and_(t.c.client_id == client_id, t.c.source == source)
    before = {
        r.name: (r.file_hash, r.first_seen)
        for r in conn.execute(select(t.c.name, t.c.file_hash, t.c.first_seen).where(where))
    }
    conn.execute(delete(t).where(where))
    rows = []
    for f in {f.name: f for f in files}.values():  # a name once per folder
        hash_before, first_seen = before.get(f.name, (None, None))
        rows.append(
            {
                "client_id": client_id,
                "source": source,
                "name": f.name,
                "role": str(f.role),
                "path": f.path,
                "file_hash": f.file_hash,
                "error": f.error,
                "first_seen": first_seen if hash_before == f.file_hash and first_seen else f.first_seen,
                "salvaged": json.dumps(asdict(f.salvaged), ensure_ascii=False) if f.salvaged else None,
                "seen_at": at,
            }
        )
    if rows:
        conn.execute(t.insert(), rows)


# A row of either table that cannot be read holds the whole client (``connector.store.rows``): which file
# it concerns, or whether it lifted a quarantine, is unknown.
UNREADABLE_FILES = RowSpec.of(
    schema.unreadable_files,
    ["source", "name"],
    checks={"role": FileRole, "salvaged": lambda v: _salvaged(v)},
    invoice=None,
)
FILE_DECISIONS = RowSpec.of(schema.file_decisions, ["id", "path"], invoice=None)


def load_unreadable(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[UnreadableFile]:
    """The client's unreadable files, each with the accountant's quarantine when one is in force (``skipped``:
    where rows that cannot be read go, ``connector.store.rows``)."""
    t = schema.unreadable_files
    decided = _last_decisions(conn, client_id, skipped)
    quarantined = {(d.path, d.file_hash): d for d in decided if d.action == QUARANTINE}
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.source, t.c.name)
    for r in checked_rows(conn, q, UNREADABLE_FILES, skipped):
        try:
            f = _unreadable(r, quarantined.get((r.path, r.file_hash)))
        except Exception as exc:
            (Skipped() if skipped is None else skipped).add(UNREADABLE_FILES, tuple(r), exc)
            continue
        yield f


def unreadable_files(conn: Connection, client_id: str) -> list[UnreadableFile]:
    """``load_unreadable`` read whole (a few rows), for ``store.read``: what a client's status reads."""
    return list(load_unreadable(conn, client_id))


def _unreadable(r: Any, q: FileDecision | None) -> UnreadableFile:
    return UnreadableFile(
        client_id=r.client_id,
        source=r.source,
        role=FileRole(r.role),
        path=r.path,
        name=r.name,
        file_hash=r.file_hash,
        error=r.error,
        first_seen=r.first_seen,
        salvaged=_salvaged(r.salvaged),
        quarantined=f"quarantined by {q.actor} on {q.on.isoformat()}: {q.reason}" if q else None,
    )


def _salvaged(raw: str | None) -> Salvaged | None:
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    for key in ("buyer_ids", "refs"):
        data[key] = tuple(data.get(key) or ())
    return Salvaged(**{k: v for k, v in data.items() if k in Salvaged.__slots__})


def record_decision(conn: Connection, decision: FileDecision) -> None:
    conn.execute(
        schema.file_decisions.insert().values(
            client_id=decision.client_id,
            path=decision.path,
            file_hash=decision.file_hash,
            action=decision.action,
            reason=decision.reason,
            actor=decision.actor,
            on_date=decision.on,
            recorded_at=decision.recorded_at,
        )
    )


def decisions(conn: Connection, client_ids: Iterable[str], skipped: Skipped | None = None) -> list[FileDecision]:
    """Every quarantine and release of the clients, oldest first."""
    t = schema.file_decisions
    q = select(t).where(t.c.client_id.in_(list(client_ids))).order_by(t.c.id)
    return list(mapped(checked_rows(conn, q, FILE_DECISIONS, skipped), _decision, FILE_DECISIONS, skipped))


def _decision(r: Any) -> FileDecision:
    return FileDecision(r.client_id, r.path, r.file_hash, r.action, r.reason, r.actor, r.on_date, r.recorded_at)


def _last_decisions(conn: Connection, client_id: str, skipped: Skipped | None = None) -> list[FileDecision]:
    last: dict[tuple[str, str], FileDecision] = {}
    for d in decisions(conn, [client_id], skipped):
        last[(d.path, d.file_hash)] = d
    return list(last.values())


def quarantined_now(conn: Connection, client_id: str) -> list[FileDecision]:
    """The files under quarantine now (the last decision about their content is a quarantine)."""
    return [d for d in _last_decisions(conn, client_id) if d.action == QUARANTINE]
