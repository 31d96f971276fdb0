"""The generated hostile-input corpus: how many cases each class holds, and that they are all different."""

from __future__ import annotations

from hostile_corpus import (
    absurd_amounts,
    catalogue,
    endless_pages,
    env_secrets,
    links,
    ocr_bad_totals,
    ocr_truncated,
    servers,
)

# Reported in the issue's closing note; a class that shrinks by accident fails here.
EXPECTED = {
    "env_secrets": 48,  # 12 *_env keys × 4 token shapes
    "servers": 6,  # hang, slow, trickle, Retry-After date / seconds / past date
    "ocr_truncated": 16,  # cut after each of 13 records, and inside 3
    "ocr_bad_totals": 12,  # 6 control totals × (+1, −1)
    "absurd_amounts": 14,  # 10 refused, 4 odd-looking but right; each in camt, UBL, CII
    "links": 6,  # 4 leaving the folder, 2 staying inside; each in EHF, camt and OCR folders
    "camt_huge_entry": 1,  # one entry, size chosen by the test (40,000) or bench (390,000)
    "endless_pages": 12,  # 4 systems × (the same page for ever, a page repeated, an empty page mid-list)
    "currency_mismatch": 13,  # 5 UBL + 5 CII totals in another currency, a lower-case code; 2 VAT totals in BT-6
    "stored_values": 15,  # unreadable amounts, dates, codes, JSON in 7 tables
    "conflicting_documents": 9,  # 7 fields that make a second claim; 2 re-deliveries that change nothing
    "outbox_leftovers": 5,  # 2 of a dead writer, 1 of a live one, 2 without a pid (old / fresh)
}


def test_the_corpus_holds_what_the_issue_reports() -> None:
    assert catalogue() == EXPECTED


def test_every_case_is_different() -> None:
    assert len({(c.table, c.key, c.value) for c in env_secrets()}) == len(env_secrets())
    assert len({c.behaviour for c in servers()}) == len(servers())
    for cases in (ocr_truncated(), ocr_bad_totals()):
        assert len({c.data for c in cases}) == len(cases)
    assert len({(c.text, c.currency) for c in absurd_amounts()}) == len(absurd_amounts())
    assert sum(c.refused for c in absurd_amounts()) == 10
    assert len({c.make for c in links(".xml")}) == len(links(".xml"))
    assert sum(c.leaves for c in links(".xml")) == 4
    assert len({(c.system, c.kind) for c in endless_pages()}) == len(endless_pages())
    assert sum(c.loops for c in endless_pages()) == 8
