"""The bundled example client (examples/nordlys) shows every situation its generator promises.

Runs on a copy: config.example.toml as shipped, with the example folder beside it in tmp_path, so the
repository's own examples/state is never touched.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector.cli import main

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-20"

# What examples/generate.py's docstring promises per invoice, as (state, action, holds).
EXPECTED = {
    "10001": ("settled", "none", [], "settled, none"),
    "10002": ("overdue", "reminder", [], "reminder (for the rest)"),
    "10003": ("settled", "none", [], "settled, none"),
    "10004": ("not_due", "hold", ["not_due"], "hold: not_due"),
    "10005": ("overdue", "reminder", [], "reminder"),
    "10006": ("overdue", "collection_case", [], "collection_case"),
    "10007": ("overdue", "hold", ["below_minimum"], "hold: below_minimum"),
}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.example.toml")
    shutil.copytree(REPO / "examples" / "nordlys", tmp_path / "examples" / "nordlys")
    return tmp_path / "config.example.toml"


def arsync(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def test_the_docstring_and_this_test_list_the_same_outcomes() -> None:
    doc = (REPO / "examples" / "generate.py").read_text(encoding="utf-8").split('"""')[1]
    promised = dict(re.findall(r"^\s+(\d{5})\s.*→\s*(.+?)\s*$", doc, flags=re.MULTILINE))
    assert promised == {number: label for number, (*_, label) in EXPECTED.items()}


def test_reconcile_shows_every_example_situation(example: Path) -> None:
    result = arsync(example, "reconcile", "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    items = {i["invoice"]: i for i in json.loads(result.stdout)["items"]}
    assert set(items) == set(EXPECTED)
    got = {n: (i["state"], i["action"], i["holds"]) for n, i in items.items()}
    assert got == {n: (state, action, holds) for n, (state, action, holds, _) in EXPECTED.items()}
    # the amounts behind the situations
    assert items["10002"]["open_amount"] == "3750.00"  # 8750.00 invoiced, 5000.00 paid by KID
    assert [e.get("ref") for e in items["10003"]["evidence"] if e["kind"] == "credit_note"] == ["50001"]
    # the shipped config's relative paths resolved beside the copied file, not in the repository
    assert (example.parent / "examples" / "state" / "arsync.db").is_file()


def test_the_nightly_run_on_the_example_reminds_and_proposes_then_pushes_once(example: Path) -> None:
    first = arsync(example, "run", "--as-of", AS_OF)
    assert first.exit_code == 0, first.output
    outbox = example.parent / "examples" / "state" / "outbox"
    letters = sorted(p.name for p in (outbox / "reminders").iterdir())
    listed = json.loads(arsync(example, "letters", "list", "--json").stdout)["items"]
    assert sorted((x["kind"], tuple(x["invoices"]), x["sent_on"], x["state"]) for x in listed) == [
        ("reminder", ("10002",), AS_OF, "written"),  # the 3750.00 still owed after a part payment
        ("reminder", ("10005",), AS_OF, "written"),
    ]
    assert sorted(n for n in letters if n.endswith(".pdf")) == sorted(Path(x["file"]).name for x in listed)
    assert arsync(example, "run", "--as-of", AS_OF).exit_code == 0  # cron ran twice: nothing new

    listed = json.loads(arsync(example, "cases", "list", "--json").stdout)["items"]
    assert [(c["invoice"], c["status"]) for c in listed] == [("10006", "proposed")]
    assert arsync(example, "cases", "approve", listed[0]["case_id"], "--as-of", AS_OF).exit_code == 0
    for _ in range(2):
        assert arsync(example, "cases", "push", "--as-of", AS_OF).exit_code == 0

    case_files = sorted(p.name for p in (outbox / "cases").iterdir())
    assert len([n for n in case_files if n.endswith(".json")]) == 1
    assert len([n for n in case_files if n.endswith(".pdf")]) == 1
    # the case file names its attachments as written, beside it: a person or a script finds them
    [case_json] = [outbox / "cases" / n for n in case_files if n.endswith(".json")]
    attachments = json.loads(case_json.read_text(encoding="utf-8"))["attachments"]
    assert attachments == [n for n in case_files if n.endswith(".pdf")]
    assert all((case_json.parent / name).is_file() for name in attachments)
    assert sorted(p.name for p in (outbox / "reminders").iterdir()) == letters
