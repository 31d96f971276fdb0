"""The table of fee and interest bookings (issue 16): what a letter charged, to be booked back into the
client's ledger or a booking file exactly once. Kept apart from ``schema.py`` so the booking log is
one module; registered on the same metadata, so a fresh database creates it with the rest."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, Text

from connector.store.schema import Money, metadata

# One row per charge of one letter: the letter's key (invoice, step, day), the kind of charge and the letter
# (a letter cancelled and written again the same day charges anew, with a row of its own); a cancelled letter's
# booked charge gets a row of kind ``<kind>_reversal`` beside it, booked on the day it was cancelled.
fee_bookings = Table(
    "fee_bookings",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("invoice_number", String(128), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("sent_on", Date, primary_key=True),
    Column("kind", String(32), primary_key=True),  # fee, interest, fee_reversal, interest_reversal
    # the letter that charged it; "" on rows from before v20 (the letter of their key)
    Column("letter_id", String(200), primary_key=True, server_default=""),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("account", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("target", String(32), nullable=False),  # "file", or the ledger system booked into
    # planned (the letter may still fail) → pending (being booked) → booked; void: the letter never went (or was
    # cancelled before its charge was booked)
    Column("status", String(16), nullable=False),
    Column("ref", Text, nullable=False, default=""),  # the file's name, or the ledger's id for the booking
    Column("last_error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", Text),  # the run that claimed a pending booking (connector.store.locks), issue 13
    Column("booked_on", Date),  # the day it is booked when not the letter's day (a reversal's: the day cancelled)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
