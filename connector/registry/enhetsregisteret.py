"""Enhetsregisteret (data.brreg.no/enhetsregisteret/api, open, no key): the facts a credit check reads.

``GET {base}/enheter/{orgnr}``:
- 200 → the unit. A deleted unit also answers 200, with ``"respons_klasse": "SlettetEnhet"`` and
  ``slettedato`` (observed by several public clients; not in the 2020 spec);
- 404 (empty body) → not a main unit: the ledger may hold a sub-unit's number (a business address),
  so ``GET {base}/underenheter/{orgnr}`` is asked and its ``overordnetEnhet`` is looked up instead;
- 410 → removed from open data; the body carries ``slettedato``.
A sub-unit deleted (200 ``"respons_klasse": "SlettetUnderEnhet"``, ``slettedato``, no
``overordnetEnhet``) or removed (410) is ``NOT_FOUND``: a closed branch is not the company deleted.
Sub-units of a main unit are counted with ``GET {base}/underenheter?overordnetEnhet={orgnr}&size=1``
(a HAL page: ``page.totalElements``).

Every request goes through :class:`connector.http.ApiClient` (timeouts, retries with backoff,
Retry-After, redaction). Anything but a definite answer is ``UNAVAILABLE`` — never a guess.

Field names: see ``connector/registry/REGISTERS.md`` (confirmed against the spec or recorded bodies,
or marked as assumed).

This module does not replace ``connector.registry.brreg`` (the insolvency gate before escalation);
both read the same endpoint, and the gate can be rebased on :func:`parse_unit` later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from connector.credit.facts import ENHETSREGISTERET, AnswerStatus, CompanyFacts, RegisterAnswer
from connector.http import ApiError
from connector.registry.fields import as_bool, as_date, as_int, as_text, dig
from connector.registry.open_register import OpenRegisterClient

BASE_URL = "https://data.brreg.no/enhetsregisteret/api"
# The unit's major version pinned (the API versions by Accept header); plain JSON as the fallback.
UNIT_ACCEPT = "application/vnd.brreg.enhetsregisteret.enhet.v2+json, application/json;q=0.8"
FORCED_DISSOLUTION_DATES = (
    "tvangsopplostPgaManglendeDagligLederDato",
    "tvangsopplostPgaManglendeRevisorDato",
    "tvangsopplostPgaManglendeRegnskapDato",
    "tvangsopplostPgaMangelfulltStyreDato",
    "tvangsavvikletPgaManglendeSlettingDato",
)

Answer = RegisterAnswer[CompanyFacts]


def parse_unit(org_no: str, body: dict[str, Any]) -> CompanyFacts:
    """A 200 body of ``/enheter/{orgnr}`` → the facts (a deleted unit's reduced body included)."""
    dissolution = tuple(f"{key} {body[key]}" for key in FORCED_DISSOLUTION_DATES if as_date(body.get(key)))
    last_accounts = body.get("sisteInnsendteAarsregnskap")
    return CompanyFacts(
        org_no=as_text(body.get("organisasjonsnummer")) or org_no,
        name=as_text(body.get("navn")),
        organisation_form=as_text(dig(body, "organisasjonsform", "kode")),
        registered_on=as_date(body.get("registreringsdatoEnhetsregisteret")),
        founded_on=as_date(body.get("stiftelsesdato")),
        vat_registered=as_bool(body.get("registrertIMvaregisteret")),
        business_registered=as_bool(body.get("registrertIForetaksregisteret")),
        employees=as_int(body.get("antallAnsatte")),
        has_registered_employees=as_bool(body.get("harRegistrertAntallAnsatte")),
        last_accounts_year=as_int(last_accounts),
        bankrupt=body.get("konkurs") is True,
        bankrupt_on=as_date(body.get("konkursdato")),
        under_liquidation=body.get("underAvvikling") is True,
        under_liquidation_on=as_date(body.get("underAvviklingDato")),
        forced_dissolution=body.get("underTvangsavviklingEllerTvangsopplosning") is True or bool(dissolution),
        forced_dissolution_dates=dissolution,
        reconstruction_on=as_date(body.get("underRekonstruksjonsforhandlingDato")),
        foreign_insolvency_on=as_date(body.get("underUtenlandskInsolvensbehandlingDato")),
        deleted_on=as_date(body.get("slettedato")),
    )


class EnhetsregisteretClient(OpenRegisterClient[CompanyFacts]):
    """``company(org_no)`` → the register's answer about the company behind an org no."""

    register = ENHETSREGISTERET
    default_url = BASE_URL

    def company(self, org_no: str) -> Answer:
        org = "".join(ch for ch in org_no if ch.isdigit())
        if len(org) != 9:
            return self._answer(org_no, AnswerStatus.NOT_FOUND, detail=f"'{org_no}' is not a Norwegian org no")
        answer = self._main_unit(org)
        if answer.status is AnswerStatus.NOT_FOUND:
            return self._via_sub_unit(org)
        return answer

    def _main_unit(self, org: str) -> Answer:
        try:
            body = self._get(f"enheter/{org}", UNIT_ACCEPT)
        except ApiError as exc:
            if exc.status == 410:
                return self._removed(org, exc.body)
            if exc.status == 404:
                return self._answer(org, AnswerStatus.NOT_FOUND, detail="not in Enhetsregisteret")
            return self._unavailable(org, exc)
        facts = parse_unit(org, body)
        if facts.deleted_on is None:
            facts = replace(facts, sub_units=self._count_sub_units(org))
        return self._answer(org, AnswerStatus.FOUND, facts)

    def _via_sub_unit(self, org: str) -> Answer:
        """Not a main unit: a sub-unit's facts are its main unit's (whose bankruptcy is the debtor's)."""
        try:
            sub = self._get(f"underenheter/{org}", "application/json")
        except ApiError as exc:
            if exc.status == 404:
                return self._answer(org, AnswerStatus.NOT_FOUND, detail="not in Enhetsregisteret")
            if exc.status == 410:  # "Underenhet er fjernet" (spec): a branch gone, not the company
                return self._closed_branch(org, "removed from", as_date(dig(exc.body, "slettedato")))
            return self._unavailable(org, exc)
        parent = as_text(sub.get("overordnetEnhet"))
        if parent is None:  # a deleted sub-unit's reduced body names no main unit
            deleted_on = as_date(sub.get("slettedato"))
            if deleted_on is None:
                return self._answer(org, AnswerStatus.UNAVAILABLE, detail="sub-unit without a main unit")
            return self._closed_branch(org, "deleted from", deleted_on)
        main = self._main_unit(parent)  # a main unit, never another sub-unit: no chains to follow
        if main.facts is None:
            return self._answer(org, main.status, detail=f"sub-unit of {parent}: {main.detail}".rstrip(": "))
        return self._answer(org, main.status, replace(main.facts, looked_up_as=org))

    def _count_sub_units(self, org: str) -> int | None:
        try:
            page = self._get("underenheter", "application/json", params={"overordnetEnhet": org, "size": 1})
        except ApiError:
            return None  # the count is a detail: its failure does not make the company unknown
        return as_int(dig(page, "page", "totalElements"))

    def _get(self, path: str, accept: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.api.request("GET", path, params=params, headers={"Accept": accept})
        if not isinstance(resp.data, dict):
            raise ApiError(f"{ENHETSREGISTERET} GET {path}: {resp.status} without a JSON object", resp.status)
        return resp.data

    def _removed(self, org: str, body: Any) -> Answer:
        deleted = as_date(dig(body, "slettedato"))
        return self._answer(org, AnswerStatus.FOUND, CompanyFacts(org, deleted_on=deleted, removed=True))

    def _closed_branch(self, org: str, how: str, on: date | None) -> Answer:
        """A sub-unit deleted or removed: a closed branch says nothing of the company that owed (it
        may trade on), so it is not taken for the company deleted; the customer's org no needs
        correcting to the company's (as ``connector.registry.brreg`` answers it: not_found)."""
        when = f" on {on.isoformat()}" if on else ""
        detail = (
            f"a sub-unit (branch) {how} Enhetsregisteret{when}, naming no main unit: "
            "the customer's org no should be the company's"
        )
        return self._answer(org, AnswerStatus.NOT_FOUND, detail=detail)

    def _unavailable(self, org: str, exc: ApiError) -> Answer:
        return self._answer(org, AnswerStatus.UNAVAILABLE, detail=str(exc))
