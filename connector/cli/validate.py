"""``arsync validate FILE…``: run the official Peppol / EN 16931 rules and print the failed ones.

Needs the ``[validate]`` extra (saxonche); reads neither the config nor the store.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector.einvoice.validate import RULES_ENV, ValidationUnavailable, Validator, rules_dir

EXIT_INVALID = 1
EXIT_UNAVAILABLE = 3


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rules", metavar="DIR", help=f"Folder with the official XSLT rule files (else ${RULES_ENV}).")
@click.option("--warnings/--no-warnings", default=True, help="Also print rule warnings (default: yes).")
def validate(files: tuple[Path, ...], rules: str | None, warnings: bool) -> None:
    """Check e-invoice files against the official Peppol BIS Billing 3 / EN 16931 / T111 / T71 rules."""
    try:
        validator = Validator(rules_dir(rules))
    except ValidationUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    invalid = 0
    for path in files:
        try:
            report = validator.validate(path.read_bytes(), path.name)
        except ValidationUnavailable as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_UNAVAILABLE)
        shown = [f for f in report.failures if f.fatal or warnings]
        fatal = sum(1 for f in report.failures if f.fatal)
        if report.note:
            click.echo(f"{path}: {report.note}")
        else:
            status = "valid" if fatal == 0 else f"{fatal} fatal"
            click.echo(f"{path}: {report.doc_class.value}: {status}, {len(report.failures) - fatal} warning(s)")
        for f in shown:
            click.echo(f"  {f.flag} {f.rule} [{f.stage}] {f.text} (at {f.location})")
        if not report.ok:
            invalid += 1
    if invalid:
        sys.exit(EXIT_INVALID)
