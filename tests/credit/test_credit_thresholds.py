"""The thresholds are data: the shipped TOML, and an accountant's file laid over it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.credit.thresholds import DEFAULTS, ThresholdsError, default_thresholds, load_thresholds


def test_the_shipped_table_is_read_and_read_once() -> None:
    t = default_thresholds()
    assert t is default_thresholds() and t is load_thresholds(None)
    assert t.accounts_outdated.watch_above_months == 18
    assert t.current_ratio.watch_below == Decimal("1.0")
    assert t.overdue_amount.watch_above["NOK"] == Decimal("20000")
    assert t.bankrupt.level == "high" and t.audit_opted_out.level == "off"


def test_the_shipped_file_travels_with_the_package() -> None:
    assert DEFAULTS.name == "thresholds.toml" and DEFAULTS.parent.name == "credit" and DEFAULTS.is_file()


def test_an_override_changes_only_its_own_keys(tmp_path: Path) -> None:
    mine = tmp_path / "credit.toml"
    mine.write_text(
        "[days_paid_after_due]\nwatch_above = 7\n\n[current_ratio]\nwatch_below = 1.2\n\n"
        '[overdue_amount]\nwatch_above = { NOK = "5000" }\n\n[loss]\nlevel = "high"\n'
    )
    t = load_thresholds(mine)
    assert t.days_paid_after_due.watch_above == 7 and t.days_paid_after_due.high_above == 45
    assert t.current_ratio.watch_below == Decimal("1.2")  # a TOML float taken by its text, not its binary value
    assert t.overdue_amount.watch_above == {"NOK": Decimal("5000")}
    assert t.loss.level == "high" and t.negative_equity.level == "high"


def test_a_bad_override_names_the_file_and_the_key(tmp_path: Path) -> None:
    mine = tmp_path / "credit.toml"
    mine.write_text('[loss]\nlevel = "red"\n\n[no_such_rule]\nlevel = "high"\n')
    with pytest.raises(ThresholdsError) as err:
        load_thresholds(mine)
    lines = str(err.value).splitlines()
    assert any(line.startswith(f"{mine}: loss.level:") for line in lines)
    assert any(line.startswith(f"{mine}: no_such_rule:") for line in lines)


def test_an_unreadable_override_is_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[loss\n")
    with pytest.raises(ThresholdsError, match=r"broken\.toml: not valid TOML"):
        load_thresholds(broken)
    with pytest.raises(ThresholdsError, match=r"missing\.toml: cannot read"):
        load_thresholds(tmp_path / "missing.toml")
