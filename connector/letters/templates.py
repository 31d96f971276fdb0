"""Letter texts: Jinja2 templates in data, one per language and kind, that a client may override.

Lookup: ``templates/<language>/<kind>.j2`` (and ``<language>/labels.toml``, ``letter.typ``) is taken
from the client's override folder when it has that file, else from the package. A client overrides
one text without copying the rest; a shared piece (``<language>/_common.j2``) can be overridden too.

What a template renders is plain text with a few rules, so one rendering serves both the PDF and the
e-mail body:
- the first paragraph is the subject (the PDF's heading, the e-mail's subject line);
- paragraphs are separated by a blank line; a line break inside a paragraph is kept;
- ``{{ invoice_table() }}`` stands alone in its paragraph where the table of invoices, payments,
  credits, charges and the total goes; ``{{ strong("…") }}`` makes its paragraph bold (the pay-by
  date); ``{{ heading("…") }}`` starts a paragraph with a small heading.

Every value a template prints passes :func:`_printable`: it cannot start a directive, whatever a
customer name contains (so directives are called in the template itself, not inside a macro). The
environment is sandboxed: a client's template can read the letter, not the interpreter.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from connector import formats
from connector.letters.model import Language, Letter, LetterKind, Money

_MARK = "\ue000"  # private-use character: only the directive helpers emit it
BlockKind = Literal["p", "strong", "heading", "table"]


class TemplateError(ValueError):
    """A letter template is missing or does not follow the rules above (names the template)."""


class _Directive(str):
    """Output of a directive helper: printed as is."""


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    lines: tuple[str, ...] = ()  # "table": empty; "heading": the heading, then the paragraph's lines


@dataclass(frozen=True, slots=True)
class Composed:
    """A letter's wording in its language: what the PDF and the text renderers lay out."""

    subject: str
    blocks: tuple[Block, ...]
    labels: dict[str, Any]  # <language>/labels.toml


def _printable(value: object) -> object:
    if isinstance(value, _Directive):
        return value
    if value is None:
        return ""
    return keep_section_sign(str(value).replace(_MARK, ""))


def keep_section_sign(text: str) -> str:
    """ "§ 9" never breaks after the section sign (a no-break space, as in print)."""
    return text.replace("§ ", "§\u00a0")


def _loader(override_dir: Path | None) -> jinja2.BaseLoader:
    package = jinja2.PackageLoader("connector.letters", "templates")
    if override_dir is None:
        return package
    return jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(override_dir)), package])


@lru_cache(maxsize=16)
def environment(override_dir: Path | None = None) -> jinja2.Environment:
    """The template environment: the client's folder first (if given), then the package's templates."""
    env = ImmutableSandboxedEnvironment(
        loader=_loader(override_dir),
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the letter instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # plain text: the PDF gets the text as data, never as markup
        finalize=_printable,
    )
    env.globals.update(
        invoice_table=lambda: _Directive(f"{_MARK}table"),
        strong=lambda text: _Directive(f"{_MARK}strong{_printable(text)}"),
        heading=lambda text: _Directive(f"{_MARK}heading{_printable(text)}"),
    )
    return env


def source(name: str, override_dir: Path | None = None) -> str:
    """The text of a template file (``letter.typ``, ``nb/labels.toml``, …), override first."""
    env = environment(override_dir)
    assert env.loader is not None
    try:
        text, _, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"letter template '{name}' not found") from None
    return text


@lru_cache(maxsize=32)
def labels(language: Language, override_dir: Path | None = None) -> dict[str, Any]:
    name = f"{language}/labels.toml"
    try:
        return tomllib.loads(source(name, override_dir))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"letter template '{name}': {exc}") from None


def letter_template_problems(language: Language, override_dir: Path | None = None) -> list[str]:
    """Every template of ``language`` (the client's own first) that does not parse, one line each."""
    env = environment(override_dir)
    out = []
    for kind in LetterKind:
        name = f"{language}/{kind.value}.j2"
        try:
            env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            out.append(f"letter template '{exc.name}' not found (needed by {name})")
        except jinja2.TemplateError as exc:
            out.append(f"letter template '{name}': {exc}")
    try:
        labels(language, override_dir)
    except TemplateError as exc:
        out.append(str(exc))
    return out


def compose(letter: Letter, override_dir: Path | None = None) -> Composed:
    """Render ``letter``'s template (``<language>/<kind>.j2``) into subject and blocks."""
    env = environment(override_dir)
    name = f"{letter.language}/{letter.kind.value}.j2"
    lab = labels(letter.language, override_dir)
    try:
        template = env.get_template(name)
        text = template.render(letter=letter, L=lab, fmt=_Formatter(letter.language))
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"letter template '{exc.name}' not found (needed by {name})") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"letter template '{name}': {exc}") from None
    blocks = _blocks(text, name)
    if not blocks or blocks[0].kind != "p" or len(blocks[0].lines) != 1:
        raise TemplateError(f"letter template '{name}': the first paragraph must be the subject, one line")
    return Composed(subject=blocks[0].lines[0], blocks=tuple(blocks[1:]), labels=lab)


class _Formatter:
    """``fmt.money(x)``, ``fmt.date(d)``, ``fmt.percent(r)`` in the letter's language (passed per render,
    so one environment serves every language)."""

    def __init__(self, language: Language) -> None:
        self.language: Language = language

    def money(self, value: Money | Decimal) -> str:
        if isinstance(value, Money):
            return formats.money(value.amount, value.currency, self.language)
        return formats.amount(value, self.language)

    def date(self, value: date | None) -> str:
        return "" if value is None else formats.day(value, self.language)

    def percent(self, value: Decimal) -> str:
        return formats.percent(value, self.language)

    def keep(self, value: str) -> str:
        """Never broken across lines (a phone number, an account number)."""
        return value.replace(" ", formats.NBSP)


def _blocks(text: str, name: str) -> list[Block]:
    blocks: list[Block] = []
    for para in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [line.rstrip() for line in para.strip("\n").split("\n") if line.strip()]
        if not lines:
            continue
        first = lines[0].lstrip()
        if first.startswith(f"{_MARK}table"):
            if len(lines) > 1 or first != f"{_MARK}table":
                raise TemplateError(f"letter template '{name}': invoice_table() must stand alone in its paragraph")
            blocks.append(Block("table"))
        elif first.startswith(f"{_MARK}strong"):
            blocks.append(Block("strong", tuple(line.replace(f"{_MARK}strong", "").strip() for line in lines)))
        elif first.startswith(f"{_MARK}heading"):
            blocks.append(Block("heading", (first.removeprefix(f"{_MARK}heading").strip(), *lines[1:])))
        else:
            if any(_MARK in line for line in lines):
                raise TemplateError(f"letter template '{name}': a directive must start its paragraph")
            blocks.append(Block("p", tuple(lines)))
    return blocks
