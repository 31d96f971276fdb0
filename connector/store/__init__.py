"""The state store: SQLite by default, PostgreSQL by URL, versioned schema, idempotent writes."""

from connector.store.repository import Facts, Store, SyncStatus

__all__ = ["Facts", "Store", "SyncStatus"]
