"""``arsync cases …``: the accountant's collection workflow (list, show, approve, reject, push, withdraw, reopen)."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from connector.actions import collection as collection_workflow
from connector.cli.common import (
    EXIT_CLIENT_FAILED,
    Env,
    actor,
    as_of_option,
    client_option,
    finish,
    json_option,
    quiet_option,
    refuse,
    stoppable,
)
from connector.cli.output import show
from connector.collection import approval
from connector.collection import evidence as collection_evidence
from connector.collection.base import ProviderError
from connector.model import Case, CaseStatus
from connector.reports import tables
from connector.store.cases import find_case, load_cases
from connector.store.facts import load_facts
from connector.store.ledger import load_customers


@click.group()
def cases() -> None:
    """The accountant's collection workflow: list, show, approve, reject, push, withdraw, reopen."""


@cases.command("list")
@client_option
@click.option("--status", type=click.Choice([s.value for s in CaseStatus]), help="Only cases in this status.")
@json_option
@click.pass_obj
def cases_list(env: Env, client_ids: tuple[str, ...], status: str | None, as_json: bool) -> None:
    """List the collection cases (every status unless --status)."""
    ids = [c.id for c in env.settings.select(client_ids)]
    found = [c for c in env.store.read(load_cases, ids) if status is None or c.status.value == status]
    if as_json:
        extra = collection_evidence.provider_fields(env.store, found)
        items = [{**tables.case_json(c), **extra[c.case_id]} for c in found]
        click.echo(json.dumps({"items": items}, indent=2, ensure_ascii=False))
    else:
        names = {
            (cid, c.customer_id): c.name
            for cid in {c.client_id for c in found}
            for c in env.store.read(load_customers, cid)
        }
        show(tables.case_table(found, names))


@cases.command("show")
@click.argument("case_id")
@click.pass_obj
def cases_show(env: Env, case_id: str) -> None:
    """Show one case: debtor, invoice, dunning steps, history and what the provider reported."""
    case = _case(env, case_id)
    country = next((c.country for c in env.settings.clients if c.id == case.client_id), "NO")
    click.echo(tables.case_detail(case, env.store.read(load_facts, case.client_id), country))
    detail = collection_evidence.collection_detail(env.store, case)
    if detail:
        click.echo(detail)


@cases.command("approve")
@click.argument("case_ids", nargs=-1, required=True)
@click.option("--note", default="approved by the accountant", show_default=True, help="Kept with the case.")
@as_of_option
@click.pass_obj
def cases_approve(env: Env, case_ids: tuple[str, ...], note: str, as_of: date) -> None:
    """Approve proposed cases for collection (all or none); the push re-checks each one first."""
    _review(env, case_ids, CaseStatus.APPROVED, note, as_of)


@cases.command("reject")
@click.argument("case_ids", nargs=-1, required=True)
@click.option("--note", required=True, help="Why (kept with the case).")
@as_of_option
@click.pass_obj
def cases_reject(env: Env, case_ids: tuple[str, ...], note: str, as_of: date) -> None:
    """Reject proposed cases (all or none): they are not proposed again unless reopened (`cases reopen`)."""
    _review(env, case_ids, CaseStatus.REJECTED, note, as_of)


@cases.command("reopen")
@click.argument("case_id")
@click.option("--note", required=True, help="Why (kept with the case).")
@as_of_option
@click.pass_obj
def cases_reopen(env: Env, case_id: str, note: str, as_of: date) -> None:
    """Propose a rejected case, or one withdrawn before it reached the provider, again: it waits for approval
    (`cases approve`), and the push re-checks it. A case the provider had is never sent to it twice."""
    try:
        approval.reopen_case(env.store, case_id, note, as_of, actor=actor(), now=env.store.now())
    except approval.TransitionRefused as exc:
        raise refuse(str(exc)) from None
    click.echo(f"{case_id}: {CaseStatus.PROPOSED} (approve it with `arsync cases approve {case_id}`)")


def _review(env: Env, case_ids: tuple[str, ...], status: CaseStatus, note: str, as_of: date) -> None:
    """The workbench's code path (``approval.decide_cases``), recorded in the audit trail as ``cli:<login>``.
    No undo window: a typed command naming the case is deliberate already, and ``cases push`` right
    after it pushes (the window is for a click in the workbench, which the workbench can undo)."""
    try:
        approval.decide_cases(env.store, case_ids, status, note, as_of, actor=actor(), now=env.store.now())
    except approval.TransitionRefused as exc:
        raise refuse(str(exc)) from None
    for case_id in dict.fromkeys(case_ids):
        click.echo(f"{case_id}: {status}")


@cases.command("push")
@client_option
@as_of_option
@json_option
@quiet_option
@click.pass_obj
def cases_push(env: Env, client_ids: tuple[str, ...], as_of: date, as_json: bool) -> None:
    """Push approved cases to the provider, re-checking each one first; prints every push, withdrawal and
    report to the provider. Ctrl-C/SIGTERM finishes the push in hand and exits 130/143."""
    from connector import pipeline  # only the push needs it: listing and approving start faster without

    reports = []
    clients = env.settings.select(client_ids)
    with stoppable():
        for report in pipeline.push_clients(env.store, clients, as_of):
            if not as_json:
                for line in report.sent:
                    env.say(f"{report.client_id}: {line}")
            reports.append(report)
    if as_json:
        payload = [
            {"client": r.client_id, "ok": r.ok, "errors": r.errors, "actions": [a.as_json() for a in r.sent]}
            for r in reports
        ]
        click.echo(json.dumps({"as_of": as_of.isoformat(), "clients": payload}, indent=2, ensure_ascii=False))
    elif not any(r.sent for r in reports):
        env.say("Nothing to push.")
    done = {r.client_id for r in reports}
    finish(env, reports, interrupted_clients=[c.id for c in clients if c.id not in done])


@cases.command("withdraw")
@click.argument("case_id")
@click.option("--note", required=True, help="Why (kept with the case and sent to the provider).")
@click.option(
    "--done-at-provider",
    is_flag=True,
    help="Already withdrawn in the provider's portal: only record it (nothing is sent; a withdrawal tried "
    "here whose answer was lost is settled with it).",
)
@as_of_option
@click.pass_obj
def cases_withdraw(env: Env, case_id: str, note: str, done_at_provider: bool, as_of: date) -> None:
    """Withdraw a case: at the provider when it was pushed, locally otherwise. Recorded with who
    (``cli:<login>``) in the audit trail and the case's history."""
    case = _case(env, case_id)
    client = env.settings.client(case.client_id)
    try:
        line = collection_workflow.withdraw_case(
            env.store, client, case, note, as_of, actor=actor(), done_at_provider=done_at_provider
        )
    except collection_workflow.WithdrawRefused as exc:
        raise refuse(str(exc)) from None
    except ProviderError as exc:
        click.echo(f"error: {case_id}: the provider did not withdraw the case: {exc}", err=True)
        sys.exit(EXIT_CLIENT_FAILED)
    click.echo(line)


def _case(env: Env, case_id: str) -> Case:
    case = env.store.read(find_case, case_id)
    if case is None:
        raise refuse(f"no case '{case_id}' (see `arsync cases list`)")
    return case
