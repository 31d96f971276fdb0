"""The register half of a credit check: ask (or reuse today's answers from) the company and accounts
registers for one org no, through the dated cache (``connector.store.credit``).

:func:`cached_lookup` is the one way to ask a register for a credit check:
- an answer given on ``today`` or later is used as it is: the register is not asked again that day
  (a backfill with an older ``--as-of`` also counts a later answer as fresh);
- otherwise the register is asked; a definite answer (found / not found) replaces the stored one;
- when the lookup fails, the previous answer is kept and returned with ``stale_reason`` saying so,
  and the failure is noted on its row; with no previous answer the failure itself is returned.

Used by the credit check (``connector.actions.credit``, ``arsync credit check``) and the Peppol Directory
lookup (``connector.registry.peppol``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connector.credit.facts import REGISTER_NAMES, AccountsFacts, AnswerStatus, CompanyFacts, RegisterAnswer
from connector.registry.registers import Registers
from connector.store import Store
from connector.store.credit import load_answer, note_failure, save_answer


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


def cached_lookup(
    store: Store,
    register: str,
    org_no: str,
    today: date,
    fetch: Callable[[], RegisterAnswer[Any]],
    now: Callable[[], datetime] | None = None,
) -> RegisterAnswer[Any]:
    """``now``: stamps the stored answer (default: the store's clock)."""
    previous = store.read(load_answer, register, org_no)
    if previous is not None and previous.fetched_on is not None and previous.fetched_on >= today:
        return previous
    fresh = fetch()
    if fresh.answered:
        store.write(save_answer, fresh, (now or store.now)())
        return fresh
    if fresh.status is not AnswerStatus.UNAVAILABLE or previous is None:
        return fresh  # not covered, or nothing known from before: the failure is the answer
    failed_on = fresh.fetched_on or today
    store.write(note_failure, register, org_no, failed_on, fresh.detail)
    name = REGISTER_NAMES.get(register, register)
    why = f" ({fresh.detail})" if fresh.detail else ""
    answered = previous.fetched_on.isoformat() if previous.fetched_on else "an earlier day"
    return previous.as_stale(
        f"{name} could not be reached on {failed_on.isoformat()}{why}; its answer of {answered} is used."
    )
