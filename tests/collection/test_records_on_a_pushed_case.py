"""A dispute, an agreement or an exclusion recorded on an invoice whose collection case is already with the
agency (pushed): the fact is recorded (it is true), but arsync does not pass it on to the agency — only
payments and credit notes are reported after a push — so the accountant is told, naming the case, the
provider and the way to act; and `explain` names the case's status instead of "due now but held"."""

from __future__ import annotations

from datetime import timedelta

from collection_env import CASE, DUE, ISSUE, NOTICE, REMIND, nightly, statuses

from connector.model import Action, DunningStep
from connector.store.sends import record_steps
from tests.builders import Workspace, client_table, pdf_bytes

DAY = CASE + timedelta(days=2)
KUNDE = "934567897"  # the builders' default customer: invoice 1001's


def scene(ws: Workspace, *, agency: str = "") -> None:
    """acme's invoice 1001 with its reminder and inkassovarsel sent: its case is proposed on CASE."""
    collection = {"provider": "outbox", "path": "clients/acme/outbox/cases", "agency": agency}
    ws.write_config(client_table("acme", collection=collection))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00", pdf=pdf_bytes("Faktura 1001"))
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="500.00", customer="Other AS", org="974760673")
    steps = [
        DunningStep("acme", "1001", Action.REMINDER, REMIND, "outbox", currency="NOK"),
        DunningStep("acme", "1001", Action.COLLECTION_NOTICE, NOTICE, "outbox", currency="NOK"),
    ]
    with ws.store.transaction() as conn:
        record_steps(conn, steps)
    assert nightly(ws, CASE).exit_code == 0
    assert statuses(ws) == {"1001": "proposed"}


def pushed(ws: Workspace, *, agency: str = "") -> None:
    scene(ws, agency=agency)
    assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
    assert nightly(ws, CASE).exit_code == 0
    assert statuses(ws) == {"1001": "pushed"}


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def test_a_dispute_on_a_pushed_case_is_recorded_and_the_accountant_told_the_agency_has_it(ws: Workspace) -> None:
    pushed(ws)
    result = ws.cli(
        "disputes", "open", "--client", "acme", "1001", "--reason", "wrong hours", "--as-of", DAY.isoformat()
    )
    assert result.exit_code == 0, result.output
    assert "opened on acme invoice 1001" in result.stdout
    [line] = warnings(result.stderr)
    assert "case acme-1001" in line and "pushed to outbox on " + CASE.isoformat() in line
    assert "case file acme-1001.json" in line
    assert "arsync does not pass this dispute on" in line
    assert "`arsync cases withdraw acme-1001 --note …`" in line and "tell the agency" in line
    assert "wrong hours" in ws.cli("disputes", "list").stdout  # recorded all the same
    assert statuses(ws) == {"1001": "pushed"}


def test_an_agreement_on_a_pushed_case_names_the_configured_agency(ws: Workspace) -> None:
    pushed(ws, agency="Inkassobyrå AS")
    promise = (DAY + timedelta(days=30)).isoformat()
    result = ws.cli(
        "agreements", "add", "--client", "acme", "1001", "--promise-date", promise, "--as-of", DAY.isoformat()
    )
    assert result.exit_code == 0, result.output
    assert f"invoice 1001: {promise}" in result.stdout
    [line] = warnings(result.stderr)
    assert "case acme-1001" in line and "(Inkassobyrå AS)" in line
    assert "arsync does not pass this agreement on, so Inkassobyrå AS goes on collecting" in line
    assert "tell Inkassobyrå AS" in line and "`arsync cases withdraw acme-1001 --note …`" in line


def test_an_exclusion_of_a_pushed_invoice_or_its_customer_warns_too(ws: Workspace) -> None:
    pushed(ws)
    by_invoice = ws.cli(
        "exclude", "add", "--client", "acme", "--invoice", "1001", "--reason", "x", "--as-of", DAY.isoformat()
    )
    assert by_invoice.exit_code == 0, by_invoice.output
    [line] = warnings(by_invoice.stderr)
    assert "case acme-1001" in line and "this exclusion" in line
    by_customer = ws.cli(
        "exclude", "add", "--client", "acme", "--customer", KUNDE, "--reason", "y", "--as-of", DAY.isoformat()
    )
    assert by_customer.exit_code == 0, by_customer.output
    [line] = warnings(by_customer.stderr)
    assert "case acme-1001" in line


def test_nothing_is_said_where_no_case_is_with_the_agency(ws: Workspace) -> None:
    scene(ws)  # 1001's case is proposed only: the push re-check sends it back to review by itself
    for number in ("1001", "1002"):
        result = ws.cli("disputes", "open", "--client", "acme", number, "--reason", "r", "--as-of", DAY.isoformat())
        assert result.exit_code == 0, result.output
        assert warnings(result.stderr) == []


def test_explain_names_the_case_s_status_instead_of_a_held_collection_step(ws: Workspace) -> None:
    pushed(ws)
    assert (
        ws.cli("disputes", "open", "--client", "acme", "1001", "--reason", "r", "--as-of", DAY.isoformat()).exit_code
        == 0
    )
    text = " ".join(ws.cli("explain", "acme", "1001", "--as-of", DAY.isoformat()).stdout.split())
    assert "due now but held" not in text
    # the inkassovarsel's deadline is told with the letters, not as money paid
    assert "Payments and credits: none." in text and "[deadline]" not in text
    letters = text.split("Letters and steps taken:", 1)[1].split("E-invoice responses", 1)[0]
    assert "the collection_notice of " in letters and "gave the debtor until" in letters
    assert (
        f"Next step: collection_case — case acme-1001 is pushed (since {CASE.isoformat()}): it is with the provider"
        in text
    )
    # withdrawn, as the warning suggested: the line says so, and that arsync never sends it again
    withdrawn = ws.cli("cases", "withdraw", "acme-1001", "--note", "disputed", "--as-of", DAY.isoformat())
    assert withdrawn.exit_code == 0, withdrawn.output
    text = " ".join(ws.cli("explain", "acme", "1001", "--as-of", DAY.isoformat()).stdout.split())
    assert (
        f"Next step: collection_case — case acme-1001 is withdrawn (since {DAY.isoformat()}): it was withdrawn "
        "after it reached the provider; arsync never sends a case twice (register the claim again in the "
        "provider's portal to collect it)." in text
    )
