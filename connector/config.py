"""The accountant's configuration: one TOML file, one ``[[clients]]`` table per client company.

Secrets are never read from the file. A key ending in ``_env`` names an environment variable (or a
file of that name in ``ARSYNC_SECRETS_DIR``); :func:`secret` resolves it at the moment of use.
Every problem in the file is reported at once, each naming file, client, key and what is wrong.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connector.amounts import CURRENCIES, DEFAULT_MAX_AMOUNT

CONFIG_ENV = "ARSYNC_CONFIG"
SECRETS_DIR_ENV = "ARSYNC_SECRETS_DIR"
DEFAULT_CONFIG = "arsync.toml"

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Keys that look like a secret written into the file instead of named by an *_env key.
_SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey", "client_secret", "subscription_key")

Language = Literal["nb", "da", "sv"]
KidScheme = Literal["mod10", "mod11"]
KID_SCHEMES: tuple[KidScheme, ...] = ("mod10", "mod11")
LANGUAGE_BY_COUNTRY: dict[str, Language] = {"NO": "nb", "DK": "da", "SE": "sv"}


class ConfigError(Exception):
    """One or more problems in the configuration; ``problems`` holds one line per problem."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Strict(BaseModel):
    """Unknown keys are refused. Numbers and true/false are typed strictly (``StrictInt``, ``StrictFloat``,
    ``StrictBool``): pydantic would read ``grace_days = "3"`` as 3 and ``auto_approve = "no"`` as false, so
    a value in quotes is refused rather than guessed at. Amounts (Decimal) still take a number in quotes:
    TOML has no exact decimal, and ``"999.99"`` is how to write one exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _looks_secret(key: str) -> bool:
    low = key.lower()
    return not low.endswith("_env") and any(word in low for word in _SECRET_WORDS)


def _check_env_name(value: str | None, info: ValidationInfo) -> str | None:
    # Never echo the value: a token pasted here by mistake must not end up in a terminal or a log.
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            f"the value of `{info.field_name}` is not a variable name (not shown); give the name of an "
            "environment variable (UPPER_CASE letters, digits, _) that holds the secret"
        )
    return value


class StoreConfig(_Strict):
    url: str = "sqlite:///arsync.db"


class HttpConfig(_Strict):
    """How long a client's accounting-system API may keep us waiting (``[http]``, per client ``[clients.http]``).

    The defaults give up on a hung server within about a minute (a request that timed out twice is not
    tried again) and on a merely slow one after five minutes of waiting, while other clients are fetched.
    """

    connect_timeout: Annotated[StrictFloat, Field(gt=0, le=300)] = 10.0  # seconds to open a connection
    read_timeout: Annotated[StrictFloat, Field(gt=0, le=600)] = 30.0  # seconds one answer may take once connected
    # Seconds of waiting on the server one client's sync may spend in all: answers and retry pauses
    # (time queued behind other clients on a shared rate limit does not count).
    client_deadline: Annotated[StrictFloat, Field(gt=0, le=86400)] = 300.0


class LimitsConfig(_Strict):
    """Bounds on values from outside (``[limits]``): a value beyond them is refused where it enters."""

    max_amount: Annotated[Decimal, Field(gt=0, le=Decimal("1e15"))] = DEFAULT_MAX_AMOUNT

    @field_validator("max_amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return Decimal(repr(value)) if isinstance(value, float) else value


class RunConfig(_Strict):
    # Clients whose sources are fetched at once. Fetching is mostly waiting on HTTP latency and the
    # systems' rate limits (which stay enforced per credential), so a few threads overlap it well;
    # writes, decisions and sends stay one client after another. 1 = strictly sequential.
    workers: Annotated[StrictInt, Field(ge=1, le=64)] = 8


class QueueConfig(_Strict):
    """``[queue]``: the nightly run spread over worker processes and machines (procrastinate on PostgreSQL).

    ``url`` defaults to the store's when that is PostgreSQL; a SQLite store cannot be shared, so the queue
    commands refuse it (``connector.queue.db.queue_url``).
    """

    url: str | None = None
    nightly: str | None = None  # "HH:MM" in ``timezone``: the workers enqueue the night's run then
    timezone: str = "Europe/Oslo"  # the nightly time's zone, and the night `run --queue` means by default
    concurrency: Annotated[StrictInt, Field(ge=1, le=64)] = 4  # jobs (clients) one worker process runs at once
    attempts: Annotated[StrictInt, Field(ge=1, le=20)] = 4  # tries per client and night before it is reported failed
    retry_wait_seconds: Annotated[StrictInt, Field(ge=0, le=86400)] = 60  # before the 2nd try; doubled each time
    # A worker that has not written its heartbeat for stalled_seconds is taken for dead: its jobs run again.
    heartbeat_seconds: Annotated[StrictFloat, Field(gt=0, le=3600)] = 10.0
    stalled_seconds: Annotated[StrictFloat, Field(gt=0, le=86400)] = 60.0

    @field_validator("nightly")
    @classmethod
    def _hh_mm(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"'{value}' is not a time of day (HH:MM, 24-hour)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone name (e.g. Europe/Oslo)") from None
        return value

    @model_validator(mode="after")
    def _stalled_after_heartbeats(self) -> QueueConfig:
        if self.stalled_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("stalled_seconds must be at least twice heartbeat_seconds (a late heartbeat is no death)")
        return self


class LedgerConfig(_Strict):
    kind: Literal["ehf", "tripletex", "fiken", "poweroffice", "economic"]
    path: Path | None = None  # folder of sent EHF documents and received responses (kind = "ehf")
    base_url: str | None = None
    company_id: str | None = None
    token_env: str | None = None
    max_age_days: Annotated[StrictInt, Field(ge=0)] = 2  # older than this → ledger_stale
    # Accounting-system APIs (issue 4). company_id: Tripletex client company id ("0" = the token's own
    # company), Fiken company slug. Secrets only by *_env names; base_url/auth_url default to production.
    consumer_token_env: str | None = None  # tripletex
    employee_token_env: str | None = None  # tripletex
    application_key_env: str | None = None  # poweroffice
    client_key_env: str | None = None  # poweroffice
    subscription_key_env: str | None = None  # poweroffice
    app_secret_token_env: str | None = None  # economic
    agreement_grant_token_env: str | None = None  # economic
    auth_url: str | None = None  # poweroffice OAuth token endpoint
    overlap_days: Annotated[StrictInt, Field(ge=0, le=31)] = 2  # incremental runs re-read this far back
    full_resync_days: Annotated[StrictInt, Field(ge=1)] = 7  # a full re-sync at least this often
    history_days: Annotated[StrictInt, Field(ge=1)] = 1095  # how far back a full sync reads documents
    page_size: Annotated[StrictInt, Field(ge=1, le=1000)] | None = None  # default: each system's maximum

    _env = field_validator(
        "token_env",
        "consumer_token_env",
        "employee_token_env",
        "application_key_env",
        "client_key_env",
        "subscription_key_env",
        "app_secret_token_env",
        "agreement_grant_token_env",
    )(_check_env_name)

    @model_validator(mode="after")
    def _path_for_files(self) -> LedgerConfig:
        if self.kind == "ehf" and self.path is None:
            raise ValueError("a ledger of kind 'ehf' needs `path` (the folder of EHF/PEPPOL documents)")
        return self

    @model_validator(mode="after")
    def _api_settings(self) -> LedgerConfig:
        needed = _API_KEYS.get(self.kind, ())
        missing = [k for k in needed if getattr(self, k) in (None, "")]
        if missing:
            raise ValueError(f"a ledger of kind '{self.kind}' needs {', '.join(f'`{k}`' for k in missing)}")
        return self


# What each API ledger kind needs in its [clients.ledger] table.
_API_KEYS: dict[str, tuple[str, ...]] = {
    "tripletex": ("consumer_token_env", "employee_token_env"),
    "fiken": ("token_env", "company_id"),
    "poweroffice": ("application_key_env", "client_key_env", "subscription_key_env"),
    "economic": ("app_secret_token_env", "agreement_grant_token_env"),
}


class BankConfig(_Strict):
    kind: Literal["camt", "ocr"]
    path: Path  # folder the bank (or the client's bank integration) drops files into
    account: str | None = None  # restrict to one creditor account; all accounts in the files otherwise

    @property
    def source_name(self) -> str:
        """The feed's key in the sync state (``connector.bank.feed`` names its feeds so): a feed no longer in
        the config is known by a name no configured feed has, and holds nothing."""
        return f"bank:{self.kind}:{self.path}"


class StepConfig(_Strict):
    """One rung of the dunning ladder.

    ``days`` counts from the due date for the first step and from the previous step otherwise. A ``call``
    rung puts the customer on the call list instead of sending a letter; its ``channel`` carries the
    written follow-up of what was agreed on the call.
    """

    action: Literal["reminder", "call", "collection_notice", "collection_case"]
    days: Annotated[StrictInt, Field(ge=0)]
    fee: StrictBool = False
    channel: str = "outbox"


def default_ladder(fee: bool = True) -> list[StepConfig]:
    # Norwegian shape: purring ≥14 days after due (so a fee is lawful), inkassovarsel with a
    # 14-day deadline, then the case once that deadline has passed. ``fee``: the reminder's fee.
    return [
        StepConfig(action="reminder", days=14, fee=fee),
        StepConfig(action="collection_notice", days=14),
        StepConfig(action="collection_case", days=14),
    ]


class PolicyConfig(_Strict):
    grace_days: Annotated[StrictInt, Field(ge=0)] = 3
    min_amount: Annotated[Decimal, Field(ge=0)] = Decimal("0")
    bank_max_age_days: Annotated[StrictInt, Field(ge=0)] = 3
    auto_approve: StrictBool = False
    # The auto-approve rule (only with auto_approve = true): approve only claims up to this open
    # amount, and only against companies (an org no, not a person). Unset = no limit.
    auto_approve_max_amount: Annotated[Decimal, Field(ge=0)] | None = None
    auto_approve_b2b_only: StrictBool = False
    steps: list[StepConfig] = Field(default_factory=default_ladder)

    @field_validator("auto_approve_max_amount", mode="before")
    @classmethod
    def _no_float_max(cls, value: Any) -> Any:
        return Decimal(repr(value)) if isinstance(value, float) else value

    # Dunning (issue #6): SE fees need an agreement made when the debt arose; no new step goes to a
    # customer within this many days of the previous step to that customer (same-day steps batch).
    fee_agreed: StrictBool = False
    customer_interval_days: Annotated[StrictInt, Field(ge=0)] = 5
    # Payments (issue #5): KID check schemes the client's OCR agreement uses (RF and FIK are always
    # recognised by their prefix); a short payment within the tolerance is "paid with difference".
    kid_schemes: list[KidScheme] = Field(default_factory=lambda: list(KID_SCHEMES))
    payment_tolerance: Annotated[Decimal, Field(ge=0)] = Decimal("0")
    inkasso_payers: list[str] = Field(default_factory=list)  # accounts / org ids of collection agencies
    # Credit check (issue 21; only with [clients.registry] enabled): nightly, a new invoice of at least
    # this amount (in the invoice's currency) has its customer checked; new customers always are.
    credit_check_min_amount: Annotated[Decimal, Field(ge=0)] = Decimal("50000")
    # Decisions (issue #14). A partly paid invoice: "remind" duns the remainder up the ladder; "review"
    # holds it (partly_paid) for a person. A deduction or complaint in the payment text is always a review.
    partial_payment: Literal["remind", "review"] = "remind"
    # Business days, after the first business day after a letter's stated deadline, for a payment made on
    # the deadline to reach the bank files: the next step (a collection case) waits for them.
    settle_days: Annotated[StrictInt, Field(ge=0, le=30)] = 2
    # Letters (issue 15). One letter per customer: all of a customer's invoices due for the same step on the
    # same day go in one letter (each with its own lines and amounts, one total); false: one per invoice.
    group_by_customer: StrictBool = True
    # A statement of account (kontoutskrift) goes with every reminder letter, behind it.
    statement_with_reminder: StrictBool = False
    # The call step: after a call nobody answered, the customer is back on the call list this many days
    # later; after this many unanswered calls the ladder goes on to its next step.
    call_retry_days: Annotated[StrictInt, Field(ge=0, le=60)] = 2
    call_attempts: Annotated[StrictInt, Field(ge=1, le=20)] = 3

    @field_validator("min_amount", "payment_tolerance", "credit_check_min_amount", mode="before")
    @classmethod
    def _no_float_money(cls, value: Any) -> Any:
        if isinstance(value, float):
            # TOML 100.5 arrives as a binary float; take its literal text so no fraction is invented.
            return Decimal(repr(value))
        return value

    @field_validator("steps")
    @classmethod
    def _ladder_order(cls, steps: list[StepConfig]) -> list[StepConfig]:
        # a call may come between any two letters (typically after the first reminder); letters go up
        order = ["reminder", "collection_notice", "collection_case"]
        ranks = [order.index(s.action) for s in steps if s.action != "call"]
        if ranks != sorted(ranks):
            raise ValueError(
                "`steps` must go up the ladder: reminder(s), then collection_notice, then collection_case "
                "(a call anywhere before the case)"
            )
        if steps and steps[0].action == "call":
            raise ValueError("the first step must be a letter: a call comes after a reminder (step 3 of the playbook)")
        if steps and "collection_case" in [s.action for s in steps[:-1]]:
            raise ValueError("collection_case must be the last step")
        if any(s.action == "collection_case" for s in steps) and not any(
            s.action == "collection_notice" for s in steps
        ):
            raise ValueError("a collection_case step needs a collection_notice step before it (inkassovarsel)")
        return steps


class CollectionConfig(_Strict):
    provider: Literal["outbox", "kravia", "debitura"] = "outbox"
    path: Path | None = None  # outbox: the folder case files are written to
    base_url: str | None = None  # kravia / debitura: the API root
    token_env: str | None = None  # kravia: variable holding the Authorization token
    api_key_env: str | None = None  # debitura: variable holding the XApiKey
    creditor_id: StrictInt | None = None  # kravia: the client's creditorId (from onboarding)
    test_mode: StrictBool = False  # debitura: create cases with isTest = true
    timeout_seconds: Annotated[StrictFloat, Field(gt=0)] = 30.0
    max_attempts: Annotated[StrictInt, Field(ge=1, le=10)] = 4
    retry_initial_wait: Annotated[StrictFloat, Field(ge=0)] = 0.5  # seconds; doubled per retry, Retry-After wins
    rate_limit_per_second: Annotated[StrictFloat, Field(gt=0)] | None = None  # the provider's published limit
    concurrency: Annotated[StrictInt, Field(ge=1, le=64)] = 4  # pushes in flight at once
    # Money the provider pays out to the client arrives in the client's bank; it is not a debtor
    # payment and must never be reported back as one. Payer account numbers / name fragments:
    payout_accounts: list[str] = Field(default_factory=list)
    payout_names: list[str] = Field(default_factory=list)
    # The agency named to the debtor in the collection notice ("then the claim goes to …") and in the letter
    # telling them it was handed over; kravia and debitura name themselves when these are unset.
    agency: str = ""
    agency_contact: str = ""  # the agency's phone, e-mail or web address, for the debtor

    _env = field_validator("token_env", "api_key_env")(_check_env_name)

    @model_validator(mode="after")
    def _provider_settings(self) -> CollectionConfig:
        if self.provider == "outbox" and self.path is None:
            raise ValueError("the 'outbox' provider needs `path` (the folder case files are written to)")
        if self.provider in ("kravia", "debitura") and not self.base_url:
            raise ValueError(f"the '{self.provider}' provider needs `base_url`")
        if self.provider == "kravia" and (self.token_env is None or self.creditor_id is None):
            raise ValueError("the 'kravia' provider needs `token_env` and `creditor_id`")
        if self.provider == "debitura" and self.api_key_env is None:
            raise ValueError("the 'debitura' provider needs `api_key_env`")
        return self


class EmailSettings(_Strict):
    """``[clients.reminders.email]``: the SMTP server reminders are sent through (channel "email")."""

    host: str
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 587
    starttls: StrictBool = True  # refuse to send when the server does not offer STARTTLS
    username: str | None = None
    password_env: str | None = None
    from_address: str
    reply_to: str | None = None
    timeout_seconds: Annotated[StrictFloat, Field(gt=0)] = 30

    _env = field_validator("password_env")(_check_env_name)


class TripletexSettings(_Strict):
    """``[clients.reminders.tripletex]``: reminders sent by Tripletex itself (channel "tripletex")."""

    base_url: str = "https://tripletex.no/v2"
    session_token_env: str
    company_id: str = "0"  # the Basic-auth user: 0 = the token's own company
    dispatch_types: str = "EMAIL"  # EMAIL, NETS_PRINT, OWN_PRINTER, SFTP, API, SMS (comma list)
    timeout_seconds: Annotated[StrictFloat, Field(gt=0)] = 30

    _env = field_validator("session_token_env")(_check_env_name)


class RemindersConfig(_Strict):
    channel: Literal["outbox", "email", "tripletex"] = "outbox"
    path: Path | None = None  # defaults to <collection path>/../reminders when not given
    email: EmailSettings | None = None  # used by steps with channel = "email"
    tripletex: TripletexSettings | None = None  # used by steps with channel = "tripletex"
    # A folder with the client's own letter texts: any of <nb|da|sv>/<kind>.j2, <lang>/labels.toml,
    # letter.typ (connector/letters/templates has the shipped ones); a file not there comes from arsync.
    letter_templates: Path | None = None


class CreditorConfig(_Strict):
    """``[clients.creditor]``: what the client's letters print as letterhead and payee (issue 15).

    A letter must say where to pay: ``bank_account`` (else the account the invoice names, else the bank
    feed's ``account``); without any, the invoice is held ``invoice_defect`` before its first letter."""

    address_lines: list[str] = Field(default_factory=list)  # street, PO box (no postal code or city)
    postal_code: str = ""
    city: str = ""
    bank_account: str = ""  # domestic account as the debtor types it (NO: 11 digits)
    iban: str = ""
    bic: str = ""
    contact_email: str = ""  # where debtors write with questions
    contact_phone: str = ""
    contact_person: str = ""  # who signs the letters and answers the phone

    @field_validator("bank_account")
    @classmethod
    def _account(cls, value: str) -> str:
        digits = re.sub(r"[\s.-]", "", value)
        if value and not digits.isdigit():
            raise ValueError(f"'{value}' is not a bank account number (digits, spaces, dots)")
        return value.strip()

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        from stdnum import iban

        if value and not iban.is_valid(value):
            raise ValueError(f"'{value}' is not a valid IBAN: check the digits")
        return iban.compact(value) if value else ""


class BookingsConfig(_Strict):
    """``[clients.bookings]``: where a reminder fee or late interest that a letter charged is booked back
    (issue 16), unless the ledger's own reminder function charged it (the ``tripletex`` channel).

    ``target``: ``auto`` books into the ledger where its API can do so exactly once (Fiken: a general
    journal entry; PowerOffice: a manual voucher with an ExternalImportReference), else writes a
    booking file; ``ledger`` insists on the ledger; ``file`` always writes the file.
    """

    target: Literal["auto", "ledger", "file"] = "auto"
    path: Path | None = None  # booking files; default <collection or reminders path>/../bookings, else bookings/<id>
    # UNCERTAIN: the accounts are the client's own chart; these defaults (NS 4102 "annen finansinntekt"
    # / "renteinntekt") are placeholders the accountant is expected to set.
    fee_account: Annotated[str, Field(pattern=r"^[0-9]{3,10}$")] = "8070"
    interest_account: Annotated[str, Field(pattern=r"^[0-9]{3,10}$")] = "8050"


BRREG_URL = "https://data.brreg.no/enhetsregisteret/api"
REGNSKAP_URL = "https://data.brreg.no/regnskapsregisteret"
PEPPOL_DIRECTORY_URL = "https://directory.peppol.eu"


class RegistrySettings(_Strict):
    """``[clients.registry]``: the public registers arsync asks — the business-register check before a
    collection notice or case, the nightly credit checks and ``arsync credit check`` (Enhetsregisteret at
    ``base_url``, Regnskapsregisteret), and the Peppol Directory for ``arsync report advice``."""

    enabled: StrictBool = False  # off: no lookups (the offline example); on: no notice/case without a fresh check
    base_url: str = BRREG_URL  # Enhetsregisteret; tests point this at a local fake
    max_age_days: Annotated[StrictInt, Field(ge=0)] = 1  # a cached answer older than this is fetched again
    timeout_seconds: Annotated[StrictFloat, Field(gt=0)] = 10
    regnskap_base_url: str = REGNSKAP_URL  # Regnskapsregisteret (latest annual accounts)
    peppol_directory_url: str = PEPPOL_DIRECTORY_URL  # who can receive EHF / Peppol invoices
    # A TOML file holding only the credit thresholds that differ from connector/credit/thresholds.toml
    # (relative to this config file). Unset: the shipped table.
    credit_thresholds: Path | None = None


class ClientConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    name: str
    org_no: str
    country: Literal["NO", "DK", "SE"]
    currency: str
    ledger: LedgerConfig
    bank: list[BankConfig] = Field(default_factory=list)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    collection: CollectionConfig
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    creditor: CreditorConfig = Field(default_factory=CreditorConfig)
    bookings: BookingsConfig = Field(default_factory=BookingsConfig)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    # Filled from the top-level [http] / [limits] tables; a client's own table overrides key by key.
    http: HttpConfig = Field(default_factory=HttpConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)

    @property
    def language(self) -> Language:
        return LANGUAGE_BY_COUNTRY[self.country]

    @model_validator(mode="before")
    @classmethod
    def _default_ladder_of_the_country(cls, data: Any) -> Any:
        # A Swedish reminder fee is lawful only if agreed when the debt arose (policy.fee_agreed): without that
        # agreement the default ladder's reminder carries none, rather than the ladder being refused for a
        # policy.steps[0].fee the file never wrote.
        if not isinstance(data, dict) or data.get("country") != "SE":
            return data
        policy = data.get("policy", {})
        if isinstance(policy, dict) and "steps" not in policy and policy.get("fee_agreed") is not True:
            return {**data, "policy": {**policy, "steps": default_ladder(fee=False)}}
        return data

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        # Every amount of the client is checked against its currency's minor unit and printed with it.
        if value not in CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code (e.g. NOK, DKK, SEK, EUR)")
        return value

    @field_validator("org_no")
    @classmethod
    def _org_no_digits(cls, value: str) -> str:
        compact = re.sub(r"[\s.-]", "", value)
        if not compact.isdigit():
            raise ValueError(f"'{value}' is not an organisation number (digits only)")
        return compact

    @model_validator(mode="after")
    def _org_no_check_digit(self) -> ClientConfig:
        # A mistyped org no puts the wrong creditor on letters and cases: checked as the register does.
        problem = org_no_problem(self.country, self.org_no)
        if problem:
            raise ValueError(f"`org_no`: {problem}")
        # The account every letter asks debtors to pay to: a Norwegian one has a check digit, so a typo is
        # caught here, not by a debtor's bank. So has a Swedish bankgiro (7-8 digits) or plusgiro (2-8 digits)
        # number, MOD10; a Swedish bank account (clearing number and account, 11 digits or more) and a Danish
        # one (reg. no. and account) have no check common to every bank.
        account = re.sub(r"[\s.-]", "", self.creditor.bank_account)
        if self.country == "NO" and account:
            from stdnum.no import kontonr

            if not kontonr.is_valid(account):
                raise ValueError(
                    f"`creditor.bank_account`: '{self.creditor.bank_account}' is not a valid Norwegian account "
                    "number (11 digits, MOD11): check the digits"
                )
        if self.country == "SE" and account and len(account) <= 8:
            from stdnum import luhn

            if len(account) < 2 or not luhn.is_valid(account):
                raise ValueError(
                    f"`creditor.bank_account`: '{self.creditor.bank_account}' is not a valid Swedish bankgiro or "
                    "plusgiro number (its last digit is a MOD10 check digit): check the digits"
                )
        return self


def org_no_problem(country: str, org_no: str) -> str | None:
    """Why ``org_no`` is not a valid organisation number of ``country`` (check digit and length), or None."""
    from stdnum.dk import cvr
    from stdnum.no import orgnr
    from stdnum.se import orgnr as se_orgnr

    checker, name = {"NO": (orgnr, "Norwegian organisation number (9 digits, MOD11)"),
                     "DK": (cvr, "Danish CVR number (8 digits, MOD11)"),
                     "SE": (se_orgnr, "Swedish organisation number (10 digits, Luhn)")}[country]  # fmt: skip
    if checker.is_valid(org_no):
        return None
    return f"'{org_no}' is not a valid {name}: check the digits"


# ---- the workbench (`arsync serve`) -----------------------------------------------------------
# Kept here, beside the other settings models, so loading the config needs nothing of the web extra.


class WebUser(_Strict):
    """One person who may log in to the workbench. ``password_hash`` is made by ``arsync users add``."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
    password_hash: str  # argon2 PHC string; the password itself is never in the file
    role: Literal["viewer", "approver"] = "viewer"  # approver: may also approve and reject cases
    clients: list[str] | None = None  # only these client ids; unset = every client
    locale: Language | None = None  # number and date format; unset = [web] locale

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str) -> str:
        if not value.startswith("$argon2"):
            raise ValueError("not an argon2 hash (make one with `arsync users add NAME`)")
        return value


class WebConfig(_Strict):
    host: str = "127.0.0.1"  # any other address than the loopback needs users
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 8765
    locale: Language = "nb"  # number and date format for users without their own
    session_idle_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)] = 60
    session_max_hours: Annotated[StrictInt, Field(ge=1, le=7 * 24)] = 12
    undo_minutes: Annotated[StrictInt, Field(ge=0, le=24 * 60)] = 10  # an approval waits this long before a push
    # Cookies are Secure when a request came over https: set directly, or told by X-Forwarded-Proto from
    # one of trusted_proxies (the TLS proxy's address). secure_cookies = true forces it.
    secure_cookies: StrictBool = False
    trusted_proxies: list[str] = Field(default_factory=list)
    users: list[WebUser] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _unique_names(cls, users: list[WebUser]) -> list[WebUser]:
        names = [u.name.lower() for u in users]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"user name '{twice[0]}' is used twice")
        return users


class Settings(BaseSettings):
    """The whole file. ``ARSYNC_STORE__URL`` in the environment overrides ``[store] url``."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, env_prefix="ARSYNC_", env_nested_delimiter="__")

    store: StoreConfig = Field(default_factory=StoreConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    clients: list[ClientConfig] = Field(default_factory=list)
    web: WebConfig = Field(default_factory=WebConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    source_file: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="before")
    @classmethod
    def _shared_tables(cls, data: Any) -> Any:
        """Hand the top-level [http] and [limits] tables to every client (the sources and readers see
        only their client); a client's own table overrides them key by key."""
        if not isinstance(data, dict) or not isinstance(data.get("clients"), list):
            return data
        data = dict(data)
        clients = [dict(c) if isinstance(c, dict) else c for c in data["clients"]]
        for key, model in (("http", HttpConfig), ("limits", LimitsConfig)):
            shared = data.get(key)
            if isinstance(shared, BaseModel):
                shared = shared.model_dump(exclude_unset=True)
            if not isinstance(shared, dict):
                continue
            try:
                model.model_validate(shared)
            except ValidationError:
                continue  # reported once, at the top-level table, not once per client
            for c in clients:
                if isinstance(c, dict):
                    own = c.get(key)
                    if isinstance(own, BaseModel):
                        own = own.model_dump(exclude_unset=True)
                    c[key] = {**shared, **own} if isinstance(own, dict) else (own if own is not None else shared)
        data["clients"] = clients
        return data

    @field_validator("clients")
    @classmethod
    def _unique_ids(cls, clients: list[ClientConfig]) -> list[ClientConfig]:
        seen: set[str] = set()
        for client in clients:
            if client.id in seen:
                raise ValueError(f"client id '{client.id}' is used twice")
            seen.add(client.id)
        return clients

    @model_validator(mode="after")
    def _user_clients_exist(self) -> Settings:
        known = {c.id for c in self.clients}
        for user in self.web.users:
            unknown = [c for c in user.clients or () if c not in known]
            if unknown:
                raise ValueError(f"web.users: user '{user.name}': no client with id '{unknown[0]}'")
        return self

    def client(self, client_id: str) -> ClientConfig:
        for client in self.clients:
            if client.id == client_id:
                return client
        raise ConfigError([self._unknown(client_id)])

    def select(self, client_ids: Iterable[str]) -> list[ClientConfig]:
        ids = list(client_ids)
        if not ids:
            return list(self.clients)
        unknown = [i for i in ids if i not in {c.id for c in self.clients}]
        if unknown:
            raise ConfigError([self._unknown(i) for i in unknown])
        return [self.client(i) for i in ids]

    def _unknown(self, client_id: str) -> str:
        """A client id no client of the file has (typed on the command line, usually), with the nearest."""
        known = [c.id for c in self.clients]
        near = difflib.get_close_matches(client_id, known, n=1, cutoff=0.6)
        shown = ", ".join(known[:5]) + (f", … {len(known)} in all" if len(known) > 5 else "")
        hint = f"; did you mean '{near[0]}'?" if near else f" (clients: {shown or 'none'})"
        return f"{self.source_file}: no client with id '{client_id}'{hint}"


def locate(explicit: str | os.PathLike[str] | None) -> Path:
    """--config, then $ARSYNC_CONFIG, then ./arsync.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return Path(DEFAULT_CONFIG)


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    """Parse and validate the file. Whether each ladder obeys the law depends on the day, so that check
    runs where the day is known (``connector.dunning.policy.check_policies``)."""
    file = locate(path)
    if not file.is_file():
        raise ConfigError([f"{file}: config file not found (give --config FILE or set {CONFIG_ENV})"])
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: not valid TOML: {exc}"]) from None
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        raise ConfigError(_problems(file, raw, exc)) from None
    return _resolve_paths(settings, file)


def _problems(file: Path, raw: dict[str, Any], exc: ValidationError) -> list[str]:
    """One line per problem: the file, the client, the key (in backticks, as written in the TOML, list
    items as ``[n]``) and what is wrong; an unknown key names the nearest known one."""
    clients: list[Any] = raw["clients"] if isinstance(raw.get("clients"), list) else []
    out = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not str(p).startswith(("function-after", "function-before"))]
        where = ""
        table: list[str] = []
        if len(loc) >= 2 and loc[0] == "clients" and isinstance(loc[1], int):
            entry = clients[loc[1]] if loc[1] < len(clients) else {}
            cid = entry.get("id") if isinstance(entry, dict) else None
            where = f"client '{cid}'" if cid else f"clients[{loc[1]}]"
            loc = loc[2:]
            table = ["clients"]
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            name = str(loc[-1]) if loc else ""
            if loc and _looks_secret(name):
                msg = (
                    "looks like a secret; secrets are never read from the config file — put it in an "
                    f'environment variable and name that with `{name}_env = "VARIABLE"`'
                )
            else:
                known = known_keys([*table, *(str(p) for p in loc[:-1] if not isinstance(p, int))])
                near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                msg += f"; did you mean `{near[0]}`?" if near else " (check the spelling against config.example.toml)"
        if err["type"] == "missing":
            msg = "required key is missing"
        if err["type"] in _WANTED:
            msg = f"must be {_WANTED[err['type']]}, not {_toml(err['input'])}"
            if isinstance(err["input"], str):
                msg += " (written without quotes)"
        parts = [str(file)] + [p for p in (where, f"`{key}`" if key else "") if p]
        out.append(f"{': '.join(parts)}: {msg}")
    return out


# What a strictly typed key takes (``_Strict``), for the line that refuses another kind of value.
_WANTED = {"int_type": "a whole number", "float_type": "a number", "bool_type": "true or false"}


def _toml(value: Any) -> str:
    """A value as the TOML file wrote it (shortened): ``"3"``, ``true``, ``2.5``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "…", ensure_ascii=False)
    return repr(value)[:40]


def known_keys(path: list[str]) -> list[str]:
    """The keys the table at ``path`` (e.g. ``["clients", "policy"]``) accepts."""
    model: Any = Settings
    for part in path:
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(model.model_fields) if hasattr(model, "model_fields") else []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``list[StepConfig]``, ``EmailSettings | None``, …)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _resolve_paths(settings: Settings, file: Path) -> Settings:
    base = file.resolve().parent

    def fix(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p)

    clients = []
    for c in settings.clients:
        collection = c.collection.model_copy(update={"path": fix(c.collection.path)})
        reminders_path = fix(c.reminders.path)
        if reminders_path is None and collection.path is not None:
            reminders_path = collection.path.parent / "reminders"
        # A charge a letter made must be booked somewhere: beside the outboxes, else beside the config file.
        bookings_path = fix(c.bookings.path)
        if bookings_path is None:
            outbox = collection.path or reminders_path
            bookings_path = outbox.parent / "bookings" if outbox is not None else base / "bookings" / c.id
        clients.append(
            c.model_copy(
                update={
                    "ledger": c.ledger.model_copy(update={"path": fix(c.ledger.path)}),
                    "bank": [b.model_copy(update={"path": fix(b.path)}) for b in c.bank],
                    "collection": collection,
                    "reminders": c.reminders.model_copy(
                        update={"path": reminders_path, "letter_templates": fix(c.reminders.letter_templates)}
                    ),
                    "bookings": c.bookings.model_copy(update={"path": bookings_path}),
                    "registry": c.registry.model_copy(update={"credit_thresholds": fix(c.registry.credit_thresholds)}),
                }
            )
        )
    url = settings.store.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        url = prefix + str(base / url[len(prefix) :])
    return settings.model_copy(update={"clients": clients, "store": StoreConfig(url=url), "source_file": file})


