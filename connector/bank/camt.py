"""ISO 20022 camt.052 / camt.053 / camt.054 reader (versions .02–.08, matched by local name).

XPaths: ../shared/research/payments-reconciliation.md §2. The file is streamed entry by entry
(``iter_camt``), so memory stays bounded whatever its size; ``read_camt`` collects the result.

What becomes a ``Payment``:
- a credit entry (CRDT, not a reversal) → one payment per TxDtls (or one for the entry without TxDtls);
- a credit taken back — a DBIT reversal (RvslInd) or a DBIT with return information — → ``reversal=True``,
  so it re-opens what it paid;
- other debits (our own outgoing money) and CRDT reversals of our own debits are not customer payments
  and are only counted in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from lxml import etree

from connector.bank.xmlstream import StreamError, iter_elements
from connector.model import Payment, PaymentStatus

MESSAGES = ("camt.052", "camt.053", "camt.054")
_REPORTS = ("Stmt", "Ntfctn", "Rpt")
PENDING_CODES = frozenset({"PDNG", "INFO", "FUTR"})


class CamtError(ValueError):
    pass


@dataclass
class CamtHeader:
    """What the file says about itself; filled in while streaming."""

    message: str = ""  # "camt.052", "camt.053", "camt.054"
    version: str = ""  # "02" … "08"
    msg_id: str = ""
    created: date | None = None
    accounts: list[str] = field(default_factory=list)
    entries: int = 0
    skipped: int = 0  # debit entries that are not customer money


@dataclass(frozen=True)
class CamtFile:
    message: str
    version: str
    created: date | None
    payments: tuple[Payment, ...]  # customer money only (see module doc)
    transactions: tuple[CamtTx, ...] = ()  # everything, for inspection and tests
    msg_id: str = ""
    accounts: tuple[str, ...] = ()
    entries: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class CamtTx:
    """One TxDtls (or a whole entry without TxDtls) as the bank wrote it, debits included."""

    entry: int  # 1-based entry number in the file
    direction: str  # entry CdtDbtInd: CRDT / DBIT
    reversal_flag: bool  # entry RvslInd
    status_code: str  # BOOK / PDNG / INFO / …
    customer_money: bool  # True when ``payment`` is money in from (or taken back from) a customer
    payment: Payment


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _child(el: etree._Element | None, *names: str) -> etree._Element | None:
    """Walk down by local names, ignoring namespaces."""
    for name in names:
        if el is None:
            return None
        el = next((c for c in el if isinstance(c.tag, str) and _local(c) == name), None)
    return el


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and _local(c) == name]


def _first(*elements: etree._Element | None) -> etree._Element | None:
    # Never `a or b` on elements: an lxml element without children is falsy.
    return next((e for e in elements if e is not None), None)


def _text(el: etree._Element | None, *names: str) -> str | None:
    node = _child(el, *names) if names else el
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def _iso_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _date(el: etree._Element | None) -> date | None:
    """A Dt or DtTm child (camt allows either; DtTm may carry 9 fractional digits)."""
    return _iso_date(_text(el, "Dt") or _text(el, "DtTm"))


def _amount(el: etree._Element | None, where: str) -> Decimal | None:
    if el is None or el.text is None:
        return None
    try:
        value = Decimal(el.text.strip())
    except InvalidOperation:
        raise CamtError(f"{where}: amount '{el.text}' is not a number") from None
    if not value.is_finite() or value < 0:
        raise CamtError(f"{where}: amount '{el.text}' is not a positive number")
    return value


def _account(acct: etree._Element | None) -> str | None:
    ident = _child(acct, "Id")
    value = _text(ident, "IBAN") or _text(ident, "Othr", "Id")
    return value.replace(" ", "") if value else None


def _status(entry: etree._Element) -> str:
    sts = _child(entry, "Sts")
    if sts is None:
        return "BOOK"
    # .02–.07: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts> (or Prtry)
    return (_text(sts, "Cd") or _text(sts, "Prtry") or _text(sts) or "BOOK").upper()


def _party(parties: etree._Element | None, role: str) -> etree._Element | None:
    party = _child(parties, role)
    # .02–.07: Dbtr/Nm; .08: Dbtr/Pty/Nm (or Dbtr/Agt when the party is a bank)
    return _first(_child(party, "Pty"), party)


def _party_name(parties: etree._Element | None, role: str) -> str | None:
    return _text(_party(parties, role), "Nm")


def _party_org(parties: etree._Element | None, role: str) -> str | None:
    ident = _child(_party(parties, role), "Id", "OrgId")
    return _text(ident, "Othr", "Id") or _text(ident, "BICOrBEI") or _text(ident, "AnyBIC") or _text(ident, "LEI")


def iter_camt(
    source: bytes | Path | IO[bytes], name: str = "camt file", header: CamtHeader | None = None
) -> Iterator[Payment]:
    """Stream the customer payments of a camt file; ``header`` is filled in as the file is read."""
    for tx in iter_transactions(source, name, header):
        if tx.customer_money:
            yield tx.payment


def iter_transactions(
    source: bytes | Path | IO[bytes], name: str = "camt file", header: CamtHeader | None = None
) -> Iterator[CamtTx]:
    """Stream every transaction of a camt file, debits included."""
    head = header if header is not None else CamtHeader()
    reports = 0
    account = ""
    try:
        for el in iter_elements(source, name, ("GrpHdr", "Acct", "Ntry")):
            local = _local(el)
            if not head.message:
                ns = etree.QName(el.getroottree().getroot()).namespace or ""
                head.message = next((m for m in MESSAGES if f":{m}." in f":{ns.split(':')[-1]}"), "")
                if not head.message:
                    raise CamtError(f"{name}: not a camt.052/053/054 document (namespace '{ns}')")
                head.version = ns.rsplit(".", 1)[-1]
            parent = el.getparent()
            if local == "GrpHdr":
                head.msg_id = _text(el, "MsgId") or ""
                head.created = _iso_date(_text(el, "CreDtTm"))
            elif local == "Acct":
                if parent is not None and _local(parent) in _REPORTS:
                    reports += 1
                    account = _account(el) or ""
                    head.accounts.append(account)
            elif parent is not None and _local(parent) in _REPORTS:
                head.entries += 1
                produced = False
                for tx in _entry_transactions(el, account, head, head.entries, name):
                    produced = produced or tx.customer_money
                    yield tx
                if not produced:
                    head.skipped += 1
    except StreamError as exc:
        raise CamtError(str(exc)) from None
    if not head.message:
        raise CamtError(f"{name}: not a camt document (no group header, statement, notification or report)")
    if reports == 0:
        raise CamtError(f"{name}: {head.message} without any statement, notification or report (Stmt/Ntfctn/Rpt)")


def read_camt(data: bytes | Path | IO[bytes], name: str = "camt file") -> CamtFile:
    head = CamtHeader()
    transactions = tuple(iter_transactions(data, name, head))
    return CamtFile(
        message=head.message,
        version=head.version,
        created=head.created,
        payments=tuple(t.payment for t in transactions if t.customer_money),
        transactions=transactions,
        msg_id=head.msg_id,
        accounts=tuple(head.accounts),
        entries=head.entries,
        skipped=head.skipped,
    )


def _entry_transactions(
    entry: etree._Element, account: str, head: CamtHeader, index: int, name: str
) -> Iterator[CamtTx]:
    where = f"{name}: entry {index}"
    direction = _text(entry, "CdtDbtInd")
    if direction not in ("CRDT", "DBIT"):
        raise CamtError(f"{where}: CdtDbtInd is '{direction}', expected CRDT or DBIT")
    reversal_flag = (_text(entry, "RvslInd") or "").lower() in ("true", "1")
    details = [t for d in _children(entry, "NtryDtls") for t in _children(d, "TxDtls")]
    returned = any(_child(t, "RtrInf") is not None for t in details)
    # CRDT + RvslInd is a debit of ours taken back; a plain DBIT is our own outgoing payment.
    customer_money = (direction == "CRDT" and not reversal_flag) or (
        direction == "DBIT" and (reversal_flag or returned)
    )
    taken_back = direction == "DBIT"
    status_code = _status(entry)
    pending = status_code in PENDING_CODES or head.message == "camt.052"
    status = PaymentStatus.PENDING if pending else PaymentStatus.BOOKED
    amt = _child(entry, "Amt")
    entry_amount = _amount(amt, where)
    currency = (amt.get("Ccy") if amt is not None else None) or ""
    value_date = _date(_child(entry, "ValDt"))
    booking = _date(_child(entry, "BookgDt")) or value_date
    if booking is None:
        # A pending entry may not have a booking date yet; a debit of ours is not checked strictly.
        booking = head.created if (pending or not customer_money) else None
        if booking is None and not customer_money:
            booking = date.min
        if booking is None:
            raise CamtError(f"{where}: no booking or value date")
    # Without any bank reference the key must still never merge two real payments: use the file's own id.
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or f"{head.msg_id or name}#{index}"
    entry_text = _text(entry, "AddtlNtryInf") or ""
    if not details:
        if entry_amount is None and not customer_money:
            entry_amount = Decimal(0)
        if entry_amount is None:
            raise CamtError(f"{where}: no amount")
        # ordinal -1: the whole entry, superseded by the same entry's TxDtls from another file (dedup).
        payment = Payment(
            client_id="",
            source="camt",
            account=account,
            bank_ref=entry_ref,
            ordinal=-1,
            booking_date=booking,
            value_date=value_date,
            amount=entry_amount,
            currency=currency,
            status=status,
            free_text=entry_text,
            reversal=taken_back,
        )
        yield CamtTx(index, direction, reversal_flag, status_code, customer_money, payment)
        return
    for ordinal, tx in enumerate(details):
        payment = _tx_payment(
            tx,
            ordinal,
            len(details),
            where,
            account,
            entry_ref,
            booking,
            value_date,
            status,
            taken_back,
            entry_amount,
            currency,
            entry_text,
            customer_money,
        )
        yield CamtTx(index, direction, reversal_flag, status_code, customer_money, payment)


def _tx_payment(
    tx: etree._Element,
    ordinal: int,
    count: int,
    where: str,
    account: str,
    entry_ref: str,
    booking: date,
    value_date: date | None,
    status: PaymentStatus,
    taken_back: bool,
    entry_amount: Decimal | None,
    currency: str,
    entry_text: str,
    strict: bool,
) -> Payment:
    here = f"{where} transaction {ordinal + 1}"
    # .04+: TxDtls/Amt; .02: only AmtDtls (TxAmt, else InstdAmt)
    amt_el = _first(_child(tx, "Amt"), _child(tx, "AmtDtls", "TxAmt", "Amt"), _child(tx, "AmtDtls", "InstdAmt", "Amt"))
    amount = _amount(amt_el, here)
    if amount is None:
        if count == 1 and entry_amount is not None:
            amount = entry_amount
        elif not strict:
            amount = Decimal(0)
        else:
            raise CamtError(f"{here}: no amount")
    tx_currency = (amt_el.get("Ccy") if amt_el is not None else None) or currency
    rmt = _child(tx, "RmtInf")
    strd = next((_child(s, "CdtrRefInf") for s in _children(rmt, "Strd") if _child(s, "CdtrRefInf") is not None), None)
    ref_type = _text(strd, "Tp", "CdOrPrtry", "Cd") or _text(strd, "Tp", "CdOrPrtry", "Prtry")
    texts = [u.text.strip() for u in _children(rmt, "Ustrd") if u.text and u.text.strip()]
    texts.append(_text(tx, "AddtlTxInf") or "")
    if count == 1:
        texts.append(entry_text)
    parties = _child(tx, "RltdPties")
    rtr = _child(tx, "RtrInf")
    reason = None
    if rtr is not None:
        reason = (
            " ".join(t for t in (_text(rtr, "Rsn", "Cd") or _text(rtr, "Rsn", "Prtry"), _text(rtr, "AddtlInf")) if t)
            or "returned"
        )
    refs = _child(tx, "Refs")
    return Payment(
        client_id="",
        source="camt",
        account=account,
        bank_ref=entry_ref,
        ordinal=ordinal,
        booking_date=booking,
        value_date=value_date,
        amount=amount,
        currency=tx_currency,
        status=status,
        structured_ref=_text(strd, "Ref"),
        ref_type=ref_type,
        free_text=" ".join(t for t in texts if t),
        payer_name=_party_name(parties, "Dbtr") or _party_name(parties, "UltmtDbtr"),
        payer_account=_account(_child(parties, "DbtrAcct")),
        payer_org_id=_party_org(parties, "Dbtr") or _party_org(parties, "UltmtDbtr"),
        reversal=taken_back,
        end_to_end_id=_text(refs, "EndToEndId"),
        return_reason=reason,
    )
