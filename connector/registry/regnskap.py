"""Regnskapsregisteret (data.brreg.no/regnskapsregisteret/regnskap/{orgnr}, open, no key): key figures of
the latest annual accounts.

Brønnøysund documents this API as provisional ("et midlertidig API … kan bli lagt ned uten varsel",
spec ``brreg/regnskapsregister-api:src/main/resources/specification/regnskapsregister.yaml`` v1.0.2).
So everything that knows its shape is here, and every field path is in ``PATHS``: a rename touches
one line, and :func:`parse_accounts` is the only reader.

Answers (read from the service's own controller, ``RegnskapApiImpl.getRegnskap``):
- 200 → a JSON *array* of accounts; without partner credentials it holds the latest company (SELSKAP)
  accounts only, but the parser picks the newest SELSKAP period itself in case more come back;
- 404 with an empty body → no accounts filed (not an error);
- 500 → a server error. It is also what a bank's or insurer's accounts produce ("oppstillingsplan
  … ikke støttet"), which this API does not carry: those customers show as "could not be read".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from connector.credit.facts import REGNSKAPSREGISTERET, AccountsFacts, AnswerStatus, RegisterAnswer
from connector.http import ApiError
from connector.registry.fields import as_bool, as_date, as_decimal, as_text, dig
from connector.registry.open_register import OpenRegisterClient

BASE_URL = "https://data.brreg.no/regnskapsregisteret"

# AccountsFacts field → path in one accounts object. All confirmed in the v1.0.2 spec and in the
# service's test fixture OrgnrResponseDefault.json, and all in the fields served without credentials
# (RegnskapFieldsMapper DEFAULT mode). Note the spec's own spelling "regnkapsprinsipper".
PATHS: dict[str, tuple[str, ...]] = {
    "period_start": ("regnskapsperiode", "fraDato"),
    "period_end": ("regnskapsperiode", "tilDato"),
    "currency": ("valuta",),
    "equity": ("egenkapitalGjeld", "egenkapital", "sumEgenkapital"),
    "annual_result": ("resultatregnskapResultat", "aarsresultat"),
    "result_before_tax": ("resultatregnskapResultat", "ordinaertResultatFoerSkattekostnad"),
    "current_assets": ("eiendeler", "omloepsmidler", "sumOmloepsmidler"),
    "current_liabilities": ("egenkapitalGjeld", "gjeldOversikt", "kortsiktigGjeld", "sumKortsiktigGjeld"),
    # ASSUMED meaning: the service fills it from "revisorberetning_ikke_levert" (no auditor's report
    # delivered); a company that opted out of audit has none either, so the risk rule reads it
    # together with fravalgRevisjon.
    "auditor_report_missing": ("revisjon", "ikkeRevidertAarsregnskap"),
    "audit_opted_out": ("revisjon", "fravalgRevisjon"),
    "liquidation_accounts": ("avviklingsregnskap",),
    "accounts_type": ("regnskapstype",),
    "small_company": ("regnkapsprinsipper", "smaaForetak"),
}
DATES = ("period_start", "period_end")
AMOUNTS = ("equity", "annual_result", "result_before_tax", "current_assets", "current_liabilities")
FLAGS = ("auditor_report_missing", "audit_opted_out", "liquidation_accounts", "small_company")

Answer = RegisterAnswer[AccountsFacts]


def parse_accounts(org_no: str, body: Any) -> AccountsFacts | None:
    """A 200 body → the latest company accounts' facts; None when it holds none (so: none filed)."""
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    accounts = [a for a in items if isinstance(a, dict)]
    company = [a for a in accounts if a.get("regnskapstype") in (None, "SELSKAP")] or accounts
    if not company:
        return None
    latest = max(company, key=lambda a: as_date(dig(a, *PATHS["period_end"])) or date.min)
    values: dict[str, Any] = {}
    for name, path in PATHS.items():
        raw = dig(latest, *path)
        if name in DATES:
            values[name] = as_date(raw)
        elif name in AMOUNTS:
            values[name] = as_decimal(raw)
        elif name in FLAGS:
            values[name] = as_bool(raw)
        else:
            values[name] = as_text(raw)
    return AccountsFacts(org_no=as_text(dig(latest, "virksomhet", "organisasjonsnummer")) or org_no, **values)


class RegnskapsregisteretClient(OpenRegisterClient[AccountsFacts]):
    """``latest_accounts(org_no)`` → the latest annual accounts, "none filed", or unavailable."""

    register = REGNSKAPSREGISTERET
    default_url = BASE_URL

    def latest_accounts(self, org_no: str) -> Answer:
        org = "".join(ch for ch in org_no if ch.isdigit())
        try:
            # JSON asked for explicitly: the service also speaks RDF/Turtle by content negotiation.
            resp = self.api.request("GET", f"regnskap/{org}", headers={"Accept": "application/json"})
        except ApiError as exc:
            if exc.status == 404:
                return self._answer(org, AnswerStatus.NOT_FOUND, detail="no annual accounts filed")
            return self._answer(org, AnswerStatus.UNAVAILABLE, detail=str(exc))
        facts = parse_accounts(org, resp.data)
        if facts is None:
            return self._answer(org, AnswerStatus.NOT_FOUND, detail="no annual accounts in the answer")
        return self._answer(org, AnswerStatus.FOUND, facts)
