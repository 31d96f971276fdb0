"""Build the configured provider for a client: transport settings and secrets from the config."""

from __future__ import annotations

from connector.collection.base import CollectionProvider
from connector.collection.debitura import DebituraProvider
from connector.collection.kravia import KraviaProvider
from connector.collection.outbox import OutboxProvider
from connector.collection.transport import Transport, TransportConfig
from connector.config import ClientConfig, CollectionConfig, ConfigError, secret


def transport_config(cfg: CollectionConfig, headers: dict[str, str]) -> TransportConfig:
    assert cfg.base_url is not None
    return TransportConfig(
        base_url=cfg.base_url,
        headers=headers,
        connect_timeout=min(5.0, cfg.timeout_seconds),
        read_timeout=cfg.timeout_seconds,
        attempts=cfg.max_attempts,
        initial_wait=cfg.retry_initial_wait,
        rate_per_second=cfg.rate_limit_per_second,
        max_concurrent=cfg.concurrency,
    )


def provider_for(client: ClientConfig) -> CollectionProvider:
    cfg = client.collection
    if cfg.provider == "outbox":
        assert cfg.path is not None
        return OutboxProvider(cfg.path)
    if cfg.provider == "kravia":
        assert cfg.token_env is not None and cfg.creditor_id is not None
        headers = {"Authorization": secret(cfg.token_env)}
        return KraviaProvider(Transport("kravia", transport_config(cfg, headers)), cfg.creditor_id)
    if cfg.provider == "debitura":
        assert cfg.api_key_env is not None
        headers = {"XApiKey": secret(cfg.api_key_env)}
        return DebituraProvider(Transport("debitura", transport_config(cfg, headers)), test_mode=cfg.test_mode)
    raise ConfigError([f"client '{client.id}': collection provider '{cfg.provider}' is not supported"])
