"""The register half of a credit check: ask (or reuse today's answers from) the company and accounts
registers for one org no, through the dated cache.

Not wired into the CLI or the nightly run yet (issue 21); ``connector.actions`` is its later home.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from connector.credit.facts import AccountsFacts, AnswerStatus, CompanyFacts, RegisterAnswer
from connector.registry.registers import Registers
from connector.store import Store
from connector.store.credit import cached_lookup


@dataclass(frozen=True)
class RegisterFacts:
    company: RegisterAnswer[CompanyFacts]
    accounts: RegisterAnswer[AccountsFacts] | None  # None: no accounts register, or no company to ask about


def lookup_register_facts(store: Store, registers: Registers, org_no: str, today: date) -> RegisterFacts:
    company = cached_lookup(store, registers.company.register, org_no, today, lambda: registers.company.company(org_no))
    facts = company.facts
    accounts_register = registers.accounts
    if (
        accounts_register is None
        or company.status is AnswerStatus.NOT_FOUND
        or company.status is AnswerStatus.NOT_COVERED
    ):
        return RegisterFacts(company, None)
    if facts is not None and (facts.deleted_on or facts.removed):
        return RegisterFacts(company, None)  # a deleted company's accounts change nothing
    # A sub-unit number's accounts are its main unit's; unknown company (outage): ask with the number we have
    main = facts.org_no if facts is not None else org_no
    accounts = cached_lookup(
        store, accounts_register.register, main, today, lambda: accounts_register.latest_accounts(main)
    )
    return RegisterFacts(company, accounts)
