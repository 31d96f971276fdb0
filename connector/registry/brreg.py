"""Brønnøysund Enhetsregisteret: is a Norwegian company debtor bankrupt, in liquidation or deleted?

A small own client on plain ``requests`` (python-brreg maps 404 and 410 alike and misses several
*Dato fields). ``GET {base}/enheter/{orgnr}``: 200 → the entity, 404 → unknown, 410 → deleted.
Any other answer, a timeout or a connection error is an outage: ``ok=False``, never a guess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from connector.model import RegistryFact
from connector.registry.settings import RegistrySettings

REGISTER = "brreg"
ACCEPT = "application/vnd.brreg.enhetsregisteret.enhet.v2+json, application/json;q=0.8"
FLAGS = {
    "konkurs": "konkurs",
    "underAvvikling": "under_avvikling",
    "underTvangsavviklingEllerTvangsopplosning": "under_tvangsavvikling",
}
DATES = (
    "konkursdato",
    "underAvviklingDato",
    "tvangsopplostPgaManglendeDagligLederDato",
    "tvangsopplostPgaManglendeRevisorDato",
    "tvangsopplostPgaManglendeRegnskapDato",
    "tvangsopplostPgaMangelfulltStyreDato",
    "tvangsavvikletPgaManglendeSlettingDato",
    "underRekonstruksjonsforhandlingDato",
    "underUtenlandskInsolvensbehandlingDato",
    "slettedato",
)


def classify(org_no: str, body: dict[str, Any], fetched_at: datetime) -> RegistryFact:
    """A 200 body → the fact: any flag true or any insolvency date set means insolvent."""
    hits = [label for key, label in FLAGS.items() if body.get(key) is True]
    dates = [f"{key} {body[key]}" for key in DATES if body.get(key)]
    name = body.get("navn") if isinstance(body.get("navn"), str) else None
    if hits or dates:
        status = hits[0] if hits else "deleted" if body.get("slettedato") else "insolvency_date"
        return RegistryFact(
            REGISTER,
            org_no,
            fetched_at,
            ok=True,
            insolvent=True,
            status=status,
            detail=", ".join(hits + dates),
            name=name,
        )
    return RegistryFact(REGISTER, org_no, fetched_at, ok=True, insolvent=False, status="active", name=name)


class BrregClient:
    def __init__(self, settings: RegistrySettings, session: requests.Session | None = None):
        self.settings = settings
        self.session = session or requests.Session()

    def lookup(self, org_no: str) -> RegistryFact:
        now = datetime.now(UTC)
        url = f"{self.settings.base_url.rstrip('/')}/enheter/{org_no}"
        try:
            resp = self.session.get(url, headers={"Accept": ACCEPT}, timeout=self.settings.timeout_seconds)
        except requests.Timeout:
            return RegistryFact(REGISTER, org_no, now, ok=False, status="error", detail="timeout")
        except requests.RequestException as exc:
            return RegistryFact(REGISTER, org_no, now, ok=False, status="error", detail=exc.__class__.__name__)
        if resp.status_code == 200:
            try:
                body = resp.json()
            except ValueError:
                return RegistryFact(REGISTER, org_no, now, ok=False, status="error", detail="HTTP 200 without JSON")
            if not isinstance(body, dict):
                return RegistryFact(REGISTER, org_no, now, ok=False, status="error", detail="unexpected body")
            return classify(org_no, body, now)
        if resp.status_code == 410:
            detail = "HTTP 410: removed from the register"
            try:
                body = resp.json()
                if isinstance(body, dict) and body.get("slettedato"):
                    detail += f" (slettedato {body['slettedato']})"
            except ValueError:
                pass
            return RegistryFact(REGISTER, org_no, now, ok=True, insolvent=True, status="deleted", detail=detail)
        if resp.status_code == 404:
            # Unknown org no: nothing says insolvent, but nothing proves the debtor exists either.
            return RegistryFact(
                REGISTER,
                org_no,
                now,
                ok=True,
                insolvent=False,
                status="not_found",
                detail="HTTP 404: not in the register",
            )
        return RegistryFact(REGISTER, org_no, now, ok=False, status="error", detail=f"HTTP {resp.status_code}")
