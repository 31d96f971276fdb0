"""Links in drop folders (issue 13, item 8): one that leaves the folder is refused and named, never
read; one that stays inside is read as the file it points at."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hostile_corpus import LinkCase, camt_file, links, ocr_good, ubl_invoice

from connector.bank.feed import CamtFolderFeed, OcrFolderFeed
from connector.config import ClientConfig
from connector.files import LinkLeavesFolder, resolve_in_folder
from connector.sources.base import SyncContext
from connector.sources.ehf import EhfFolderSource
from tests.builders import Workspace, client_table

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")

CLIENT = ClientConfig.model_validate(
    {
        "id": "acme",
        "name": "Acme AS",
        "org_no": "923456783",
        "country": "NO",
        "currency": "NOK",
        "ledger": {"kind": "ehf", "path": "/tmp/ehf"},
        "bank": [{"kind": "camt", "path": "/tmp/bank"}],
        "collection": {"provider": "outbox", "path": "/tmp/out"},
    }
)
CTX = SyncContext(client=CLIENT, as_of=date(2026, 3, 3), now=datetime.now(UTC))


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    folder, outside = tmp_path / "drop", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    return folder, outside


def _ids(cases: list[LinkCase]) -> list[str]:
    return [f"{c.name}-{'leaves' if c.leaves else 'inside'}" for c in cases]


@pytest.mark.parametrize("case", links(".xml"), ids=_ids(links(".xml")))
def test_ehf_folder(tmp_path: Path, case: LinkCase) -> None:
    folder, outside = _folders(tmp_path)
    case.make(folder, outside, ubl_invoice("7001", "4200.00"))
    (folder / "7002.xml").write_bytes(ubl_invoice("7002", "100.00"))  # an ordinary file beside it
    batch = EhfFolderSource(folder).fetch(CTX)
    numbers = sorted(i.number for i in batch.invoices)
    status = {f.name: f.status for f in batch.files}
    if case.leaves:
        assert numbers == ["7002"]
        assert status[case.name] == "failed"
        assert any(e.startswith(f"{case.name}: a link leading out of the folder") for e in batch.errors)
    else:
        assert numbers == ["7001", "7002"] and status[case.name] == "ok"


@pytest.mark.parametrize("case", links(".xml"), ids=_ids(links(".xml")))
def test_camt_folder(tmp_path: Path, case: LinkCase) -> None:
    folder, outside = _folders(tmp_path)
    case.make(folder, outside, camt_file([("4200.00", "NOK", ["4200.00"])]))
    batch = CamtFolderFeed(folder).fetch(CTX)
    status = {f.name: f.status for f in batch.files}
    if case.leaves:
        assert batch.payments == [] and status[case.name] == "failed"
        assert any(e.startswith(f"{case.name}: a link leading out of the folder") for e in batch.errors)
    else:
        assert [p.amount for p in batch.payments] == [4200] and status[case.name] == "ok"


@pytest.mark.parametrize("case", links(".txt"), ids=_ids(links(".txt")))
def test_ocr_folder(tmp_path: Path, case: LinkCase) -> None:
    folder, outside = _folders(tmp_path)
    case.make(folder, outside, ocr_good())
    batch = OcrFolderFeed(folder).fetch(CTX)
    status = {f.name: f.status for f in batch.files}
    assert status[case.name] == ("failed" if case.leaves else "ok")
    assert bool(batch.payments) is not case.leaves


def test_the_folder_itself_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.xml").write_bytes(b"<x/>")
    (tmp_path / "drop").symlink_to(real, target_is_directory=True)
    assert resolve_in_folder(tmp_path / "drop", "a.xml") == str(tmp_path / "drop" / "a.xml")
    (real / "b.xml").symlink_to(real / "a.xml")
    assert resolve_in_folder(tmp_path / "drop", "b.xml") == str(real / "a.xml")
    (real / "c.xml").symlink_to(tmp_path / "x.xml")
    with pytest.raises(LinkLeavesFolder, match=r"^c\.xml: a link leading out of the folder"):
        resolve_in_folder(tmp_path / "drop", "c.xml")


ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
REMIND = DUE + timedelta(days=14)


def test_an_outside_invoice_behind_a_link_is_never_dunned(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.bank_heartbeat(REMIND - timedelta(days=1))
    elsewhere = ws.root / "someone-elses"
    elsewhere.mkdir()
    (elsewhere / "9001.xml").write_bytes(ubl_invoice("9001", "25000.00"))
    (ws.ehf_dir() / "9001.xml").symlink_to(elsewhere / "9001.xml")
    result = ws.cli("run", "--as-of", REMIND.isoformat())
    assert "9001.xml: a link leading out of the folder" in result.output
    items = ws.items(REMIND, "--no-sync")
    assert "9001" not in items  # never imported, never dunned
    assert ws.outbox_files(ws.reminders_dir()) == []  # and nothing else goes out while it is there
    (ws.ehf_dir() / "9001.xml").unlink()
    assert ws.cli("run", "--as-of", REMIND.isoformat()).exit_code == 0
    assert ws.outbox_files(ws.reminders_dir())  # the hold lifted: 1001's reminder went out
