"""The ``arsync`` command line: parse arguments, call the pipeline or the store, print.

Exit status: 0 all good, 1 any client failed (the others still ran), 2 usage or config error.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from connector import config as config_mod
from connector import pipeline
from connector.actions import collection as collection_workflow
from connector.clock import utc_now
from connector.collection import evidence as collection_evidence
from connector.collection.base import ProviderError
from connector.config import ConfigError, Settings
from connector.engine.decisions import decide_client
from connector.model import CaseStatus, Dispute
from connector.reports import aging, tables
from connector.reports.run import ClientReport
from connector.store import Store

EXIT_OK, EXIT_CLIENT_FAILED, EXIT_USAGE = 0, 1, 2


class Env:
    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self.today: date | None = None  # the command's --as-of day, once parsed; the clock's day otherwise
        self._settings: Settings | None = None
        self._store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            settings = config_mod.load(self.config_path)
            # The ladders must obey the law on the day the command acts for (the CLI knows the clock).
            pipeline.check_policies(settings, self.today or date.today())
            self._settings = settings
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.store.url, clock=utc_now)  # the run's one clock
        return self._store


def _as_of(ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        day = date.today()
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None
    env = ctx.find_object(Env)
    if env is not None:  # the config's ladders are checked for this day
        env.today = day
    return day


client_option = click.option(
    "--client", "client_ids", multiple=True, metavar="ID", help="Only this client (repeatable; default: all)."
)
as_of_option = click.option(
    "--as-of", callback=_as_of, metavar="YYYY-MM-DD", help="Behave as if run on this day (default: today)."
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Clients fetched at once (default: [run] workers in the config, 8; 1 = one after another).",
)


class ArsyncGroup(click.Group):
    """Turns configuration problems into one line each and exit status 2, wherever they surface."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=ArsyncGroup)
