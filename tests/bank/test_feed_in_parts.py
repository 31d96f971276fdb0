"""A bank feed is stored while it is read (issue 18): a file at a time, and a camt file too large to hold
(over ``PART_BYTES``) in parts of ``PART_PAYMENTS`` — after a first pass proves it reads to the end, so a
file that breaks off keeps none of its payments, as a file read whole. The parts end as one batch would:
the same payments, the same coverage per account."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from feed_client import feed_client
from no_camt054 import ACCOUNT, Entry, Tx, camt054

from connector.bank import feed
from connector.bank.feed import CamtFolderFeed
from connector.sources.base import SyncContext

KID = "1234567890128"
AS_OF = date(2024, 3, 8)


def _ctx(account: str | None = None) -> SyncContext:
    return SyncContext(client=feed_client(account), as_of=AS_OF, now=datetime.now(UTC))


def _folder(tmp_path: Path) -> Path:
    txs = [Tx(f"{10 + i}.00", kid=KID) for i in range(7)]
    (tmp_path / "a-big.xml").write_bytes(camt054([Entry("A1", booked="2024-03-05", txs=txs)], msg_id="BIG"))
    (tmp_path / "b-small.xml").write_bytes(camt054([Entry("B1", booked="2024-03-06", txs=[Tx("99.00")])], msg_id="S"))
    return tmp_path


def _whole(folder: Path, ctx: SyncContext, account: str | None = None) -> tuple[list[str], object, dict, list[str]]:
    batch = CamtFolderFeed(folder, account).fetch(ctx)
    return [p.key for p in batch.payments], batch.data_through, batch.accounts_through, [f.name for f in batch.files]


def test_a_file_too_large_to_hold_comes_in_parts_and_ends_as_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, ctx = _folder(tmp_path), _ctx()
    whole = _whole(folder, ctx)
    monkeypatch.setattr(feed, "PART_BYTES", 2000)  # the big file (7 payments) is over it, the small one not
    monkeypatch.setattr(feed, "PART_PAYMENTS", 3)

    parts = list(CamtFolderFeed(folder).parts(ctx))

    assert [len(p.payments) for p in parts] == [3, 3, 1, 0, 1, 0, 0]  # big in 3 parts, its status; small; cover
    assert [f.name for p in parts for f in p.files] == ["a-big.xml", "b-small.xml"]
    assert parts[-1].accounts_through == {ACCOUNT: date(2024, 3, 6)} and parts[-1].data_through is not None
    merged = feed.merged_payments(iter(parts))
    assert ([p.key for p in merged.payments], merged.data_through, merged.accounts_through) == whole[:3]
    assert _whole(folder, ctx) == whole  # fetch (all parts merged) is the same too


def test_a_large_file_that_breaks_off_keeps_none_of_its_payments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    big = folder / "a-big.xml"
    big.write_bytes(big.read_bytes()[:-400])  # cut off inside the last entries
    monkeypatch.setattr(feed, "PART_BYTES", 2000)
    monkeypatch.setattr(feed, "PART_PAYMENTS", 3)

    parts = list(CamtFolderFeed(folder).parts(_ctx()))

    payments = [p for part in parts for p in part.payments]
    assert [p.amount for p in payments] == [pytest.approx(99)]  # only the small file's
    statuses = {f.name: f.status for part in parts for f in part.files}
    assert statuses == {"a-big.xml": "failed", "b-small.xml": "ok"}


@pytest.mark.parametrize("account", [ACCOUNT, "99999999999"])
def test_a_feed_of_one_account_reads_the_same_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: str
) -> None:
    folder, ctx = _folder(tmp_path), _ctx(account)
    whole = _whole(folder, ctx, account)
    monkeypatch.setattr(feed, "PART_BYTES", 2000)
    monkeypatch.setattr(feed, "PART_PAYMENTS", 3)

    merged = feed.merged_payments(CamtFolderFeed(folder, account).parts(ctx))

    assert ([p.key for p in merged.payments], merged.data_through, merged.accounts_through) == whole[:3]
    assert len(merged.payments) == (8 if account == ACCOUNT else 0)


def test_a_bank_file_that_cannot_be_opened_is_failed_and_the_others_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    hash_file = feed._hash_file

    def refusing(path: Path) -> str:
        if path.name == "a-big.xml":
            raise PermissionError(13, "Permission denied")
        return hash_file(path)

    monkeypatch.setattr(feed, "_hash_file", refusing)
    batch = CamtFolderFeed(folder).fetch(_ctx())

    assert {f.name: f.status for f in batch.files} == {"a-big.xml": "failed", "b-small.xml": "ok"}
    assert batch.errors == ["a-big.xml: could not be opened (Permission denied)"]
    assert len(batch.payments) == 1


def test_a_large_file_rewritten_between_its_two_passes_undoes_the_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some of its payments are already handed on when the second pass finds it changed: not caught per file
    (that would keep them under a failed file), the error ends the sync's transaction; the next run reads it."""
    folder = _folder(tmp_path)
    monkeypatch.setattr(feed, "PART_BYTES", 2000)
    monkeypatch.setattr(feed, "PART_PAYMENTS", 3)
    passes: list[int] = []
    real = feed.iter_camt

    def rewritten_after_the_first_pass(*args: Any, **kwargs: Any) -> Any:
        passes.append(1)
        if len(passes) == 2:  # the bank's tool rewrites the file in place, between the passes
            with (folder / "a-big.xml").open("ab") as f:
                f.write(b"<!-- appended -->\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(feed, "iter_camt", rewritten_after_the_first_pass)

    with pytest.raises(feed.ChangedWhileRead, match=r"a-big\.xml: changed while it was read"):
        list(CamtFolderFeed(folder).parts(_ctx()))
