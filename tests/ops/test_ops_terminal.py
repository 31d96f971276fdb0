"""Issue 17 item 7: progress where a person waits (a terminal), nothing on a pipe; --quiet prints only
problems; each warning once; tables fit an 80-column terminal. Terminal behaviour runs `arsync` in a
pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from datetime import date, timedelta

from tests.builders import Entry, Workspace, client_table, kid

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def scene(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    for n in ("1001", "1002"):
        ws.add_invoice(n, issue=ISSUE, due=DUE, amount="1000.00", customer="Et Svært Langt Kundenavn Holding AS")
    ws.add_bank_file("camt054.xml", [Entry("R1", "1000.00", DUE, kid("1001"))], created=AS_OF)
    ws.bank_heartbeat(AS_OF, client_id="beta")
    ws.add_invoice("2001", client_id="beta", issue=ISSUE, due=DUE, amount="10.00")
    # a credit note that does not read, naming nothing: it could settle any of acme's invoices
    (ws.ehf_dir("acme") / "broken.xml").write_text("<CreditNote><unclosed>", encoding="utf-8")


def in_terminal(ws: Workspace, *args: str, columns: int = 80) -> str:
    """Run arsync with stdout and stderr on a pseudo-terminal ``columns`` wide; what the terminal showed."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm", "COLUMNS": str(columns)}
    argv = [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), *args]
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def on_a_pipe(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_progress_on_a_terminal_and_none_on_a_pipe(ws: Workspace) -> None:
    scene(ws)
    shown = in_terminal(ws, "reconcile", "--workers", "1", "--as-of", AS_OF.isoformat())
    assert "clients: " in shown and "0/2" in ANSI.sub("", shown)  # the bar, with the client and stage
    piped = on_a_pipe(ws, "reconcile", "--workers", "1", "--as-of", AS_OF.isoformat())
    assert "clients:" not in piped.stderr and "\x1b[" not in piped.stderr + piped.stdout
    assert "━" not in piped.stderr


def test_tables_fit_an_80_column_terminal(ws: Workspace) -> None:
    scene(ws)
    shown = ANSI.sub("", in_terminal(ws, "reconcile", "--as-of", AS_OF.isoformat(), columns=80))
    start = shown.index("Decisions as of")
    table = shown[start:].split("\n\n", 2)[1].splitlines()  # from the header to the blank line after it
    assert len(table) >= 4 and "invoice" in table[0] and "holds" in table[0], shown
    assert all(len(line.rstrip()) <= 80 for line in table), "\n".join(table)
    assert "unreadable_document" in shown and "(934567897)" in shown  # codes and ids are never broken


def test_each_warning_is_printed_once(ws: Workspace) -> None:
    scene(ws)
    done = on_a_pipe(ws, "reconcile", "--as-of", AS_OF.isoformat())
    broken = [line for line in done.stderr.splitlines() if "broken.xml" in line]
    assert len(broken) == 1, done.stderr
    assert broken[0].startswith("warning: client acme: ledger: ")


def test_quiet_prints_only_problems(ws: Workspace) -> None:
    ws.write_config(client_table("beta"))
    ws.bank_heartbeat(AS_OF, client_id="beta")
    clean = on_a_pipe(ws, "run", "--quiet", "--as-of", AS_OF.isoformat())
    assert clean.returncode == 0
    assert (
        clean.stdout == ""
        and clean.stderr == "note: created a new store at " + str(ws.root / "state" / "arsync.db") + "\n"
    )
    again = on_a_pipe(ws, "-q", "run", "--as-of", AS_OF.isoformat())
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")  # a good night mails nothing
    scene(ws)
    problems = on_a_pipe(ws, "run", "--quiet", "--as-of", AS_OF.isoformat())
    assert problems.stdout == ""
    assert "broken.xml" in problems.stderr and all(
        line.startswith(("warning: ", "error: ")) for line in problems.stderr.splitlines()
    )
