"""``arsync credit check``: a customer's credit risk (low / watch / high) with its reasons, from the public
registers (through the dated cache) and the client's own ledger. Advice only: arsync never blocks a sale."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import click

from connector.actions.credit import CreditLookups, Ledger, assess, check_customer, thresholds_for
from connector.cli.common import Env, as_of_option, json_option
from connector.config import ClientConfig
from connector.credit.checks import MANUAL
from connector.credit.facts import REGISTER_NAMES, RegisterAnswer
from connector.credit.risk import RiskAssessment
from connector.credit.thresholds import ThresholdsError
from connector.model import Customer
from connector.reconcile.for_client import reconcile_facts
from connector.registry.credit_lookup import RegisterFacts
from connector.store.credit import org_key
from connector.store.facts import load_facts

# An org no's country from its length: NO 9 digits, DK CVR 8, SE 10 (when no customer says otherwise).
COUNTRY_BY_DIGITS = {9: "NO", 8: "DK", 10: "SE"}


@dataclass(frozen=True)
class Checked:
    assessment: RiskAssessment
    name: str | None
    client_id: str | None
    customer_id: str | None
    registers: RegisterFacts | None


@click.group()
def credit() -> None:
    """Credit risk of customers, before a sale: public registers and the client's own ledger."""


@credit.command("check")
@click.argument("org_no", metavar="[ORGNR]", required=False)
@click.option("--client", "client_id", metavar="ID", help="The client whose ledger history is used.")
@click.option("--customer", "customer_id", metavar="ID", help="The customer's id in that client's ledger.")
@as_of_option
@json_option
@click.pass_obj
def credit_check(
    env: Env, org_no: str | None, client_id: str | None, customer_id: str | None, as_of: date, as_json: bool
) -> None:
    """Risk level low / watch / high with its reasons: Enhetsregisteret and Regnskapsregisteret (asked at
    most once a day; an outage shows the previous answer and says so) and, with --client, how the
    customer has paid that client. Give ORGNR, or --client and --customer. DK and SE: the ledger only."""
    if customer_id is not None and client_id is None:
        raise click.UsageError("--customer needs --client (the client whose ledger the customer is in)")
    if org_no is None and customer_id is None:
        raise click.UsageError("give an organisation number, or --client ID --customer ID")
    if org_no is not None and customer_id is not None:
        raise click.UsageError("give an organisation number or --customer, not both")
    try:
        if client_id is not None:
            checked = _check_in_client(env, env.settings.client(client_id), org_no, customer_id, as_of)
        else:
            assert org_no is not None
            checked = [_check_org_no(env, org_no, as_of)]
    except ThresholdsError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        payload = {"as_of": as_of.isoformat(), "checks": [_json(c) for c in checked]}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        click.echo("\n\n".join(_text(c) for c in checked))
        click.echo("\narsync never blocks a sale: the level is advice for you and the client.")


def _check_org_no(env: Env, org_no: str, as_of: date) -> Checked:
    """Registers only: no client named, so no ledger history."""
    country = _country_of(org_no)
    client = next((c for c in env.settings.clients if c.registry.enabled), None)
    if client is None:
        raise click.UsageError(
            "no client has [clients.registry] enabled = true: arsync asks no public register "
            "(give --client ID --customer ID for the ledger history alone)"
        )
    lookups = CreditLookups()
    store = env.writable_store()  # the register answers are kept (asked at most once a day)
    registers = lookups.registers(store, client, org_no, country, as_of)
    result = assess(
        store,
        client,
        lookups,
        as_of,
        thresholds_for(client),
        customer_id=None,
        org_no=org_key(org_no),
        country=country,
        ledger=None,
    )
    note = "Ledger history not used: give --client ID to see how this company pays that client."
    result = _with_note(result, note)
    return Checked(result, _name(registers), None, None, registers)


