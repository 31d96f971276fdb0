"""Legal rule packs: dated per-country data (``rulepacks/*.toml``), the pack in force on a day.

Numbers change every half-year or year, so they live in data files, never in code paths. A value
that is uncertain carries a ⚠ comment and a source in its file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from functools import lru_cache
from importlib import resources

from connector.model import CENT, money

COUNTRIES = ("NO", "DK", "SE")


class RulePackError(LookupError):
    """No rule pack covers the country or the day asked for."""


@dataclass(frozen=True, slots=True)
class RulePack:
    country: str
    currency: str
    valid_from: date
    reminder_fee_cap: Decimal  # max fee per fee-bearing reminder or notice, in ``currency``
    fee_basis: str  # how the cap was derived, for evidence ("1/20 of inkassosats 700")
    fee_requires_agreement: bool  # SE: only when agreed when the debt arose
    fee_min_days_after_due: int
    max_fee_notices: int
    min_days_between_fee_notices: int
    min_days_between_reminders: int
    notice_min_deadline_days: int
    notice_after_due: bool
    letter_min_deadline_days: int  # every letter's pay-by date is at least this many days after sending
    b2b_compensation: Decimal
    # B2B payment terms longer than this need an express agreement (directive 2011/7/EU art. 3(5)); a longer
    # term is noted in the evidence, never held: the tool cannot see the agreement. None: not in the pack.
    b2b_max_payment_days: int | None = None
    # what a letter cites next to a charge or the notice, in the country's language, as (key, text) pairs;
    # keys: reminder_fee, late_interest, compensation, collection_notice (a tuple: the pack stays hashable)
    legal_basis: tuple[tuple[str, str], ...] = ()
    sources: tuple[str, ...] = ()
    # "letter": one letter naming several claims carries one fee (the stricter reading, the default);
    # "claim": each claim in it carries its own. The fee-count and interval limits count per claim either way.
    fee_per: str = "letter"

    def cites(self, key: str) -> str:
        """The legal basis a letter states for ``key`` (e.g. ``"reminder_fee"``); "" when the pack has none."""
        return dict(self.legal_basis).get(key, "")


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    valid_from: date
    rate: Decimal | None  # percent per year; None: not published in our sources, never guessed


@dataclass(frozen=True, slots=True)
class CountryRules:
    country: str
    currency: str
    packs: tuple[RulePack, ...]  # by valid_from
    interest: tuple[InterestPeriod, ...]  # by valid_from

    def pack_on(self, day: date) -> RulePack:
        in_force = [p for p in self.packs if p.valid_from <= day]
        if not in_force:
            raise RulePackError(f"no {self.country} rule pack in force on {day.isoformat()}")
        return in_force[-1]

    def packs_from(self, day: date) -> tuple[RulePack, ...]:
        """The pack in force on ``day`` and every later one (what a ladder configured today must obey)."""
        later = tuple(p for p in self.packs if p.valid_from > day)
        try:
            return (self.pack_on(day), *later)
        except RulePackError:
            return later

    def interest_periods(self) -> tuple[InterestPeriod, ...]:
        return self.interest


def _cap(country: str, entry: dict[str, object]) -> tuple[Decimal, str]:
    if "reminder_fee" in entry:
        return money(str(entry["reminder_fee"])), f"max {entry['reminder_fee']}"
    sats = Decimal(str(entry["inkassosats"]))
    fraction = Fraction(str(entry["reminder_fee_fraction"]))
    # a legal maximum: an exact cap of 37.505 allows 37.50, never 37.51
    cap = (sats * fraction.numerator / fraction.denominator).quantize(CENT, rounding=ROUND_DOWN)
    return cap, f"{fraction} of the inkassosats {sats}"


def _fee_per(country: str, value: object) -> str:
    if value not in ("letter", "claim"):
        raise RulePackError(f'{country} rule pack: fee_per must be "letter" or "claim", not {value!r}')
    return str(value)


@lru_cache(maxsize=8)
def rules_for(country: str) -> CountryRules:
    name = f"{country.lower()}.toml"
    try:
        text = resources.files("connector.dunning").joinpath("rulepacks", name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulePackError(f"no rule pack for country '{country}'") from None
    data = tomllib.loads(text)
    currency = str(data["currency"])
    packs = []
    for entry in data.get("packs", []):
        cap, basis = _cap(country, entry)
        packs.append(
            RulePack(
                country=country,
                currency=currency,
                valid_from=entry["valid_from"],
                reminder_fee_cap=cap,
                fee_basis=basis,
                fee_requires_agreement=bool(entry["fee_requires_agreement"]),
                fee_min_days_after_due=int(entry["fee_min_days_after_due"]),
                max_fee_notices=int(entry["max_fee_notices"]),
                min_days_between_fee_notices=int(entry["min_days_between_fee_notices"]),
                min_days_between_reminders=int(entry["min_days_between_reminders"]),
                notice_min_deadline_days=int(entry["notice_min_deadline_days"]),
                notice_after_due=bool(entry["notice_after_due"]),
                letter_min_deadline_days=int(entry["letter_min_deadline_days"]),
                fee_per=_fee_per(country, entry.get("fee_per", "letter")),
                b2b_compensation=money(str(entry["b2b_compensation"])),
                b2b_max_payment_days=int(entry["b2b_max_payment_days"]) if "b2b_max_payment_days" in entry else None,
                legal_basis=tuple((str(k), str(v)) for k, v in entry.get("legal_basis", {}).items()),
                sources=tuple(entry.get("sources", ())),
            )
        )
    interest = [
        InterestPeriod(e["valid_from"], Decimal(e["rate"]) if str(e.get("rate", "")).strip() else None)
        for e in data.get("interest", [])
    ]
    return CountryRules(
        country=country,
        currency=currency,
        packs=tuple(sorted(packs, key=lambda p: p.valid_from)),
        interest=tuple(sorted(interest, key=lambda p: p.valid_from)),
    )


def pack_on(country: str, day: date) -> RulePack:
    return rules_for(country).pack_on(day)
