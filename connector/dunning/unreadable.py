"""What a file that does not read could change, and so which invoices it holds. Pure.

One unreadable or refused ledger file must not stop a whole client: the hold is scoped by what the
recovery parse (``connector.einvoice.salvage``) could still read of it.

- Clearly an invoice (type 380 or equivalent): it cannot settle another invoice, so it holds nothing but
  an invoice of its own number read before (a changed copy of it); it is reported and otherwise absent.
- A possible credit note, Invoice Response, MLR/MLS, reminder or a file of unknown type: the invoices it
  names (an MLR/MLS names the envelope an invoice was sent in); else its buyer's invoices; else, with
  nothing identifiable, every invoice of the client.

Only files of the configured ledger folder count, and none the accountant quarantined
(``arsync files quarantine``): a folder no longer in the config holds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath

from connector.config import ClientConfig
from connector.model import ENVELOPE, Customer, DocumentEvent, Evidence, FileRole, Hold, UnreadableFile

HoldEvidence = tuple[Hold, Evidence]


class Reach(StrEnum):
    """How far one unreadable ledger file's hold reaches."""

    OWN = "own"  # clearly an invoice: only an invoice of its own number (a changed copy of one read before)
    INVOICES = "invoices"  # the invoices it names
    BUYER = "buyer"  # every invoice of its buyer
    CLIENT = "client"  # nothing identifiable: every invoice of the client


@dataclass(frozen=True)
class Scope:
    reach: Reach
    invoices: tuple[str, ...] = ()
    buyer: str = ""  # how the buyer was identified, for evidence ("org 934567897", "name Kunde AS")

    def describe(self) -> str:
        if self.reach is Reach.OWN:
            return "is clearly an invoice and holds no other invoice"
        if self.reach is Reach.INVOICES:
            return f"holds invoice(s) {', '.join(self.invoices)}"
        if self.reach is Reach.BUYER:
            return f"holds every invoice of its buyer ({self.buyer})"
        return "names nothing identifiable, so holds every invoice of the client"


def digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _name_key(value: str | None) -> str:
    return " ".join((value or "").casefold().split())


def in_config(f: UnreadableFile, client: ClientConfig) -> bool:
    """The file belongs to a folder the client's config still reads."""
    if f.role is FileRole.BANK:
        return any(f.source == bank.source_name for bank in client.bank)
    folder = client.ledger.path
    return folder is not None and client.ledger.kind == "ehf" and PurePath(f.path).parent == PurePath(folder)


def scope_of(f: UnreadableFile, envelopes: Mapping[str, str]) -> Scope:
    """How far ``f``'s hold reaches. ``envelopes``: SBDH instance id → the invoice sent in it."""
    s = f.salvaged
    if s is None:
        return Scope(Reach.CLIENT)
    if s.kind == "invoice":
        return Scope(Reach.OWN, (s.number,) if s.number else ())
    named = tuple(dict.fromkeys(envelopes.get(r, r) for r in s.refs if r))
    if named:
        return Scope(Reach.INVOICES, named)
    ids = [d for d in (digits(i) for i in s.buyer_ids) if len(d) >= 6]
    if ids:
        return Scope(Reach.BUYER, buyer=f"id {', '.join(dict.fromkeys(ids))}")
    if s.buyer_name and s.buyer_name.strip():
        return Scope(Reach.BUYER, buyer=f"name {s.buyer_name.strip()}")
    return Scope(Reach.CLIENT)


@dataclass(frozen=True)
class UnreadableHolds:
    """The holds of every unreadable ledger file of a client, by how far each reaches."""

    by_invoice: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)
    by_buyer_id: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)  # digits of an id
    by_buyer_name: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)  # case-folded name
    everyone: tuple[HoldEvidence, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.by_invoice or self.by_buyer_id or self.by_buyer_name or self.everyone)

    def holds_for(self, invoice_number: str, customer_id: str, customer: Customer | None) -> list[HoldEvidence]:
        out = list(self.by_invoice.get(invoice_number, ()))
        if self.by_buyer_id or self.by_buyer_name:
            keys = {digits(customer_id), digits(customer.org_no) if customer else ""} - {""}
            for key in sorted(keys):
                out.extend(self.by_buyer_id.get(key, ()))
            names = {_name_key(customer.name) if customer else "", _name_key(customer_id)} - {""}
            for name in sorted(names):
                out.extend(self.by_buyer_name.get(name, ()))
        out.extend(self.everyone)
        return list(dict.fromkeys(out))  # a file reaching an invoice two ways holds it once


