"""Opening the store from the command line: only ``sync``/``reconcile``/``run`` may create it (``reconcile
--no-sync`` decides on what is stored, so it refuses a missing one too).

A store URL that points nowhere must not quietly become an empty database (``cases list`` would then say
"No cases." about a store that is merely elsewhere): every other command refuses a missing store and
names where it looked. Problems opening it are one line with exit status 2 (``connector.errors``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from connector.clock import utc_now
from connector.errors import StoreMissing, StoreUnavailable
from connector.http import redact
from connector.store import Store

POSTGRES_HINT = 'install the PostgreSQL driver: pip install -e ".[postgres]" (or pip install "psycopg[binary]")'


def where(url: str) -> str:
    """What to call the store in a message: the SQLite file, or the URL without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(a store URL that cannot be read)"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for in-memory stores and other databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def exists(url: str) -> bool:
    """Whether the store holds arsync's schema; ``StoreUnavailable`` when it cannot even be asked."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        problem = f"[store] url is not a database URL (e.g. sqlite:///state/arsync.db): {where(url)}"
        raise StoreUnavailable(problem) from None
    if parsed.get_backend_name() == "sqlite":
        file = sqlite_file(url)
        return file is None or file.is_file()
    try:
        engine = create_engine(url)
    except (ModuleNotFoundError, NoSuchModuleError) as exc:
        raise StoreUnavailable(f"store {where(url)}: {_driver(exc)}") from None
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).has_table("schema_version"))
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"store {where(url)} cannot be reached: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def open_store(url: str, *, create: bool) -> tuple[Store, bool]:
    """(the store, whether it was created now). ``create=False`` refuses a missing store."""
    existed = exists(url)
    if not existed and not create:
        raise StoreMissing(where(url))
    try:
        store = Store(url, clock=utc_now)  # the run's one clock
    except (ModuleNotFoundError, NoSuchModuleError) as exc:
        raise StoreUnavailable(f"store {where(url)}: {_driver(exc)}") from None
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"store {where(url)} cannot be opened: {_first_line(exc)}") from None
    except OSError as exc:  # the folder of a SQLite file cannot be made
        raise StoreUnavailable(f"store {where(url)} cannot be created: {exc.strerror or exc}") from None
    return store, not existed


def _driver(exc: BaseException) -> str:
    name = getattr(exc, "name", None) or str(exc)
    if "psycopg" in str(name) or "postgres" in str(exc):
        return f"the database driver is not installed; {POSTGRES_HINT}"
    return f"the database driver is not installed ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc) or exc.__class__.__name__
    return redact(text.strip().splitlines()[0] if text.strip() else exc.__class__.__name__)
