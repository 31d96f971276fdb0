"""Invoices the creditor collects itself (direct debit, card) are marked, so dunning waits for the collection."""

from __future__ import annotations

import dataclasses

from einvoice_corpus import read_doc

from connector.einvoice.document import PaymentMeans


def test_sepa_direct_debit_with_a_mandate_is_collected_by_the_creditor() -> None:
    doc = read_doc("bis3/direct-debit.xml")
    assert [(pm.code, pm.mandate_id) for pm in doc.payment_means] == [("59", "123456")]
    assert doc.collection_method == "direct_debit"


def test_credit_transfer_and_giro_invoices_are_dunned_normally() -> None:
    assert read_doc("bis3/base-example.xml").collection_method is None
    assert read_doc("bis3/giro.xml").collection_method is None


def test_a_transfer_option_beside_the_direct_debit_means_the_payer_chooses() -> None:
    doc = read_doc("bis3/direct-debit.xml")
    both = dataclasses.replace(doc, payment_means=(*doc.payment_means, PaymentMeans("30", "123", "NO9386011117947")))
    assert both.collection_method is None
    card = dataclasses.replace(doc, payment_means=(PaymentMeans("54", None, None),))
    assert card.collection_method == "card"
