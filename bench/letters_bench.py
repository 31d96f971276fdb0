"""Letters: time to render a batch of PDFs (and the e-mail text), bytes per letter, determinism.

    .venv/bin/python -m bench.letters_bench [--letters 1000] [--fpdf2]
    .venv/bin/python -m bench.letters_bench --run 2000 8000 [--per-customer 1] [--runs 3]

Renders ``--letters`` reminders (two invoices, a part payment, a credit, fee and interest; the same
content the tests check), cycling the three languages, one thread. ``--fpdf2`` also times a comparable
one-page letter with fpdf2 (when installed: ``pip install fpdf2``), with its unembedded core font and
with an embedded TTF (DejaVu Sans from the system, as fpdf2 ships none) — the figures behind the
library choice in ``connector/letters/pdf.py``. Prints a table; nothing is written.

``--run N …`` (issue 18, "cheap sends"): the send path end to end. A client of N invoices over N /
``--per-customer`` distinct customers (so that many grouped letters), EHF folder, outbox channel, all due
for a reminder, is synced (untimed, a fresh store each run); then, timed as subprocesses: the bare baseline
(this module, ``--baseline``: the same letters built, rendered to PDF with their EHF Reminder documents and
written atomically to a folder — everything ``arsync run`` writes, without any store bookkeeping; its loop
alone is timed, after the facts and decisions are read), ``arsync run`` sending them, and a second ``arsync
run`` with nothing left to send (the sync and decisions the first one also paid for). Prints wall and CPU,
the send's share (first run minus second) and its ratio to the baseline measured in the same run; with
``--runs`` the median and min–max of each. Target (issue 18): send share ≤ 2× the baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from connector.letters import Letter, LetterKind, render_pdf, render_text
from connector.letters.parts import invoice_table
from connector.letters.templates import compose
from tests.builders import Workspace, client_table
from tests.letters.letter_samples import letter

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _letters(count: int) -> list[Letter]:
    languages = ("nb", "da", "sv")
    return [letter(LetterKind.REMINDER, languages[i % 3], reference=f"P-{i:06d}") for i in range(count)]


def _fpdf2(ttf: bool) -> Callable[[Letter], bytes] | None:
    try:
        from fpdf import FPDF
    except ImportError:
        return None
    if ttf and not (DEJAVU.is_file() and DEJAVU.with_name("DejaVuSans-Bold.ttf").is_file()):
        return None

    def safe(text: str) -> str:
        # the core fonts are cp1252: no U+2212 minus (an error otherwise); the letter gets a hyphen
        return text if ttf else text.replace("\u2212", "-")

    def render(lt: Letter) -> bytes:
        composed = compose(lt)
        pdf = FPDF(format="A4")
        pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
        if ttf:
            pdf.add_font("body", "", str(DEJAVU))
            pdf.add_font("body", "B", str(DEJAVU.with_name("DejaVuSans-Bold.ttf")))
            family = "body"
        else:
            pdf.core_fonts_encoding = "windows-1252"
            family = "Helvetica"
        pdf.add_page()
        pdf.set_font(family, size=14)
        pdf.cell(text=lt.creditor.name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        pdf.set_y(46)
        pdf.multi_cell(85, 5, "\n".join([lt.debtor.name, *lt.debtor.address.lines]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(88)
        table = invoice_table(lt, composed.labels)
        for block in composed.blocks:
            if block.kind == "table":
                with pdf.table(col_widths=(80, 25, 25, 30), text_align=("LEFT", "LEFT", "LEFT", "RIGHT")) as t:
                    for row in (table.head, *((r.text, r.date, r.due, r.amount) for r in table.rows)):
                        cells = t.row()
                        for value in row:
                            cells.cell(safe(value))
            else:
                pdf.multi_cell(0, 5, safe("\n".join(block.lines)), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    return render


def _time(name: str, render: Callable[[Letter], bytes | object], letters: list[Letter]) -> tuple[str, ...]:
    render(letters[0])  # warm-up: fonts, templates, layout
    start = time.perf_counter()
    outputs = [render(lt) for lt in letters]
    elapsed = time.perf_counter() - start
    size = sum(len(o) for o in outputs if isinstance(o, bytes)) / len(letters)
    same = render(letters[0]) == outputs[0]
    digest = hashlib.sha256(outputs[0] if isinstance(outputs[0], bytes) else b"").hexdigest()[:8]
    return (
        name,
        str(len(letters)),
        f"{elapsed:.2f}",
        f"{elapsed / len(letters) * 1000:.1f}",
        f"{size / 1024:.1f}" if size else "-",
        "yes" if same else "NO",
        digest,
    )


# ---- --run: arsync run sending N letters against the bare baseline ------------------------------------------

DUE, AS_OF = date(2025, 12, 5), date(2026, 1, 19)


def _org_no(i: int) -> str:
    """A valid Norwegian organisation number (mod 11) for customer ``i``."""
    n = 810_000_000 // 10 + i
    while True:
        body = f"{n:08d}"
        rest = sum(int(d) * w for d, w in zip(body, (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
        check = 11 - rest if rest else 0
        if check != 10:
            return body + str(check % 11)
        n += 1_000_000  # another body with the same low digits


def _workspace(root: Path, invoices: int, per_customer: int) -> Workspace:
    ws = Workspace(root)
    ws.write_config(client_table("acme", policy={"customer_interval_days": 0}))
    customers = max(1, invoices // per_customer)
    orgs = [_org_no(c) for c in range(customers)]
    for i in range(invoices):
        c = i % customers
        ws.add_invoice(
            f"{100000 + i}", issue=date(2025, 11, 20), due=DUE, amount="1000.00", customer=f"Kunde {c} AS", org=orgs[c]
        )
    ws.bank_heartbeat(AS_OF)
    return ws


def _cli(ws: Workspace, *args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), *args]


def _timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall and CPU (user + system of the child) of one subprocess; its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[-4:])}: exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def _fresh(ws: Workspace) -> None:
    shutil.rmtree(ws.root / "state", ignore_errors=True)
    shutil.rmtree(ws.reminders_dir(), ignore_errors=True)
    shutil.rmtree(ws.root / "bare", ignore_errors=True)
    _timed(_cli(ws, "sync", "--as-of", AS_OF.isoformat()))


def _one_run(ws: Workspace) -> dict[str, float]:
    _fresh(ws)
    _, _, out = _timed([sys.executable, "-m", "bench.letters_bench", "--baseline", str(ws.config_path)])
    bare = json.loads(out.strip().splitlines()[-1])
    run_wall, run_cpu, _ = _timed(_cli(ws, "run", "--as-of", AS_OF.isoformat(), "--quiet"))
    letters = sum(1 for p in ws.reminders_dir().iterdir() if p.suffix == ".pdf")
    if letters != bare["letters"]:
        raise SystemExit(f"arsync run wrote {letters} letters, the baseline {bare['letters']}")
    idle_wall, idle_cpu, _ = _timed(_cli(ws, "run", "--as-of", AS_OF.isoformat(), "--quiet"))
    return {
        "letters": letters,
        "bare_wall": bare["wall"],
        "bare_cpu": bare["cpu"],
        "run_wall": run_wall,
        "run_cpu": run_cpu,
        "idle_wall": idle_wall,
        "send_wall": run_wall - idle_wall,
        "send_cpu": run_cpu - idle_cpu,
        "ratio": (run_wall - idle_wall) / bare["wall"],
        "ratio_run": run_wall / bare["wall"],
    }


def _baseline(config: Path) -> None:
    """The letters ``arsync run`` would send, built, rendered and written atomically (one fsync per file) to
    ``bare/`` beside the config, without any store bookkeeping; prints the loop's wall and CPU as JSON."""
    from connector import config as config_mod
    from connector.actions import letters as content
    from connector.actions.send import render
    from connector.channels import ehf_reminder
    from connector.engine.decisions import decide_client
    from connector.files import write_atomic
    from connector.model import DocKind
    from connector.store import Store
    from connector.store import letters as book
    from connector.store.facts import load_facts
    from connector.store.ledger import load_attachments

    client = config_mod.load(config).client("acme")
    store = Store(config_mod.load(config).store.url)
    facts = store.read(load_facts, client.id)
    decisions = decide_client(store, client, AS_OF)
    groups = [g for g in content.groups(client, facts, decisions, AS_OF) if g.channel == "outbox"]
    fee_letters = store.read(book.fee_letters, client.id)
    attachments = {n: store.read(load_attachments, client.id, n) for g in groups for n in g.numbers}
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    steps = content.steps_by_invoice(facts.steps)
    folder = config.parent / "bare"
    cpu0, start = time.process_time(), time.perf_counter()
    for group in groups:
        kind = content.LetterKind(group.step.value)
        letter_id = content.reference(kind, group.customer_id, AS_OF)
        # the group's own facts: what the letter reads, without a scan of the whole client per letter
        own = replace(
            facts,
            invoices=tuple(invoices[n] for n in group.numbers),
            steps=tuple(st for n in group.numbers for st in steps.get(n, ())),
        )
        demand = content.demand_letter(client, own, group, AS_OF, letter_id, fee_letters=fee_letters)
        rendered = render(client, demand.letter, [])
        customer = content.customer_of(client, facts, group.customer_id)
        stem = content.stem(client.id, group.customer_id, kind, AS_OF, letter_id)
        for line in demand.letter.invoices:
            if line.number in invoices:
                xml = ehf_reminder.build(
                    demand.letter, line, document_id=letter_id, country=client.country, customer=customer,
                    note=rendered.subject, attachments=attachments.get(line.number, ()),
                )  # fmt: skip
                write_atomic(folder / f"{stem}--{line.number}.xml", xml)
        write_atomic(folder / f"{stem}.pdf", rendered.pdf)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    store.close()
    print(json.dumps({"letters": len(groups), "wall": wall, "cpu": cpu}))


