"""No secret reaches a log line or a logged traceback, whichever arsync logger writes it."""

from __future__ import annotations

import logging

import pytest

from connector import http


@pytest.mark.parametrize("logger", ["arsync", "arsync.collection", "arsync.dunning", "urllib3.connectionpool"])
def test_a_registered_secret_is_redacted_in_messages_and_tracebacks(
    logger: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-token-value-123"
    http.register_secret(secret)
    log = logging.getLogger(logger)
    with caplog.at_level(logging.INFO, logger=logger):
        log.warning("calling https://api.example/x?token=%s failed", secret)
        try:
            raise RuntimeError(f"401 for Bearer {secret}")
        except RuntimeError:
            log.exception("push failed")
    text = caplog.text
    assert "push failed" in text and "RuntimeError" in text  # the lines are there …
    assert secret not in text  # … without the secret
