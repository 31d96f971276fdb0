"""The canonical domain: a small set of immutable facts and the decision computed from them — every type the
pure core (``connector.reconcile``, ``connector.dunning``) consumes and returns, ``Facts`` included.

Invariants (every source, reader and store function keeps them):
- money is ``Decimal`` and always travels with its ISO 4217 currency; never float;
- dates are ``datetime.date``; only sync bookkeeping uses timestamps;
- document amounts are positive; a document's ``kind`` says whether it raises or lowers what is owed
  (a negative invoice is normalised to a credit note by the readers);
- every fact is keyed by ``client_id`` plus a natural key from its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol, SupportsIndex, TypeVar

from connector.frozen import fast_init

_T = TypeVar("_T")

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Quantize to øre/cents, half up as invoices and interest are rounded in practice (EN 16931 and the
    accounting systems round 0.005 up, not to even); refuse floats so binary fractions never enter."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _pickled_by_fields(cls: type[_T]) -> type[_T]:
    """Pickle as a call of the constructor with the fields: about half the cost of the dataclass default
    (state set field by field), which counts when a slice process sends back 100,000 decisions
    (``connector.engine.slices``) and a reading helper a folder's invoices (``connector.forked``: 9 → 3 µs an
    invoice). Every field must be a positional ``__init__`` argument; a subclass
    pickles the default way."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if any(not f.init or f.kw_only for f in fields(cls)):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__}: every field must be a positional __init__ argument to pickle by fields")
    get = attrgetter(*names)

    def reduce_ex(self: Any, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        if type(self) is not cls:
            return object.__reduce_ex__(self, protocol)
        return cls, get(self)

    cls.__reduce_ex__ = reduce_ex  # type: ignore[method-assign]
    return cls


class DocKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class AllocationTier(StrEnum):
    """Why money was applied to an invoice (../shared/research/payments-reconciliation.md §7); also the
    evidence kind a decision shows for it."""

    LEDGER = "ledger"  # the accounting system booked the payment against the invoice
    CREDIT_NOTE = "credit_note"  # a credit note applied to an invoice it names (or netted in a payment)
    KID = "kid"  # the payment's structured reference (KID/RF/FIK) is the invoice's
    REFERENCE_TEXT = "reference_text"  # a KID written in the free text, and the amount agrees
    INVOICE_NUMBER = "invoice_number"  # the invoice number in the free text, and the amount agrees
    PAYER_AMOUNT = "payer_amount"  # the payer's customer has exactly one open item of the amount
    SUBSET_SUM = "subset_sum"  # … exactly one combination of open items and credit notes of the amount
    REVERSAL = "reversal"  # money taken back (a negative allocation)
    LEDGER_BALANCE = "ledger_balance"  # the ledger reports less outstanding than the payments we hold


class PaymentStatus(StrEnum):
    BOOKED = "booked"
    PENDING = "pending"  # camt.052 / PDNG / INFO: may hold a reminder, never settles an invoice


class PaymentSource(StrEnum):
    """Where a payment fact comes from: a bank file, or the ledger system that booked it against an invoice.
    A StrEnum, so values stored as text compare equal to it."""

    CAMT = "camt"  # ISO 20022 camt.052 / 053 / 054
    OCR = "ocr"  # Nets OCR giro
    TRIPLETEX = "tripletex"
    FIKEN = "fiken"
    POWEROFFICE = "poweroffice"
    ECONOMIC = "economic"


BANK_PAYMENT_SOURCES = frozenset({PaymentSource.CAMT, PaymentSource.OCR})


class DisputeSource(StrEnum):
    """Who opened a dispute."""

    MANUAL = "manual"  # the accountant (`arsync disputes open`)
    INVOICE_RESPONSE = "invoice_response"  # the buyer's Invoice Response UQ / RE
    SHORT_PAYMENT = "short_payment"  # a short payment after the buyer complained (connector.dunning.flag)
    PROVIDER = "provider"  # the inkasso provider reported the debtor disputes


class Hold(StrEnum):
    """The hold vocabulary of PRODUCT.md. Order here is the order holds are listed in output."""

    NOT_DUE = "not_due"
    DISPUTED = "disputed"
    BUYER_REPORTS_PAID = "buyer_reports_paid"
    PAYMENT_PENDING = "payment_pending"
    UNALLOCATED_CREDIT = "unallocated_credit"
    BANK_DATA_STALE = "bank_data_stale"
    LEDGER_STALE = "ledger_stale"
    NOT_DELIVERED = "not_delivered"
    AGREEMENT = "agreement"
    DEBTOR_INSOLVENT = "debtor_insolvent"
    BELOW_MINIMUM = "below_minimum"
    EXCLUDED = "excluded"
    FACTORED = "factored"
    WAIT_INTERVAL = "wait_interval"
    AWAITING_APPROVAL = "awaiting_approval"
    IN_COLLECTION = "in_collection"
    PARTLY_PAID = "partly_paid"  # policy partial_payment = "review", or a deduction/complaint in the payment text
    UNREADABLE_DOCUMENT = "unreadable_document"  # a ledger file that could change this invoice cannot be read
    INVOICE_DEFECT = "invoice_defect"  # the invoice itself is not fit to remind on (step 1 of the playbook)
    CONFLICTING_DOCUMENT = "conflicting_document"  # one number, two contents (last in PRODUCT.md too)


class State(StrEnum):
    SETTLED = "settled"
    NOT_DUE = "not_due"
    OVERDUE = "overdue"
    DISPUTED = "disputed"
    IN_COLLECTION = "in_collection"


class Action(StrEnum):
    NONE = "none"
    REMINDER = "reminder"
    CALL = "call"  # the customer goes on the call list (step 3 of the playbook), no letter
    COLLECTION_NOTICE = "collection_notice"
    COLLECTION_CASE = "collection_case"
    REVIEW = "review"
    HOLD = "hold"


# The ladder steps an invoice walks up, in order. A step is also an Action.
STEPS: tuple[Action, ...] = (Action.REMINDER, Action.CALL, Action.COLLECTION_NOTICE, Action.COLLECTION_CASE)


class CaseStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUSHED = "pushed"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


@_pickled_by_fields
@fast_init
@dataclass(frozen=True, slots=True)
class Customer:
    client_id: str
    customer_id: str  # stable id from the source: org no for EHF, the system's id for APIs
    name: str
    org_no: str | None = None
    country: str | None = None
    email: str | None = None
    address: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    is_person: bool = False
    phone: str | None = None  # for the call list (issue 15)
    contact: str | None = None  # the person at the customer to ask for (letters' "Att.", the call list)


@_pickled_by_fields
@fast_init
@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice or a credit note as issued by the client (the creditor)."""

    client_id: str
    number: str
    kind: DocKind
    customer_id: str
    issue_date: date
    due_date: date | None
    currency: str
    amount: Decimal  # payable amount at issue (BT-115), positive for both kinds
    source: str  # "ehf", "tripletex", …
    kid: str | None = None  # structured payment reference (KID / RF / FIK)
    credits: tuple[str, ...] = ()  # invoice numbers a credit note corrects (BT-25)
    order_ref: str | None = None
    type_code: str | None = None
    factored: bool = False  # payable to someone else (type 393/396 or a different payee)
    # "direct_debit" or "card": the creditor collects the money itself, so there is nothing to dun
    # until that collection has visibly failed (research ehf-peppol §2, BG-18/BG-19).
    collection_method: str | None = None
    ledger_open_amount: Decimal | None = None  # outstanding as the accounting system reports it
    source_ref: str | None = None  # file name or API id, for evidence
    # When the goods or services were delivered (EHF BT-72, else the invoice period's end): read by the
    # advice report only ("days from delivery to invoice"); None when the source does not say.
    delivery_date: date | None = None
    payee_account: str | None = None  # the account the invoice asks to be paid to (BT-84), when it names one


@dataclass(frozen=True, slots=True)
class Attachment:
    client_id: str
    invoice_number: str
    filename: str
    mime_type: str
    content: bytes
    source_ref: str | None = None  # the document it came with (file name), when a source knows it


@fast_init
@dataclass(frozen=True, slots=True)
class Payment:
    """Money in (or, with ``reversal``, money taken back), from the bank or the ledger."""

    client_id: str
    source: PaymentSource  # a bank format, or the ledger system that booked it
    account: str  # creditor account the money arrived on ("" for ledger payments)
    bank_ref: str  # AcctSvcrRef / NtryRef / the ledger's payment id
    ordinal: int  # position of the transaction within its entry (batch entries have several)
    booking_date: date
    amount: Decimal  # positive
    currency: str
    status: PaymentStatus = PaymentStatus.BOOKED
    value_date: date | None = None
    structured_ref: str | None = None  # CdtrRefInf/Ref: KID, RF, FIK
    ref_type: str | None = None
    free_text: str = ""
    payer_name: str | None = None
    payer_account: str | None = None
    payer_org_id: str | None = None
    reversal: bool = False
    invoice_number: str | None = None  # ledger payments already say which invoice they settle
    end_to_end_id: str | None = None  # camt Refs/EndToEndId (evidence only; unique per initiator, not per bank)
    return_reason: str | None = None  # camt RtrInf/Rsn: why the bank sent the money back
    # ``key``, computed on first use and kept (matching asks for it several times per payment).
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """Natural key: the same money in camt.052/053/054 yields the same key (never date+amount+name)."""
        key = self._key
        if key is None:
            key = f"{self.source}|{self.account}|{self.bank_ref}|{self.ordinal}|{self.booking_date.isoformat()}"
            object.__setattr__(self, "_key", key)
        return key


class PaymentView(Protocol):
    """The attributes of a payment matching, routing and deduplication read: a ``Payment``, or the store's
    lighter ``RoutingRow`` (a million of them are read once to route a very large client)."""

    @property
    def key(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def bank_ref(self) -> str: ...
    @property
    def ordinal(self) -> int: ...
    @property
    def booking_date(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def status(self) -> PaymentStatus: ...
    @property
    def structured_ref(self) -> str | None: ...
    @property
    def free_text(self) -> str: ...
    @property
    def payer_name(self) -> str | None: ...
    @property
    def payer_account(self) -> str | None: ...
    @property
    def payer_org_id(self) -> str | None: ...
    @property
    def reversal(self) -> bool: ...
    @property
    def invoice_number(self) -> str | None: ...


@fast_init
@dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a payment or credit note applied to an invoice, with why we believe it."""

    invoice_number: str
    amount: Decimal
    currency: str
    tier: AllocationTier
    source_key: str  # payment key or credit note number
    evidence: str


@dataclass(frozen=True, slots=True)
class Dispute:
    client_id: str
    invoice_number: str
    dispute_id: str
    opened_on: date
    reason: str
    source: DisputeSource
    resolved_on: date | None = None
    resolution: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None


@dataclass(frozen=True, slots=True)
class Agreement:
    """A promise to pay or an instalment plan, as the accountant recorded it.

    ``plan_id`` set: one row of a plan made on a call that covers several invoices of the customer; the plan
    is judged as a whole (``amounts``, one per due date, against all money applied to its invoices), never
    invoice by invoice, so an instalment paid with one invoice's KID keeps the plan for all of them."""

    client_id: str
    invoice_number: str
    agreement_id: str
    created_on: date
    due_dates: tuple[date, ...]
    note: str = ""
    cancelled_on: date | None = None
    plan_id: str | None = None
    amounts: tuple[Decimal, ...] = ()  # per due date, for the whole plan (plan agreements only)

    @property
    def key(self) -> str:
        """What one agreement is, for its follow-up letter and its checks: the plan, or the row itself."""
        return self.plan_id or self.agreement_id


class CallOutcome(StrEnum):
    """How a call to a customer ended (``arsync calls log --outcome``)."""

    PROMISE = "promise"  # a promise to pay by a date: an agreement
    INSTALMENTS = "instalments"  # an instalment plan: an agreement
    DISPUTE = "dispute"  # the customer disputes: a dispute on each invoice discussed
    NO_ANSWER = "no_answer"  # back on the call list after call_retry_days; after call_attempts the ladder goes on
    WRONG_NUMBER = "wrong_number"  # a review item (invoice_defect) until the number is fixed


@dataclass(frozen=True, slots=True)
class Call:
    """One call to a customer, as the accountant logged it (append-only)."""

    client_id: str
    call_id: str
    customer_id: str
    called_on: date
    outcome: CallOutcome
    phone: str = ""  # the number dialled
    contact: str = ""  # the person spoken to
    promise_date: date | None = None
    instalment_dates: tuple[date, ...] = ()
    reason: str = ""  # a dispute's reason
    notes: str = ""
    invoices: tuple[str, ...] = ()  # the open invoices the call was about
    agreement_id: str | None = None  # the plan it made (promise / instalments)
    by: str = ""  # who logged it


@fast_init
@dataclass(frozen=True, slots=True)
class DunningStep:
    """A step already taken on an invoice (append-only): by arsync, or found in the ledger."""

    client_id: str
    invoice_number: str
    step: Action
    sent_on: date
    channel: str
    fee: Decimal = ZERO
    currency: str = ""
    detail: str = ""


SELF_BOOKING_CHANNELS = ("tripletex",)  # the ledger's own reminder function charges a step's fee and books it


@dataclass(frozen=True, slots=True)
class LetterCharge:
    """A reminder fee or late interest a letter charged on an invoice (``fee_bookings``): a debtor who pays
    what the letter asked pays it too, so money beyond the invoice up to it is no credit to hold for."""

    client_id: str
    invoice_number: str
    step: Action  # with ``charged_on``: the letter's step, which must still stand (a voided letter charged nothing)
    charged_on: date
    kind: str  # fee, interest
    amount: Decimal
    currency: str


@_pickled_by_fields
@fast_init
@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact a decision rests on, readable by an accountant."""

    kind: str  # "invoice", "payment", "credit_note", "dispute", "hold", "step", "case", …
    detail: str
    ref: str | None = None
    amount: Decimal | None = None
    on: date | None = None

    def as_json(self) -> dict[str, str]:
        out = {"kind": self.kind, "detail": self.detail}
        if self.ref is not None:
            out["ref"] = self.ref
        if self.amount is not None:
            out["amount"] = str(self.amount)
        if self.on is not None:
            out["date"] = self.on.isoformat()
        return out


@_pickled_by_fields
@fast_init
@dataclass(frozen=True, slots=True)
class Decision:
    client_id: str
    invoice_number: str
    customer_id: str
    currency: str
    amount: Decimal
    open_amount: Decimal
    due_date: date | None
    state: State
    action: Action
    holds: tuple[Hold, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    next_step: Action | None = None  # the ladder step the holds are blocking, if any

    def as_json(self) -> dict[str, object]:
        return {
            "client": self.client_id,
            "invoice": self.invoice_number,
            "customer": self.customer_id,
            "currency": self.currency,
            "amount": str(self.amount),
            "open_amount": str(self.open_amount),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "state": str(self.state),
            "action": str(self.action),
            "holds": [str(h) for h in self.holds],
            "evidence": [e.as_json() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class Case:
    """A collection case for one invoice; its history lives in append-only case events."""

    case_id: str
    client_id: str
    invoice_number: str
    customer_id: str
    currency: str
    amount: Decimal
    open_amount: Decimal
    status: CaseStatus
    created_on: date
    note: str = ""
    provider_ref: str | None = None
    events: tuple[CaseEvent, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CaseEvent:
    case_id: str
    status: CaseStatus
    on: date
    note: str = ""
    push_after: datetime | None = None  # an approval's undo window ends then (connector.collection.approval)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """The accountant took an invoice, or every invoice of a customer, out of dunning (until a day)."""

    client_id: str
    exclusion_id: str
    invoice_number: str | None  # one of invoice_number / customer_id is set
    customer_id: str | None
    created_on: date
    until: date | None  # the last day, inclusive, as given; None: until ended
    reason: str
    # Ended by hand: dunning resumes that day (exclusive, like Agreement.cancelled_on), never before
    # created_on; ended on its first day (== created_on) it is never in force. None: not ended.
    ended_on: date | None = None

    def in_force(self, on: date) -> bool:
        """It holds on ``on``: the one definition, for the hold rules (``covers``) and every list alike."""
        return self.created_on <= on and not self.is_over(on)

    def is_over(self, on: date) -> bool:
        """It holds on no day from ``on`` on: past its last day, or ended by hand (ended on its first day, it
        never holds at all)."""
        first = max(on, self.created_on)  # the first day from ``on`` on it could hold
        return (self.until is not None and self.until < first) or (self.ended_on is not None and self.ended_on <= first)

    def covers(self, invoice_number: str, customer_id: str, on: date) -> bool:
        if not self.in_force(on):
            return False
        return self.invoice_number == invoice_number or self.customer_id == customer_id


@dataclass(frozen=True, slots=True)
class RegistryFact:
    """What a business register said about a debtor, and when (cached; never guessed)."""

    register: str  # "brreg"
    org_no: str
    fetched_at: datetime
    ok: bool  # False: the lookup failed (outage, timeout, 5xx) — insolvency cannot be ruled out
    insolvent: bool = False
    status: str = ""  # "active", "konkurs", "under_avvikling", "deleted", "not_found", "error"
    detail: str = ""
    name: str | None = None


# ---- e-invoice status facts ------------------------------------------------------------------------
#
# Invoice Responses (T111), MLR (T71), MLS and the SBDH envelopes of sent invoices, as stored facts. The
# readers (``connector.sources.ehf``) make them, the store links them to invoices, and the core folds them
# into holds (``connector.dunning.documents``).


class DocumentEventKind(StrEnum):
    INVOICE_RESPONSE = "invoice_response"
    MLR = "mlr"
    MLS = "mls"
    ENVELOPE = "envelope"  # an invoice we sent in an SBDH: maps the InstanceIdentifier to the invoice number


INVOICE_RESPONSE = DocumentEventKind.INVOICE_RESPONSE
MLR = DocumentEventKind.MLR
MLS = DocumentEventKind.MLS
ENVELOPE = DocumentEventKind.ENVELOPE

DISPUTE_CODES = frozenset({"UQ", "RE"})  # a T111 with one of these is a Dispute fact, held by the dispute rule
# A later T111 at one of these closes a UQ query (RE is final: a person decides).
QUERY_CLOSED_BY = frozenset({"CA", "AP", "PD"})


@dataclass(frozen=True)
class DocumentEvent:
    """One stored status fact about a document; ``invoice_number`` is None while the reference is unknown."""

    client_id: str
    event_key: str  # natural key: kind | sender | response id (envelope: instance id)
    kind: DocumentEventKind
    code: str  # UNCL4343 (AB IP UQ CA RE AP PD) or "SENT" for an envelope
    issued_on: date
    ref_id: str | None  # T111: invoice number; MLR/MLS/envelope: SBDH InstanceIdentifier
    ref_type_code: str | None = None
    invoice_number: str | None = None
    issue_time: str | None = None
    effective_date: date | None = None
    reason_codes: tuple[str, ...] = ()
    action_codes: tuple[str, ...] = ()
    text: str = ""
    conditions: tuple[tuple[str, str], ...] = ()
    source_ref: str | None = None  # file name
    detail: str = ""  # e.g. why the event is not linked

    @property
    def order(self) -> tuple[date, str, str]:
        return (self.issued_on, self.issue_time or "", self.event_key)

    @property
    def new_due_date(self) -> date | None:
        for bt, value in self.conditions:
            if bt.strip().upper() == "BT-9":
                try:
                    return date.fromisoformat(value.strip()[:10])
                except ValueError:
                    return None
        return None

    def describe(self) -> str:
        if self.kind == ENVELOPE:  # not a response: the SBDH envelope the invoice went out in
            return f"sent by Peppol in envelope {self.ref_id}" if self.ref_id else "sent by Peppol"
        what = {INVOICE_RESPONSE: "Invoice Response", MLR: "MLR", MLS: "MLS"}.get(self.kind, self.kind)
        codes = "/".join((*self.reason_codes, *self.action_codes))
        parts = [f"{what} {self.code}", f"({codes})" if codes else "", self.text]
        return " ".join(p for p in parts if p)


# ---- files that could not be read, and the accountant's checks ----------------------------------------


class FileRole(StrEnum):
    LEDGER = "ledger"  # a ledger document (EHF/PEPPOL folder)
    BANK = "bank"  # a bank file (camt, OCR giro)


@dataclass(frozen=True, slots=True)
class Salvaged:
    """What a recovery parse could still read from a ledger file that does not read (each part may be missing).

    ``kind``: ``invoice`` only when the file is clearly an invoice (an invoice type code such as 380, not a
    reminder or payment request, not negative): it cannot settle another invoice. Otherwise ``credit_note``,
    ``invoice_response``, ``mlr``, ``mls``, ``reminder`` or ``unknown``."""

    kind: str = "unknown"
    type_code: str | None = None
    number: str | None = None
    buyer_ids: tuple[str, ...] = ()  # endpoint, org and VAT ids of the buyer (a response: of its sender)
    buyer_name: str | None = None
    refs: tuple[str, ...] = ()  # invoice numbers it names (MLR/MLS: SBDH instance ids)


@dataclass(frozen=True, slots=True)
class UnreadableFile:
    """A file the last sync of its source could not read, or refused (hostile, too large, a link out of the
    folder). It is re-read every sync until it reads, and held on until then or until it is quarantined."""

    client_id: str
    source: str  # the sync source: "ledger" or the bank feed's name
    role: FileRole
    path: str  # folder / name, as the config names the folder
    name: str
    file_hash: str
    error: str
    first_seen: date
    salvaged: Salvaged | None = None  # ledger files only
    quarantined: str | None = None  # who, when and why, while the accountant has taken it out of consideration


@dataclass(frozen=True, slots=True)
class InvoiceCheck:
    """The accountant checked an invoice by hand (``arsync invoices confirm``): it is fit to remind on."""

    client_id: str
    invoice_number: str
    checked_on: date
    by: str
    note: str


# ---- documents that contradict each other, stored rows that do not read (issue 13) ----------------


@dataclass(frozen=True, slots=True)
class DocumentConflict:
    """Two documents carry one number with different content (amount, customer, currency, due date …).
    The first is kept as the invoice; the other is refused and named; the invoice is held until a person
    resolves it (the other file removed or quarantined)."""

    client_id: str
    kind: DocKind
    number: str
    kept_ref: str | None  # the document kept (file name or the ledger's id)
    other_ref: str  # the document refused
    differences: str  # "amount 1000.00 / 1200.00; customer c1 / c2"
    found_on: date
    credits: tuple[str, ...] = ()  # a credit note's: the invoices either version credits (held too)

    def describe(self) -> str:
        kept = self.kept_ref or "the stored document"
        return (
            f"{self.kind.value.replace('_', ' ')} {self.number}: {self.other_ref} carries the number with other "
            f"content than {kept} ({self.differences}); {kept} is kept"
        )


@dataclass(frozen=True, slots=True)
class UnreadableRow:
    """A stored row that cannot be read (a value no type accepts): skipped when reading, named, and what it
    could have changed is held."""

    table: str
    key: str  # the row's key, e.g. "kind=invoice, number=1001"
    column: str
    problem: str
    invoice_number: str | None = None  # the invoice it concerns, when that much is readable
    customer_id: str | None = None

    def describe(self) -> str:
        return f"stored {self.table} row ({self.key}) cannot be read: {self.column}: {self.problem}"


# ---- the core's input ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    """How fresh one source of a client is: the staleness holds are decided from it."""

    source: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    data_through: date | None
    cursor: dict[str, Any] | None


@dataclass(frozen=True)
class Facts:
    """Everything the pure core needs about one client (or one slice of its customers), read in one go."""

    client_id: str
    customers: dict[str, Customer]
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...]
    disputes: tuple[Dispute, ...]
    agreements: tuple[Agreement, ...]
    steps: tuple[DunningStep, ...]
    cases: tuple[Case, ...]
    sync: dict[str, SyncStatus] = field(default_factory=dict)
    document_events: tuple[DocumentEvent, ...] = ()  # e-invoice responses and delivery statuses (issue 3)
    exclusions: tuple[Exclusion, ...] = ()  # the accountant's exclusions from dunning (issue 6)
    registry: dict[str, RegistryFact] = field(default_factory=dict)  # org no → cached register answer (issue 6)
    unreadable: tuple[UnreadableFile, ...] = ()  # files the last syncs could not read (issue 14)
    checks: tuple[InvoiceCheck, ...] = ()  # invoices the accountant confirmed by hand (issue 14)
    conflicts: tuple[DocumentConflict, ...] = ()  # open conflicts between documents of one number (issue 13)
    unreadable_rows: tuple[UnreadableRow, ...] = ()  # stored rows skipped because they cannot be read (issue 13)
    calls: tuple[Call, ...] = ()  # calls to customers, in the order made (issue 15)
    charges: tuple[LetterCharge, ...] = ()  # fees and interest arsync's letters charged (issue 16)


@dataclass(frozen=True)
class InvoiceAfresh:
    """One invoice as the store has it now, matched and decided afresh: what the collection step checks a
    case against before it leaves for the provider, and follows it up with (connector.engine.afresh reads
    it from the slice that holds the invoice's customer, so a very large client is never read whole)."""

    decision: Decision | None
    invoice: Invoice | None  # the invoice itself (kind invoice), None when the store no longer has it
    customer: Customer | None
    steps: tuple[DunningStep, ...]  # the dunning steps taken on it
    allocations: tuple[Allocation, ...]  # what was applied to it, and why
    open_amount: Decimal | None
    payments: dict[str, Payment]  # the payments among ``allocations``, by key
    credit_notes: dict[str, Invoice]  # the credit notes among ``allocations``, by number