def _spread(values: list[float], fmt: str = "{:.1f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def _run_bench(sizes: list[int], per_customer: int, runs: int) -> None:
    print(f"arsync run sending letters (outbox, {per_customer} invoice(s) per customer), {runs} run(s) each:")
    print("median (min–max); send = first run − a second run with nothing to send; ratio = send wall / bare wall")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="arsync-letters-bench-") as tmp:
            ws = _workspace(Path(tmp), n, per_customer)
            results = []
            for i in range(runs):
                results.append(_one_run(ws))
                r = results[-1]
                print(
                    f"  run {i + 1}: bare {r['bare_wall']:.1f} s, arsync run {r['run_wall']:.1f} s "
                    f"({r['run_cpu']:.1f} s CPU), send {r['send_wall']:.1f} s, ratio {r['ratio']:.2f}",
                    flush=True,
                )
        col = {k: [r[k] for r in results] for k in results[0]}
        print(
            f"{n} invoices, {int(col['letters'][0])} letters: bare {_spread(col['bare_wall'])} s wall, "
            f"{_spread(col['bare_cpu'])} s CPU | arsync run {_spread(col['run_wall'])} s wall, "
            f"{_spread(col['run_cpu'])} s CPU | nothing to send {_spread(col['idle_wall'])} s | "
            f"send {_spread(col['send_wall'])} s wall, {_spread(col['send_cpu'])} s CPU | "
            f"ratio {_spread(col['ratio'], '{:.2f}')} (whole run / bare {_spread(col['ratio_run'], '{:.2f}')})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--fpdf2", action="store_true", help="also time fpdf2 (if installed)")
    parser.add_argument("--run", type=int, nargs="+", metavar="N", help="time arsync run sending N invoices' letters")
    parser.add_argument("--per-customer", type=int, default=1, help="with --run: invoices per customer (grouped)")
    parser.add_argument("--runs", type=int, default=1, help="with --run: repetitions (median, min–max)")
    parser.add_argument("--baseline", type=Path, metavar="CONFIG", help=argparse.SUPPRESS)  # --run's subprocess
    args = parser.parse_args()
    if args.baseline is not None:
        _baseline(args.baseline)
        return
    if args.run:
        _run_bench(args.run, args.per_customer, args.runs)
        return
    letters = _letters(args.letters)
    rows = [
        _time("typst: render_pdf", render_pdf, letters),
        _time("text: render_text", lambda lt: render_text(lt).body.encode(), letters),
    ]
    if args.fpdf2:
        for ttf, label in ((False, "fpdf2, core font"), (True, "fpdf2, DejaVu TTF")):
            renderer = _fpdf2(ttf)
            if renderer is None:
                print(f"({label}: fpdf2 or the font is not installed; skipped)")
                continue
            fpdf_letters = letters[: max(1, min(len(letters), 200))]  # it is slow: a sample is enough
            rows.append(_time(label, renderer, fpdf_letters))
    head = ("renderer", "letters", "seconds", "ms/letter", "KiB/letter", "deterministic", "sha256")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for r in (head, tuple("-" * w for w in widths), *rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (this process): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
