"""Matching payments and credit notes to invoices, and the open amount that follows (pure)."""

from connector.reconcile.matching import Reconciliation, reconcile

__all__ = ["Reconciliation", "reconcile"]
