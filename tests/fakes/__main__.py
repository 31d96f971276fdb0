"""Run one fake on 127.0.0.1 until Ctrl-C, to try arsync against it from a clone of the repository:

    python -m tests.fakes kravia        # or debitura, tripletex, fiken, poweroffice, economic

It prints the config table and the environment variables that point a client at it. The ledger
fakes serve a small realistic ledger (open, partly paid, settled and credited invoices).
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from typing import Any

from tests.fakes.debitura import FakeDebitura
from tests.fakes.kravia import FakeKravia
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import ENV, FAKES, ledger_table

PROVIDERS = ("kravia", "debitura")


def _toml(table: str, values: dict[str, Any]) -> str:
    lines = [f"[{table}]"]
    for key, value in values.items():
        lines.append(f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"')
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__.splitlines()[0])
    ap.add_argument("system", choices=[*PROVIDERS, *FAKES])
    args = ap.parse_args()
    if args.system == "kravia":
        kravia = FakeKravia()
        with kravia:
            table: dict[str, Any] = {"provider": "kravia", "base_url": kravia.base_url, "token_env": "KRAVIA_TOKEN"}
            table["creditor_id"] = kravia.creditor_id
            _show(_toml("clients.collection", table), {"KRAVIA_TOKEN": kravia.token})
            _wait()
    elif args.system == "debitura":
        debitura = FakeDebitura()
        with debitura:
            table = {"provider": "debitura", "base_url": debitura.base_url, "api_key_env": "DEBITURA_KEY"}
            _show(_toml("clients.collection", table), {"DEBITURA_KEY": debitura.api_key})
            _wait()
    else:
        with FAKES[args.system](realistic()) as fake:
            table = ledger_table(args.system, fake)
            env = {k: ENV[k] for k in ENV if k in table.values()}
            _show(_toml("clients.ledger", table), env)
            _wait()


def _show(table: str, env: dict[str, str]) -> None:
    print(table)
    print()
    for name, value in env.items():
        print(f"export {name}={value}")
    print("\nserving until Ctrl-C", flush=True)


def _wait() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    main()
