"""Which invoices are paid, and by what. Pure: invoices and payments in, allocations and doubts out.

Tiers (../shared/research/payments-reconciliation.md §7), each allocation records its tier and evidence:
- ``ledger``: a payment the accounting system booked against an invoice (authoritative);
- ``credit_note``: a credit note applied to the invoices its BillingReference names;
- ``kid`` (tier 1): a valid structured reference (KID/RF/FIK, per the client's schemes) of exactly one invoice;
- ``reference_text`` / ``invoice_number`` (tier 2): a KID or an invoice number as a whole token in the
  free text, and the amount agrees;
- ``payer_amount`` / ``subset_sum`` (tiers 3+4): the payer is known to be one customer (learned payer
  account or org id), and exactly one open item — or exactly one combination of open items and credit
  notes — has the amount;
- everything else is an unexplained credit (tier 5).
What a payment may pay, and the evidence, comes from the candidate index (``connector.reconcile.index``),
the one routing asks too; this module decides amounts: which candidate the money settles, and what is held.
Allocation is strict; the reminder gate is broad: whatever could belong to a customer but was not
allocated is listed in ``pending`` (per invoice) or ``unallocated_credit`` (per customer) so decide holds.
Results do not depend on input order: payments are deduplicated and sorted first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import chain

from connector.dunning.calendar import effective_due_date
from connector.model import (
    ZERO,
    Allocation,
    AllocationTier,
    Customer,
    DocKind,
    Invoice,
    Payment,
    PaymentStatus,
    PaymentView,
)
from connector.reconcile.book import OpenBook, cents
from connector.reconcile.dedup import dedup
from connector.reconcile.index import (
    BANK_SOURCES,
    INKASSO,
    NOTHING,
    REFERENCE,
    REVERSAL,
    TEXT,
    UNPLACED,
    CandidateIndex,
    Candidates,
    Originals,
)
from connector.reconcile.result import Credit, CreditKind, Reconciliation
from connector.reconcile.subset import MAX_ITEMS, unique_subset
from connector.references import KID_SCHEMES

LEDGER_TWIN_DAYS = 14  # a ledger booking of the same money lands within this many days of the bank credit
# enum members used once per payment, by plain name (why: connector.reconcile.index, at ``Found``)
_PENDING, _KID = PaymentStatus.PENDING, AllocationTier.KID
_NO_ALLOCATIONS: list[Allocation] = []  # shared by every invoice without allocations: read-only by convention


@dataclass
class _Ledger:
    payment: Payment
    customer_id: str
    claimed: bool = False


@dataclass(slots=True)
class _Charge:
    on: date  # the letter's day: only a payment from then on pays it
    amount: Decimal  # as charged
    currency: str
    unpaid: Decimal


class _Matcher:
    def __init__(
        self,
        docs: list[Invoice],
        customers: Mapping[str, Customer],
        tolerance: Decimal,
        kid_schemes: Collection[str],
        payer_accounts: Mapping[str, Collection[str]],
        inkasso_payers: Collection[str],
        everywhere: Collection[str] = (),
        charges: Mapping[str, Sequence[tuple[date, Decimal, str]]] | None = None,
    ):
        # payments every slice of a sliced client matches (connector.reconcile.routing): whether they end up
        # unexplained is decided once, over all slices, by the caller
        self.everywhere = everywhere
        self.receivables = {i.number: i for i in docs if i.kind is DocKind.INVOICE}
        self.book = OpenBook(self.receivables)
        # Every invoice is listed; those without allocations share one empty list, which is never appended to
        # (``add_allocation`` replaces it): a million invoices need no million empty lists.
        self.result = Reconciliation(
            open_amount=self.book.open, allocations=dict.fromkeys(self.receivables, _NO_ALLOCATIONS)
        )
        self.tolerance = tolerance
        # what each payment may pay: the same index routing asks (connector.reconcile.routing), so a slice
        # matches what the whole client would; everywhere-payments are known to have no candidates
        self.index = index = CandidateIndex(kid_schemes, inkasso_payers, payer_accounts, unplaced=everywhere)
        for inv in self.receivables.values():
            index.add_invoice(inv.number, inv.customer_id, inv.currency, inv.kid)
        for c in customers.values():
            index.add_customer(c.customer_id, c.org_no)
        self.credit_notes: dict[str, list[tuple[Invoice, Decimal]]] = defaultdict(list)  # customer → (cn, left)
        # payment key → the invoice (or, rarely, invoices) it paid; the amounts are in the allocations
        self.paid_by: dict[str, str | list[str]] = {}
        self.ledger: dict[int, list[_Ledger]] = defaultdict(list)  # øre → ledger payments
        # invoice → value date of the payment that last settled it, only where that is not its last_settled_on
        self.value_dates: dict[str, date] = {}
        # the bank payments being matched, and the credits among them a reversal without a reference may take
        # back (built on first need: only such reversals ask); routing finds them with the same ``Originals``
        self.bank: list[Payment] = []
        self.originals: Originals | None = None
        # invoice → each fee and interest its letters charged (day, amount, currency, what is still unpaid)
        self.charges = {n: [_Charge(on, x, cur, x) for on, x, cur in cs] for n, cs in (charges or {}).items()}
        # payment key → how it was matched (tier, why) and the invoices whose charges it paid: money taken back
        # leaves the charges owed again, and money still paying charges pays a reopened invoice first
        self.charge_payers: dict[str, tuple[AllocationTier, str, list[str]]] = {}

    # -- allocation primitives ------------------------------------------------------------------

    def add_allocation(self, number: str, allocation: Allocation) -> None:
        allocations = self.result.allocations.get(number)
        if allocations:
            allocations.append(allocation)
        else:  # most invoices get one allocation: a list of exactly one, not one with room for four
            self.result.allocations[number] = [allocation]

    def allocate(
        self, number: str, amount: Decimal, tier: AllocationTier, key: str, evidence: str, on: date
    ) -> Decimal:
        """Apply up to ``amount`` to an invoice; returns what is left over."""
        inv = self.receivables[number]
        take = min(amount, self.book.open[number])
        if take > ZERO:
            self.book.change(number, -take)
            self.add_allocation(number, Allocation(number, take, inv.currency, tier, key, evidence))
            self.result.last_settled_on[number] = on
            if self.value_dates:
                self.value_dates.pop(number, None)
            paid = self.paid_by.get(key)
            if paid is None:
                self.paid_by[key] = number
            elif isinstance(paid, str):
                self.paid_by[key] = [paid, number]
            else:
                paid.append(number)
        return amount - take

    def credit(self, customer_id: str, kind: CreditKind, p: Payment, amount: Decimal, detail: str) -> None:
        self.result.unallocated_credit.setdefault(customer_id, []).append(
            Credit(customer_id, kind, amount, p.currency, p.key, p.booking_date, detail)
        )

    def candidate(self, numbers: Iterable[str], p: Payment, why: str) -> None:
        for n in sorted(set(numbers)):
            self.result.pending.setdefault(n, []).append(p)
        self.result.pending_reason[p.key] = why

    def settle(self, number: str, p: Payment, tier: AllocationTier, why: str) -> None:
        """Allocate a whole payment to one invoice: overpayment becomes customer credit."""
        inv = self.receivables[number]
        on = p.value_date or p.booking_date
        open_before = self.book.open[number]
        left = self.allocate(number, p.amount, tier, p.key, why, p.booking_date)
        if self.result.last_settled_on.get(number) == on:
            self.value_dates.pop(number, None)
        else:
            self.value_dates[number] = on
        short = open_before - p.amount
        if ZERO < short <= self.tolerance:
            self.result.with_difference[number] = short
            self.result.allocations[number][-1] = Allocation(
                number, p.amount, inv.currency, tier, p.key, f"{why}; paid with difference {short} (not written off)"
            )
        if left > ZERO and number in self.charges:
            left = self.pay_charges(number, p, left, tier, why)
        if left > ZERO:
            self.result.overpaid[inv.customer_id] = self.result.overpaid.get(inv.customer_id, ZERO) + left
            self.credit(
                inv.customer_id, CreditKind.OVERPAYMENT, p, left, f"{left} {p.currency} more than invoice {number}"
            )

    def pay_charges(self, number: str, p: Payment, left: Decimal, tier: AllocationTier, why: str) -> Decimal:
        """Money beyond an invoice pays the fees and interest its letters charged before the payment, oldest
        first: a debtor who pays what the reminder asked leaves no credit to hold the customer for."""
        paid = ZERO
        for charge in self.charges[number]:
            if charge.on > p.booking_date or charge.currency != p.currency or charge.unpaid <= ZERO:
                continue
            take = min(charge.unpaid, left - paid)
            charge.unpaid -= take
            paid += take
            if paid == left:
                break
        if paid > ZERO:
            self.result.charges_paid.setdefault(number, []).append((p.key, paid, p.booking_date))
            self.charge_payers.setdefault(p.key, (tier, why, []))[2].append(number)
        return left - paid

    def unpay_charges(self, number: str, amount: Decimal, key: str | None = None) -> Decimal:
        """Up to ``amount`` of what paid the invoice's charges no longer does (what payment ``key`` paid; else
        the latest paid first): those charges are owed again. Returns how much."""
        paid = self.result.charges_paid.get(number)
        if not paid or amount <= ZERO:
            return ZERO
        back = ZERO
        kept: list[tuple[str, Decimal, date]] = []
        for k, x, on in reversed(paid):
            take = ZERO if key not in (None, k) else min(x, amount - back)
            back += take
            if take < x:
                kept.append((k, x - take, on))
        if kept:
            self.result.charges_paid[number] = kept[::-1]
        else:
            del self.result.charges_paid[number]
        left = back
        for charge in reversed(self.charges[number]):  # the latest charged was the last paid
            owed = min(left, charge.amount - charge.unpaid)
            charge.unpaid += owed
            left -= owed
        return back

    def take_back(self, number: str, amount: Decimal, p: Payment) -> None:
        """``amount`` taken back from what paid invoice ``number`` and its charges, the payment it returns not
        known: as money pays an invoice before its charges, what paid the invoice goes first (it reopens),
        then what paid the charges (they are owed again, the latest first)."""
        back = self.reopen(number, amount, p)
        if number in self.result.charges_paid:
            self.unpay_charges(number, amount - back)
            self.refill(number)

    def refill(self, number: str) -> None:
        """Money still paying an invoice's charges pays the invoice first once money taken back reopened it, the
        oldest first: so a letter, which lists every charge of an open invoice, never asks for one paid."""
        for k, x, on in list(self.result.charges_paid.get(number, ())):
            room = self.book.open[number]
            if room <= ZERO:
                return
            moved = self.unpay_charges(number, min(x, room), k)
            if moved <= ZERO:
                continue
            tier, why, _numbers = self.charge_payers[k]
            self.allocate(number, moved, tier, k, why, on)
            # one allocation per payment and invoice (a case reports each payment once, by its key)
            allocations = self.result.allocations[number]
            earlier = [i for i, a in enumerate(allocations[:-1]) if a.source_key == k and a.amount > ZERO]
            if earlier:
                a = allocations[earlier[-1]]
                allocations[earlier[-1]] = Allocation(number, a.amount + moved, a.currency, a.tier, k, a.evidence)
                del allocations[-1]

    # -- ledger ---------------------------------------------------------------------------------

    def ledger_payment(self, p: Payment) -> None:
        _found, numbers, _named, why = self.index.candidates(p)  # LEDGER: the invoice it names, if we have it
        if not numbers:
            self.result.unexplained.append(p)
            return
        number = numbers[0]
        if p.reversal:
            self.take_back(number, p.amount, p)
            return
        self.settle(number, p, AllocationTier.LEDGER, why)
        self.ledger[cents(p.amount)].append(_Ledger(p, self.receivables[number].customer_id))

    def claim_twin(self, p: Payment, numbers: Collection[str], customers: Collection[str]) -> bool:
        """The ledger already booked this bank money: count it once (same amount, near date, same target)."""
        if not self.ledger:
            return False
        for twin in self.ledger.get(cents(p.amount), ()):
            q = twin.payment
            if twin.claimed or abs((q.booking_date - p.booking_date).days) > LEDGER_TWIN_DAYS:
                continue
            if q.invoice_number in numbers or twin.customer_id in customers:
                twin.claimed = True
                self.result.ledger_twins[p.key] = q.key
                return True
        return False

    # -- bank -----------------------------------------------------------------------------------

    def bank_payment(self, p: Payment) -> None:
        c = self.index.candidates(p)
        found, numbers, _named, why = c
        pending = p.status is _PENDING
        if found is REFERENCE:  # the usual payment first
            if len(numbers) > 1:
                self.candidate(numbers, p, f"{why} matches {len(numbers)} invoices")
            elif pending:
                self.candidate(numbers, p, f"pending: {why}")
            elif not self.claim_twin(p, numbers, ()):
                self.settle(numbers[0], p, _KID, f"{why} belongs to invoice {numbers[0]}")
            return
        if found is NOTHING:
            return  # 0.00 entries (fee corrections, notices) carry no money to place
        if found is REVERSAL:
            self.reverse(p, numbers)
            return
        if found is UNPLACED:  # routing found no reference, number or payer for it: straight to tier 5
            self.pending_by_amount(p, ()) if pending else self.unexplained(p, ())
            return
        if found is INKASSO:
            self.result.inkasso_payouts.append(p)
            return
        if found is TEXT:
            self.text_tier(p, c, pending)
            return
        payers = self.index.payers(p.payer_account, p.payer_org_id)
        if pending:
            self.pending_by_amount(p, payers)
            return
        if self.claim_twin(p, (), payers):
            return
        if len(payers) == 1:
            self.customer_tier(p, next(iter(payers)))
            return
        self.unexplained(p, payers)

    def text_tier(self, p: Payment, c: Candidates, pending: bool) -> None:
        """Tier 2: the text names invoices in the payment's currency; allocate if the amount agrees: what is
        open on them, or that and up to the fees and interest their letters charged (a letter asks an invoice
        without a KID to be paid with its number)."""
        numbers, why = c.numbers, c.reason
        if pending:
            self.candidate(numbers, p, f"pending: {why}")
            return
        tier = c.tier
        assert tier is not None  # text candidates always have one
        open_total = sum((self.book.open[n] for n in numbers), ZERO)
        charged = self.unpaid_charges(numbers, p) if self.charges else ZERO
        if open_total <= ZERO:
            left = self.pay_charges_of(numbers, p, p.amount, tier, f"{why}; their charges") if charged else p.amount
            if left > ZERO:
                owner = self.receivables[numbers[0]].customer_id
                self.credit(owner, CreditKind.OVERPAYMENT, p, left, f"{why}, but those invoices are already paid")
            return
        beyond = p.amount - open_total
        agrees = ZERO <= -beyond <= self.tolerance or ZERO < beyond <= charged
        if not agrees:
            self.candidate(numbers, p, f"{why}, but {p.amount} does not agree with the open {open_total}")
            return
        if self.claim_twin(p, numbers, ()):
            return
        left = p.amount
        for n in numbers[:-1]:
            left = self.allocate(n, left, tier, p.key, f"{why}; amount agrees", p.booking_date)
        if beyond > ZERO:  # the invoices and their charges
            left = self.allocate(numbers[-1], left, tier, p.key, f"{why}; amount agrees", p.booking_date)
            self.pay_charges_of(numbers, p, left, tier, f"{why}; amount agrees")
        else:
            self.settle_rest(numbers[-1], p, left, tier, f"{why}; amount agrees")

    def unpaid_charges(self, numbers: Sequence[str], p: Payment) -> Decimal:
        """What the invoices' letters charged before ``p``, in its currency, and is not paid yet."""
        return sum(
            (
                c.unpaid
                for n in numbers
                for c in self.charges.get(n, ())
                if c.on <= p.booking_date and c.currency == p.currency
            ),
            ZERO,
        )

    def pay_charges_of(
        self, numbers: Sequence[str], p: Payment, left: Decimal, tier: AllocationTier, why: str
    ) -> Decimal:
        for n in numbers:
            if left > ZERO and n in self.charges:
                left = self.pay_charges(n, p, left, tier, why)
        return left

    def settle_rest(self, number: str, p: Payment, amount: Decimal, tier: AllocationTier, why: str) -> None:
        short = self.book.open[number] - amount
        self.allocate(number, amount, tier, p.key, why, p.booking_date)
        if ZERO < short <= self.tolerance:
            self.result.with_difference[number] = short

    def pending_by_amount(self, p: Payment, payers: Collection[str]) -> None:
        """A pending credit with no reference: hold what it could pay (by payer, else by amount)."""
        c = cents(p.amount)
        if payers:
            numbers = [n for cust in payers for n in self.book.by_customer.get(cust, ())]
        else:
            numbers = list(self.book.by_amount.get(c, ()))
        if numbers:
            self.candidate(numbers, p, "pending credit that could pay these items")
        elif p.key not in self.everywhere:
            self.result.unexplained.append(p)

    def customer_tier(self, p: Payment, customer_id: str) -> None:
        """Tier 4: the payer is this customer; find the one open item or combination with the amount."""
        c = cents(p.amount)
        exact = sorted(self.book.by_customer_amount(customer_id, c))
        if not exact and self.tolerance > ZERO:
            exact = self.within_tolerance(customer_id, p.amount)
        exact = [n for n in exact if self.receivables[n].currency == p.currency]
        if len(exact) == 1:
            self.settle(
                exact[0],
                p,
                AllocationTier.PAYER_AMOUNT,
                f"payer is customer {customer_id}; only open item of {p.amount}",
            )
            return
        if len(exact) > 1:
            self.candidate(exact, p, f"payer is customer {customer_id}; {len(exact)} open items of {p.amount}")
            return
        opens = [n for n in self.book.open_items(customer_id) if self.receivables[n].currency == p.currency]
        notes = [(cn, left) for cn, left in self.credit_notes.get(customer_id, []) if cn.currency == p.currency]
        items = [(n, cents(self.book.open[n])) for n in opens] + [(f"cn:{cn.number}", -cents(x)) for cn, x in notes]
        solution = unique_subset(items, c) if len(items) <= MAX_ITEMS else False
        if isinstance(solution, tuple):
            chosen = [s for s in solution if not s.startswith("cn:")]
            used = [s[3:] for s in solution if s.startswith("cn:")]
            why = f"payer is customer {customer_id}; the only combination summing to {p.amount}: " + ", ".join(
                sorted(solution)
            )
            for cn_number in used:
                self.use_credit_note(customer_id, cn_number, chosen, p)
            for n in chosen:
                self.allocate(n, self.book.open[n], AllocationTier.SUBSET_SUM, p.key, why, p.booking_date)
            return
        if solution is False:
            why = f"payer is customer {customer_id}; several combinations (or too many items) could be {p.amount}"
            if len(opens) <= MAX_ITEMS:
                self.candidate(opens, p, why)
            else:  # one review credit instead of a hold entry on every one of many items
                self.credit(customer_id, CreditKind.AMBIGUOUS, p, p.amount, why)
            return
        self.credit(
            customer_id, CreditKind.UNEXPLAINED, p, p.amount, f"{p.amount} {p.currency} from this customer's payer"
        )
        self.result.unexplained.append(p)

    def within_tolerance(self, customer_id: str, amount: Decimal) -> list[str]:
        return [
            n
            for n in self.book.by_customer.get(customer_id, ())
            if ZERO <= self.book.open[n] - amount <= self.tolerance
        ]

    def use_credit_note(self, customer_id: str, cn_number: str, targets: list[str], p: Payment) -> None:
        notes = self.credit_notes[customer_id]
        for i, (cn, left) in enumerate(notes):
            if cn.number != cn_number:
                continue
            for n in targets:
                left = self.allocate(
                    n,
                    left,
                    AllocationTier.CREDIT_NOTE,
                    cn.number,
                    f"credit note {cn.number} netted in payment {p.key}",
                    p.booking_date,
                )
            notes[i] = (cn, left)
        self.credit_notes[customer_id] = [(cn, x) for cn, x in notes if x > ZERO]

    def unexplained(self, p: Payment, payers: Collection[str]) -> None:
        """Tier 5: hold every customer this could be (known payer, or an open item of exactly this amount)."""
        if p.key not in self.everywhere:
            self.result.unexplained.append(p)
        owners = set(payers) or {self.receivables[n].customer_id for n in self.book.by_amount.get(cents(p.amount), ())}
        kind = CreditKind.AMBIGUOUS if len(payers) > 1 else CreditKind.UNEXPLAINED
        for cust in sorted(owners):
            self.credit(
                cust, kind, p, p.amount, f"unexplained credit of {p.amount} {p.currency} could be this customer's"
            )

    def reverse(self, p: Payment, numbers: Sequence[str]) -> None:
        """Money taken back re-opens what it paid: the invoice its reference (or text) names, else what the
        original payment paid."""
        if numbers:
            self.take_back(numbers[0], p.amount, p)
            return
        original = self.find_original(p)
        if original is None:
            self.result.unexplained_reversals.append(p)
            return
        left = p.amount
        paid = self.paid_with(original)
        for number, amount in paid:
            back = min(left, amount)
            left -= self.reopen(number, back, p)
        if original in self.charge_payers or any(n in self.result.charges_paid for n, _x in paid):
            charged = self.charge_payers.get(original, (AllocationTier.REVERSAL, "", []))[2]
            for number in dict.fromkeys(charged):  # the charges it paid are owed again
                left -= self.unpay_charges(number, left, original)
            for number in dict.fromkeys([*(n for n, _x in paid), *charged]):
                self.refill(number)
        for cust, credits in self.result.unallocated_credit.items():
            self.result.unallocated_credit[cust] = [c for c in credits if c.ref != original]

    def paid_with(self, key: str) -> list[tuple[str, Decimal]]:
        """(invoice, amount) for each allocation payment ``key`` made, in the order they were made."""
        paid = self.paid_by.get(key)
        numbers = [] if paid is None else [paid] if isinstance(paid, str) else list(dict.fromkeys(paid))
        return [
            (a.invoice_number, a.amount)
            for n in numbers
            for a in self.result.allocations.get(n, ())
            if a.source_key == key and a.tier is not AllocationTier.REVERSAL
        ]

    def find_original(self, p: Payment) -> str | None:
        if self.originals is None:  # built on first need: only reversals without a reference ask
            self.originals = Originals()
            for q in self.bank:
                self.originals.add(q)
        original = self.originals.take(p)
        return None if original is None else original.key

    def reopen(self, number: str, amount: Decimal, p: Payment) -> Decimal:
        inv = self.receivables[number]
        back = min(amount, inv.amount - self.book.open[number])
        if back > ZERO:
            self.book.change(number, back)
            why = f"payment returned/reversed on {p.booking_date.isoformat()}"
            if p.return_reason:
                why += f" ({p.return_reason})"
            self.add_allocation(number, Allocation(number, -back, inv.currency, AllocationTier.REVERSAL, p.key, why))
        return max(back, ZERO)

    # -- the run --------------------------------------------------------------------------------

    def run(
        self,
        docs: list[Invoice],
        payments: Iterable[Payment],
        country: str,
        deduplicated: bool = False,
        learned: bool = False,
    ) -> Reconciliation:
        self.apply_credit_notes(docs)
        unique = sorted(payments if deduplicated else dedup(payments), key=match_order)
        ledger = [p for p in unique if p.source not in BANK_SOURCES and p.invoice_number]
        bank = [p for p in unique if p.source in BANK_SOURCES or not p.invoice_number]
        for p in ledger:
            self.ledger_payment(p)
        if not learned:
            for p in bank:
                self.index.learn(p)
        # Reversals look for the payment they take back among booked credits on or before their day (every
        # such credit precedes them in this order); that index is only built if a reversal needs it.
        self.bank = bank
        for p in bank:
            self.bank_payment(p)
        self.bank = []
        for cust, notes in sorted(self.credit_notes.items()):
            for cn, left in notes:
                self.result.unapplied_credits.setdefault(cust, []).append(cn)
                self.result.unallocated_credit.setdefault(cust, []).append(
                    Credit(
                        cust,
                        CreditKind.CREDIT_NOTE,
                        left,
                        cn.currency,
                        cn.number,
                        cn.issue_date,
                        f"credit note {cn.number} not applied",
                    )
                )
        self.result.unallocated_credit = {k: v for k, v in self.result.unallocated_credit.items() if v}
        settled = self.result.last_settled_on
        value_dates = self.value_dates
        for number, on in chain(settled.items(), ((n, d) for n, d in value_dates.items() if n not in settled)):
            on = value_dates.get(number, on)
            inv = self.receivables[number]
            if self.book.open[number] <= ZERO and inv.due_date is not None:
                self.result.paid_on_time[number] = on <= effective_due_date(inv.due_date, country)
        return self.result

    def apply_credit_notes(self, docs: list[Invoice]) -> None:
        # Credit notes first: they are documents the client issued, so they are certain.
        for cn in (d for d in docs if d.kind is DocKind.CREDIT_NOTE):
            left = cn.amount
            for number in cn.credits:
                target = self.receivables.get(number)
                if target is None or target.currency != cn.currency or left <= ZERO:
                    continue
                left = self.allocate(
                    number,
                    left,
                    AllocationTier.CREDIT_NOTE,
                    cn.number,
                    f"credit note {cn.number} credits {number}",
                    cn.issue_date,
                )
            if left > ZERO:
                self.credit_notes[cn.customer_id].append((cn, left))


