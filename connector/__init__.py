"""arsync: accounts-receivable sync, reconciliation, dunning and collection for Nordic accountants."""
