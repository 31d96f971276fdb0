"""The client a bank-feed test reads for: its feed folder named, optionally one creditor account."""

from __future__ import annotations

from connector.config import ClientConfig


def feed_client(account: str | None = None) -> ClientConfig:
    return ClientConfig.model_validate(
        {
            "id": "c",
            "name": "C AS",
            "org_no": "923456783",
            "country": "NO",
            "currency": "NOK",
            "ledger": {"kind": "ehf", "path": "/tmp/ehf"},
            "bank": [{"kind": "camt", "path": "/tmp/bank", "account": account}],
            "collection": {"provider": "outbox", "path": "/tmp/out"},
        }
    )
