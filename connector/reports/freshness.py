"""How fresh each client's data is, for everything that shows decisions (the command line and the
workbench alike): a client whose sync failed, never ran or is too old must never look like a client
with nothing owed.

The states follow the core's own client-wide holds (``dunning.decide.client_holds``), so "stale" here is
exactly what holds all of a client's dunning: old or missing bank or ledger data, and a bank file that does
not read (``unreadable``: it may hold the payment of any invoice), until it reads or is quarantined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from connector.config import ClientConfig

# the one definition of "data too old to dun on"
from connector.dunning.decide import BANK_SOURCE_PREFIX, bank_too_old, client_holds
from connector.model import Facts, Hold, SyncStatus, UnreadableFile

OK, FAILED, STALE, NEVER = "ok", "failed", "stale", "never"
LEDGER = "ledger"


@dataclass(frozen=True)
class Freshness:
    """How a client's last sync went: ``ok``, ``failed`` (a source's last attempt failed), ``never``
    (the ledger never synced) or ``stale`` (data older than the client's policy allows to dun on)."""

    state: str
    problems: tuple[str, ...]
    last_attempt: datetime | None
    last_success: datetime | None


def freshness(
    client: ClientConfig, sync: Mapping[str, SyncStatus], today: date, unreadable: Iterable[UnreadableFile] = ()
) -> Freshness:
    """``unreadable``: the client's unreadable files as stored (``store.files.load_unreadable``); only bank
    files of its configured feeds, not quarantined, count (``dunning.unreadable.bank_file_holds``)."""
    # A bank feed no longer in the config (a fixed path) says nothing about the client now: as it holds
    # nothing (``client_holds``), its last failure does not mark the client failed either.
    configured = {bank.source_name for bank in client.bank}
    current = {k: s for k, s in sync.items() if not k.startswith(BANK_SOURCE_PREFIX) or k in configured}
    attempts = [s.last_attempt_at for s in current.values() if s.last_attempt_at]
    ledger = sync.get(LEDGER)
    last_success = ledger.last_success_at if ledger else None
    failed = tuple(f"{source_label(name)}: {s.last_error}" for name, s in sorted(current.items()) if s.last_error)
    if failed:
        state, problems = FAILED, failed
    elif last_success is None:
        state, problems = NEVER, ("the ledger has never been synced",)
    else:
        facts = _sync_facts(client, sync, unreadable)
        holds = tuple(dict.fromkeys(e.detail for _hold, e in client_holds(facts, client, today)))
        state, problems = (STALE, holds) if holds else (OK, ())
    return Freshness(state, problems, max(attempts, default=None), last_success)


@dataclass(frozen=True)
class SourceData:
    """One configured source's newest data, and why it is too old to dun on (the run's words) if it is."""

    newest: date | None
    stale: str | None = None


def sources_data(client: ClientConfig, sync: Mapping[str, SyncStatus], today: date) -> dict[str, SourceData]:
    """Per configured source — ``ledger`` and each bank feed (by its ``source_name``) — the newest day its
    data covers (the ledger: the day of its last good sync) and whether it is stale by the rules that hold
    dunning (``dunning.decide``), for ``arsync check``. A bank feed is judged alone here; the client is held
    when its newest bank data of all feeds is too old (``freshness``)."""
    ledger = sync.get(LEDGER)
    ledger_newest = None
    if ledger is not None:
        ledger_newest = ledger.data_through or (ledger.last_success_at.date() if ledger.last_success_at else None)
    holds = client_holds(_sync_facts(client, sync, ()), client, today)
    ledger_stale = next((e.detail for hold, e in holds if hold is Hold.LEDGER_STALE), None)
    out = {LEDGER: SourceData(ledger_newest, ledger_stale)}
    for bank in client.bank:
        status = sync.get(bank.source_name)
        newest = status.data_through if status is not None else None
        out[bank.source_name] = SourceData(newest, bank_too_old(newest, today, client.policy.bank_max_age_days))
    return out


def _sync_facts(client: ClientConfig, sync: Mapping[str, SyncStatus], unreadable: Iterable[UnreadableFile]) -> Facts:
    """Only the sync status and the unreadable files matter to the client-wide holds."""
    return Facts(
        client_id=client.id, customers={}, invoices=(), payments=(), disputes=(), agreements=(), steps=(),
        cases=(), sync=dict(sync), unreadable=tuple(unreadable),
    )  # fmt: skip


def source_label(name: str) -> str:
    """``ledger`` → "ledger sync failed"-style names: the ledger, or a bank folder by its kind and path."""
    if name.startswith(BANK_SOURCE_PREFIX):
        _bank, kind, folder = [*name.split(":", 2), "", ""][:3]
        return f"bank ({kind} folder {folder})" if folder else f"bank ({kind})"
    return name


@dataclass(frozen=True)
class ClientStatus:
    """One client's line in every output: ok, failed, stale or never synced, with why and since when."""

    client_id: str
    name: str
    status: str  # ok | failed | stale | never
    problems: tuple[str, ...] = ()
    since: datetime | date | None = None  # the last good sync (None: never)

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def error(self) -> str | None:
        return "; ".join(self.problems) if self.problems else None

    def line(self) -> str:
        """``CLIENT: NO DATA — ledger sync failed: … (since …)`` — never mistaken for "nothing owed"."""
        return f"{self.client_id}: {self.text()}"

    def text(self) -> str:
        """The line without the client: ``STALE DATA — newest bank data … ; dunning held`` (``arsync check``)."""
        if self.ok:
            return "ok"
        if self.status == NEVER:
            return f"NO DATA — {self.error}"
        since = f"since {_when(self.since)}" if self.since is not None else "never synced"
        if self.status == STALE:
            return f"STALE DATA — {self.error} (last good sync {_when(self.since)}); dunning held"
        return f"NO DATA — {self.error} ({since})"

    def as_json(self) -> dict[str, object]:
        return {
            "client": self.client_id,
            "name": self.name,
            "status": self.status,
            "error": self.error,
            # the last good sync, for a client that is not ok (an ok client's would change every night)
            "since": self.since.isoformat() if self.since is not None and not self.ok else None,
        }


def client_status(
    client: ClientConfig,
    sync: Mapping[str, SyncStatus],
    today: date,
    run_errors: Sequence[str] = (),
    unreadable: Iterable[UnreadableFile] = (),
) -> ClientStatus:
    """The client's status from its stored sync state and unreadable files, and what failed in this command
    (``run_errors``: a send that failed, a stage that raised — not recorded as a sync)."""
    fresh = freshness(client, sync, today, unreadable)
    problems = [_sync_failed(p) for p in fresh.problems] if fresh.state == FAILED else list(fresh.problems)
    state = fresh.state
    covered = " ".join(fresh.problems)
    extra = [e for e in run_errors if _tail(e) not in covered]
    if extra:
        problems = (problems if state == FAILED else []) + extra
        state = FAILED
    return ClientStatus(client.id, client.name, state, tuple(dict.fromkeys(problems)), fresh.last_success)


def summary(statuses: Iterable[ClientStatus]) -> str:
    """``3 clients: 1 ok, 1 failed, 1 stale`` (never-synced ones counted apart when there are any)."""
    statuses = list(statuses)
    count = {s: sum(1 for c in statuses if c.status == s) for s in (OK, FAILED, STALE, NEVER)}
    text = f"{len(statuses)} client{'s' if len(statuses) != 1 else ''}: "
    text += f"{count[OK]} ok, {count[FAILED]} failed, {count[STALE]} stale"
    return text + (f", {count[NEVER]} never synced" if count[NEVER] else "")


def counts(statuses: Iterable[ClientStatus]) -> dict[str, int]:
    statuses = list(statuses)
    return {s: sum(1 for c in statuses if c.status == s) for s in (OK, FAILED, STALE, NEVER)}


def _sync_failed(problem: str) -> str:
    source, _, error = problem.partition(": ")
    return f"{source} sync failed: {error}" if error else problem


def _tail(error: str) -> str:
    """A run error is "source: what"; the sync state holds "what"."""
    return error.split(": ", 1)[1] if ": " in error else error


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "never"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()
