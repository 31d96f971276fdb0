"""Issue 17 item 10: each document is validated with the rule release in force on its issue date
(Peppol BIS Billing 3.1.0 from 2027-02-22), and the validate command's exit statuses are as documented."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from einvoice_corpus import RULES, peppol_file

from connector.cli import main
from connector.einvoice import rulesets
from tests.builders import ubl_invoice


def releases(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / rulesets.MARKER).write_text("<xsl/>", encoding="utf-8")
    return root


def test_release_in_force_by_date() -> None:
    assert rulesets.release_on(date(2026, 11, 20)) == "3.0"
    assert rulesets.release_on(date(2027, 2, 21)) == "3.0"
    assert rulesets.release_on(date(2027, 2, 22)) == "3.1.0"


def test_the_folder_of_the_release_in_force_is_picked(tmp_path: Path) -> None:
    root = releases(tmp_path, "3.0.20", "3.0.21", "3.1.0")
    before = rulesets.rule_set(root, date(2027, 2, 21))
    assert (before.release, before.note) == ("3.0.21", "")
    after = rulesets.rule_set(root, date(2027, 2, 22))
    assert (after.release, after.note) == ("3.1.0", "")


def test_a_missing_release_is_named(tmp_path: Path) -> None:
    root = releases(tmp_path, "3.0.21")
    chosen = rulesets.rule_set(root, date(2027, 3, 1))
    assert chosen.release == "3.0.21" and "no 3.1.0 rules" in chosen.note


def test_a_single_folder_is_used_for_every_document_and_a_later_release_is_noted(tmp_path: Path) -> None:
    (tmp_path / rulesets.MARKER).write_text("<xsl/>", encoding="utf-8")
    assert rulesets.rule_set(tmp_path, date(2026, 6, 1)).note == ""
    assert "BIS Billing 3.1.0 rules apply" in rulesets.rule_set(tmp_path, date(2027, 6, 1)).note


def test_issue_date_is_read_from_the_document() -> None:
    data = ubl_invoice("1", issue=date(2027, 3, 1), due=date(2027, 3, 15), amount="10.00").encode()
    assert rulesets.issue_date(data, "x.xml") == date(2027, 3, 1)
    assert rulesets.issue_date(b"<not-xml", "x.xml") is None


def test_cli_checks_with_the_release_in_force_and_exits_as_documented(tmp_path: Path) -> None:
    pytest.importorskip("saxonche", reason="the [validate] extra (saxonche) is not installed")
    if not (RULES / rulesets.MARKER).is_file():
        pytest.skip(f"official rule files not found in {RULES}")
    (tmp_path / "3.0.21").symlink_to(RULES.resolve(), target_is_directory=True)
    good = peppol_file("bis3/base-example.xml")
    ok = CliRunner().invoke(main, ["validate", "--rules", str(tmp_path), str(good)])
    assert ok.exit_code == 0, ok.output
    assert "(BIS Billing 3.0.21 rules)" in ok.output
    broken = tmp_path / "broken.xml"
    broken.write_bytes(good.read_bytes().replace(b"<cbc:IssueDate>", b"<cbc:IssueDate>X", 1))
    bad = CliRunner().invoke(main, ["validate", "--rules", str(tmp_path), str(broken)])
    assert bad.exit_code == 1, bad.output
