"""``arsync validate``: the official rules via saxonche (skipped when the extra or the rules are absent)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from einvoice_corpus import RULES, peppol_file

from connector.cli import main
from connector.einvoice.validate import INSTALL_HINT, ValidationUnavailable, Validator


def _rules() -> Path:
    pytest.importorskip("saxonche", reason="the [validate] extra (saxonche) is not installed")
    if not (RULES / "PEPPOL-EN16931-UBL.xslt").is_file():
        pytest.skip(f"official rule files not found in {RULES}")
    return RULES


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(_rules())


def test_norwegian_example_is_valid_with_one_cen_warning(validator: Validator) -> None:
    report = validator.validate(peppol_file("bis3/Norwegian-example-1.xml").read_bytes(), "no.xml")
    assert report.ok
    assert [(f.flag, f.rule) for f in report.failures] == [("warning", "UBL-CR-679")]


def test_broken_norwegian_vat_number_fails_no_r_001(validator: Validator) -> None:
    data = peppol_file("bis3/Norwegian-example-1.xml").read_bytes().replace(b"NO123456785MVA", b"NO123456785", 1)
    report = validator.validate(data, "broken.xml")
    assert not report.ok
    assert "NO-R-001" in {f.rule for f in report.failures if f.fatal}


def test_invoice_response_and_mlr_rules(validator: Validator) -> None:
    for rel in (
        "invoice-response/T111-uc007-Payment has been initiated.xml",
        "mlr-mls/MessageLevelResponse_Example.xml",
    ):
        report = validator.validate(peppol_file(rel).read_bytes(), rel)
        assert report.ok and not report.failures, report


def test_hostile_input_never_reaches_saxon(validator: Validator) -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    report = validator.validate(data, "evil.xml")
    assert not report.ok and "DOCTYPE declarations are not accepted" in report.note


def test_cli_prints_failed_rules_and_exits_non_zero() -> None:
    rules = _rules()
    good = peppol_file("bis3/base-example.xml")
    result = CliRunner().invoke(main, ["validate", "--rules", str(rules), str(good)])
    assert result.exit_code == 0, result.output
    assert f"{good}: invoice: valid" in result.output


def test_cli_without_rules_folder_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARSYNC_PEPPOL_RULES", raising=False)
    f = tmp_path / "x.xml"
    f.write_bytes(b"<x/>")
    result = CliRunner().invoke(main, ["validate", str(f)])
    assert result.exit_code == 2  # validation could not run: a usage/config problem (documented)
    assert "--rules DIR" in result.output and "README" in result.output


def test_without_saxonche_the_command_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "saxonche", None)  # import fails as if not installed
    with pytest.raises(ValidationUnavailable, match=r'pip install -e "\.\[validate\]"'):
        Validator(Path("."))
    assert 'pip install -e ".[validate]"' in INSTALL_HINT  # works from a clone (the package is not on PyPI)
