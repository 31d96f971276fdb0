"""ISO 20022 camt.052 / camt.053 / camt.054 reader (versions .02–.08, matched by local name).

XPaths: ../shared/research/payments-reconciliation.md §2. The file is streamed entry by entry and,
inside an entry, transaction by transaction (``iter_camt``): memory stays bounded by what one
transaction needs, whatever the size of the file or of one batch entry (a bank's entry with 390,000
TxDtls once took 2.3 GB as one tree); ``read_camt`` collects the result.

Amounts are checked as they are read (``connector.amounts``): a record whose amount is not a finite
number, is beyond ``max_amount`` or is finer than its currency's minor unit is refused — named in
``CamtHeader.refused`` with file, entry, transaction and field — and the rest of the file is read.

What becomes a ``Payment``:
- a credit entry (CRDT, not a reversal) → one payment per TxDtls (or one for the entry without TxDtls);
- a credit taken back — a DBIT reversal (RvslInd) or a DBIT with return information — → ``reversal=True``,
  so it re-opens what it paid;
- other debits (our own outgoing money) and CRDT reversals of our own debits are not customer payments
  and are only counted in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from lxml import etree

from connector.amounts import DEFAULT_MAX_AMOUNT, parse_amount
from connector.bank.xmlstream import StreamError, iter_elements
from connector.frozen import fast_init
from connector.model import Payment, PaymentSource, PaymentStatus

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
    refused: list[str] = field(default_factory=list)  # records not read, one line each (file, record, field)


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
    refused: tuple[str, ...] = ()


@fast_init
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
    tag = el.tag
    return tag[tag.rfind("}") + 1 :] if isinstance(tag, str) else ""


# -- fixed per-version lookups -------------------------------------------------------------------
#
# Each Ntry / TxDtls is read with one walk over its children against a small table of the paths we
# want (local names; qualified with the file's namespace once), instead of dozens of ``find`` calls.
# A rule is: field name (first occurrence wins), a sub-table, ``(field, sub-table)`` for both, or
# ``[field]`` to collect every occurrence. Paths: ../shared/research/payments-reconciliation.md §2.

_Rule = Any


def _org_rules(prefix: str) -> dict[str, _Rule]:
    return {
        "OrgId": {
            "Othr": {"Id": f"{prefix}_othr"},
            "BICOrBEI": f"{prefix}_bic",
            "AnyBIC": f"{prefix}_anybic",
            "LEI": f"{prefix}_lei",
        }
    }


def _party_rules(prefix: str) -> dict[str, _Rule]:
    # .02–.07: Dbtr/Nm, Dbtr/Id; .08: Dbtr/Pty/Nm, Dbtr/Pty/Id
    return {
        "Nm": f"{prefix}_nm",
        "Id": _org_rules(prefix),
        "Pty": {"Nm": f"{prefix}_nm", "Id": _org_rules(prefix)},
    }


_ENTRY_RULES: dict[str, _Rule] = {
    "Amt": "amt",
    "CdtDbtInd": "dir",
    "RvslInd": "rvsl",
    "Sts": ("sts", {"Cd": "sts_cd", "Prtry": "sts_prtry"}),  # .02–.07 text; .08 Sts/Cd or Sts/Prtry
    "BookgDt": {"Dt": "bookg_dt", "DtTm": "bookg_dttm"},
    "ValDt": {"Dt": "val_dt", "DtTm": "val_dttm"},
    "AcctSvcrRef": "acct_svcr_ref",
    "NtryRef": "ntry_ref",
    "AddtlNtryInf": "addtl",
    # NtryDtls/TxDtls are streamed one by one (_tx_values), never collected from the entry.
}

_TX_RULES: dict[str, _Rule] = {
    "Refs": {"EndToEndId": "e2e"},
    "Amt": "amt",  # .04+
    "AmtDtls": {"TxAmt": {"Amt": "tx_amt"}, "InstdAmt": {"Amt": "instd_amt"}},  # .02 has only these
    "RltdPties": {
        "Dbtr": _party_rules("dbtr"),
        "UltmtDbtr": _party_rules("ultmt"),
        "DbtrAcct": {"Id": {"IBAN": "acct_iban", "Othr": {"Id": "acct_othr"}}},
    },
    "RmtInf": {
        "Ustrd": ["ustrd"],
        "Strd": {"CdtrRefInf": "cdtr"},  # the first Strd with a CdtrRefInf gives the reference (_REF_RULES)
    },
    "AddtlTxInf": "addtl",
    "RtrInf": ("rtr", {"Rsn": {"Cd": "rtr_cd", "Prtry": "rtr_prtry"}, "AddtlInf": "rtr_addtl"}),
}

_REF_RULES: dict[str, _Rule] = {"Tp": {"CdOrPrtry": {"Cd": "ref_cd", "Prtry": "ref_prtry"}}, "Ref": "ref"}

# A compiled rule: (field or None, sub-table or None, collect-all).
_Compiled = dict[str, tuple[str | None, Any, bool]]


def _compile(rules: dict[str, _Rule], ns: str) -> _Compiled:
    out: _Compiled = {}
    for local, rule in rules.items():
        if isinstance(rule, str):
            out[ns + local] = (rule, None, False)
        elif isinstance(rule, list):
            out[ns + local] = (rule[0], None, True)
        elif isinstance(rule, tuple):
            out[ns + local] = (rule[0], _compile(rule[1], ns), False)
        else:
            out[ns + local] = (None, _compile(rule, ns), False)
    return out


@lru_cache(maxsize=32)
def _tables(ns: str) -> tuple[_Compiled, _Compiled, _Compiled]:
    """The entry, transaction and reference tables for one namespace (``"{urn:…}"``, or ``""``)."""
    return _compile(_ENTRY_RULES, ns), _compile(_TX_RULES, ns), _compile(_REF_RULES, ns)


def _walk(el: etree._Element, table: _Compiled, found: dict[str, Any]) -> dict[str, Any]:
    for child in el:
        rule = table.get(child.tag)
        if rule is None:
            continue
        name, sub, many = rule
        if name is not None:
            if many:
                found.setdefault(name, []).append(child)
            elif name not in found:
                found[name] = child
        if sub is not None:
            # Without a field name a repeated container (a second Strd) must not override the first.
            _walk(child, sub, found)
    return found


def _get(found: dict[str, Any], name: str) -> str | None:
    el = found.get(name)
    if el is None:
        return None
    text = el.text
    if text is None:
        return None
    text = text.strip()
    return text or None


@lru_cache(maxsize=4096)
def _iso_date(value: str | None) -> date | None:
    """A date from ``YYYY-MM-DD[Thh:mm…]`` (cached: a file has few distinct days, so they are shared)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


