"""What ``cases show`` / ``cases list`` add about collection: provider state and every provider call."""

from __future__ import annotations

from collections.abc import Iterable

from connector.model import Case
from connector.store import Store
from connector.store import cases as case_store


def provider_fields(store: Store, cases: Iterable[Case]) -> dict[str, dict[str, object]]:
    """Per case id: the newest provider state, for the JSON listing."""
    found = list(cases)
    states = store.read(case_store.provider_states, {c.client_id for c in found})
    out: dict[str, dict[str, object]] = {}
    for c in found:
        s = states.get((c.client_id, c.case_id))
        out[c.case_id] = {
            "provider_status": s.status if s else None,
            "provider_close_code": s.close_code if s else None,
            "provider_remaining": str(s.remaining) if s and s.remaining is not None else None,
        }
    return out


def collection_detail(store: Store, case: Case) -> str:
    lines: list[str] = []
    history = store.read(case_store.provider_history, case.client_id, case.case_id)
    if history:
        lines.append("Provider states:")
        for s in history:
            extra = f" ({s.close_code})" if s.close_code else ""
            left = f", remaining {s.remaining} {case.currency}" if s.remaining is not None else ""
            lines.append(f"  {s.observed_on.isoformat()}  {s.provider} {s.status}{extra}{left}  [{s.raw_status}]")
    ops = store.read(case_store.ops, case.client_id, case_id=case.case_id)
    if ops:
        lines.append("Provider calls:")
        for op in ops:
            amount = f" {op.amount} {op.currency}" if op.amount is not None else ""
            ref = f" → {op.provider_ref}" if op.provider_ref else ""
            error = f"  ({op.last_error})" if op.last_error else ""
            lines.append(f"  {op.kind}{amount} at {op.provider}: {op.state}{ref}, {op.attempts} attempt(s){error}")
    return "\n".join(lines)
