"""The one candidate index: for a payment, the invoices (or customers) it may pay and the evidence (pure).

The matcher (``connector.reconcile.matching``) allocates amounts among these candidates; the router
(``connector.reconcile.routing``) maps the same candidates to customers to cut a very large client into
slices. Both ask this index, so what a sliced run matches where is what the whole-client match finds.
``candidates`` looks, in the order the matcher trusts the evidence (../shared/research/payments-reconciliation.md §7):

- ``LEDGER``: a ledger payment names its invoice;
- ``NOTHING``: a 0.00 entry (fee correction, notice) carries no money to place;
- ``REVERSAL``: money taken back re-opens the one invoice its reference, else its free text, names
  (none: the matcher looks for the payment it takes back);
- ``UNPLACED``: routing already found nothing for it in the whole client (a slice of a sliced run);
- ``REFERENCE``: its structured reference (KID/RF/FIK, per the client's schemes) is that of invoices in
  its currency;
- ``INKASSO``: a debt collector's payout (a configured payer, or a collector's name): no customer's book;
- ``TEXT``: KIDs and invoice numbers written in the free text (whole tokens), one at least in its currency;
- ``PAYER``: none of these: ``payers`` names the customers its payer account or org id belongs to, once
  every payment has taught (``learn``) which customer a payer account is.

Sized for a million invoices: a key's one invoice or customer is kept as the bare string (a list or set
only where shared), an invoice's currency only where it is not the client's usual one, and the last
structured reference classified is remembered (learning then matching or routing one payment asks twice).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import NamedTuple

from connector.model import ZERO, AllocationTier, PaymentStatus, PaymentView
from connector.reconcile.book import Multi, cents
from connector.reconcile.text import invoice_key, tokens
from connector.references import KID_SCHEMES, classify, kids_in_text, normalise

BANK_SOURCES = frozenset({"camt", "ocr"})
# Payer names of Nordic debt collectors: their payouts are collected money, not a debtor's payment.
INKASSO_WORDS = frozenset(
    {"inkasso", "intrum", "kredinor", "lowell", "sergel", "kravia", "amili", "collectia", "modhi", "conecto"}
)
WORD = re.compile(r"[a-zæøå]+")


class Found(StrEnum):
    """What the index found for a payment (see the module doc for the order)."""

    LEDGER = "ledger"
    NOTHING = "nothing"
    REVERSAL = "reversal"
    UNPLACED = "unplaced"
    REFERENCE = "reference"
    INKASSO = "inkasso"
    TEXT = "text"
    PAYER = "payer"


# The members by plain name: looked up on its class, an enum member goes through EnumType.__getattr__ (about
# four times a plain attribute's cost on Python 3.11), and matching and routing compare one per payment.
LEDGER, NOTHING, REVERSAL, UNPLACED = Found.LEDGER, Found.NOTHING, Found.REVERSAL, Found.UNPLACED
REFERENCE, INKASSO, TEXT, PAYER = Found.REFERENCE, Found.INKASSO, Found.TEXT, Found.PAYER
_BOOKED = PaymentStatus.BOOKED


class Candidates(NamedTuple):
    found: Found
    numbers: Sequence[str]  # the invoices it may pay: REFERENCE/TEXT in its currency; REVERSAL the one it re-opens
    named: Sequence[str]  # every invoice the evidence names (TEXT: of any currency; each is in the reason)
    reason: str  # the evidence as an accountant reads it ("" where there is none)

    @property
    def tier(self) -> AllocationTier | None:
        """The tier an allocation to these candidates is made under; None where the amounts decide (PAYER:
        payer_amount or subset_sum) or nothing is allocated."""
        found = self.found
        if found is TEXT:
            return AllocationTier.REFERENCE_TEXT if self.reason.startswith("KID") else AllocationTier.INVOICE_NUMBER
        return _TIERS.get(found)


_TIERS = {
    Found.LEDGER: AllocationTier.LEDGER,
    Found.REFERENCE: AllocationTier.KID,
    Found.REVERSAL: AllocationTier.REVERSAL,
}
# One Candidates is made per payment: without NamedTuple's Python-level __new__ it costs a plain tuple's.
_new = tuple.__new__
_NOTHING = Candidates(Found.NOTHING, (), (), "")
_UNPLACED = Candidates(Found.UNPLACED, (), (), "")
_INKASSO = Candidates(Found.INKASSO, (), (), "")
_PAYER = Candidates(Found.PAYER, (), (), "")
_UNKNOWN_INVOICE = Candidates(Found.LEDGER, (), (), "")
_NO_REFERENCE: tuple[str | None, Sequence[str]] = (None, ())
_NOT_IN_TEXT: tuple[Sequence[str], str] = ((), "")


class CandidateIndex:
    """Built from the client's receivables (number, customer, currency, reference: fed in document order,
    issue date then number), its customers' org ids and payer accounts known before; then asked."""

    def __init__(
        self,
        kid_schemes: Collection[str] = KID_SCHEMES,
        inkasso_payers: Collection[str] = (),
        payer_accounts: Mapping[str, Collection[str]] | None = None,
        unplaced: Collection[str] = (),
    ):
        self.kid_schemes = kid_schemes
        self.inkasso_payers = {plain_account(x) for x in inkasso_payers}
        # keys of payments routing found no invoice, reference or payer for in the whole client: a slice of a
        # sliced run skips their look-ups (each slice would find nothing either)
        self.unplaced = unplaced
        self.owner: dict[str, str] = {}  # invoice number → customer
        self.currency: dict[str, str] = {}  # invoice number → currency, only where not the client's usual one
        self.usual_currency = ""
        self.by_ref: dict[str, str | list[str]] = {}  # reference → its invoice (a list only when shared)
        # invoice key → number (the last in document order wins), stored only where the key is not the number
        # itself or another number took it first: text tokens are keys, so a token that is a number finds it
        self.by_number: dict[str, str] = {}
        self.by_org: Multi[str] = Multi()  # org id digits → customers
        self.by_payer: Multi[str] = Multi()  # plain payer account → customers
        # pairs of customers whose invoices share a reference or a number's key (INV-1 / inv-1): a look-up of
        # that reference or token answers for both, so a sliced run matches them in one slice
        self.together: list[tuple[str, str]] = []
        self._ref_of: str | None = None  # the structured reference classified last …
        self._ref = _NO_REFERENCE  # … its scheme and invoices
        for account, owners in (payer_accounts or {}).items():
            plain = plain_account(account)
            for owner in owners:
                self.by_payer.add(plain, owner)

    # -- building -------------------------------------------------------------------------------

    def add_invoice(self, number: str, customer_id: str, currency: str, kid: str | None) -> None:
        """One receivable (kind invoice), in document order: for numbers that differ only in case or spaces,
        the last one in that order answers a text token."""
        if self._ref_of is not None:  # (the index is built before it is asked: this is for safety)
            self._ref_of, self._ref = None, _NO_REFERENCE
        self.owner[number] = customer_id
        if not self.usual_currency:
            self.usual_currency = currency
        if currency != self.usual_currency:
            self.currency[number] = currency
        ref = normalise(kid)
        if ref:
            seen = self.by_ref.get(ref)
            if seen is None:
                self.by_ref[ref] = number
            elif isinstance(seen, str):
                self._together(seen, customer_id)
                self.by_ref[ref] = [seen, number]
            else:
                self._together(seen[-1], customer_id)
                seen.append(number)
        key = invoice_key(number)
        if key != number or key in self.by_number:
            before = self.by_number.get(key) or (key if key != number and key in self.owner else None)
            if before is not None:
                self._together(before, customer_id)
            self.by_number[key] = number

    def _together(self, number: str, customer_id: str) -> None:
        if self.owner[number] != customer_id:
            self.together.append((self.owner[number], customer_id))

    def add_customer(self, customer_id: str, org_no: str | None) -> None:
        if org_no:
            self.by_org.add(org_digits(org_no), customer_id)

    def learn(self, p: PaymentView) -> None:
        """Payer account → customer, from a booked bank credit whose reference alone proves the customer."""
        if not p.payer_account or not p.structured_ref or p.reversal or p.status is not _BOOKED:
            return
        if p.source not in BANK_SOURCES and p.invoice_number:
            return
        numbers = self.by_reference(p.structured_ref)[1]
        if not numbers:
            return
        owner = self.owner[numbers[0]]
        if len(numbers) > 1 and any(self.owner[n] != owner for n in numbers):
            return
        self.by_payer.add(plain_account(p.payer_account), owner)

    # -- looking up -----------------------------------------------------------------------------

    def candidates(self, p: PaymentView) -> Candidates:
        """What ``p`` may pay, by the strongest evidence it carries (the module doc lists the order)."""
        if p.source not in BANK_SOURCES and p.invoice_number:
            number = p.invoice_number
            if number not in self.owner:
                return _UNKNOWN_INVOICE
            one = (number,)
            return _new(Candidates, (LEDGER, one, one, f"booked in the ledger against invoice {number}"))
        if p.amount <= ZERO:
            return _NOTHING
        if p.reversal:
            numbers = self.by_reference(p.structured_ref)[1]
            if len(numbers) != 1:
                numbers = self.in_text(p.free_text)[0]
            return _new(Candidates, (REVERSAL, numbers if len(numbers) == 1 else (), numbers, ""))
        if self.unplaced and p.key in self.unplaced:
            return _UNPLACED
        scheme, numbers = self.by_reference(p.structured_ref)
        if numbers:
            currency, usual, currencies = p.currency, self.usual_currency, self.currency
            if len(numbers) != 1 or currencies.get(numbers[0], usual) != currency:
                numbers = [n for n in numbers if currencies.get(n, usual) == currency]
            if numbers:
                return _new(Candidates, (REFERENCE, numbers, numbers, f"{scheme} reference {p.structured_ref}"))
        if is_inkasso(p, self.inkasso_payers):
            return _INKASSO
        named, why = self.in_text(p.free_text)
        if named:
            currency, usual, currencies = p.currency, self.usual_currency, self.currency
            numbers = [n for n in named if currencies.get(n, usual) == currency]
            if numbers:
                return _new(Candidates, (TEXT, numbers, named, why))
        return _PAYER

    def by_reference(self, structured_ref: str | None) -> tuple[str | None, Sequence[str]]:
        """(scheme, invoices in document order) of a payment's structured reference; (None, ()) when it is
        not a valid reference of the client's schemes or no invoice has it."""
        if structured_ref == self._ref_of:
            return self._ref
        ref = classify(structured_ref, self.kid_schemes)
        found = self.by_ref.get(ref.value) if ref is not None else None
        if ref is None or found is None:
            result = _NO_REFERENCE
        else:
            result = (ref.scheme, (found,) if isinstance(found, str) else found)
        self._ref_of, self._ref = structured_ref, result
        return result

    def in_text(self, text: str) -> tuple[Sequence[str], str]:
        """(invoices, sorted; the evidence) for KIDs and invoice numbers written in a payment's free text."""
        if not text:
            return _NOT_IN_TEXT
        found: set[str] = set()
        why = []
        for kid in kids_in_text(text):
            ref = classify(kid, self.kid_schemes)
            if ref is not None and (shared := self.by_ref.get(ref.value)) is not None:
                found.update((shared,) if isinstance(shared, str) else shared)
                why.append(f"KID {kid} in the text")
        for token in sorted(tokens(text)):  # sorted: the evidence reads the same on every run
            number = self.by_number.get(token) or (token if token in self.owner else None)
            if number is not None:
                found.add(number)
                why.append(f"invoice number {number} in the text")
        return (sorted(found), "; ".join(why)) if found else _NOT_IN_TEXT

    def payers(self, payer_account: str | None, payer_org_id: str | None) -> Collection[str]:
        """The customers a payer account (learned or known) or org id belongs to (read-only)."""
        by_account = self.by_payer.get(plain_account(payer_account)) if payer_account else ()
        by_org = self.by_org.get(org_digits(payer_org_id)) if payer_org_id else ()
        if not by_org:
            return by_account
        if not by_account:
            return by_org
        return {*by_account, *by_org}

    def payer_accounts(self) -> Iterator[tuple[str, Collection[str]]]:
        """Every payer account known (given or learned) with its customers."""
        return self.by_payer.items()