def secret(env_name: str) -> str:
    """The value of a secret named by an ``*_env`` key: the environment, then $ARSYNC_SECRETS_DIR/NAME."""
    value = os.environ.get(env_name)
    if value:
        return value
    secrets_dir = os.environ.get(SECRETS_DIR_ENV)
    if secrets_dir:
        candidate = Path(secrets_dir) / env_name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").strip()
    raise ConfigError([f"secret {env_name} is not set (environment variable or file in ${SECRETS_DIR_ENV})"])


def secret_keys(client: ClientConfig) -> list[tuple[str, str]]:
    """Every secret the client's config names: (the key with its table, e.g. ``ledger.token_env``, the
    variable name). ``arsync check`` and a sync name all of the missing ones, not the first."""
    tables: list[tuple[str, BaseModel | None]] = [
        ("ledger", client.ledger),
        ("collection", client.collection),
        ("reminders.email", client.reminders.email),
        ("reminders.tripletex", client.reminders.tripletex),
    ]
    out = []
    for prefix, table in tables:
        if table is None:
            continue
        for key in type(table).model_fields:
            value = getattr(table, key)
            if key.endswith("_env") and isinstance(value, str) and value:
                out.append((f"{prefix}.{key}", value))
    return out


def secret_is_set(env_name: str) -> bool:
    try:
        secret(env_name)
    except ConfigError:
        return False
    return True


def missing_secrets(client: ClientConfig, prefix: str | None = None) -> list[tuple[str, str]]:
    """The client's secrets (under ``prefix``, e.g. "ledger.") that are neither in the environment nor in
    $ARSYNC_SECRETS_DIR."""
    return [(k, v) for k, v in secret_keys(client) if (prefix is None or k.startswith(prefix)) and not secret_is_set(v)]


def missing_secrets_message(missing: list[tuple[str, str]]) -> str:
    names = ", ".join(f"{v} (`{k}`)" for k, v in missing)
    return (
        f"secret{'s' if len(missing) > 1 else ''} not set: {names}; export the variable or put a file of that "
        f"name in ${SECRETS_DIR_ENV}"
    )
