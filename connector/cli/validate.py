"""``arsync validate FILE…``: run the official Peppol / EN 16931 rules and print the failed ones.

Needs the ``[validate]`` extra (saxonche) and the rule files (not shipped: OpenPeppol's licence; the README
says where to get them); reads neither the config nor the store. Each document is checked with the rule
release in force on its issue date (``connector.einvoice.rulesets``).

Exit status: 0 every file valid, 1 a file is invalid, 2 validation could not run (no saxonche, no rules).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector.einvoice import rulesets
from connector.einvoice.validate import RULES_ENV, ValidationUnavailable, Validator, rules_dir
from connector.errors import EXIT_USAGE

EXIT_INVALID = 1
EXIT_UNAVAILABLE = EXIT_USAGE


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rules",
    metavar="DIR",
    help=f"Folder with the official XSLT rule files, or one sub-folder per release (else ${RULES_ENV}).",
)
@click.option("--warnings/--no-warnings", default=True, help="Also print rule warnings (default: yes).")
def validate(files: tuple[Path, ...], rules: str | None, warnings: bool) -> None:
    """Check e-invoice files against the official Peppol BIS Billing 3 / EN 16931 / T111 / T71 rules.

    \b
    Exit status: 0 all valid, 1 a file is invalid, 2 validation could not run.
    """
    try:
        folder = rules_dir(rules)
        validators: dict[Path, Validator] = {}
        invalid = 0
        for path in files:
            data = path.read_bytes()
            chosen = rulesets.rule_set(folder, rulesets.issue_date(data, path.name))
            if chosen.folder not in validators:
                validators[chosen.folder] = Validator(chosen.folder)
            report = validators[chosen.folder].validate(data, path.name)
            invalid += _print(path, report, chosen, warnings)
    except ValidationUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    if invalid:
        sys.exit(EXIT_INVALID)


def _print(path: Path, report: object, chosen: rulesets.RuleSet, warnings: bool) -> int:
    from connector.einvoice.validate import Report

    assert isinstance(report, Report)
    shown = [f for f in report.failures if f.fatal or warnings]
    fatal = sum(1 for f in report.failures if f.fatal)
    release = f" (BIS Billing {chosen.release} rules)" if chosen.release else ""
    if report.note:
        click.echo(f"{path}: {report.note}")
    else:
        status = "valid" if fatal == 0 else f"{fatal} fatal"
        click.echo(f"{path}: {report.doc_class.value}: {status}, {len(report.failures) - fatal} warning(s){release}")
    if chosen.note:
        click.echo(f"  note: {chosen.note}")
    for f in shown:
        click.echo(f"  {f.flag} {f.rule} [{f.stage}] {f.text} (at {f.location})")
    return 0 if report.ok else 1
