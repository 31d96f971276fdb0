"""`arsync report aging --format html`: buckets per client and customer, disputed and held amounts
apart, a CSS bar chart, and no script (customer names from the ledger are escaped)."""

from __future__ import annotations

from datetime import date

from lxml import html

from tests.builders import Workspace, client_table

AS_OF = date(2026, 3, 1)
HOSTILE = "&lt;script&gt;alert(1)&lt;/script&gt; AS"  # XML-escaped in the invoice: a name with a tag


def test_aging_html_page(ws: Workspace) -> None:
    ws.write_config(client_table())
    for number, due, amount, extra in [
        ("7100", date(2026, 3, 10), "1000.00", {}),  # not due
        ("7101", date(2026, 2, 9), "2000.00", {}),  # 20 days: 1-30
        ("7102", date(2026, 1, 15), "3000.00", {}),  # 45 days: 31-60, excluded → held
        ("7103", date(2025, 11, 21), "4000.00", {}),  # 100 days: 90+
        (
            "7104",
            date(2026, 2, 9),
            "500.00",
            {"customer": HOSTILE, "org": "974760673"},
        ),
    ]:
        ws.add_invoice(number, issue=date(2025, 11, 1), due=due, amount=amount, **extra)
    ws.bank_heartbeat(AS_OF)
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    assert (
        ws.cli(
            "disputes", "open", "--client", "acme", "7104", "--reason", "wrong goods", "--as-of", AS_OF.isoformat()
        ).exit_code
        == 0
    )
    excluded = ws.cli(
        "exclude", "add", "--client", "acme", "--invoice", "7102", "--reason", "talks", "--as-of", AS_OF.isoformat()
    )
    assert excluded.exit_code == 0, excluded.output

    result = ws.cli("report", "aging", "--format", "html", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "<script" not in page.lower() and "javascript:" not in page.lower()
    assert HOSTILE in page  # the ledger's name, escaped

    doc = html.fromstring(page)
    assert doc.findtext(".//h1") == "Aged receivables as of 2026-03-01"
    headers = [th.text_content() for th in doc.findall(".//thead/tr/th")]
    assert headers[4:] == ["not_due", "1-30", "31-60", "61-90", "90+", "total", "disputed", "held", "aging"]
    rows = {
        tr.findall("td")[1].text_content(): [td.text_content() for td in tr.findall("td")[:-1]]
        for tr in doc.findall(".//tbody/tr")
    }
    assert rows["934567897"][2:] == [
        "Kunde AS", "NOK", "1000.00", "2000.00", "3000.00", "0.00", "4000.00", "10000.00", "0.00", "3000.00"
    ]  # fmt: skip
    assert rows["974760673"][4:] == ["0.00", "500.00", "0.00", "0.00", "0.00", "500.00", "500.00", "0.00"]

    bars = {
        tr.findall("td")[1].text_content(): [
            (span.get("class"), span.get("style")) for span in tr.find_class("bar")[0].findall("span")
        ]
        for tr in doc.findall(".//tbody/tr")
    }
    assert bars["934567897"] == [
        ("b0", "width:10.0%"),
        ("b1", "width:20.0%"),
        ("b2", "width:30.0%"),
        ("b4", "width:40.0%"),
    ]
    assert bars["974760673"] == [("b1", "width:100.0%")]
    assert doc.find_class("legend") and "shown apart" in doc.find_class("apart")[0].text_content()


def test_aging_html_without_receivables(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.bank_heartbeat(AS_OF)
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0  # the report reads an existing store
    result = ws.cli("report", "aging", "--format", "html", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    assert "No open receivables." in result.stdout and "<script" not in result.stdout
    assert "NO DATA" not in result.stdout and "1 client: 1 ok, 0 failed, 0 stale" in result.stdout
