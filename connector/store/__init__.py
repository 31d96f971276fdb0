"""The state store: SQLite by default, PostgreSQL by URL, versioned schema, idempotent writes.

One calling convention. Every operation is a function in the module of its record kind whose first
parameter is a SQLAlchemy ``Connection``; :class:`Store` is only the engine, the clock and transactions::

    with store.transaction() as conn:          # writes that must commit together (a client's sync)
        upsert_invoices(conn, batch.invoices)
        record_sync(conn, client_id, "ledger", ok=True, at=store.now())
    facts = store.read(load_facts, client_id)  # one operation on a connection of its own
    op = store.write(record_intent, …)         # one write, committed before the provider is called

Why: where a transaction begins and commits is what makes a write safe (a sync is all or nothing; a
send's intent is committed before the channel is called; an action and its audit row commit together), so
the caller decides it, visibly, and operations compose inside it. The functions read no clock: what
they stamp comes in as ``at`` (from ``store.now()``), as the core gets ``as_of``.

Record kinds: ``ledger`` (customers, invoices, attachments), ``payments``, ``sync`` (sync state, seen
files), ``disputes`` (disputes, agreements, exclusions), ``sends`` (dunning steps, the send log), ``cases``
(cases, events, the provider op log, provider states, cursors), ``decisions``, ``registry``, ``credit``,
``documents`` (e-invoice events), ``audit``; ``facts`` reads a client's ``model.Facts`` from all of them,
``slices`` one slice of a very large client. ``rows`` holds what the two read paths (SQLite cursor,
SQLAlchemy) share; ``upsert`` the dialect upserts; ``database`` the ``Store``.
"""

from connector.store.database import Store
from connector.store.locks import RunId

__all__ = ["RunId", "Store"]
