"""Ledger sources: where a client's invoices, credit notes and booked payments come from."""