def unreadable_holds(
    files: Iterable[UnreadableFile],
    client: ClientConfig,
    events: Iterable[DocumentEvent] = (),
) -> UnreadableHolds:
    """The holds of the client's unreadable ledger files that still count (configured, not quarantined)."""
    counted = [f for f in files if f.role is FileRole.LEDGER and not f.quarantined and in_config(f, client)]
    if not counted:
        return UnreadableHolds()
    envelopes = {e.ref_id: e.invoice_number for e in events if e.kind == ENVELOPE and e.ref_id and e.invoice_number}
    by_invoice: dict[str, list[HoldEvidence]] = {}
    by_id: dict[str, list[HoldEvidence]] = {}
    by_name: dict[str, list[HoldEvidence]] = {}
    everyone: list[HoldEvidence] = []
    for f in sorted(counted, key=lambda f: (f.name, f.file_hash)):
        scope = scope_of(f, envelopes)
        held = (Hold.UNREADABLE_DOCUMENT, _evidence(f, scope, client.id))
        if scope.reach in (Reach.OWN, Reach.INVOICES):
            for number in scope.invoices:
                by_invoice.setdefault(number, []).append(held)
        elif scope.reach is Reach.BUYER:
            s = f.salvaged
            ids = {d for d in (digits(i) for i in (s.buyer_ids if s else ())) if len(d) >= 6}
            for key in ids:
                by_id.setdefault(key, []).append(held)
            if not ids and s is not None and s.buyer_name:
                by_name.setdefault(_name_key(s.buyer_name), []).append(held)
        else:
            everyone.append(held)
    return UnreadableHolds(
        {k: tuple(v) for k, v in by_invoice.items()},
        {k: tuple(v) for k, v in by_id.items()},
        {k: tuple(v) for k, v in by_name.items()},
        tuple(everyone),
    )


def _evidence(f: UnreadableFile, scope: Scope, client_id: str) -> Evidence:
    s = f.salvaged
    what = s.kind.replace("_", " ") if s is not None and s.kind != "unknown" else "document of unknown type"
    number = f" {s.number}" if s is not None and s.number else ""
    detail = (
        f"{Hold.UNREADABLE_DOCUMENT}: {f.name} ({what}{number}) cannot be read: {f.error}; it could change what is "
        f"owed, so it {scope.describe()}. Lifts when the file reads, or when it is taken out of consideration: "
        f"arsync files quarantine {client_id} {f.path} --reason TEXT"
    )
    return Evidence("hold", detail, f.path, on=f.first_seen)


def bank_file_holds(files: Iterable[UnreadableFile], client: ClientConfig) -> list[HoldEvidence]:
    """An unreadable bank file may hold the payment that settles any invoice: it holds the client's dunning
    (``bank_data_stale``) until it reads or is quarantined; a feed no longer in the config holds nothing."""
    out = []
    for f in sorted(files, key=lambda f: (f.source, f.name)):
        if f.role is not FileRole.BANK or f.quarantined or not in_config(f, client):
            continue
        detail = (
            f"{Hold.BANK_DATA_STALE}: bank file {f.name} cannot be read: {f.error}; it may hold a payment, so "
            f"unpaid cannot be proven. Lifts when the file reads, or when it is taken out of consideration: "
            f"arsync files quarantine {client.id} {f.path} --reason TEXT"
        )
        out.append((Hold.BANK_DATA_STALE, Evidence("hold", detail, f.path, on=f.first_seen)))
    return out
