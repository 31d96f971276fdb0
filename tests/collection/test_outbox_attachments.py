"""The outbox provider writes each attachment of a case beside its case file: two whose names would be one
file (the same name, names alike but for characters a file name cannot carry, or for case on a share that
ignores it) both land, numbered, and the case file names them as written. Pushing the case again rewrites
the same files: never a second copy."""

from __future__ import annotations

import json
from pathlib import Path

from collection_env import case_payload

from connector.collection.outbox import OutboxProvider


def written(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "acme-1001.json"}


def named(folder: Path) -> list[str]:
    return list(json.loads((folder / "acme-1001.json").read_text(encoding="utf-8"))["attachments"])


def test_two_attachments_of_one_name_both_land_and_the_case_file_names_them(tmp_path: Path) -> None:
    outbox = OutboxProvider(tmp_path)
    outbox.submit(case_payload(("vedlegg.pdf", b"timesheet"), ("vedlegg.pdf", b"order")))
    files = written(tmp_path)
    assert sorted(files.values()) == [b"order", b"timesheet"]
    assert sorted(named(tmp_path)) == sorted(files) == ["acme-1001--vedlegg-2.pdf", "acme-1001--vedlegg.pdf"]


def test_names_one_file_name_apart_all_land(tmp_path: Path) -> None:
    """ "Vedlegg æ.pdf" and "Vedlegg ø.pdf" make one safe file name; "Faktura.pdf" and "faktura.pdf" are one
    file on a share that ignores case; a given name can be what numbering would make of another."""
    outbox = OutboxProvider(tmp_path)
    given = [
        ("Vedlegg æ.pdf", b"ae"), ("Vedlegg ø.pdf", b"oe"), ("Faktura.pdf", b"F"), ("faktura.pdf", b"f"),
        ("vedlegg.pdf", b"v1"), ("vedlegg.pdf", b"v2"), ("vedlegg-2.pdf", b"v-2"),
    ]  # fmt: skip
    outbox.submit(case_payload(*given))
    files = written(tmp_path)
    assert sorted(files.values()) == sorted(data for _name, data in given)
    assert len({name.casefold() for name in files}) == len(given)
    assert sorted(named(tmp_path)) == sorted(files)


def test_pushing_again_rewrites_the_same_files_whatever_the_order(tmp_path: Path) -> None:
    outbox = OutboxProvider(tmp_path)
    given = [("vedlegg.pdf", b"timesheet"), ("vedlegg.pdf", b"order"), ("faktura-1001.pdf", b"%PDF")]
    first = outbox.submit(case_payload(*given))
    before = written(tmp_path), named(tmp_path)
    again = outbox.submit(case_payload(*given))
    reordered = outbox.submit(case_payload(*reversed(given)))  # the store gives no order: the same files anyway
    assert (written(tmp_path), named(tmp_path)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before[0], "acme-1001.json"])
    assert (first.created, again.created, reordered.created) == (True, False, False)
    assert first.provider_ref == again.provider_ref == "acme-1001.json"


def test_one_attachment_keeps_its_name(tmp_path: Path) -> None:
    OutboxProvider(tmp_path).submit(case_payload(("faktura-1001.pdf", b"%PDF")))
    assert written(tmp_path) == {"acme-1001--faktura-1001.pdf": b"%PDF"}
    assert named(tmp_path) == ["acme-1001--faktura-1001.pdf"]