class _Refused(ValueError):
    """One record cannot be used (its amount); the message names file, record and field."""


def _amount_of(
    el: etree._Element | None, where: Callable[[], str], currency: str | None, max_amount: Decimal
) -> Decimal | None:
    if el is None:
        return None
    text = el.text
    if text is None:
        return None
    try:
        value = parse_amount(text, currency, max_amount)
    except ValueError as exc:
        raise _Refused(f"{where()}: Amt {exc}; the record is refused") from None
    if value < 0:
        raise _Refused(f"{where()}: Amt '{text}' is negative (the direction is CdtDbtInd); the record is refused")
    return value


@fast_init
@dataclass(frozen=True, slots=True)
class _Tx:
    """What one TxDtls says, read as soon as it ends (its element is then dropped): the entry's
    payments are built from these once the entry itself has ended."""

    amount: Decimal | None
    currency: str | None
    refused: str | None
    ref: str | None
    ref_type: str | None
    texts: tuple[str, ...]
    payer_name: str | None
    payer_account: str | None
    payer_org_id: str | None
    e2e: str | None
    returned: bool
    reason: str | None


def _tx_values(
    el: etree._Element,
    tables: tuple[_Compiled, _Compiled, _Compiled],
    place: tuple[str, int, int],  # file name, entry number, transaction number (for messages)
    max_amount: Decimal,
) -> _Tx:
    def where() -> str:
        return f"{place[0]}: entry {place[1]} transaction {place[2]}"

    _entry_table, tx_table, ref_table = tables
    t = _walk(el, tx_table, {})
    # .04+: TxDtls/Amt; .02: only AmtDtls (TxAmt, else InstdAmt)
    amt_el = t.get("amt")
    if amt_el is None:
        amt_el = t.get("tx_amt")
        if amt_el is None:
            amt_el = t.get("instd_amt")
    currency = amt_el.get("Ccy") if amt_el is not None else None
    amount, refused = None, None
    try:
        amount = _amount_of(amt_el, where, currency, max_amount)
    except _Refused as exc:
        refused = str(exc)
    cdtr = t.get("cdtr")
    r = _walk(cdtr, ref_table, {}) if cdtr is not None else {}
    texts = [s for s in (u.text.strip() for u in t.get("ustrd", ()) if u.text) if s]
    extra = _get(t, "addtl")
    if extra:
        texts.append(extra)
    reason = None
    if "rtr" in t:
        code = _get(t, "rtr_cd") or _get(t, "rtr_prtry")
        reason = " ".join(x for x in (code, _get(t, "rtr_addtl")) if x) or "returned"
    payer_account = _get(t, "acct_iban") or _get(t, "acct_othr")
    return _Tx(  # positional, in _Tx's field order: built once per transaction, keywords cost more
        amount,
        currency,
        refused,
        _get(r, "ref"),  # ref
        _get(r, "ref_cd") or _get(r, "ref_prtry"),  # ref_type
        tuple(texts),
        _get(t, "dbtr_nm") or _get(t, "ultmt_nm"),  # payer_name
        payer_account.replace(" ", "") if payer_account else None,
        _org_id(t, "dbtr") or _org_id(t, "ultmt"),  # payer_org_id
        _get(t, "e2e"),
        "rtr" in t,  # returned
        reason,
    )


