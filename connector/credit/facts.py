"""What the credit evaluation reads: register answers (each with the day the register gave it) and the
customer's payment history in the client's own ledger.

A register answer is one of: found (with its facts), not found (Enhetsregisteret: no such org no;
Regnskapsregisteret: no accounts filed — an answer, not an error), unavailable (the register could not
be asked and nothing is known from before) or not covered (no free register for that country). When
today's lookup failed but an earlier answer is known, the earlier answer is used and ``stale_reason``
says so.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

ENHETSREGISTERET = "enhetsregisteret"
REGNSKAPSREGISTERET = "regnskapsregisteret"
CVR = "cvr"
PEPPOL_DIRECTORY = "peppol_directory"  # not a credit register: the advice report's e-invoice receivers
REGISTER_NAMES = {
    ENHETSREGISTERET: "Enhetsregisteret",
    REGNSKAPSREGISTERET: "Regnskapsregisteret",
    CVR: "CVR",
    PEPPOL_DIRECTORY: "the Peppol Directory",
}


class AnswerStatus(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # Enhetsregisteret: unknown org no; Regnskapsregisteret: no accounts filed
    UNAVAILABLE = "unavailable"  # the register failed and no earlier answer is known
    NOT_COVERED = "not_covered"  # no free register for this country


@dataclass(frozen=True, slots=True)
class CompanyFacts:
    """Enhetsregisteret's answer about one main unit (hovedenhet)."""

    org_no: str
    name: str | None = None
    organisation_form: str | None = None  # organisasjonsform.kode: AS, ENK, NUF …
    registered_on: date | None = None  # registreringsdatoEnhetsregisteret
    founded_on: date | None = None  # stiftelsesdato
    vat_registered: bool | None = None  # registrertIMvaregisteret
    business_registered: bool | None = None  # registrertIForetaksregisteret
    employees: int | None = None  # antallAnsatte (absent when none are registered)
    has_registered_employees: bool | None = None  # harRegistrertAntallAnsatte
    last_accounts_year: int | None = None  # sisteInnsendteAarsregnskap
    bankrupt: bool = False  # konkurs
    bankrupt_on: date | None = None  # konkursdato
    under_liquidation: bool = False  # underAvvikling
    under_liquidation_on: date | None = None  # underAvviklingDato
    forced_dissolution: bool = False  # underTvangsavviklingEllerTvangsopplosning, or a tvangs…Dato below
    forced_dissolution_dates: tuple[str, ...] = ()  # "tvangsopplostPgaManglendeRevisorDato 2025-03-01", …
    reconstruction_on: date | None = None  # underRekonstruksjonsforhandlingDato
    foreign_insolvency_on: date | None = None  # underUtenlandskInsolvensbehandlingDato
    deleted_on: date | None = None  # slettedato (a deleted unit answers 200 "SlettetEnhet" or 410)
    removed: bool = False  # HTTP 410: gone from open data altogether
    looked_up_as: str | None = None  # the sub-unit number the ledger holds, when these are its main unit's facts
    sub_units: int | None = None  # underenheter under this main unit (None: not read)

    @property
    def age_from(self) -> date | None:
        """The company's age counts from its founding, else from its registration."""
        return self.founded_on or self.registered_on


@dataclass(frozen=True, slots=True)
class AccountsFacts:
    """Regnskapsregisteret: key figures of the latest annual accounts (company, not group, accounts)."""

    org_no: str
    period_start: date | None = None  # regnskapsperiode.fraDato
    period_end: date | None = None  # regnskapsperiode.tilDato
    currency: str | None = None  # valuta (not always NOK)
    equity: Decimal | None = None  # sumEgenkapital
    annual_result: Decimal | None = None  # aarsresultat
    result_before_tax: Decimal | None = None  # ordinaertResultatFoerSkattekostnad
    current_assets: Decimal | None = None  # sumOmloepsmidler
    current_liabilities: Decimal | None = None  # sumKortsiktigGjeld
    auditor_report_missing: bool | None = None  # revisjon.ikkeRevidertAarsregnskap
    audit_opted_out: bool | None = None  # revisjon.fravalgRevisjon (small companies may)
    liquidation_accounts: bool | None = None  # avviklingsregnskap
    accounts_type: str | None = None  # regnskapstype: SELSKAP / KONSERN
    small_company: bool | None = None  # regnkapsprinsipper.smaaForetak

    @property
    def current_ratio(self) -> Decimal | None:
        if self.current_assets is None or not self.current_liabilities:
            return None
        return (self.current_assets / self.current_liabilities).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class EinvoiceReceiver:
    """The Peppol Directory's business card of one participant. Kept in the same dated cache as the
    credit registers' answers (one lookup per org no and day), though the advice report reads it."""

    org_no: str
    participant_id: str  # "0192:923456791"
    name: str | None = None
    country: str | None = None
    invoices: bool = False  # registered for a UBL Invoice document type (Peppol BIS Billing 3, EHF …)
    document_types: tuple[str, ...] = ()  # every document type id the business card lists


