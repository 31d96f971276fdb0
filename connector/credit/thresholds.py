"""The credit-risk thresholds: a TOML table shipped with arsync (``thresholds.toml``), read once, which
an accountant may override with a file holding only the keys that differ."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULTS = Path(__file__).with_name("thresholds.toml")

RuleLevel = Literal["high", "watch", "off"]
Count = Annotated[int, Field(ge=0)]
Amounts = dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Annotated[Decimal, Field(ge=0)]]


class ThresholdsError(ValueError):
    """One line per problem, each naming the file and the key."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        # TOML 1.5 is a binary float: take its literal text so no fraction is invented (as config.py does)
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, dict):
            return {k: Decimal(repr(v)) if isinstance(v, float) else v for k, v in value.items()}
        return value


class Flag(_Rule):
    level: RuleLevel


class FormsFlag(Flag):
    forms: tuple[str, ...]  # organisation forms (organisasjonsform.kode) the rule applies to


class YoungCompany(_Rule):
    watch_below_months: Count


class AccountsOutdated(_Rule):
    watch_above_months: Count


class CurrentRatio(_Rule):
    watch_below: Annotated[Decimal, Field(ge=0)]


class History(_Rule):
    months: Annotated[int, Field(ge=1)]


class DaysLate(_Rule):
    watch_above: Count | None = None
    high_above: Count | None = None


class RemindersNeeded(_Rule):
    watch_above_share: Annotated[Decimal, Field(ge=0, le=1)]
    min_invoices: Count


class CountRule(_Rule):
    watch_from: Annotated[int, Field(ge=1)] | None = None
    high_from: Annotated[int, Field(ge=1)] | None = None


class OverdueAmount(_Rule):
    watch_above: Amounts = Field(default_factory=dict)
    high_above: Amounts = Field(default_factory=dict)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bankrupt: Flag
    under_liquidation: Flag
    forced_dissolution: Flag
    reconstruction: Flag
    deleted: Flag
    not_found: Flag
    young_company: YoungCompany
    not_vat_registered: Flag
    not_in_business_register: FormsFlag
    no_employees: Flag
    no_accounts_filed: FormsFlag
    accounts_outdated: AccountsOutdated
    negative_equity: Flag
    loss: Flag
    current_ratio: CurrentRatio
    unaudited: Flag
    audit_opted_out: Flag
    liquidation_accounts: Flag
    history: History
    days_paid_after_due: DaysLate
    reminders_needed: RemindersNeeded
    collection_steps: CountRule
    open_disputes: CountRule
    overdue_amount: OverdueAmount
    register_unavailable: Flag


@cache
def default_thresholds() -> Thresholds:
    """The shipped table, read once per process."""
    return _build(_read(DEFAULTS), DEFAULTS)


def load_thresholds(override: Path | None = None) -> Thresholds:
    """The shipped table with an accountant's file laid over it (tables merged key by key)."""
    if override is None:
        return default_thresholds()
    merged = _read(DEFAULTS)
    for table, values in _read(override).items():
        if isinstance(values, dict) and isinstance(merged.get(table), dict):
            merged[table] = {**merged[table], **values}
        else:
            merged[table] = values  # an unknown table or a non-table value: validation names it
    return _build(merged, override)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ThresholdsError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdsError(f"{path}: not valid TOML ({exc})") from None


def _build(data: dict[str, Any], source: Path) -> Thresholds:
    try:
        return Thresholds.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ThresholdsError("\n".join(lines)) from None
