"""The command line end to end: a client of N invoices as real files, run through ``arsync`` as a user runs it.

    .venv/bin/python -m bench.cli_bench                 # N = 10k and 100k, 3 runs each
    .venv/bin/python -m bench.cli_bench --n 10000 --runs 5
    .venv/bin/python -m bench.cli_bench --million       # adds N = 1M (minutes per run; ~20 GB of files)
    .venv/bin/python -m bench.cli_bench --n 1000000 --keep /data --run-only  # `run` alone: its time and memory

The client: N EHF invoices as files in a folder (bench/einvoice_ingest.py's realistic 10–40 KB Peppol BIS 3
documents, 8–40 lines, a few with a PDF) and one camt.054 paying them (bench/payments_bench.py's file: the
same tier mix — KID, invoice number in the text, payer account only, partial, returns, unexplained). The
invoices carry payments_bench's numbers, KIDs, customers and amounts, so the camt pays them as it pays the
engine bench's.

Each run, in this order, as subprocesses of this script:

  reconcile --json   ``arsync reconcile --json`` on a fresh (empty) store: sync the folder and the camt,
                     reconcile, decide, print every decision as JSON (to a file).
  run                ``arsync run`` on a fresh store: the nightly job. The night is the first after the
                     due date plus grace (as-of 2024-03-07, due 2024-03-01): every open invoice is decided
                     and the act stage runs, but no ladder step falls due yet, so nothing is sent — the
                     usual night of a client whose reminders went out on an earlier one. Sends are timed by
                     bench/letters_bench.py.
  run, next night    ``arsync run`` again on that store, a day later, nothing new in the folders: the
                     files are known by hash and skipped, everything is decided again.
  engine             bench/payments_bench.py's child over the same camt (parse, store, route, match, decide:
                     the ledger side set up untimed), in its own process.
  bare lxml          bench/bare_lxml.py over the same bytes, in this process: the camt streamed by a bare
                     iterparse, every EHF file read and parsed whole by etree.fromstring (the sum is the
                     "bare" figure; both parts are printed).

Printed per command: wall seconds, CPU seconds (user + system of the command and the processes it waited
for: its slice helpers), peak memory of its process tree (proportional set size sampled every 200 ms, so
forked children's shared pages count once), the ratio to the engine bench's total (issue 18: <= 1.5) and
bare / wall (the share of the time a bare parse of the same bytes would take; higher is better). Each
figure is the median of ``--runs`` runs with min–max. The machine is shared: the absolute times drift with
the other load, the ratios to the engine and the bare parse measured in the same run much less.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench import bare_lxml
from bench.einvoice_ingest import Ledgered, make_invoice
from bench.payments_bench import _amount, write_camt
from bench.sampling import Measured, run_sampled
from connector.references import kid_mod10

AS_OF = date(2024, 3, 7)  # due 2024-03-01 + grace: overdue, no step due yet
ISSUED, DUE = date(2024, 2, 1), date(2024, 3, 1)
CLIENT_ORG = "923456783"


def buyer_org(customer: int) -> str:
    return f"9{customer:08d}"


def write_client(root: Path, n: int) -> Path:
    """The client's files and its config; returns the config file."""
    ehf, bank = root / "ehf", root / "bank"
    ehf.mkdir(parents=True)
    bank.mkdir()
    write_camt(bank / "camt054.xml", n)
    rnd = random.Random(n)
    n_customers = max(1, n // 5)
    for i in range(n):
        number = str(100000 + i)
        fixed = Ledgered(number, kid_mod10(number), buyer_org(i % n_customers), ISSUED, DUE, _amount(i))
        (ehf / f"{number}.xml").write_bytes(make_invoice(i + 1, rnd, fixed))
    config = root / "arsync.toml"
    config.write_text(
        f"""[store]
url = "sqlite:///{root}/state/arsync.db"

[[clients]]
id = "bench"
name = "Leverandør AS"
org_no = "{CLIENT_ORG}"
country = "NO"
currency = "NOK"

[clients.ledger]
kind = "ehf"
path = "{ehf}"

[[clients.bank]]
kind = "camt"
path = "{bank}"

[clients.policy]
grace_days = 3
bank_max_age_days = 7

[[clients.policy.steps]]
action = "reminder"
days = 14
fee = true
channel = "outbox"

[[clients.policy.steps]]
action = "collection_notice"
days = 14
channel = "outbox"

[[clients.policy.steps]]
action = "collection_case"
days = 14

[clients.reminders]
channel = "outbox"
path = "{root}/state/outbox"

[clients.collection]
provider = "outbox"
path = "{root}/state/cases"
""",
        encoding="utf-8",
    )
    return config


def arsync(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", "--config", str(config), *args]


def fresh_store(root: Path) -> None:
    shutil.rmtree(root / "state", ignore_errors=True)
    (root / "state").mkdir()


@dataclass
class Run:
    commands: dict[str, Measured]
    engine: Measured  # wall_s: the engine bench's own total (parse … decide), not its process's lifetime
    bare_camt: float
    bare_ehf: float

    @property
    def bare(self) -> float:
        return self.bare_camt + self.bare_ehf


def one_run(root: Path, config: Path, n: int) -> Run:
    env = {**os.environ, "COLUMNS": "120"}
    commands: dict[str, Measured] = {}
    fresh_store(root)
    with (root / "reconcile.json").open("wb") as sink:
        command = arsync(config, "reconcile", "--json", "--as-of", AS_OF.isoformat())
        commands["reconcile --json"] = run_sampled(command, sink, env)
    _check_json(root / "reconcile.json", n)
    fresh_store(root)
    with (root / "run.txt").open("wb") as sink:
        commands["run"] = run_sampled(arsync(config, "run", "--as-of", AS_OF.isoformat()), sink, env)
    with (root / "run2.txt").open("wb") as sink:
        next_night = (AS_OF + timedelta(days=1)).isoformat()
        commands["run, next night"] = run_sampled(arsync(config, "run", "--as-of", next_night), sink, env)
    engine = run_sampled(
        [sys.executable, "-m", "bench.payments_bench", "--n", str(n), "--child", str(root / "bank" / "camt054.xml")]
    )
    engine.wall_s = json.loads(engine.out)["total_s"]
    return Run(commands, engine, bare_lxml.timed([root / "bank" / "camt054.xml"]), bare_lxml.timed([root / "ehf"]))


def _check_json(path: Path, n: int) -> None:
    """The --json output is one valid document with a decision per invoice: a bench of broken output is none."""
    with path.open("rb") as f:
        items = len(json.load(f)["items"])
    if items != n:
        raise SystemExit(f"reconcile --json listed {items} decisions for {n} invoices")


COMMANDS = ("reconcile --json", "run", "run, next night")


def _median(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def report(n: int, runs: list[Run], files_mb: float) -> None:
    print(f"\nN = {n:,} invoices ({files_mb:,.0f} MB of EHF + camt), {len(runs)} runs: median (min–max)")
    print(f"{'command':<18} {'wall s':>20} {'CPU s':>20} {'peak MB':>20} {'× engine':>18} {'bare / wall':>18}")
    for name in COMMANDS:
        got = [r.commands[name] for r in runs]
        walls = [m.wall_s for m in got]
        print(
            f"{name:<18} {_median(walls, '.1f'):>20} {_median([m.cpu_s for m in got], '.1f'):>20}"
            f" {_median([m.peak_mb for m in got], '.0f'):>20}"
            f" {_median([w / r.engine.wall_s for w, r in zip(walls, runs, strict=True)], '.2f'):>18}"
            f" {_median([r.bare / w for w, r in zip(walls, runs, strict=True)], '.3f'):>18}"
        )
    engine = [r.engine for r in runs]
    print(
        f"{'engine bench':<18} {_median([e.wall_s for e in engine], '.1f'):>20} {'':>20}"
        f" {_median([e.peak_mb for e in engine], '.0f'):>20} {'':>18}"
        f" {_median([r.bare_camt / r.engine.wall_s for r in runs], '.3f'):>18}   (bare: the camt only)"
    )
    print(f"{'bare lxml':<18} {_median([r.bare for r in runs], '.1f'):>20}")
    print(f"{'  of it camt':<18} {_median([r.bare_camt for r in runs], '.1f'):>20}")
    print(f"{'  of it EHF':<18} {_median([r.bare_ehf for r in runs], '.1f'):>20}")
    sys.stdout.flush()


def run_only(root: Path, config: Path, n: int, runs: int, files_mb: float) -> None:
    """``arsync run`` on a fresh store and again a night later, ``runs`` times: wall, CPU and peak memory (the
    1M target: <= 1 GB), without the reconcile, engine and bare-parse runs around them."""
    env = {**os.environ, "COLUMNS": "120"}
    got: dict[str, list[Measured]] = {"run": [], "run, next night": []}
    next_night = (AS_OF + timedelta(days=1)).isoformat()
    for i in range(runs):
        fresh_store(root)
        for name, day in (("run", AS_OF.isoformat()), ("run, next night", next_night)):
            with (root / f"{name.replace(', ', '-').replace(' ', '-')}.txt").open("wb") as sink:
                got[name].append(run_sampled(arsync(config, "run", "--as-of", day), sink, env))
            last = got[name][-1]
            print(f"N={n} run {i + 1}: {name} {last.wall_s:.1f} s / {last.peak_mb:.0f} MB", file=sys.stderr)
    print(f"\nN = {n:,} invoices ({files_mb:,.0f} MB of EHF + camt), `run` alone, {runs} runs: median (min–max)")
    print(f"{'command':<18} {'wall s':>20} {'CPU s':>20} {'peak MB':>20}")
    for name, measured in got.items():
        print(
            f"{name:<18} {_median([m.wall_s for m in measured], '.1f'):>20}"
            f" {_median([m.cpu_s for m in measured], '.1f'):>20} {_median([m.peak_mb for m in measured], '.0f'):>20}"
        )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="invoices (repeatable; default 10k and 100k)")
    parser.add_argument("--million", action="store_true", help="add N = 1,000,000 (slow; ~20 GB of files)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the client here and keep it (default: a temp folder)")
    parser.add_argument(
        "--run-only",
        action="store_true",
        help="time `run` on a fresh store and a night later alone (no reconcile, engine or bare parse): the 1M memory",
    )
    args = parser.parse_args()
    sizes = args.n or [10_000, 100_000]
    if args.million:
        sizes.append(1_000_000)
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="arsync-cli-bench-") as tmp:
            root = (args.keep / str(n)) if args.keep else Path(tmp)
            config = root / "arsync.toml"
            if not config.exists():  # --keep: a client written before is used again
                write_client(root, n)
            files_mb = sum(f.stat().st_size for f in (root / "ehf").iterdir()) / 1e6
            files_mb += (root / "bank" / "camt054.xml").stat().st_size / 1e6
            if args.run_only:
                run_only(root, config, n, args.runs, files_mb)
                continue
            runs = []
            for i in range(args.runs):
                runs.append(one_run(root, config, n))
                got = runs[-1]
                walls = ", ".join(f"{name} {m.wall_s:.1f} s / {m.peak_mb:.0f} MB" for name, m in got.commands.items())
                tail = f"engine {got.engine.wall_s:.1f} s; bare {got.bare:.1f} s"
                print(f"N={n} run {i + 1}: {walls}; {tail}", file=sys.stderr)
            report(n, runs, files_mb)


if __name__ == "__main__":
    main()