def _check_in_client(
    env: Env, client: ClientConfig, org_no: str | None, customer_id: str | None, as_of: date
) -> list[Checked]:
    facts = env.store.read(load_facts, client.id)
    if customer_id is not None:
        if customer_id not in facts.customers:
            raise click.UsageError(f"client '{client.id}' has no customer '{customer_id}' in the store")
        customers = [facts.customers[customer_id]]
    else:
        assert org_no is not None
        wanted = org_key(org_no)
        customers = [c for c in facts.customers.values() if c.org_no and org_key(c.org_no) == wanted]
        if not customers:
            return [_check_org_no(env, org_no, as_of)]
    ledger = Ledger(facts, reconcile_facts(facts, client))
    thresholds = thresholds_for(client)
    lookups = CreditLookups()
    out = []
    for customer in sorted(customers, key=lambda c: c.customer_id):
        if client.registry.enabled:
            check = check_customer(env.store, client, ledger, customer.customer_id, as_of, thresholds, lookups, MANUAL)
            result = check.assessment
        else:  # offline: the ledger alone, nothing stored as if the registers had been asked
            history = ledger.history(customer.customer_id, as_of, thresholds, client.country)
            result = assess(
                env.store,
                client,
                lookups,
                as_of,
                thresholds,
                customer_id=customer.customer_id,
                org_no=None,
                country=customer.country or client.country,
                ledger=history,
            )
            result = _with_note(
                result,
                f"Registers not asked: client '{client.id}' has [clients.registry] enabled = false.",
                replace_first=True,
            )
        registers = _known(lookups, customer, client)
        out.append(Checked(result, customer.name, client.id, customer.customer_id, registers))
    return out


def _known(lookups: CreditLookups, customer: Customer, client: ClientConfig) -> RegisterFacts | None:
    if not customer.org_no:
        return None
    return lookups.found.get((customer.country or client.country, org_key(customer.org_no)))


def _country_of(org_no: str) -> str:
    digits = org_key(org_no)
    country = COUNTRY_BY_DIGITS.get(len(digits)) if digits.isdigit() else None
    if country is None:
        raise click.UsageError(
            f"'{org_no}' is not an organisation number (NO: 9 digits, DK CVR: 8 digits, SE: 10 digits)"
        )
    return country


def _with_note(result: RiskAssessment, note: str, replace_first: bool = False) -> RiskAssessment:
    kept = result.notes[1:] if replace_first else result.notes
    return replace(result, notes=(note, *kept))


def _name(registers: RegisterFacts | None) -> str | None:
    facts = registers.company.facts if registers is not None else None
    return facts.name if facts is not None else None


# ---- output -----------------------------------------------------------------------------------------


def _answers(registers: RegisterFacts | None) -> Sequence[RegisterAnswer[Any]]:
    if registers is None:
        return ()
    found: list[RegisterAnswer[Any]] = [registers.company]
    if registers.accounts is not None:
        found.append(registers.accounts)
    return found


def _json(c: Checked) -> dict[str, object]:
    out: dict[str, object] = {"client": c.client_id, "name": c.name, **c.assessment.as_json()}
    out["customer"] = c.customer_id
    out["registers"] = [
        {
            "register": a.register,
            "status": str(a.status),
            "answered_on": a.fetched_on.isoformat() if a.fetched_on else None,
            "stale": bool(a.stale_reason),
            "detail": a.stale_reason or a.detail,
        }
        for a in _answers(c.registers)
    ]
    return out


def _text(c: Checked) -> str:
    a = c.assessment
    ids = [f"org no {a.org_no}"] if a.org_no else []
    if c.customer_id:
        ids.append(f"customer {c.customer_id} of client {c.client_id}")
    head = f"{c.name} ({', '.join(ids)})" if c.name else ", ".join(ids).capitalize()
    lines = [head, f"Credit risk: {str(a.level).upper()} (as of {a.evaluated_on})"]
    if not a.reasons:
        lines.append("  No warning signs found" + (" in what could be checked (see the notes)." if a.notes else "."))
    width = max((len(r.text) for r in a.reasons), default=0)
    for r in a.reasons:
        source = REGISTER_NAMES.get(r.source, r.source)
        when = f", answer of {r.as_of.isoformat()}" if r.as_of else ""
        lines.append(f"  {str(r.level).upper():<5}  {r.text:<{width}}  [{source}{when}]")
    if a.notes:
        lines.append("Notes:")
        lines.extend(f"  - {n}" for n in a.notes)
    return "\n".join(lines)
