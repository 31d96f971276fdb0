"""Where a command's words go: results on stdout, problems on stderr, each problem once.

- ``warning:`` / ``error:`` lines come from two places — the log records the code writes while it works
  and the run reports the command prints at the end — and both say the same thing; ``Problems`` prints
  each text once, whichever comes first.
- Without ``-v`` a log record is one line (its traceback only with ``-v``); with ``--quiet`` only
  problems reach the terminal, so a cron job mails nothing on a good night.
- Progress is drawn only where a person waits (stderr is a terminal) and never under ``--quiet``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from typing import TextIO

import click

from connector.reports.tables import Table

VERBOSE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Problems:
    """Prints ``warning: …`` and ``error: …`` lines to stderr, each distinct text once per command."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.errors = 0
        self.warnings = 0

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def first_time(self, text: str) -> bool:
        """True the first time ``text`` is reported (and remembers it)."""
        key = " ".join(text.split())
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def warning(self, text: str) -> None:
        if self.first_time(text):
            self.warnings += 1
            click.echo(f"warning: {text}", file=self.stream)

    def error(self, text: str) -> None:
        if self.first_time(text):
            self.errors += 1
            click.echo(f"error: {text}", file=self.stream)


class ProblemHandler(logging.Handler):
    """Log records as ``Problems`` lines: one line each, deduplicated against what the reports print.

    With ``verbose`` the record keeps its timestamp, logger name and traceback (the text still counts as
    reported, so the end-of-run summary does not repeat it)."""

    def __init__(self, problems: Problems, *, verbose: bool, quiet: bool) -> None:
        super().__init__(logging.DEBUG if verbose else logging.WARNING)
        self.problems = problems
        self.verbose = verbose
        self.quiet = quiet
        self.setFormatter(logging.Formatter(VERBOSE_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if self.verbose:
                self.problems.first_time(text)
                click.echo(self.format(record), file=self.problems.stream)
            elif record.levelno >= logging.ERROR:
                self.problems.error(text)
            elif not self.quiet:  # a retry that later succeeded is no problem for a cron mail
                self.problems.warning(text)
        except Exception:  # a broken terminal must not break the run
            self.handleError(record)


def install_logging(problems: Problems, *, verbose: int, quiet: bool) -> None:
    """Route every log record through ``problems`` (replacing earlier handlers: one command, one sink)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, ProblemHandler):
            root.removeHandler(handler)
    root.addHandler(ProblemHandler(problems, verbose=verbose > 0, quiet=quiet))
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING)


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def terminal_width(default: int = 80) -> int:
    """The width tables are fitted to: the terminal's, else ``$COLUMNS``, else 80."""
    try:
        if sys.stdout.isatty():
            return max(40, os.get_terminal_size(sys.stdout.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        pass
    try:
        return max(40, int(os.environ.get("COLUMNS", default)))
    except ValueError:
        return default


def show(table: Table, *, quiet: bool = False) -> None:
    """Print a table: fitted to the terminal (rich) where a person reads it, plain and whole on a pipe."""
    if quiet:
        return
    if not table.rows:
        click.echo(table.empty)
        return
    if not is_terminal(sys.stdout):
        click.echo(table.plain())
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable

    width = terminal_width()
    columns = fitted_columns(table, width)
    widths = column_widths(table, columns, width)
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title=None)
    for i in columns:
        grid.add_column(
            table.headers[i],
            justify="right" if i in table.right else "left",
            no_wrap=i in table.right,
            overflow="fold",
            width=widths[i],  # never under its longest word: a code or an id is never broken in the middle
        )
    for row in table.rows:
        grid.add_row(*(row[i] for i in columns))
    console = Console(file=sys.stdout, width=width, highlight=False, soft_wrap=False)
    if table.title:
        console.print(table.title, markup=False)
        console.print()
    console.print(grid)
    dropped = [table.headers[i] for i in range(len(table.headers)) if i not in columns]
    if dropped:
        console.print(f"(not shown at this width: {', '.join(dropped)}; use --json for every field)", markup=False)


def least_width(table: Table, i: int) -> int:
    """Column ``i``'s narrowest width: its header and its longest word (a number whole)."""
    words = [w for row in table.rows for w in (row[i].split() if i not in table.right else [row[i]])]
    return max([len(table.headers[i]), *(len(w) for w in words)])


def column_widths(table: Table, columns: list[int], width: int) -> dict[int, int]:
    """Each shown column's width: its longest cell where everything fits, else the columns with the most
    room above their longest word give way first (rich's own shrinking may cut a word to fit)."""
    least = {i: least_width(table, i) for i in columns}
    widths = {i: max(least[i], *(len(row[i]) for row in table.rows)) for i in columns}
    room = width - _GAP * (len(columns) - 1)
    while sum(widths.values()) > room:
        widest = max(columns, key=lambda i: (widths[i] - least[i], -i))
        if widths[widest] <= least[widest]:
            break  # fitted_columns left only what fits at the least widths
        widths[widest] -= 1
    return widths


_GAP = 3  # between two columns: padding, the separator, padding


def fitted_columns(table: Table, width: int) -> list[int]:
    """The columns that fit ``width``: the least important dropped first, each column at least as wide as
    its header and its longest word (numbers whole)."""
    n = len(table.headers)
    keep = table.keep or [1] * n
    need = {i: least_width(table, i) for i in range(n)}
    shown = list(range(n))
    while len(shown) > 1 and sum(need[i] for i in shown) + _GAP * (len(shown) - 1) > width:
        shown.remove(min(shown, key=lambda i: (keep[i], -i)))
    return shown


_FLUSH_AT = 64 * 1024  # characters gathered before a write: one write per item would be a syscall each


def echo_lines(lines: Iterable[str]) -> None:
    """Print the lines (each with its line break) as they come, a chunk at a time."""
    pending: list[str] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line) + 1
        if size >= _FLUSH_AT:
            click.echo("\n".join(pending))
            pending.clear()
            size = 0
    if pending:
        click.echo("\n".join(pending))


def echo_json(fields: Sequence[tuple[str, object]]) -> None:
    """Print ``dict(fields)`` as ``json.dumps(…, indent=2, ensure_ascii=False)`` does, to the same
    characters, but written as it is encoded: a field whose value is an iterator is encoded one element at
    a time, so the output of a client with a million decisions never sits in memory whole."""
    pending: list[str] = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        pending.append(text)
        size += len(text)
        if size >= _FLUSH_AT:
            flush()

    def flush() -> None:
        nonlocal size
        click.echo("".join(pending), nl=False)
        pending.clear()
        size = 0

    put("{")
    for n, (key, value) in enumerate(fields):
        put(("," if n else "") + "\n  " + json.dumps(key, ensure_ascii=False) + ": ")
        if isinstance(value, Iterator):
            first = True
            for item in value:
                put(("[\n    " if first else ",\n    ") + _nested(item, 4))
                first = False
            put("[]" if first else "\n  ]")
        else:
            put(_nested(value, 2))
    put("\n}\n" if fields else "}\n")
    flush()


def _nested(value: object, indent: int) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, each line after the first indented by ``indent``.

    The standard library indents in pure Python, one generator step per token (2.3-3.3 s for 100k
    decisions); this builds the same characters with its C string encoder, about twice as fast. A value
    of any other kind (a float, a key that is not a string, …) is left to ``json.dumps`` whole."""
    out: list[str] = []
    try:
        _indented(value, "\n" + " " * indent, out)
    except _Unusual:
        # JSON strings never hold a raw line break (it is escaped), so every "\n" is the encoder's own
        return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * indent)
    return "".join(out)


class _Unusual(Exception):
    """A value ``_indented`` leaves to ``json.dumps``."""


_string = encode_basestring  # the C encoder when available: as json.dumps(ensure_ascii=False) writes a str


def _indented(value: object, pad: str, out: list[str]) -> None:
    """``value`` as ``json.dumps(…, indent=2, ensure_ascii=False)`` writes it, with ``pad`` ("\n" and the
    spaces of its line) before every line after the first."""
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))  # as json: an int subclass (an IntEnum) by its number
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = pad + "  "
        before = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unusual  # json turns such keys into strings its own way
            out.append(before)
            out.append(_string(key))
            out.append(": ")
            _indented(item, inner, out)
            before = "," + inner
        out.append(pad + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = pad + "  "
        before = "[" + inner
        for item in value:
            out.append(before)
            _indented(item, inner, out)
            before = "," + inner
        out.append(pad + "]")
    else:
        raise _Unusual