def _text(el: etree._Element | None, *names: str) -> str | None:
    """Header fields only (read once per file): walk down by local names, ignoring namespaces."""
    node = el.find("/".join(f"{{*}}{n}" for n in names)) if (el is not None and names) else el
    if node is None or node.text is None:
        return None
    value = node.text.strip()
    return value or None


def _account(acct: etree._Element | None) -> str | None:
    value = _text(acct, "Id", "IBAN") or _text(acct, "Id", "Othr", "Id")
    return value.replace(" ", "") if value else None


def iter_camt(
    source: bytes | Path | IO[bytes],
    name: str = "camt file",
    header: CamtHeader | None = None,
    client_id: str = "",
    max_amount: Decimal = DEFAULT_MAX_AMOUNT,
) -> Iterator[Payment]:
    """Stream the customer payments of a camt file; ``header`` is filled in as the file is read
    (refused records in ``header.refused``).

    ``client_id`` is set on every payment as it is made (cheaper than replacing it on each afterwards)."""
    for _, _, _, _, customer_money, payment in _iter_rows(source, name, header, client_id, max_amount):
        if customer_money:
            yield payment


def iter_transactions(
    source: bytes | Path | IO[bytes],
    name: str = "camt file",
    header: CamtHeader | None = None,
    max_amount: Decimal = DEFAULT_MAX_AMOUNT,
) -> Iterator[CamtTx]:
    """Stream every transaction of a camt file, debits included."""
    for row in _iter_rows(source, name, header, max_amount=max_amount):
        yield CamtTx(*row)


_Row = tuple[int, str, bool, str, bool, Payment]  # CamtTx's fields, without building one per payment


def _iter_rows(
    source: bytes | Path | IO[bytes],
    name: str,
    header: CamtHeader | None,
    client_id: str = "",
    max_amount: Decimal = DEFAULT_MAX_AMOUNT,
) -> Iterator[_Row]:
    head = header if header is not None else CamtHeader()
    reports = 0
    account = ""
    tables: tuple[_Compiled, _Compiled, _Compiled] | None = None
    txs: list[_Tx | None] = []  # the current entry's transactions, read as each TxDtls ended
    try:
        for el in iter_elements(source, name, ("GrpHdr", "Acct", "TxDtls", "Ntry")):
            tag = el.tag
            ns_end = tag.rfind("}") + 1
            local = tag[ns_end:]
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
            elif local == "TxDtls":
                entry = parent.getparent() if parent is not None else None
                if entry is not None and _local(entry) == "Ntry":
                    if tables is None:
                        tables = _tables(tag[:ns_end])
                    txs.append(_tx_values(el, tables, (name, head.entries + 1, len(txs) + 1), max_amount))
            elif parent is not None and _local(parent) in _REPORTS:
                head.entries += 1
                if tables is None:
                    tables = _tables(tag[:ns_end])
                produced = False
                try:
                    for row in _entry_rows(el, tables, account, head, head.entries, name, txs, client_id, max_amount):
                        produced = produced or row[4]
                        yield row
                except _Refused as exc:
                    head.refused.append(str(exc))
                txs = []
                if not produced:
                    head.skipped += 1
    except StreamError as exc:
        raise CamtError(str(exc)) from None
    if not head.message:
        raise CamtError(f"{name}: not a camt document (no group header, statement, notification or report)")
    if reports == 0:
        raise CamtError(f"{name}: {head.message} without any statement, notification or report (Stmt/Ntfctn/Rpt)")


def read_camt(
    data: bytes | Path | IO[bytes], name: str = "camt file", max_amount: Decimal = DEFAULT_MAX_AMOUNT
) -> CamtFile:
    head = CamtHeader()
    transactions = tuple(iter_transactions(data, name, head, max_amount))
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
        refused=tuple(head.refused),
    )


