"""Brønnøysund Enhetsregisteret: is a Norwegian company debtor bankrupt, in liquidation or deleted?

A small own client on plain ``requests`` (python-brreg maps 404 and 410 alike and misses several
*Dato fields). ``GET {base}/enheter/{orgnr}``: 200 → the entity, 404 → unknown, 410 → deleted.
Any other answer, a timeout or a connection error is an outage: ``ok=False``, never a guess.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import requests

from connector.config import RegistrySettings
from connector.model import RegistryFact

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
        fact = self._lookup("enheter", org_no)
        if fact.status != "not_found":
            return fact
        # Ledgers often hold a sub-unit's number (the business address, "bedrift"): its main unit is the
        # debtor whose bankruptcy counts
        sub = self._lookup("underenheter", org_no)
        if sub.status != "sub_unit":
            return sub if not sub.ok or sub.status == "not_found" else fact
        parent = self._lookup("enheter", sub.detail)
        if not parent.ok or parent.status == "not_found":
            return replace(parent, org_no=org_no, detail=f"sub-unit of {sub.detail}: {parent.detail}")
        return replace(
            parent,
            org_no=org_no,
            detail=f"sub-unit of {sub.detail} ({parent.name or 'main unit'}): {parent.detail}",
        )

    def _lookup(self, kind: str, org_no: str) -> RegistryFact:
        """One ``GET {base}/{kind}/{org_no}``; for ``underenheter`` a found unit is ``status="sub_unit"``
        with its main unit's org no as ``detail``."""
        now = datetime.now(UTC)
        url = f"{self.settings.base_url.rstrip('/')}/{kind}/{org_no}"
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
            if kind == "underenheter":
                parent = str(body.get("overordnetEnhet") or "")
                if not parent.isdigit() and body.get("slettedato"):
                    # A deleted sub-unit answers 200 with a stub (respons_klasse "SlettetUnderEnhet",
                    # slettedato) that names no main unit (observed by several public clients): a closed
                    # branch says nothing about the company, whose org no the customer should carry.
                    detail = f"a deleted sub-unit (slettedato {body['slettedato']}) that names no main unit"
                    return RegistryFact(
                        REGISTER, org_no, now, ok=True, insolvent=False, status="not_found", detail=detail
                    )
                if not parent.isdigit():
                    detail = "sub-unit without a main unit"
                    return RegistryFact(REGISTER, org_no, now, ok=False, status="error", detail=detail)
                return RegistryFact(REGISTER, org_no, now, ok=True, insolvent=False, status="sub_unit", detail=parent)
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
            # Unknown org no: nothing says insolvent, but nothing proves the debtor exists either
            # (dunning.holds holds a notice or case until the org no is corrected).
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
