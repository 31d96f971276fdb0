"""Ledger source for a folder of EHF / Peppol documents (the client's access-point archive).

Sent invoices and credit notes (UBL or CII, bare or in an SBDH) become invoice facts; EHF Reminders
become dunning steps; Invoice Responses, MLR and MLS become document events (and UQ/RE disputes). A document
the client received (it is the buyer) is passed over; a sales document of another seller is refused.
Each file is read once (by content hash), so an unchanged folder yields nothing new; a file whose stat is
as when it was read is not even opened (connector.sources.known). A bad file is listed as failed with its
name and reason and never blocks the others; nothing is deleted or moved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

from connector.einvoice.document import DocClass, EDocument, Party, StatusEvent
from connector.einvoice.read import DocumentError, read_document
from connector.einvoice.salvage import salvage
from connector.files import LinkLeavesFolder, open_in_folder
from connector.forked import Jobs
from connector.gcpause import gc_paused
from connector.model import (
    DISPUTE_CODES,
    ENVELOPE,
    INVOICE_RESPONSE,
    MLR,
    MLS,
    Action,
    Attachment,
    Customer,
    Dispute,
    DisputeSource,
    DocKind,
    DocumentEvent,
    DunningStep,
    Invoice,
)
from connector.sources.base import (
    MAX_FILE_BYTES,
    FileResult,
    LedgerBatch,
    SyncContext,
    already_read,
    file_hash,
    inbox_names,
    merged,
)
from connector.sources.known import FileStat, settled, stat_of, unchanged

SUFFIXES = (".xml",)
# An inkassovarsel must say that collection will follow (inkassoloven § 9); an EHF Reminder whose
# text says so is the collection notice step, any other is a plain reminder (purring). NO/DK inkassovarsel,
# SE inkassovarning (what arsync's Swedish notice is titled) or inkassokrav.
_NOTICE_WORDS = ("inkassovarsel", "inkassomeddelelse", "inkassokrav", "inkassovarning")
_KIND = {DocClass.INVOICE_RESPONSE: INVOICE_RESPONSE, DocClass.MLR: MLR, DocClass.MLS: MLS}
_IGNORED = {
    DocClass.PAYMENT_REQUEST: "EHF Payment Request: a payment instruction to one's own bank, not a sales document",
}


class EhfFolderSource:
    name = "ledger"

    def __init__(self, folder: Path):
        self.folder = folder

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        """The whole folder as one batch (the sync reads it in ``parts`` instead)."""
        return merged(self.parts(ctx))

    def parts(self, ctx: SyncContext) -> Jobs[Sequence[str], LedgerBatch]:
        """The folder in parts of at most ``PART_FILES`` files, in name order: the sync stores each part
        inside its one transaction as it is read, so a folder of a million invoices is never held whole.
        The folder is listed now (a folder that is not there fails the source here, as a fetch does); its
        files are read as the parts are taken. Each part depends on its names and ``ctx`` alone, so the sync
        may have helper processes read parts side by side (``connector.forked``)."""
        names = inbox_names(self.folder, SUFFIXES)
        return Jobs(partial(self._part, ctx), [names[i : i + PART_FILES] for i in range(0, len(names), PART_FILES)])

    def _part(self, ctx: SyncContext, names: Sequence[str]) -> Iterator[LedgerBatch]:
        """One part's batch, handed on in pieces of about ``PIECE_BYTES`` of documents (a folder whose
        invoices carry large PDFs), each whole documents with their attachments; the last piece carries
        the part's customers."""
        # One row per customer and part: many invoices to the same customer need not each upsert it.
        # The customer is built from the party of the part's last document naming it; the parts are
        # stored in order, so the folder's last document naming it wins, as in one batch.
        customers: dict[str, Party] = {}
        pending = iter(names)
        while True:
            with gc_paused():  # thousands of small acyclic records (connector.gcpause); never across a yield
                batch, more = self._piece(ctx, pending, customers)
                if not more:
                    batch.customers = [_customer(ctx.client.id, key, party) for key, party in customers.items()]
            yield batch
            if not more:
                return

    def _piece(self, ctx: SyncContext, names: Iterator[str], customers: dict[str, Party]) -> tuple[LedgerBatch, bool]:
        """The next files of ``names`` until ``PIECE_BYTES`` of documents are read; whether any are left."""
        folder = os.fspath(self.folder)
        known = ctx.known_stats
        batch = LedgerBatch()
        ahead: list[_Read] = []
        ahead_bytes = piece_bytes = 0
        for name in names:
            stat = stat_of(folder, name)
            if unchanged(known, name, stat):
                continue  # read before and untouched since: not opened (connector.sources.known)
            try:
                data = _read_bounded(folder, name)
            except LinkLeavesFolder as exc:
                # Held as an unreadable document is: it might be a real invoice behind a link.
                batch.errors.append(str(exc))
                batch.files.append(FileResult(name, f"link:{name}", "failed", str(exc)))
                continue
            except FileNotFoundError:
                continue  # removed since the folder was listed: as if it had not been there
            except OSError as exc:  # e.g. no permission: held as unreadable, the others go on
                reason = f"{name}: could not be opened ({exc.strerror or exc})"
                batch.errors.append(reason)
                batch.files.append(FileResult(name, f"unopened:{name}", "failed", reason))
                continue
            stat = settled(stat)
            if isinstance(data, int):
                ahead.append((name, f"size:{data}:{name}", data, stat))
                continue
            digest = file_hash(data)
            if already_read(ctx, batch.known_again, name, digest, stat):
                continue
            ahead.append((name, digest, data, stat))
            ahead_bytes += len(data)
            # Files are read a few dozen ahead, then parsed: measured faster than alternating one
            # read and one parse, and memory stays bounded whatever the folder holds. Megabytes
            # ahead measured slower: the allocator hands the freed batch back to the system and
            # page-faults it in again for the next (some microseconds per file).
            if len(ahead) >= AHEAD_FILES or ahead_bytes >= AHEAD_BYTES:
                _take_all(batch, customers, ctx, ahead)
                piece_bytes += ahead_bytes
                ahead, ahead_bytes = [], 0
                if piece_bytes >= PIECE_BYTES:
                    return batch, True
        _take_all(batch, customers, ctx, ahead)
        return batch, False


