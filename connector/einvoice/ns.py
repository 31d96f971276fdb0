"""Namespace URIs (matched by URI, never by prefix: senders pick any prefix) and Clark-notation prefixes."""

from __future__ import annotations

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
APPLICATION_RESPONSE_NS = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM_NS = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT_NS = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT_NS = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"

# Clark prefixes: ``find(f"{CAC}Party/{CBC}Name")`` is faster than a namespace map lookup.
CAC = f"{{{CAC_NS}}}"
CBC = f"{{{CBC_NS}}}"
RSM = f"{{{CII_NS}}}"
RAM = f"{{{RAM_NS}}}"
UDT = f"{{{UDT_NS}}}"
QDT = f"{{{QDT_NS}}}"

NS = {"cac": CAC_NS, "cbc": CBC_NS}
