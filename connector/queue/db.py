"""The queue's database: which one (``[queue] url``), its tables, and the advisory locks taken in it.

procrastinate's own tables hold the jobs; beside them we keep ``arsync_runs`` (one row per client and
night: the night's current job and the report of its last finished try), ``arsync_run_attempts`` (one
row per try: which worker, when, how it ended) and the rate-limit tables of ``connector.queue.limits``.
Every timestamp comes from the database's clock, so machines whose clocks disagree still agree here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from connector.config import ConfigError, Settings

# Advisory locks are keyed (class, object); our classes stay clear of other users of the same database.
# A client's lock is the store's (connector.store.locks): a single 64-bit key, which PostgreSQL keeps apart
# from these two-key locks, so the two never collide. (LOCK_SCHEMA + 1 was the queue's own client lock.)
LOCK_SCHEMA = 0x41525359  # "ARSY": creating the tables, once, whoever starts first
LOCK_RATE = LOCK_SCHEMA + 2  # one credential's rate-limit bucket (the SQL below spells it: 1095914331)


def queue_url(settings: Settings) -> str:
    """``[queue] url``, else the store's URL when the store is PostgreSQL; a SQLite store is refused."""
    where = f"{settings.source_file}: " if settings.source_file else ""
    store = settings.store.url
    if not _is_postgresql(store):
        raise ConfigError(
            [
                f"{where}queue: the store is SQLite ({_safe(store)}); the queue needs the store on PostgreSQL "
                'so every worker shares it — set [store] url = "postgresql+psycopg://…" (or run `arsync run` '
                "without --queue on one machine)"
            ]
        )
    url = settings.queue.url or store
    if not _is_postgresql(url):
        raise ConfigError([f"{where}queue.url: '{_safe(url)}' is not a PostgreSQL URL (postgresql+psycopg://…)"])
    return _with_driver(url)


def conninfo(url: str) -> str:
    """The libpq form psycopg and procrastinate take (the SQLAlchemy URL without its driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def engine(url: str, pool_size: int = 2) -> Engine:
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def ensure_schema(eng: Engine) -> None:
    """procrastinate's schema (when missing) and ours, created once even when many workers start together."""
    with eng.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": LOCK_SCHEMA})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar_one() is None:
            from procrastinate import schema as procrastinate_schema

            _script(conn, procrastinate_schema.SchemaManager.get_schema())
        _script(conn, SCHEMA)


def has_schema(eng: Engine) -> bool:
    with eng.connect() as conn:
        return conn.execute(text("SELECT to_regclass('arsync_runs')")).scalar_one() is not None


def _script(conn: Connection, sql: str) -> None:
    """A multi-statement script (functions with $$ bodies included): psycopg runs it as one simple query."""
    raw: Any = conn.connection.driver_connection
    raw.execute(sql)


def _is_postgresql(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except Exception:
        return False


def _with_driver(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(not a URL)"


SCHEMA = """
CREATE TABLE IF NOT EXISTS arsync_runs (
    as_of date NOT NULL,
    client_id text NOT NULL,
    job_id bigint,
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    report jsonb,
    PRIMARY KEY (as_of, client_id)
);
CREATE TABLE IF NOT EXISTS arsync_run_attempts (
    id bigserial PRIMARY KEY,
    as_of date NOT NULL,
    client_id text NOT NULL,
    job_id bigint NOT NULL,
    attempt integer NOT NULL,
    worker text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    outcome text,
    error text
);
CREATE INDEX IF NOT EXISTS arsync_run_attempts_night ON arsync_run_attempts (as_of, client_id);

-- Rate limits (connector.queue.limits): one span per request, from let through until answered.
CREATE TABLE IF NOT EXISTS arsync_rate_spans (
    id bigserial PRIMARY KEY,
    key text NOT NULL,
    started timestamptz NOT NULL,
    ended timestamptz,
    lease_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS arsync_rate_spans_key ON arsync_rate_spans (key, started);
CREATE TABLE IF NOT EXISTS arsync_rate_pauses (
    key text PRIMARY KEY,
    paused_until timestamptz NOT NULL
);

-- Let one request through on ``key`` now, or say how long to wait first.
-- A span counts against the window while it touches it: from let through until ended, or until its lease
-- when its process died without saying (a killed worker). wait_exact is false when the wait is only an upper
-- bound (a span still in flight may end sooner), so the caller looks again before then.
CREATE OR REPLACE FUNCTION arsync_rate_acquire(
    p_key text, p_spacing float8, p_capacity integer, p_window float8, p_max_in_flight integer, p_lease float8
) RETURNS TABLE (span_id bigint, wait float8, wait_exact boolean)
LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
    horizon timestamptz := now_ts - make_interval(secs => p_window);
    w float8 := 0;
    exact boolean := true;
    last_start timestamptz;
    paused timestamptz;
    ends timestamptz[];
    n_flight integer;
    first_lease timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(1095914331, hashtext(p_key));
    DELETE FROM arsync_rate_spans s WHERE s.key = p_key AND COALESCE(s.ended, s.lease_until) <= horizon;
    SELECT p.paused_until INTO paused FROM arsync_rate_pauses p WHERE p.key = p_key;
    IF paused IS NOT NULL AND paused > now_ts THEN
        w := extract(epoch FROM paused - now_ts);
    END IF;
    IF p_capacity > 0 THEN
        SELECT max(s.started) INTO last_start FROM arsync_rate_spans s WHERE s.key = p_key;
        IF last_start IS NOT NULL THEN
            w := greatest(w, extract(epoch FROM last_start - now_ts) + p_spacing);
        END IF;
        SELECT array_agg(COALESCE(s.ended, s.lease_until) ORDER BY COALESCE(s.ended, s.lease_until))
            INTO ends FROM arsync_rate_spans s WHERE s.key = p_key;
        IF ends IS NOT NULL AND array_length(ends, 1) >= p_capacity THEN
            -- free once enough spans have ended and left the window
            w := greatest(w, extract(epoch FROM ends[array_length(ends, 1) - p_capacity + 1] - now_ts) + p_window);
            exact := exact AND NOT EXISTS (
                SELECT 1 FROM arsync_rate_spans s WHERE s.key = p_key AND s.ended IS NULL AND s.lease_until > now_ts
            );
        END IF;
    END IF;
    IF p_max_in_flight > 0 THEN
        SELECT count(*), min(s.lease_until) INTO n_flight, first_lease
            FROM arsync_rate_spans s WHERE s.key = p_key AND s.ended IS NULL AND s.lease_until > now_ts;
        IF n_flight >= p_max_in_flight THEN
            w := greatest(w, extract(epoch FROM first_lease - now_ts));
            exact := false;
        END IF;
    END IF;
    IF w > 0 THEN
        RETURN QUERY SELECT NULL::bigint, w, exact;
        RETURN;
    END IF;
    RETURN QUERY INSERT INTO arsync_rate_spans (key, started, lease_until)
        VALUES (p_key, now_ts, now_ts + make_interval(secs => p_lease))
        RETURNING arsync_rate_spans.id, 0::float8, true;
END;
$$;

-- A job of the queue changed state: wake whoever waits for the night (arsync run --queue --wait).
CREATE OR REPLACE FUNCTION arsync_runs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.queue_name = 'arsync' THEN
        PERFORM pg_notify('arsync_runs', COALESCE(NEW.args ->> 'as_of', ''));
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS arsync_runs_notify ON procrastinate_jobs;
CREATE TRIGGER arsync_runs_notify AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION arsync_runs_notify();
"""