@click.option("--config", "config_path", metavar="FILE", help="Config file (else $ARSYNC_CONFIG, else ./arsync.toml).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="arsync")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """arsync: sync, reconcile and dun your clients' receivables without false reminders."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = Env(config_path)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silent under cron (no TTY)."""
    if sys.stderr.isatty() and total > 1:
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield lambda _client: bar.update(1)
    else:
        yield None


def _run(
    env: Env, client_ids: tuple[str, ...], as_of: date, *, sync: bool, act: bool, workers: int | None = None
) -> list[ClientReport]:
    clients = env.settings.select(client_ids)
    n = workers or env.settings.run.workers
    with _progress(len(clients), "clients") as progress:
        return pipeline.run(env.settings, env.store, clients, as_of, sync=sync, act=act, progress=progress, workers=n)


def _finish(reports: list[ClientReport]) -> None:
    for r in reports:
        for w in r.warnings:
            click.echo(f"warning: client {r.client_id}: {w}", err=True)
        for e in r.errors:
            click.echo(f"error: client {r.client_id}: {e}", err=True)
    if any(not r.ok for r in reports):
        sys.exit(EXIT_CLIENT_FAILED)


@main.command()
@client_option
@as_of_option
@workers_option
@click.pass_obj
def sync(env: Env, client_ids: tuple[str, ...], as_of: date, workers: int | None) -> None:
    """Pull ledger, e-invoice and bank data into the store."""
    clients = env.settings.select(client_ids)
    reports = []
    n = workers or env.settings.run.workers
    with _progress(len(clients), "sync") as progress:
        for client, fetch in pipeline.fetch_ahead(env.store, clients, as_of, n):
            if progress:
                progress(client.id)
            report = ClientReport(client.id)
            try:
                report, fetched = fetch.result()
                pipeline.store_fetched(env.store, client, as_of, fetched, report)
            except ConfigError:
                raise
            except Exception as exc:
                report.fail(str(exc))
            status = "ok" if report.ok else "FAILED"
            click.echo(
                f"{client.id}: sync {status}" + (f" ({len(report.warnings)} warnings)" if report.warnings else "")
            )
            reports.append(report)
    _finish(reports)


@main.command()
@client_option
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--no-sync", is_flag=True, help="Decide on what is stored; do not sync first.")
@workers_option
@click.pass_obj
def reconcile(
    env: Env, client_ids: tuple[str, ...], as_of: date, as_json: bool, no_sync: bool, workers: int | None
) -> None:
    """Sync, reconcile and decide; print the decision per open invoice. Never sends anything."""
    reports = _run(env, client_ids, as_of, sync=not no_sync, act=False, workers=workers)
    _print_decisions(reports, as_of, as_json)
    _finish(reports)


@main.command()
@client_option
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@workers_option
@click.pass_obj
def run(env: Env, client_ids: tuple[str, ...], as_of: date, as_json: bool, workers: int | None) -> None:
    """The nightly job: sync, reconcile, decide and act for every client."""
    reports = _run(env, client_ids, as_of, sync=True, act=True, workers=workers)
    _print_decisions(reports, as_of, as_json)
    if not as_json:
        for r in reports:
            for line in r.sent:
                click.echo(f"{r.client_id}: {line}")
    _finish(reports)


def _print_decisions(reports: list[ClientReport], as_of: date, as_json: bool) -> None:
    decisions = [d for r in reports for d in r.decisions]
    if as_json:
        payload = {"as_of": as_of.isoformat(), "items": [d.as_json() for d in decisions]}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        names = {(r.client_id, k): v for r in reports for k, v in r.customer_names.items()}
        click.echo(tables.decision_table(decisions, as_of, names))


# ---- cases ---------------------------------------------------------------------------------------


@main.group()
def cases() -> None:
    """The accountant's collection workflow: list, show, approve, reject, push, withdraw."""


@cases.command("list")
@client_option
@click.option("--status", type=click.Choice([s.value for s in CaseStatus]), help="Only cases in this status.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def cases_list(env: Env, client_ids: tuple[str, ...], status: str | None, as_json: bool) -> None:
    ids = [c.id for c in env.settings.select(client_ids)]
    found = [c for c in env.store.cases(ids) if status is None or c.status.value == status]
    if as_json:
        extra = collection_evidence.provider_fields(env.store, found)
        items = [{**tables.case_json(c), **extra[c.case_id]} for c in found]
        click.echo(json.dumps({"items": items}, indent=2, ensure_ascii=False))
    else:
        click.echo(tables.case_table(found))


@cases.command("show")
@click.argument("case_id")
@click.pass_obj
def cases_show(env: Env, case_id: str) -> None:
    case = env.store.case(case_id)
    if case is None:
        raise click.UsageError(f"no case '{case_id}'")
    click.echo(tables.case_detail(case, env.store.facts(case.client_id)))
    detail = collection_evidence.collection_detail(env.store, case)
    if detail:
        click.echo(detail)


def _transition(env: Env, case_ids: tuple[str, ...], status: CaseStatus, note: str, as_of: date) -> None:
    for case_id in case_ids:
        case = env.store.case(case_id)
        if case is None:
            raise click.UsageError(f"no case '{case_id}'")
        if case.status is not CaseStatus.PROPOSED:
            raise click.UsageError(f"case '{case_id}' is {case.status}; only proposed cases can be {status}")
    with env.store.transaction() as conn:
        for case_id in case_ids:
            case = env.store.case(case_id)
            assert case is not None
            env.store.add_case_event(conn, case.client_id, case_id, status, as_of, note)
    for case_id in case_ids:
        click.echo(f"{case_id}: {status}")


@cases.command("approve")
@click.argument("case_ids", nargs=-1, required=True)
@click.option("--note", default="approved by the accountant")
@as_of_option
@click.pass_obj
def cases_approve(env: Env, case_ids: tuple[str, ...], note: str, as_of: date) -> None:
    _transition(env, case_ids, CaseStatus.APPROVED, note, as_of)


@cases.command("reject")
@click.argument("case_ids", nargs=-1, required=True)
@click.option("--note", required=True, help="Why (kept with the case).")
@as_of_option
@click.pass_obj
def cases_reject(env: Env, case_ids: tuple[str, ...], note: str, as_of: date) -> None:
    _transition(env, case_ids, CaseStatus.REJECTED, note, as_of)


@cases.command("push")
@client_option
@as_of_option
@click.pass_obj
def cases_push(env: Env, client_ids: tuple[str, ...], as_of: date) -> None:
    """Push approved cases to the provider, re-checking each one first."""
    reports = []
    for client in env.settings.select(client_ids):
        report = ClientReport(client.id)
        try:
            pipeline.push_approved(env.store, client, as_of, report)
        except ConfigError:
            raise
        except Exception as exc:
            report.fail(str(exc))
        for line in report.sent:
            click.echo(f"{client.id}: {line}")
        reports.append(report)
    _finish(reports)


@cases.command("withdraw")
@click.argument("case_id")
@click.option("--note", required=True, help="Why (kept with the case and sent to the provider).")
@click.option(
    "--done-at-provider", is_flag=True, help="Already withdrawn in the provider's portal (no API): only record it."
)
@as_of_option
@click.pass_obj
def cases_withdraw(env: Env, case_id: str, note: str, done_at_provider: bool, as_of: date) -> None:
    """Withdraw a case: at the provider when it was pushed, locally otherwise."""
    case = env.store.case(case_id)
    if case is None:
        raise click.UsageError(f"no case '{case_id}'")
    client = env.settings.client(case.client_id)
    try:
        line = collection_workflow.withdraw_case(
            env.store, client, case, note, as_of, done_at_provider=done_at_provider
        )
    except collection_workflow.WithdrawRefused as exc:
        raise click.UsageError(str(exc)) from None
    except ProviderError as exc:
        click.echo(f"error: {case_id}: the provider did not withdraw the case: {exc}", err=True)
        sys.exit(EXIT_CLIENT_FAILED)
    click.echo(line)


# ---- disputes ------------------------------------------------------------------------------------


@main.group()
def disputes() -> None:
    """Record what the accountant learned on the phone: a dispute stops all dunning of the invoice."""


@disputes.command("open")
@click.argument("client_id")
@click.argument("invoice")
@click.option("--reason", required=True)
@click.option("--force", is_flag=True, help="Record it even though the invoice is not in the store yet.")
@as_of_option
@click.pass_obj
def disputes_open(env: Env, client_id: str, invoice: str, reason: str, force: bool, as_of: date) -> None:
    env.settings.client(client_id)
    # A typo would put the dispute on nothing while the real invoice keeps being dunned.
    known = {i.number for i in env.store.facts(client_id).invoices}
    if invoice not in known and not force:
        raise click.UsageError(
            f"client '{client_id}' has no invoice '{invoice}' in the store; check the number, run "
            "`arsync sync` first, or pass --force to record it anyway"
        )
    dispute_id = f"manual-{uuid.uuid4().hex[:8]}"
    env.store.add_dispute(Dispute(client_id, invoice, dispute_id, as_of, reason, "manual"))
    click.echo(f"dispute {dispute_id} opened on {client_id} invoice {invoice}")


@disputes.command("resolve")
@click.argument("client_id")
@click.argument("dispute_id")
@click.option("--note", default="resolved")
@as_of_option
@click.pass_obj
def disputes_resolve(env: Env, client_id: str, dispute_id: str, note: str, as_of: date) -> None:
    env.settings.client(client_id)
    if not env.store.resolve_dispute(client_id, dispute_id, as_of, note):
        raise click.UsageError(f"no open dispute '{dispute_id}' for client '{client_id}'")
    click.echo(f"dispute {dispute_id} resolved")


@disputes.command("list")
@client_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved disputes.")
@click.pass_obj
def disputes_list(env: Env, client_ids: tuple[str, ...], show_all: bool) -> None:
    rows = []
    for client in env.settings.select(client_ids):
        for d in env.store.facts(client.id).disputes:
            if show_all or d.is_open:
                rows.append(d)
    click.echo(tables.dispute_table(rows))


# ---- reports -------------------------------------------------------------------------------------


@main.group()
def report() -> None:
    """Reports over the stored facts."""


@report.command("aging")
@client_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "html"]), default="table", show_default=True)
@click.pass_obj
def report_aging(env: Env, client_ids: tuple[str, ...], as_of: date, fmt: str) -> None:
    """Aged receivables per client and customer (not due, 1–30, 31–60, 61–90, 90+)."""
    rows = []
    for client in env.settings.select(client_ids):
        decisions = decide_client(env.store, client, as_of)
        rows.extend(aging.aging_rows(client.id, env.store.facts(client.id).customers, decisions, as_of))
    if fmt == "html":
        click.echo(aging.render_html(rows, as_of), nl=False)
        return
    click.echo(aging.render_csv(rows) if fmt == "csv" else aging.render_table(rows), nl=fmt != "csv")


import connector.check  # noqa: E402, F401  (registers `arsync check`)
from connector import cli_dunning, validate_cli  # noqa: E402,F401  (register `agreements`, `exclude`, `validate`)

if __name__ == "__main__":  # pragma: no cover
    main()