# Files per part: big enough that a part's transaction work (one executemany per record kind) is cheap per
# file; the part is handed on in pieces of about PIECE_BYTES of documents, so its records (with their
# attachments) stay a few tens of megabytes however large the files (a helper, this process and the pipe
# between them each hold about one piece).
PART_FILES = 5000
PIECE_BYTES = 64 * 1024 * 1024
AHEAD_FILES = 32
AHEAD_BYTES = 1024 * 1024

_Read = tuple[str, str, bytes | int, FileStat | None]  # name, digest, the bytes (or the size if too big), stat


def _read_bounded(folder: str, name: str) -> bytes | int:
    """The file's bytes, or its size when that is over ``MAX_FILE_BYTES`` (then nothing is read).

    Plain ``os`` calls, one open and one fstat per file: a file object per file costs more than
    reading a small invoice. As ``read()``, it reads to the end of the file whatever its size.
    A link out of the folder raises ``LinkLeavesFolder`` (connector.files)."""
    fd = open_in_folder(folder, name)
    try:
        size = os.fstat(fd).st_size
        if size > MAX_FILE_BYTES:
            return size
        data = os.read(fd, size + 1)  # a byte more than fstat said: then exactly ``size`` is the end
        if len(data) == size:
            return data
        chunks = [data]  # grown, shrunk or a short read: read on to the end
        while chunk := os.read(fd, 1024 * 1024):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _take_all(batch: LedgerBatch, customers: dict[str, Party], ctx: SyncContext, files: list[_Read]) -> None:
    for name, digest, data, stat in files:
        _take(batch, customers, ctx, name, digest, data, stat)


