"""The registers a credit check asks, per customer country, behind two small interfaces.

Norway: Enhetsregisteret (company) and Regnskapsregisteret (accounts). Denmark and Sweden: not
covered — the company answer says so in one sentence and there is no accounts register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import requests

from connector.credit.facts import CVR, AccountsFacts, AnswerStatus, CompanyFacts, RegisterAnswer
from connector.http import RetryPolicy
from connector.registry import cvr, enhetsregisteret, regnskap


class CompanyRegister(Protocol):
    @property
    def register(self) -> str: ...

    def company(self, org_no: str) -> RegisterAnswer[CompanyFacts]: ...


class AccountsRegister(Protocol):
    @property
    def register(self) -> str: ...

    def latest_accounts(self, org_no: str) -> RegisterAnswer[AccountsFacts]: ...


@dataclass(frozen=True)
class NotCovered:
    """A country without a free register arsync can use: every answer is NOT_COVERED, with why."""

    register: str
    why: str
    today: Callable[[], date] = date.today

    def company(self, org_no: str) -> RegisterAnswer[CompanyFacts]:
        return RegisterAnswer(self.register, org_no, AnswerStatus.NOT_COVERED, self.today(), None, self.why)


@dataclass(frozen=True)
class Registers:
    company: CompanyRegister
    accounts: AccountsRegister | None  # None: no accounts register for this country


def registers_for(
    country: str,
    *,
    enhetsregisteret_url: str = enhetsregisteret.BASE_URL,
    regnskapsregisteret_url: str = regnskap.BASE_URL,
    policy: RetryPolicy | None = None,
    session: requests.Session | None = None,
    today: Callable[[], date] = date.today,
) -> Registers:
    if country == "NO":
        return Registers(
            enhetsregisteret.EnhetsregisteretClient(enhetsregisteret_url, policy, session, today),
            regnskap.RegnskapsregisteretClient(regnskapsregisteret_url, policy, session, today),
        )
    if country == "DK":
        return Registers(NotCovered(CVR, cvr.NOT_COVERED, today), None)
    return Registers(NotCovered(f"register_{country.lower()}", f"{country} credit data is not covered", today), None)
