"""A bank folder's files read before and untouched since are not opened the next night (the same rule
as the EHF folder's, connector.sources.known); a changed one is read, and a file that fails is retried."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from connector.store.facts import load_facts
from tests.builders import Entry, FilesOpened, Workspace, arrived_long_ago, kid

NIGHT = date(2024, 3, 2)


def sync(ws: Workspace, night: date = NIGHT) -> str:
    result = ws.cli("sync", "--as-of", night.isoformat())
    assert result.exit_code == 0, result.output
    return result.output


def payments(ws: Workspace) -> list[tuple[str, Decimal]]:
    return sorted((p.bank_ref, p.amount) for p in ws.store.read(load_facts, "acme").payments)


def test_an_unchanged_bank_folder_is_not_opened_the_next_night(ws: Workspace, opened: FilesOpened) -> None:
    ws.write_config()
    arrived_long_ago(
        ws.add_bank_file("a.xml", [Entry("A1", "500.00", NIGHT, kid=kid("1001"))], created=NIGHT),
        ws.add_bank_file("b.xml", [Entry("B1", "700.00", NIGHT, kid=kid("1002"))], created=NIGHT),
    )
    sync(ws)
    assert opened.in_folder(ws.bank_dir()) == ["a.xml", "b.xml"]
    opened.clear()

    output = sync(ws, date(2024, 3, 3))
    assert opened.in_folder(ws.bank_dir()) == []
    assert [ref for ref, _ in payments(ws)] == ["A1", "B1"] and "warning" not in output.lower()


def test_a_bank_file_replaced_by_one_of_the_same_size_and_mtime_is_read_again(
    ws: Workspace, opened: FilesOpened
) -> None:
    ws.write_config()
    path = ws.add_bank_file("a.xml", [Entry("A1", "500.00", NIGHT, kid=kid("1001"))], created=NIGHT)
    arrived_long_ago(path)
    sync(ws)
    before = os.stat(path)
    part = ws.add_bank_file(".a.xml.part", [Entry("A2", "900.00", NIGHT, kid=kid("1001"))], created=NIGHT)
    os.utime(part, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(part, path)
    assert os.stat(path).st_size == before.st_size and os.stat(path).st_ino != before.st_ino

    sync(ws)
    assert payments(ws) == [("A1", Decimal("500.00")), ("A2", Decimal("900.00"))]


def test_a_bank_file_that_does_not_read_is_tried_again_every_night(ws: Workspace, opened: FilesOpened) -> None:
    ws.write_config()
    broken = ws.bank_dir() / "broken.xml"
    broken.write_bytes(b"<Document")
    arrived_long_ago(broken, ws.add_bank_file("a.xml", [Entry("A1", "500.00", NIGHT)], created=NIGHT))
    assert "broken.xml" in sync(ws)
    opened.clear()

    assert "broken.xml" in sync(ws)
    assert opened.in_folder(ws.bank_dir()) == ["broken.xml"]
