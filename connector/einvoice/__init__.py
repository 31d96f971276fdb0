"""E-invoice documents: PEPPOL BIS 3 / EHF UBL (and, later, CII), classification, status responses."""