def is_inkasso(p: PaymentView, inkasso_payers: Collection[str]) -> bool:
    """A debt collector's payout (a configured payer, or a collector's name): collected money, not a debtor's.
    ``inkasso_payers`` are compared plain (``plain_account``)."""
    ids = {plain_account(x) for x in (p.payer_account, p.payer_org_id) if x}
    if not ids.isdisjoint(inkasso_payers):
        return True
    return bool(INKASSO_WORDS & set(WORD.findall((p.payer_name or "").lower())))


_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_NOT_DIGIT = re.compile(r"\D")


def plain_account(value: str) -> str:
    """Account numbers compared without spaces, dots or dashes."""
    if value.isascii() and value.isalnum():  # the usual BBAN/IBAN: nothing to remove (no cache: too many)
        return value.upper()
    return _NOT_ALNUM.sub("", value.upper())


def org_digits(value: str) -> str:
    """Org ids compared by their digits ('NO 923 456 783 MVA' is 923456783)."""
    if value.isascii() and value.isdigit():
        return value
    return _NOT_DIGIT.sub("", value)


class Originals:
    """The payment a reversal without a usable reference takes back: the first booked credit on the same
    account, from the same payer account, of the same amount, on or before the reversal's day, not already
    taken back. Either fed every payment in matching order (``see``: routing, only for the keys some reversal
    asks for), or given the credits up front (``add``) and asked per reversal in matching order (``take``)."""

    def __init__(self, wanted: set[tuple[str, str, int]] | None = None):
        self.wanted = wanted  # only these (account, payer account, øre) keys; None: every key
        self.candidates: dict[tuple[str, str, int], list[PaymentView]] = {}
        self.reversed: set[str] = set()  # keys of the payments taken back

    @staticmethod
    def key(p: PaymentView) -> tuple[str, str, int]:
        return (p.account, p.payer_account or "", cents(p.amount))

    def add(self, p: PaymentView) -> None:
        """A payment that may be taken back later, if it is a booked credit."""
        if not p.reversal and p.status is _BOOKED:
            self.candidates.setdefault(self.key(p), []).append(p)

    def take(self, reversal: PaymentView) -> PaymentView | None:
        """The payment ``reversal`` takes back (now taken), or None."""
        for q in self.candidates.get(self.key(reversal), ()):
            if q.booking_date <= reversal.booking_date and q.key not in self.reversed:
                self.reversed.add(q.key)
                return q
        return None

    def see(self, p: PaymentView) -> PaymentView | None:
        """Feed ``p``; for a reversal in question, returns the payment it takes back (or None)."""
        if self.wanted is not None and self.key(p) not in self.wanted:
            return None
        if not p.reversal:
            self.add(p)
            return None
        return self.take(p)
