"""Bank feeds report how far each creditor account is covered (per-account bank_data_stale)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from feed_client import feed_client
from no_camt054 import ACCOUNT, Entry, Tx, camt054

from connector.bank.feed import CamtFolderFeed
from connector.sources.base import SyncContext

KID = "1234567890128"


def test_camt_feed_reports_how_far_each_account_is_covered(tmp_path: Path):
    (tmp_path / "a.xml").write_bytes(camt054([Entry("A1", booked="2024-03-05", txs=[Tx("10.00", kid=KID)])]))
    (tmp_path / "empty.xml").write_bytes(camt054([], msg_id="EMPTY"))  # no entries: still covers the account
    ctx = SyncContext(client=feed_client(), as_of=date(2024, 3, 6), now=datetime.now(UTC))
    batch = CamtFolderFeed(tmp_path).fetch(ctx)
    assert batch.accounts_through == {ACCOUNT: date(2024, 3, 5)}
    only_other = CamtFolderFeed(tmp_path, account="99999999999").fetch(ctx)
    assert only_other.accounts_through == {} and only_other.payments == []


def test_an_old_file_of_an_account_nobody_configured_covers_nothing(tmp_path: Path):
    # Issue 13: recorded, it would hold the client's dunning for ever (bank_data_stale for that account).
    (tmp_path / "a.xml").write_bytes(camt054([Entry("A1", booked="2024-03-05", txs=[Tx("10.00", kid=KID)])]))
    late = SyncContext(client=feed_client(), as_of=date(2024, 4, 2), now=datetime.now(UTC))
    batch = CamtFolderFeed(tmp_path).fetch(late)
    assert batch.accounts_through == {} and len(batch.payments) == 1  # its payments still count
    configured = SyncContext(client=feed_client(ACCOUNT), as_of=date(2024, 4, 2), now=datetime.now(UTC))
    assert CamtFolderFeed(tmp_path, ACCOUNT).fetch(configured).accounts_through == {ACCOUNT: date(2024, 3, 5)}