def _take(
    batch: LedgerBatch,
    customers: dict[str, Party],
    ctx: SyncContext,
    name: str,
    digest: str,
    data: bytes | int,
    stat: FileStat | None,
) -> None:
    if isinstance(data, int):
        reason = f"{name}: {data} bytes is larger than the {MAX_FILE_BYTES}-byte limit, skipped"
        batch.errors.append(reason)
        batch.files.append(FileResult(name, digest, "failed", reason, stat=stat))
        return
    try:
        doc = read_document(data, name, max_amount=ctx.client.limits.max_amount)
        status, detail = _add(batch, customers, ctx, doc, name)
    except DocumentError as exc:
        status, detail = "failed", str(exc)
        batch.errors.append(detail)
    except Exception as exc:  # a reader bug on one file must not stop the folder
        status, detail = "failed", f"{name}: could not be read ({exc.__class__.__name__}: {exc})"
        batch.errors.append(detail)
    # What a file that does not read could change scopes its hold (connector.dunning.unreadable).
    salvaged = salvage(data) if status == "failed" else None
    batch.files.append(FileResult(name, digest, status, detail, salvaged, stat))


def _add(
    batch: LedgerBatch,
    customers: dict[str, Party],
    ctx: SyncContext,
    doc: EDocument | StatusEvent | DocClass,
    filename: str,
) -> tuple[str, str]:
    """Add what the document says to the batch; the file's status and detail."""
    client_id = ctx.client.id
    if isinstance(doc, DocClass):
        return "ignored", _IGNORED.get(doc, f"{doc.value} documents are not used")
    if isinstance(doc, StatusEvent):
        _add_status(batch, client_id, doc, filename)
        return "ok", f"{doc.doc_class.value} {doc.code} for {doc.ref_id}"
    if _is_purchase(doc, ctx.client.org_no):
        return "ignored", f"{doc.number}: a purchase document (the client is the buyer)"
    if (seller := _other_seller(doc, ctx.client.org_no)) is not None:
        # Another company's document (a file dropped in the wrong client's folder): taken as the client's,
        # its buyer would be reminded of a debt owed to someone else.
        what = "reminder" if doc.doc_class is DocClass.REMINDER else "credit note" if doc.is_credit else "invoice"
        reason = (
            f"{filename}: {what} {doc.number} was issued by {seller}, not by the client "
            f"(org no {ctx.client.org_no}): another company's document, refused"
        )
        batch.errors.append(reason)
        return "failed", reason
    if doc.doc_class is DocClass.REMINDER:
        _add_reminder(batch, client_id, doc, filename)
        return "ok", f"reminder {doc.number} for {', '.join(doc.billing_refs) or '?'}"
    _add_sales(batch, customers, client_id, doc, filename)
    return "ok", "; ".join((doc.doc_class.value, *doc.warnings))


def _digits(value: str | None) -> str:
    if not value or value.isdecimal():  # the usual case: digits only already
        return value or ""
    return "".join(filter(str.isdecimal, value))  # as re.sub(r"\D", ""): \d is Unicode category Nd


def _is(party: Party, org_no: str) -> bool:
    ids = (party.legal_id, party.endpoint_id, party.vat_id, *party.party_ids)  # Party.ids without the set
    return any(i and _digits(i) == org_no for i in ids)


def _is_purchase(doc: EDocument, org_no: str) -> bool:
    """The client's own incoming invoice: never a receivable of the client."""
    return _is(doc.customer, org_no) and not _is(doc.supplier, org_no)


def _other_seller(doc: EDocument, org_no: str) -> str | None:
    """The seller, named, when the document names its seller and none of the seller's ids is the client's
    org no (a Swedish VAT number is the org no + "01"; a Peppol id's scheme is not part of it); None when the
    client is the seller, or the seller carries no id to tell. A seller known only by a GLN or an id of its
    own is not taken for the client: its buyer could be reminded of another company's debt."""
    seller = doc.supplier
    # an id's digits, after its scheme ("0192:923456783" is the org no 923456783; "NO923456783MVA" too)
    numbers = {_digits(i.rsplit(":", 1)[-1]) for i in seller.ids}
    if not seller.ids or numbers & {org_no, f"{org_no}01"}:
        return None
    return f"{seller.name} ({seller.key})" if seller.name and seller.key else seller.name or seller.key


def _add_reminder(batch: LedgerBatch, client_id: str, doc: EDocument, filename: str) -> None:
    # A reminder is a dunning event on the invoice it references, never a new receivable.
    text = " ".join(doc.notes).lower()
    step = Action.COLLECTION_NOTICE if any(w in text for w in _NOTICE_WORDS) else Action.REMINDER
    for invoice_number in doc.billing_refs[:1]:
        batch.steps.append(
            DunningStep(
                client_id=client_id,
                invoice_number=invoice_number,
                step=step,
                sent_on=doc.issue_date,
                channel="ehf",
                currency=doc.currency,
                detail=f"EHF Reminder {doc.number} ({filename})",
            )
        )


