"""Local fakes of Brønnøysund's open registers, served on 127.0.0.1 for end-to-end tests.

Shapes come from the public specs and the services' own recorded answers, not from arsync's adapters:
- Enhetsregisteret (``/enhetsregisteret/api``; spec brreg/openAPI:specs/enhetsregisteret.json and the
  live documentation): ``GET /enheter/{orgnr}`` → 200 Enhet (fields absent when not registered, e.g.
  ``antallAnsatte`` without employees), 200 with ``"respons_klasse": "SlettetEnhet"`` and a reduced body
  for a deleted unit, 404 with an empty body for an unknown number, 410 with ``slettedato`` for one
  removed from open data; ``GET /underenheter/{orgnr}`` → 200 Underenhet with ``overordnetEnhet``, or
  404; ``GET /underenheter?overordnetEnhet=…`` → a HAL page (``_embedded.underenheter`` left out when
  empty, ``page.totalElements``).
- Regnskapsregisteret (``/regnskapsregisteret/regnskap/{orgnr}``; spec
  brreg/regnskapsregister-api regnskapsregister.yaml v1.0.2, fixture OrgnrResponseDefault.json,
  controller RegnskapApiImpl): 200 → a JSON array with the latest company accounts, 404 with an empty
  body when none are filed, 500 with a ServerErrorRespons body.
Faults (5xx, 429 with Retry-After, a slow answer) are queued per path fragment; every request path is
recorded so a test can assert that no request was made.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ER = "/enhetsregisteret/api"
RR = "/regnskapsregisteret/regnskap"
HREF = "https://data.brreg.no/enhetsregisteret/api"


def unit(org: str, name: str, form: str = "AS", **fields: Any) -> dict[str, Any]:
    """An Enhet as the register answers it (a live company with everything registered)."""
    body: dict[str, Any] = {
        "organisasjonsnummer": org,
        "navn": name,
        "organisasjonsform": {
            "kode": form,
            "beskrivelse": {"AS": "Aksjeselskap", "ENK": "Enkeltpersonforetak"}.get(form, form),
            "_links": {"self": {"href": f"{HREF}/organisasjonsformer/{form}"}},
        },
        "postadresse": {
            "land": "Norge",
            "landkode": "NO",
            "postnummer": "0150",
            "poststed": "OSLO",
            "adresse": ["Postboks 1"],
            "kommune": "OSLO",
            "kommunenummer": "0301",
        },
        "registreringsdatoEnhetsregisteret": "2015-03-02",
        "registrertIMvaregisteret": True,
        "naeringskode1": {"kode": "62.010", "beskrivelse": "Programmeringstjenester"},
        "antallAnsatte": 12,
        "harRegistrertAntallAnsatte": True,
        "forretningsadresse": {
            "land": "Norge",
            "landkode": "NO",
            "postnummer": "0150",
            "poststed": "OSLO",
            "adresse": ["Storgata 1"],
            "kommune": "OSLO",
            "kommunenummer": "0301",
        },
        "stiftelsesdato": "2015-02-20",
        "institusjonellSektorkode": {"kode": "2100", "beskrivelse": "Private aksjeselskaper mv."},
        "registrertIForetaksregisteret": True,
        "registrertIStiftelsesregisteret": False,
        "registrertIFrivillighetsregisteret": False,
        "sisteInnsendteAarsregnskap": "2024",
        "konkurs": False,
        "underAvvikling": False,
        "underTvangsavviklingEllerTvangsopplosning": False,
        "maalform": "Bokmål",
        "respons_klasse": "Enhet",
        "_links": {"self": {"href": f"{HREF}/enheter/{org}"}},
    }
    body.update(fields)
    if body.get("harRegistrertAntallAnsatte") is False:
        body.pop("antallAnsatte", None)  # the register leaves the count out, it does not say 0
    return {k: v for k, v in body.items() if v is not None}


def deleted_unit(org: str, name: str, slettedato: str, form: str = "AS") -> dict[str, Any]:
    """A deleted unit: HTTP 200 with a reduced body."""
    return {
        "respons_klasse": "SlettetEnhet",
        "organisasjonsnummer": org,
        "navn": name,
        "organisasjonsform": {
            "kode": form,
            "beskrivelse": "Aksjeselskap",
            "_links": {"self": {"href": f"{HREF}/organisasjonsformer/{form}"}},
        },
        "slettedato": slettedato,
        "_links": {"self": {"href": f"{HREF}/enheter/{org}"}},
    }


def deleted_sub_unit(org: str, slettedato: str) -> dict[str, Any]:
    """A deleted sub-unit: HTTP 200 with a stub that names no main unit (``respons_klasse``
    "SlettetUnderEnhet", as several public clients record it)."""
    return {
        "respons_klasse": "SlettetUnderEnhet",
        "organisasjonsnummer": org,
        "slettedato": slettedato,
        "_links": {"self": {"href": f"{HREF}/underenheter/{org}"}},
    }


def sub_unit(org: str, name: str, parent: str, employees: int | None = 3) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisasjonsnummer": org,
        "navn": name,
        "organisasjonsform": {"kode": "BEDR", "beskrivelse": "Underenhet til næringsdrivende og offentlig forvaltning"},
        "registreringsdatoEnhetsregisteret": "2016-01-04",
        "registrertIMvaregisteret": False,
        "harRegistrertAntallAnsatte": employees is not None,
        "overordnetEnhet": parent,
        "beliggenhetsadresse": {
            "land": "Norge",
            "landkode": "NO",
            "postnummer": "5003",
            "poststed": "BERGEN",
            "adresse": ["Bryggen 2"],
            "kommune": "BERGEN",
            "kommunenummer": "4601",
        },
        "_links": {
            "self": {"href": f"{HREF}/underenheter/{org}"},
            "overordnetEnhet": {"href": f"{HREF}/enheter/{parent}"},
        },
    }
    if employees is not None:
        body["antallAnsatte"] = employees
    return body


def accounts(
    org: str,
    period_end: str = "2024-12-31",
    *,
    equity: int = 2_500_000,
    result: int = 400_000,
    before_tax: int = 510_000,
    current_assets: int = 1_800_000,
    current_liabilities: int = 900_000,
    not_audited: bool = False,
    audit_opt_out: bool = False,
    liquidation: bool = False,
    currency: str = "NOK",
    kind: str = "SELSKAP",
) -> dict[str, Any]:
    """One accounts object as the service serialises it (whole kroner as JSON numbers, as in its fixture)."""
    year = period_end[:4]

    return {
        "id": int(f"{year}01"),
        "journalnr": f"{year}123456",
        "regnskapstype": kind,
        "virksomhet": {"organisasjonsnummer": org, "organisasjonsform": "AS", "morselskap": False},
        "regnskapsperiode": {"fraDato": f"{year}-01-01", "tilDato": period_end},
        "valuta": currency,
        "avviklingsregnskap": liquidation,
        "oppstillingsplan": "store",
        "revisjon": {"ikkeRevidertAarsregnskap": not_audited, "fravalgRevisjon": audit_opt_out},
        "regnkapsprinsipper": {"smaaForetak": True, "regnskapsregler": "regnskapslovenAlminneligRegler"},
        "egenkapitalGjeld": {
            "sumEgenkapitalGjeld": equity + current_liabilities,
            "egenkapital": {"sumEgenkapital": equity},
            "gjeldOversikt": {
                "sumGjeld": current_liabilities,
                "kortsiktigGjeld": {"sumKortsiktigGjeld": current_liabilities},
            },
        },
        "eiendeler": {
            "sumEiendeler": equity + current_liabilities,
            "omloepsmidler": {"sumOmloepsmidler": current_assets},
        },
        "resultatregnskapResultat": {
            "ordinaertResultatFoerSkattekostnad": before_tax,
            "aarsresultat": result,
        },
    }


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeRegisters:
    """Both registers on one local server. Fill the dicts, then use the two base URLs."""

    def __init__(self) -> None:
        self.units: dict[str, dict[str, Any]] = {}  # org → 200 body (live or SlettetEnhet)
        self.removed: dict[str, str] = {}  # org → slettedato (410)
        self.sub_units: dict[str, dict[str, Any]] = {}  # org → 200 body (live or SlettetUnderEnhet)
        self.removed_sub_units: dict[str, str] = {}  # org → slettedato (410 "Underenhet er fjernet")
        self.accounts: dict[str, list[dict[str, Any]]] = {}
        self.faults: dict[str, deque[Fault]] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- setup ------------------------------------------------------------------------------
    def fail(
        self, fragment: str, status: int, times: int = 1, retry_after: str | None = None, delay: float = 0.0
    ) -> None:
        """The next ``times`` requests whose path contains ``fragment`` get ``status``."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        queue = self.faults.setdefault(fragment, deque())
        queue.extend(Fault(status, headers, delay) for _ in range(times))

    def asked(self, fragment: str) -> int:
        with self._lock:
            return sum(fragment in path for path in self.requests)

    @property
    def enhetsregisteret_url(self) -> str:
        return f"{self._root()}{ER}"

    @property
    def regnskapsregisteret_url(self) -> str:
        return f"{self._root()}/regnskapsregisteret"

    def _root(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- serving ----------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.requests.append(path + ("?" + "&".join(f"{k}={v[0]}" for k, v in query.items()) if query else ""))
            fault = next((q.popleft() for frag, q in self.faults.items() if frag in path and q), None)
        if fault is not None:
            time.sleep(fault.delay)
            body = {
                "timestamp": "2026-01-01T00:00:00.000+0000",
                "status": str(fault.status),
                "error": "Internal Server Error",
                "message": "Internal Server Error",
                "path": path,
            }
            return fault.status, fault.headers, body
        if path.startswith(f"{ER}/enheter/"):
            org = path.rsplit("/", 1)[-1]
            if org in self.removed:
                return 410, {}, {"organisasjonsnummer": org, "slettedato": self.removed[org]}
            return (200, {}, self.units[org]) if org in self.units else (404, {}, None)
        if path.startswith(f"{ER}/underenheter/"):
            org = path.rsplit("/", 1)[-1]
            if org in self.removed_sub_units:
                return 410, {}, {"organisasjonsnummer": org, "slettedato": self.removed_sub_units[org]}
            return (200, {}, self.sub_units[org]) if org in self.sub_units else (404, {}, None)
        if path == f"{ER}/underenheter":
            return 200, {}, self._sub_unit_page(query)
        if path.startswith(f"{RR}/"):
            org = path.rsplit("/", 1)[-1]
            found = self.accounts.get(org)
            return (200, {}, found) if found else (404, {}, None)
        return 404, {}, None

    def _sub_unit_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        parent = query.get("overordnetEnhet", [""])[0]
        size = int(query.get("size", ["20"])[0])
        number = int(query.get("page", ["0"])[0])
        found = [u for u in self.sub_units.values() if u.get("overordnetEnhet") == parent]
        page = found[number * size : (number + 1) * size]
        body: dict[str, Any] = {
            "_links": {"self": {"href": f"{HREF}/underenheter?overordnetEnhet={parent}&page={number}&size={size}"}},
            "page": {"size": size, "totalElements": len(found), "totalPages": -(-len(found) // size), "number": number},
        }
        if page:  # Spring HAL leaves an empty _embedded out
            body["_embedded"] = {"underenheter": page}
        return body

    @contextmanager
    def running(self) -> Iterator[FakeRegisters]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                status, headers, body = fake.answer(parts.path, parse_qs(parts.query))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def quick_http(monkeypatch: Any) -> Iterator[list[float]]:
    """Register clients without their polite rate limit, and a retry policy that records its waits
    instead of sleeping them. Yields the recorded waits."""
    from connector import http

    waits: list[float] = []
    for system in ("enhetsregisteret", "regnskapsregisteret", "peppol_directory"):
        monkeypatch.setitem(http.SYSTEM_LIMITS, system, http.Limits(rate_per_second=None, max_concurrent=None))
    http.reset_limiters()
    previous = http.set_retry_policy(
        http.RetryPolicy(
            attempts=3,
            initial_wait=0.001,
            max_wait=0.002,
            connect_timeout=5.0,  # generous: a loaded CI machine must not turn a mocked answer into a timeout
            read_timeout=5.0,
            sleep=waits.append,
            pause_scale=0.0,
        )
    )
    try:
        yield waits
    finally:
        http.set_retry_policy(previous)
        http.reset_limiters()