F = TypeVar("F", CompanyFacts, AccountsFacts, EinvoiceReceiver)


@dataclass(frozen=True, slots=True)
class RegisterAnswer(Generic[F]):
    register: str  # ENHETSREGISTERET, REGNSKAPSREGISTERET, CVR
    org_no: str
    status: AnswerStatus
    fetched_on: date | None = None  # the day the register gave this answer
    facts: F | None = None  # set when FOUND
    detail: str = ""  # why unavailable / not covered, in plain words
    stale_reason: str = ""  # set when today's lookup failed and this is the earlier answer

    @property
    def answered(self) -> bool:
        """The register said something (found or not found), today or before."""
        return self.status in (AnswerStatus.FOUND, AnswerStatus.NOT_FOUND)

    def as_stale(self, reason: str) -> RegisterAnswer[F]:
        return replace(self, stale_reason=reason)


@dataclass(frozen=True, slots=True)
class LedgerHistory:
    """How this customer has paid the client: the ledger part of a credit check (pure, from model types)."""

    customer_id: str
    since: date  # the history window's first due date
    invoices: int  # invoices due in the window (credit notes and fully credited invoices left out)
    paid: int  # of those, paid in full
    avg_days_late: Decimal | None  # paid invoices: average days paid after the due date (early = 0)
    max_days_late: int | None
    paid_late: int  # paid after the (effective) due date
    reminded: int  # invoices that needed at least one reminder
    collection_steps: int  # invoices that needed a collection notice or case
    open_disputes: int
    overdue: tuple[tuple[str, Decimal], ...] = ()  # (currency, amount) overdue today, per currency
    overdue_invoices: int = 0

    def overdue_in(self, currency: str) -> Decimal:
        return sum((amount for cur, amount in self.overdue if cur == currency), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class CreditFacts:
    """Everything one evaluation reads. A register answer is None when that register does not apply
    (a person, or no org no in the ledger)."""

    customer_id: str | None
    org_no: str | None
    country: str  # the customer's country: decides which registers apply
    company: RegisterAnswer[CompanyFacts] | None = None
    accounts: RegisterAnswer[AccountsFacts] | None = None
    ledger: LedgerHistory | None = None


# ---- JSON for the cache: flat dataclasses of dates, decimals, bools, ints, strings and tuples ---------

FACT_TYPES: dict[str, type[Any]] = {  # register → its facts type
    ENHETSREGISTERET: CompanyFacts,
    REGNSKAPSREGISTERET: AccountsFacts,
    PEPPOL_DIRECTORY: EinvoiceReceiver,
}


def facts_to_json(facts: CompanyFacts | AccountsFacts | EinvoiceReceiver) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(facts):
        value = getattr(facts, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def facts_from_json(cls: type[F], data: dict[str, Any]) -> F:
    """The inverse of :func:`facts_to_json`; keys this version does not know are ignored and missing
    ones take their defaults, so a cache written by an older or newer arsync still reads."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if value is not None:
            kind = _plain(hints[f.name])
            if kind is date:
                value = date.fromisoformat(value)
            elif kind is Decimal:
                value = Decimal(value)
            elif kind is tuple:
                value = tuple(value)
        values[f.name] = value
    return cls(**values)


def _plain(hint: Any) -> Any:
    """``date | None`` → ``date``; ``tuple[str, ...]`` → ``tuple``."""
    if get_origin(hint) in (Union, types.UnionType):
        hint = next(a for a in get_args(hint) if a is not type(None))
    return get_origin(hint) or hint
