"""Ledger source for a folder of EHF / Peppol documents (the client's access-point archive).

Sent invoices and credit notes (UBL or CII, bare or in an SBDH) become invoice facts; EHF Reminders
become dunning steps; Invoice Responses, MLR and MLS become document events (and UQ/RE disputes).
Each file is read once (by content hash), so an unchanged folder yields nothing new. A bad file is
listed as failed with its name and reason and never blocks the others; nothing is deleted or moved.
"""

from __future__ import annotations

import os
from pathlib import Path

from connector.bulk import gc_paused
from connector.einvoice import status
from connector.einvoice.document import DocClass, EDocument, Party, StatusEvent
from connector.einvoice.read import DocumentError, read_document
from connector.model import Action, Attachment, Customer, Dispute, DocKind, DunningStep, Invoice
from connector.sources.base import (
    MAX_FILE_BYTES,
    FileResult,
    LedgerBatch,
    SyncContext,
    file_hash,
    inbox_files,
)

SUFFIXES = (".xml",)
# An inkassovarsel must say that collection will follow (inkassoloven § 9); an EHF Reminder whose
# text says so is the collection notice step, any other is a plain reminder (purring).
_NOTICE_WORDS = ("inkassovarsel", "inkassomeddelelse", "inkassokrav")
_KIND = {DocClass.INVOICE_RESPONSE: status.INVOICE_RESPONSE, DocClass.MLR: status.MLR, DocClass.MLS: status.MLS}
_IGNORED = {
    DocClass.PAYMENT_REQUEST: "EHF Payment Request: a payment instruction to one's own bank, not a sales document",
}


class EhfFolderSource:
    name = "ledger"

    def __init__(self, folder: Path):
        self.folder = folder

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        # One process reads everything: a reader pool measured slower than this on two cores (the
        # documents and the records crossing process boundaries cost more than the parsing saved).
        batch = LedgerBatch()
        ahead: list[tuple[str, str, bytes | int]] = []
        ahead_bytes = 0
        with gc_paused():  # thousands of small acyclic records (connector.bulk)
            for path in inbox_files(self.folder, SUFFIXES):
                data = _read_bounded(path)
                if isinstance(data, int):
                    ahead.append((path.name, f"size:{data}:{path.name}", data))
                    continue
                digest = file_hash(data)
                if digest in ctx.seen_files:
                    continue
                ahead.append((path.name, digest, data))
                ahead_bytes += len(data)
                # Files are read a few megabytes ahead, then parsed: measured faster than alternating
                # one read and one parse, and memory stays bounded whatever the folder holds.
                if len(ahead) >= AHEAD_FILES or ahead_bytes >= AHEAD_BYTES:
                    _take_all(batch, ctx, ahead)
                    ahead, ahead_bytes = [], 0
            _take_all(batch, ctx, ahead)
        # One row per customer: many invoices to the same customer need not each upsert it.
        batch.customers = list({c.customer_id: c for c in batch.customers}.values())
        return batch


AHEAD_FILES = 256
AHEAD_BYTES = 8 * 1024 * 1024


def _read_bounded(path: Path) -> bytes | int:
    """The file's bytes, or its size when that is over ``MAX_FILE_BYTES`` (then nothing is read)."""
    with open(path, "rb", buffering=0) as f:  # one open and fstat: no separate stat per file
        size = os.fstat(f.fileno()).st_size
        return size if size > MAX_FILE_BYTES else f.read()


def _take_all(batch: LedgerBatch, ctx: SyncContext, files: list[tuple[str, str, bytes | int]]) -> None:
    for name, digest, data in files:
        _take(batch, ctx, name, digest, data)


def _take(batch: LedgerBatch, ctx: SyncContext, name: str, digest: str, data: bytes | int) -> None:
    if isinstance(data, int):
        reason = f"{name}: {data} bytes is larger than the {MAX_FILE_BYTES}-byte limit, skipped"
        batch.errors.append(reason)
        batch.files.append(FileResult(name, digest, "failed", reason))
        return
    try:
        result = _add(batch, ctx, read_document(data, name), name)
    except DocumentError as exc:
        result = FileResult(name, digest, "failed", str(exc))
        batch.errors.append(str(exc))
    except Exception as exc:  # a reader bug on one file must not stop the folder
        reason = f"{name}: could not be read ({exc.__class__.__name__}: {exc})"
        result = FileResult(name, digest, "failed", reason)
        batch.errors.append(reason)
    batch.files.append(FileResult(name, digest, result.status, result.detail))


def _add(batch: LedgerBatch, ctx: SyncContext, doc: EDocument | StatusEvent | DocClass, filename: str) -> FileResult:
    client_id = ctx.client.id
    if isinstance(doc, DocClass):
        return FileResult(filename, "", "ignored", _IGNORED.get(doc, f"{doc.value} documents are not used"))
    if isinstance(doc, StatusEvent):
        _add_status(batch, client_id, doc, filename)
        return FileResult(filename, "", "ok", f"{doc.doc_class.value} {doc.code} for {doc.ref_id}")
    if doc.doc_class is DocClass.REMINDER:
        _add_reminder(batch, client_id, doc, filename)
        return FileResult(filename, "", "ok", f"reminder {doc.number} for {', '.join(doc.billing_refs) or '?'}")
    if _is_purchase(doc, ctx.client.org_no):
        return FileResult(filename, "", "ignored", f"{doc.number}: a purchase document (the client is the buyer)")
    _add_sales(batch, client_id, doc, filename)
    detail = "; ".join((doc.doc_class.value, *doc.warnings))
    return FileResult(filename, "", "ok", detail)


def _digits(value: str | None) -> str:
    if not value or value.isdecimal():  # the usual case: digits only already
        return value or ""
    return "".join(filter(str.isdecimal, value))  # as re.sub(r"\D", ""): \d is Unicode category Nd


def _is(party: Party, org_no: str) -> bool:
    return any(_digits(i) == org_no for i in party.ids)


def _is_purchase(doc: EDocument, org_no: str) -> bool:
    """The client's own incoming invoice: never a receivable of the client."""
    return _is(doc.customer, org_no) and not _is(doc.supplier, org_no)


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


def _add_sales(batch: LedgerBatch, client_id: str, doc: EDocument, filename: str) -> None:
    party = doc.customer
    customer_id = party.key or (party.name or "unknown")
    batch.customers.append(
        Customer(
            client_id=client_id,
            customer_id=customer_id,
            name=party.name or customer_id,
            org_no=party.legal_id,
            country=party.country,
            email=party.email,
            address=party.address,
            postal_code=party.postal_code,
            city=party.city,
        )
    )
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
        )
    )
    for att in doc.attachments:
        batch.attachments.append(Attachment(client_id, doc.number, att.filename, att.mime_type, att.content))
    if doc.sbdh_instance_id:
        # MLR/MLS answer the envelope, so remember which invoice travelled in which one.
        batch.document_events.append(
            status.DocumentEvent(
                client_id=client_id,
                event_key=f"{status.ENVELOPE}|{doc.sbdh_instance_id}",
                kind=status.ENVELOPE,
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
        status.DocumentEvent(
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
    if kind == status.INVOICE_RESPONSE and ev.code in status.DISPUTE_CODES and ev.ref_id:
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
                source="invoice_response",
            )
        )