def _entry_rows(
    entry: etree._Element,
    tables: tuple[_Compiled, _Compiled, _Compiled],
    account: str,
    head: CamtHeader,
    index: int,
    name: str,
    txs: list[_Tx | None],
    client_id: str = "",
    max_amount: Decimal = DEFAULT_MAX_AMOUNT,
) -> Iterator[_Row]:
    """The rows of one ended entry; ``txs`` are its TxDtls, read as each ended. An entry whose own
    amount is refused raises ``_Refused`` before any row; a refused transaction is named in
    ``head.refused`` and the entry's others are kept."""

    def where() -> str:
        return f"{name}: entry {index}"

    entry_table, _tx_table, _ref_table = tables
    e = _walk(entry, entry_table, {})
    direction = _get(e, "dir")
    if direction not in ("CRDT", "DBIT"):
        raise CamtError(f"{where()}: CdtDbtInd is '{direction}', expected CRDT or DBIT")
    reversal_flag = (_get(e, "rvsl") or "").lower() in ("true", "1")
    returned = any(t is not None and t.returned for t in txs)
    # CRDT + RvslInd is a debit of ours taken back; a plain DBIT is our own outgoing payment.
    customer_money = (direction == "CRDT" and not reversal_flag) or (
        direction == "DBIT" and (reversal_flag or returned)
    )
    taken_back = direction == "DBIT"
    status_code = (_get(e, "sts_cd") or _get(e, "sts_prtry") or _get(e, "sts") or "BOOK").upper()
    pending = status_code in PENDING_CODES or head.message == "camt.052"
    status = PaymentStatus.PENDING if pending else PaymentStatus.BOOKED
    amt = e.get("amt")
    currency = (amt.get("Ccy") if amt is not None else None) or ""
    entry_amount = _amount_of(amt, where, currency, max_amount)
    value_date = _iso_date(_get(e, "val_dt") or _get(e, "val_dttm"))
    booking = _iso_date(_get(e, "bookg_dt") or _get(e, "bookg_dttm")) or value_date
    if booking is None:
        # A pending entry may not have a booking date yet; a debit of ours is not checked strictly.
        booking = head.created if (pending or not customer_money) else None
        if booking is None and not customer_money:
            booking = date.min
        if booking is None:
            raise CamtError(f"{where()}: no booking or value date")
    # Without any bank reference the key must still never merge two real payments: use the file's own id.
    entry_ref = _get(e, "acct_svcr_ref") or _get(e, "ntry_ref") or f"{head.msg_id or name}#{index}"
    entry_text = _get(e, "addtl") or ""
    if not txs:
        if entry_amount is None and not customer_money:
            entry_amount = Decimal(0)
        if entry_amount is None:
            raise CamtError(f"{where()}: no amount")
        # ordinal -1: the whole entry, superseded by the same entry's TxDtls from another file (dedup).
        payment = Payment(
            client_id=client_id,
            source=PaymentSource.CAMT,
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
        yield index, direction, reversal_flag, status_code, customer_money, payment
        return
    count = len(txs)
    for ordinal in range(count):
        t = txs[ordinal]
        txs[ordinal] = None  # the payment replaces it: an entry's transactions are never held twice
        assert t is not None
        if t.refused:
            head.refused.append(t.refused)
            continue
        amount = t.amount
        if amount is None:
            if count == 1 and entry_amount is not None:
                amount = entry_amount
            elif not customer_money:
                amount = Decimal(0)
            else:
                raise CamtError(f"{where()} transaction {ordinal + 1}: no amount")
        texts = (*t.texts, entry_text) if count == 1 and entry_text else t.texts
        # positional, in Payment's field order (keywords cost about 1.5 µs a payment), each named alongside
        payment = Payment(
            client_id,
            PaymentSource.CAMT,  # source
            account,
            entry_ref,  # bank_ref
            ordinal,
            booking,  # booking_date
            amount,
            t.currency or currency,  # currency
            status,
            value_date,
            t.ref,  # structured_ref
            t.ref_type,
            " ".join(texts),  # free_text
            t.payer_name,
            t.payer_account,
            t.payer_org_id,
            taken_back,  # reversal
            None,  # invoice_number: a bank payment names none
            t.e2e,  # end_to_end_id
            t.reason,  # return_reason
        )
        yield index, direction, reversal_flag, status_code, customer_money, payment


_ORG_FIELDS = {party: tuple(f"{party}_{f}" for f in ("othr", "bic", "anybic", "lei")) for party in ("dbtr", "ultmt")}


def _org_id(found: dict[str, Any], party: str) -> str | None:
    for name in _ORG_FIELDS[party]:  # most payers give no org id: nothing is looked up twice
        if name in found and (value := _get(found, name)):
            return value
    return None