def match_order(p: PaymentView) -> tuple[date, bool, str]:
    """Payments are matched oldest first, a reversal after the credits of its day."""
    return (p.booking_date, p.reversal, p.key)


def reconcile(
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    *,
    customers: Mapping[str, Customer] | None = None,
    tolerance: Decimal = ZERO,
    kid_schemes: Collection[str] = KID_SCHEMES,
    payer_accounts: Mapping[str, Collection[str]] | None = None,
    inkasso_payers: Collection[str] = (),
    country: str = "NO",
    deduplicated: bool = False,
    everywhere: Collection[str] = (),
    learned: bool = False,
    charges: Mapping[str, Sequence[tuple[date, Decimal, str]]] | None = None,
) -> Reconciliation:
    """Allocate payments and credit notes to invoices; list every doubt so the decision can hold.

    ``payer_accounts`` maps payer bank accounts to customer ids learned earlier (e.g. from the
    ledger); more are learned from payments whose reference proves the customer.
    ``deduplicated``: the payments were deduplicated already, over a superset (a slice of a sliced client);
    ``everywhere``: keys of payments the caller lists as unexplained itself (see ``connector.engine.slices``);
    ``learned``: ``payer_accounts`` already holds all these payments teach, so they are not learned from again;
    ``charges``: invoice → (day, amount, currency) of each fee and interest its letters charged.
    """
    docs = sorted(invoices, key=lambda i: (i.issue_date, i.number))
    matcher = _Matcher(
        docs, customers or {}, tolerance, kid_schemes, payer_accounts or {}, inkasso_payers, everywhere, charges
    )
    result = matcher.run(docs, payments, country, deduplicated, learned)
    _cap_by_ledger(result, docs)
    return result


def _cap_by_ledger(result: Reconciliation, docs: list[Invoice]) -> None:
    """The accounting system's own outstanding wins when it is lower (issue 4): payments or credits
    booked there that we hold no record of must never leave an invoice looking unpaid."""
    for inv in docs:
        ledger_open = inv.ledger_open_amount
        computed = result.open_amount.get(inv.number) if inv.kind is DocKind.INVOICE else None
        if ledger_open is None or computed is None or ledger_open >= computed:
            continue
        gap = computed - max(ledger_open, ZERO)
        result.open_amount[inv.number] = computed - gap
        allocations = result.allocations.get(inv.number)
        if not allocations:  # never append to the shared empty list
            allocations = result.allocations[inv.number] = []
        allocations.append(
            Allocation(
                inv.number,
                gap,
                inv.currency,
                AllocationTier.LEDGER_BALANCE,
                inv.source_ref or inv.number,
                f"{inv.source} reports {max(ledger_open, ZERO)} outstanding",
            )
        )
