"""E-invoice documents: Peppol BIS 3 / EHF / OIOUBL (UBL) and CII readers, the classifier, SBDH
unwrap, Invoice Response / MLR / MLS status events (folded into holds by connector.dunning.documents),
optional validation."""
