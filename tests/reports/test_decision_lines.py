"""The decisions table printed on a pipe row by row (issue 18) is the table printed whole, to the character."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.model import Action, Decision, Hold, State
from connector.reports.tables import decision_lines, decision_table

AS_OF = date(2026, 7, 1)


def _decisions() -> list[Decision]:
    out = []
    for n in range(40):
        out.append(
            Decision(
                "acme" if n % 3 else "beta-long-client-id",
                f"{1000 + n**3}",
                f"9{n:08d}",
                "NOK" if n % 4 else "EUR",
                Decimal(n * 1234) / 100,
                Decimal(n * 617) / 100,
                date(2026, 6, 1 + n % 28) if n % 5 else None,
                State.OVERDUE if n % 2 else State.SETTLED,
                Action.REMINDER if n % 7 == 0 else Action.NONE,
                (Hold.DISPUTED, Hold.BELOW_MINIMUM) if n % 6 == 0 else (),
            )
        )
    return out


def test_decision_lines_are_the_whole_table_plain() -> None:
    decisions = _decisions()
    names = {("acme", "900000001"): "Kunde Én AS", ("acme", "900000002"): "Et mye lengre kundenavn AS"}
    assert "\n".join(decision_lines(decisions, AS_OF, names)) == decision_table(decisions, AS_OF, names).plain()
    one = decisions[:1]
    assert "\n".join(decision_lines(one, AS_OF)) == decision_table(one, AS_OF).plain()