def _customer(client_id: str, customer_id: str, party: Party) -> Customer:
    return Customer(
        client_id=client_id,
        customer_id=customer_id,
        name=party.name or customer_id,
        org_no=party.legal_id,
        country=party.country,
        email=party.email,
        address=party.address,
        postal_code=party.postal_code,
        city=party.city,
        phone=party.phone,
        contact=party.contact,
    )


def _add_sales(batch: LedgerBatch, customers: dict[str, Party], client_id: str, doc: EDocument, filename: str) -> None:
    party = doc.customer
    customer_id = party.key or (party.name or "unknown")
    customers[customer_id] = party  # the last document's party wins, in first-seen order
    # A negative invoice is a correction: treat it exactly like a credit note (research §2).
    is_credit = doc.is_credit
    batch.invoices.append(
        Invoice(
            client_id=client_id,
            number=doc.number,
            kind=DocKind.CREDIT_NOTE if is_credit else DocKind.INVOICE,
            customer_id=customer_id,
            issue_date=doc.issue_date,
            due_date=doc.due_date,
            currency=doc.currency,
            amount=abs(doc.payable),
            source="ehf",
            kid=doc.kid,
            credits=doc.billing_refs if is_credit else (),
            order_ref=doc.order_ref,
            type_code=doc.type_code,
            factored=doc.factored,
            collection_method=doc.collection_method,
            source_ref=filename,
            delivery_date=doc.delivery_date,
            payee_account=next((pm.account for pm in doc.payment_means if pm.account), None),
        )
    )
    for att in doc.attachments:
        batch.attachments.append(Attachment(client_id, doc.number, att.filename, att.mime_type, att.content, filename))
    if doc.sbdh_instance_id:
        # MLR/MLS answer the envelope, so remember which invoice travelled in which one.
        batch.document_events.append(
            DocumentEvent(
                client_id=client_id,
                event_key=f"{ENVELOPE}|{doc.sbdh_instance_id}",
                kind=ENVELOPE,
                code="SENT",
                issued_on=doc.issue_date,
                ref_id=doc.sbdh_instance_id,
                ref_type_code=doc.type_code,
                invoice_number=doc.number,
                source_ref=filename,
            )
        )


def _add_status(batch: LedgerBatch, client_id: str, ev: StatusEvent, filename: str) -> None:
    kind = _KIND[ev.doc_class]
    sender = f"{ev.sender.endpoint_scheme or ''}:{ev.sender.endpoint_id or ''}"
    text = " ".join(ev.texts)
    batch.document_events.append(
        DocumentEvent(
            client_id=client_id,
            event_key=f"{kind}|{sender}|{ev.response_id}|{ev.ref_id or ''}|{ev.code}",
            kind=kind,
            code=ev.code,
            issued_on=ev.issue_date,
            issue_time=ev.issue_time,
            ref_id=ev.ref_id,
            ref_type_code=ev.ref_type_code,
            effective_date=ev.effective_date,
            reason_codes=ev.reason_codes,
            action_codes=ev.action_codes,
            text=text,
            conditions=ev.conditions,
            source_ref=filename,
        )
    )
    if kind == INVOICE_RESPONSE and ev.code in DISPUTE_CODES and ev.ref_id:
        codes = "/".join((*ev.reason_codes, *ev.action_codes))
        conditions = "; ".join(f"{bt}={value}" for bt, value in ev.conditions)
        reason = " ".join(p for p in (ev.code, codes, text, f"[{conditions}]" if conditions else "") if p)
        batch.disputes.append(
            Dispute(
                client_id=client_id,
                invoice_number=ev.ref_id,
                dispute_id=f"ir:{ev.ref_id}:{ev.response_id}:{ev.code}"[:128],
                opened_on=ev.issue_date,
                reason=f"{reason} (Invoice Response {ev.response_id}, {filename})",
                source=DisputeSource.INVOICE_RESPONSE,
            )
        )
