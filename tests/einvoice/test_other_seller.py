"""Another company's sales document in the client's EHF folder (a file dropped in the wrong client's folder) is
refused, named with its seller, and never becomes a receivable the client would remind its buyer of.

The shared corpus folders are the client's EHF folder, read in place: the client is The Sellercompany ASA
(123456785), the seller of the Norwegian examples; every other example has another seller."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from einvoice_corpus import PEPPOL

from connector.einvoice.document import Party
from connector.sources.ehf import _other_seller
from tests.builders import Workspace, client_table

SELLER = "123456785"  # The Sellercompany ASA


def corpus_folder(name: str) -> Path:
    folder = (PEPPOL / name).resolve()
    if not folder.is_dir():
        pytest.skip(f"shared test corpus not found: {folder} (expected ../shared/testdata/peppol next to the repo)")
    return folder


def sync(ws: Workspace, folder: Path) -> tuple[str, set[str]]:
    ws.write_config(client_table(org_no=SELLER, ledger={"kind": "ehf", "path": str(folder)}))
    result = ws.cli("sync", "--as-of", "2018-01-10")
    assert result.exit_code == 0, result.output
    with ws.store.connect() as conn:
        numbers = {row[0] for row in conn.exec_driver_sql("SELECT number FROM invoices")}
    return result.stderr, numbers


def test_the_bis3_examples_of_another_seller_are_refused_by_name(ws: Workspace) -> None:
    stderr, numbers = sync(ws, corpus_folder("bis3"))
    assert numbers == {"TOSL108"}  # Norwegian-example-1.xml, the client's own
    refused = [line for line in stderr.splitlines() if "another company's document, refused" in line]
    assert len(refused) == 8, stderr
    assert (
        "base-example.xml: invoice Snippet1 was issued by SupplierOfficialName Ltd (GB983294), not by the client "
        "(org no 123456785): another company's document, refused" in stderr
    )
    assert "Snippet-cn.xml: credit note Snippet1 was issued by SupplierOfficialName Ltd" in stderr
    files = {f["name"]: f for f in json.loads(ws.cli("files", "list", "--json").stdout)["files"]}
    assert files["base-example.xml"]["status"] == "refused"
    assert "Norwegian-example-1.xml" not in files


def test_a_reminder_of_another_seller_is_no_step_of_the_client(ws: Workspace) -> None:
    stderr, numbers = sync(ws, corpus_folder("ehf"))
    assert numbers == {"TOSL108"}  # ehf-3-faktura-1.xml (ehf-2-faktura-1.xml carries the same number)
    assert "Reminder-Example-with-REM.xml: reminder 007 was issued by SupplierOfficialName Ltd" in stderr
    assert "Invoice_EHF3.0_forward-billing-nettleie-corporate_v2.0.xml: invoice 0997462625 was issued by" in stderr
    with ws.store.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM dunning_steps").scalar_one() == 0
    items = ws.items(date(2018, 1, 10), "--no-sync")
    assert set(items) == {"TOSL108"}


@pytest.mark.parametrize(
    ("ids", "other"),
    [
        ({"endpoint_id": "0192:923456783"}, False),  # the client's org no behind its Peppol scheme
        ({"endpoint_id": "9908:923456783"}, False),
        ({"vat_id": "NO923456783MVA"}, False),
        ({"legal_id": "923 456 783"}, False),
        ({"endpoint_id": "0088:7080000000000"}, True),  # a GLN alone does not make it the client's
        ({"party_ids": ("CUST-17",)}, True),  # nor a party id of the seller's own
        ({"legal_id": "987654325"}, True),  # another company's org no
        ({"endpoint_id": "0192:987654325", "legal_id": "987654325"}, True),
        ({"vat_id": "DK12345674"}, True),
    ],
)
def test_only_an_organisation_number_not_the_clients_makes_a_document_another_companys(
    ids: dict[str, object], other: bool
) -> None:
    # a client's own invoice naming its seller only as '0192:<org no>' (the Peppol endpoint) was refused
    supplier = Party(name="Selger AS", **ids)  # type: ignore[arg-type]
    doc = SimpleNamespace(supplier=supplier)
    assert (_other_seller(doc, "923456783") is not None) is other  # type: ignore[arg-type]
