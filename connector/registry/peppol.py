"""The Peppol Directory (directory.peppol.eu, open, no key): can this customer receive e-invoices?

``GET {base}/search/1.0/json?participant=iso6523-actorid-upis::{scheme}:{org no}`` — the directory's
REST search (phoss-directory, ``docs_rest_api.xml`` and ``PublicSearchXServletHandler``):
- 200 → ``{"version": "1.0", "total-result-count": n, …, "matches": [...]}``; each match has
  ``participantID {scheme, value}``, ``docTypes [{scheme, value}]`` (left out when none) and
  ``entities [{name: [{name, language?}], countryCode, …}]`` (the docs' older example: ``name`` a
  string; both are read). No business card → 200 with ``"total-result-count": 0`` and
  ``"matches": []`` (the code), or an empty body (as the docs page words it): both not found;
- 400 → the participant id could not be parsed; 429 → its rate limit (retried by connector.http).
Participant ids: Norway ``0192`` + the 9-digit org no, Denmark ``0184`` + CVR, Sweden ``0007`` + the
10-digit organisationsnummer (ehf-peppol.md §2, BT-30).

The directory holds the business cards SMPs publish. It is not the authority (the SML/SMP is): a
receiver an SMP does not publish is missing here, so "not found" reads "not in the Peppol Directory",
never "cannot receive". The base URL is configurable (``[clients.registry] peppol_directory_url``);
tests point it at ``tests/fakes/peppol.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from connector.credit.facts import PEPPOL_DIRECTORY, AnswerStatus, EinvoiceReceiver, RegisterAnswer
from connector.http import ApiError
from connector.model import Customer
from connector.registry.credit_lookup import cached_lookup
from connector.registry.fields import as_text, dig
from connector.registry.open_register import OpenRegisterClient
from connector.store import Store

BASE_URL = "https://directory.peppol.eu"
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
# ISO 6523 ICD per country, and the digits its number has
SCHEMES: dict[str, tuple[str, int]] = {"NO": ("0192", 9), "DK": ("0184", 8), "SE": ("0007", 10)}
# A UBL Invoice document type (Peppol BIS Billing 3, EHF 3, XRechnung-UBL …): "can receive invoices"
INVOICE_DOCTYPE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"

Answer = RegisterAnswer[EinvoiceReceiver]


def participant_id(org_no: str, country: str) -> str | None:
    """ "NO 923 456 791 MVA", "NO" → "0192:923456791"; None when it is not that country's org no."""
    found = SCHEMES.get(country)
    digits = "".join(ch for ch in org_no if ch.isdigit())
    if found is None or len(digits) != found[1]:
        return None
    return f"{found[0]}:{digits}"


def parse_search(org_no: str, wanted: str, body: Any) -> EinvoiceReceiver | None:
    """A search answer → the business card of ``wanted`` ("0192:…"), or None when it has none."""
    matches = body.get("matches") if isinstance(body, dict) else None
    for match in matches if isinstance(matches, list) else []:
        value = as_text(dig(match, "participantID", "value"))
        if value is None or value.lower() != wanted.lower():
            continue
        doc_types = tuple(
            text for d in match.get("docTypes") or [] if isinstance(d, dict) and (text := as_text(d.get("value")))
        )
        entities = [e for e in match.get("entities") or [] if isinstance(e, dict)]
        first = entities[0] if entities else {}
        return EinvoiceReceiver(
            org_no=org_no,
            participant_id=wanted,
            name=entity_name(first.get("name")),
            country=as_text(first.get("countryCode")),
            invoices=any(d.startswith(INVOICE_DOCTYPE) for d in doc_types),
            document_types=doc_types,
        )
    return None


def entity_name(value: Any) -> str | None:
    """An entity's name: a list of multilingual names ``[{"name", "language"?}]`` as the directory
    answers (``PDStoredBusinessEntity.getAsSearchResultJsonObject``), or a plain string as the docs
    page's older example shows it; the first name given."""
    if isinstance(value, list):
        names = (as_text(v.get("name")) if isinstance(v, dict) else as_text(v) for v in value)
        return next((n for n in names if n), None)
    return as_text(value)


class PeppolDirectoryClient(OpenRegisterClient[EinvoiceReceiver]):
    """``receiver(org_no, country)`` → the directory's answer about that company's Peppol id."""

    register = PEPPOL_DIRECTORY
    default_url = BASE_URL

    def receiver(self, org_no: str, country: str) -> Answer:
        wanted = participant_id(org_no, country)
        if wanted is None:
            why = f"'{org_no}' is not a {country} organisation number the Peppol Directory is searched by"
            return self._answer(org_no, AnswerStatus.NOT_COVERED, detail=why)
        params = {"participant": f"{PARTICIPANT_SCHEME}::{wanted}"}
        try:
            resp = self.api.request("GET", "search/1.0/json", params=params, headers={"Accept": "application/json"})
        except ApiError as exc:
            return self._answer(wanted, AnswerStatus.UNAVAILABLE, detail=str(exc))
        if resp.data is None and resp.status == 200:
            # "an empty search result: HTTP 200 with an empty result body" (docs_rest_api.xml)
            return self._answer(wanted, AnswerStatus.NOT_FOUND, detail="not in the Peppol Directory")
        if not isinstance(resp.data, dict):
            return self._answer(wanted, AnswerStatus.UNAVAILABLE, detail=f"HTTP {resp.status} without a JSON object")
        facts = parse_search(org_no, wanted, resp.data)
        if facts is None:
            return self._answer(wanted, AnswerStatus.NOT_FOUND, detail="not in the Peppol Directory")
        return self._answer(wanted, AnswerStatus.FOUND, facts)


def lookup_receivers(
    store: Store, base_url: str, customers: Iterable[Customer], default_country: str, today: date
) -> dict[str, Answer]:
    """Customer id → the directory's answer, through the dated cache (asked at most once a day per
    participant; an outage keeps the previous answer). Customers sharing an org no are asked once."""
    api = PeppolDirectoryClient(base_url, today=lambda: today)
    by_participant: dict[str, Answer] = {}
    out: dict[str, Answer] = {}
    for customer in customers:
        org, country = customer.org_no or "", customer.country or default_country
        wanted = participant_id(org, country)
        if wanted is None:
            out[customer.customer_id] = api.receiver(org, country)  # NOT_COVERED, without asking
            continue
        if wanted not in by_participant:

            def fetch(org: str = org, country: str = country) -> Answer:
                return api.receiver(org, country)

            by_participant[wanted] = cached_lookup(store, PEPPOL_DIRECTORY, wanted, today, fetch)
        out[customer.customer_id] = by_participant[wanted]
    return out
