"""What the public registers' JSON APIs (Enhetsregisteret, Regnskapsregisteret, the Peppol Directory) share:
no key, one HTTP client with timeouts and retries under the shared "open" rate limit, and answers dated by
the day they were asked (so the cache asks again only the next day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ClassVar, Generic

import requests

from connector.credit.facts import AnswerStatus, F, RegisterAnswer
from connector.http import ApiClient, RetryPolicy, StaticAuth


class OpenRegisterClient(Generic[F]):
    """One open register: subclasses name it (``register``) and its public address (``default_url``)."""

    register: ClassVar[str]
    default_url: ClassVar[str]

    def __init__(
        self,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        today: Callable[[], date] = date.today,
    ):
        self.api = ApiClient(
            self.register,
            base_url or self.default_url,
            StaticAuth({}),
            limit_key="open",
            policy=policy,
            session=session or requests.Session(),
        )
        self.today = today

    def _answer(self, key: str, status: AnswerStatus, facts: F | None = None, detail: str = "") -> RegisterAnswer[F]:
        return RegisterAnswer(self.register, key, status, self.today(), facts, detail)
