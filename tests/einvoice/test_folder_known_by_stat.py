"""The next night, an EHF folder's files that were read before and are untouched since are not opened
(known by name, size, mtime and inode, as git's index knows them); any other file is read and hashed as
before, so a changed file is never missed for looking unchanged in the ways a stat can be fooled."""

from __future__ import annotations

import os
from datetime import date

import pytest

from connector.store import schema
from connector.store.facts import load_facts
from tests.builders import FilesOpened, Workspace, arrived_long_ago, ubl_invoice

ISSUE, DUE = date(2024, 2, 1), date(2024, 3, 1)
NIGHT = date(2024, 3, 2)  # within the grace days: no letter falls due, the run only syncs and decides


def invoice(number: str) -> bytes:
    return ubl_invoice(number, issue=ISSUE, due=DUE, amount="500.00").encode()


def sync(ws: Workspace, night: date = NIGHT) -> str:
    result = ws.cli("sync", "--as-of", night.isoformat())
    assert result.exit_code == 0, result.output
    return result.output


def numbers(ws: Workspace) -> list[str]:
    return sorted(i.number for i in ws.store.read(load_facts, "acme").invoices)


def test_an_unchanged_folder_is_not_opened_the_next_night(ws: Workspace, opened: FilesOpened) -> None:
    ws.write_config()
    folder = ws.ehf_dir()
    arrived_long_ago(ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="500.00"))
    arrived_long_ago(ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="700.00"))
    arrived_long_ago(ws.bank_heartbeat(NIGHT))
    first = ws.cli("run", "--as-of", NIGHT.isoformat())
    assert first.exit_code == 0, first.output
    assert opened.in_folder(folder) == ["1001.xml", "1002.xml"]
    opened.clear()

    next_night = ws.cli("run", "--as-of", date(2024, 3, 3).isoformat())
    assert next_night.exit_code == 0, next_night.output
    assert opened.in_folder(folder) == []  # neither opened nor hashed
    assert opened.in_folder(ws.bank_dir()) == []
    assert numbers(ws) == ["1001", "1002"]  # nothing new, nothing lost
    assert "warning" not in next_night.output.lower()


def test_a_file_replaced_by_one_of_the_same_size_and_mtime_is_read_again(ws: Workspace, opened: FilesOpened) -> None:
    # A new inode gives it away: e.g. a sync tool that writes a temporary file, copies the mtime and renames.
    ws.write_config()
    path = ws.ehf_dir() / "a.xml"
    path.write_bytes(invoice("1001"))
    arrived_long_ago(path)
    sync(ws)
    before = os.stat(path)
    replacement = ws.ehf_dir() / ".a.xml.part"
    replacement.write_bytes(invoice("1002"))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, path)
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ino != before.st_ino
    opened.clear()

    sync(ws)
    assert opened.in_folder(ws.ehf_dir()) == ["a.xml"]
    assert numbers(ws) == ["1001", "1002"]


def test_a_file_edited_in_place_just_after_it_was_read_is_read_again(ws: Workspace, opened: FilesOpened) -> None:
    # Read with an mtime within two seconds of the read: a coarse file-system clock could give an edit made
    # right after the read the very same mtime (same size, same inode), so that stat is not trusted.
    ws.write_config()
    path = ws.ehf_dir() / "a.xml"
    path.write_bytes(invoice("1001"))  # just written: its mtime is now
    sync(ws)
    before = os.stat(path)
    path.write_bytes(invoice("1002"))  # in place: the same inode
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)

    sync(ws)
    assert numbers(ws) == ["1001", "1002"]


def test_a_store_from_before_reads_every_file_once_more_then_knows_it(ws: Workspace, opened: FilesOpened) -> None:
    ws.write_config()
    arrived_long_ago(
        ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="500.00"),
        ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="700.00"),
    )
    sync(ws)
    with ws.store.transaction() as conn:  # as a store written before files were recorded with their stat
        conn.execute(schema.seen_files.update().values(st_size=None, st_mtime_ns=None, st_ino=None))
    opened.clear()

    output = sync(ws)
    assert opened.in_folder(ws.ehf_dir()) == ["1001.xml", "1002.xml"]  # read and hashed: known by content
    assert numbers(ws) == ["1001", "1002"] and "warning" not in output.lower()
    opened.clear()
    sync(ws)
    assert opened.in_folder(ws.ehf_dir()) == []


def test_a_touched_or_renamed_file_is_read_once_more_then_known_by_its_new_stat(
    ws: Workspace, opened: FilesOpened
) -> None:
    ws.write_config()
    folder = ws.ehf_dir()
    arrived_long_ago(
        ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="500.00"),
        ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="700.00"),
    )
    sync(ws)
    then = os.stat(folder / "1001.xml").st_mtime_ns - 10**9
    os.utime(folder / "1001.xml", ns=(then, then))  # touched: same content
    os.rename(folder / "1002.xml", folder / "copy-of-1002.xml")
    opened.clear()

    output = sync(ws)
    assert opened.in_folder(folder) == ["1001.xml", "copy-of-1002.xml"]
    assert numbers(ws) == ["1001", "1002"] and "warning" not in output.lower()  # the hash says: nothing new
    opened.clear()
    sync(ws)
    assert opened.in_folder(folder) == []


def test_a_file_that_does_not_read_is_tried_again_every_night(ws: Workspace, opened: FilesOpened) -> None:
    ws.write_config()
    folder = ws.ehf_dir()
    broken = folder / "broken.xml"
    broken.write_bytes(invoice("1003")[:1500])
    arrived_long_ago(broken, ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="500.00"))
    assert "broken.xml" in sync(ws)
    opened.clear()

    assert "broken.xml" in sync(ws)
    assert opened.in_folder(folder) == ["broken.xml"]  # retried; the file that read is known
    listed = ws.cli("files", "list")
    assert listed.exit_code == 0 and "broken.xml" in listed.output


def test_a_link_is_followed_every_night_even_when_the_link_itself_is_unchanged(
    ws: Workspace, opened: FilesOpened
) -> None:
    # The link's own stat says nothing of its target: the target may change behind an unchanged link.
    ws.write_config()
    folder = ws.ehf_dir()
    target = folder / "target.dat"  # not an .xml: read only through the link
    target.write_bytes(invoice("1001"))
    (folder / "link.xml").symlink_to("target.dat")
    arrived_long_ago(target, folder / "link.xml")
    sync(ws)
    link_before, before = os.lstat(folder / "link.xml"), os.stat(target)
    target.write_bytes(invoice("1002"))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.lstat(folder / "link.xml") == link_before

    sync(ws)
    assert numbers(ws) == ["1001", "1002"]


def test_a_file_system_with_unsigned_64_bit_inode_numbers_is_known_too(
    ws: Workspace, opened: FilesOpened, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NFS and Windows give inode numbers up to 2**64 - 1; SQLite and PostgreSQL store signed 64-bit integers.
    from connector.sources import known

    real_lstat = os.lstat

    def lstat(path: str) -> os.stat_result:
        st = real_lstat(path)
        fields = list(st)
        fields[1] = 2**64 - 7  # st_ino
        return os.stat_result(fields, {"st_mtime_ns": st.st_mtime_ns})

    monkeypatch.setattr(known.os, "lstat", lstat)
    ws.write_config()
    arrived_long_ago(ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="500.00"))
    sync(ws)
    opened.clear()
    sync(ws)
    assert opened.in_folder(ws.ehf_dir()) == []
