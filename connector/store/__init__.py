"""The state store: SQLite by default, PostgreSQL by URL, versioned schema, idempotent writes."""

from connector.store.repository import Store

__all__ = ["Store"]
