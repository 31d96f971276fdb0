"""A local fake of the Peppol Directory's REST search, served on 127.0.0.1 for end-to-end tests.

Shapes from the directory's own documentation and code (phax/phoss-directory:
``phoss-directory-publisher/src/main/resources/viewpages/en/docs_rest_api.xml`` and
``PublicSearchXServletHandler``), not from arsync's adapter:
- ``GET /search/1.0/json?participant=iso6523-actorid-upis::0192:923456791`` → 200 with the header
  fields (``version``, ``total-result-count``, ``used-result-count``, ``result-page-index``,
  ``result-page-count``, ``first-result-index``, ``last-result-index``, ``query-terms``,
  ``creation-dt``) and ``matches``: ``[{participantID: {scheme, value}, docTypes: [{scheme, value}],
  entities: [{name: [{name, language?}], countryCode, …}]}]``; no business card → the same header
  with ``total-result-count`` 0 and ``"matches": []`` (the docs page says "200 with an empty result
  body"; ``empty_when_none`` answers so);
- a participant value that is not ``scheme::value`` → 400; no query term → 400; 429 when rate limited.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BIS_BILLING_INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BIS_BILLING_CREDIT_NOTE = (
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
ORDER_ONLY = "urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order##urn:fdc:peppol.eu:poacc:trns:order:3::2.1"


def business_card(
    participant: str,
    name: str,
    country: str = "NO",
    doc_types: tuple[str, ...] = (BIS_BILLING_INVOICE,),
    language: str | None = None,
) -> dict[str, Any]:
    """One match as the directory serialises it (``PDStoredBusinessEntity.getAsSearchResultJsonObject``,
    2025): an entity's ``name`` is a list of multilingual names ``[{"name", "language"?}]`` (the
    docs page's example, written before business card v3, still shows a plain string), and
    ``docTypes`` is left out when the participant registered none."""
    entity_name: dict[str, Any] = {"name": name} | ({"language": language} if language else {})
    card: dict[str, Any] = {"participantID": {"scheme": "iso6523-actorid-upis", "value": participant}}
    if doc_types:
        card["docTypes"] = [{"scheme": "busdox-docid-qns", "value": d} for d in doc_types]
    card["entities"] = [{"name": [entity_name], "countryCode": country, "regDate": "2019-05-02"}]
    return card


class FakePeppolDirectory:
    def __init__(self) -> None:
        self.cards: dict[str, dict[str, Any]] = {}  # "0192:923456791" → match
        self.faults: deque[int] = deque()  # statuses the next requests get
        self.requests: list[str] = []
        self.empty_when_none = False  # no match → 200 with an empty body, as the docs page words it
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def add(self, participant: str, name: str, **kwargs: Any) -> None:
        self.cards[participant] = business_card(participant, name, **kwargs)

    def fail(self, status: int, times: int = 1) -> None:
        self.faults.extend([status] * times)

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(path + "?" + "&".join(f"{k}={v[0]}" for k, v in query.items()))
            fault = self.faults.popleft() if self.faults else None
        if fault is not None:
            return fault, {"error": "REST search rate limit exceeded" if fault == 429 else "Internal error"}
        if path != "/search/1.0/json":
            return 404, {"error": f"Unsupported search version API provided ({path})"}
        wanted = query.get("participant", [None])[0]
        if wanted is None:
            return 400, {"error": "No valid query term provided!"}
        scheme, sep, value = wanted.partition("::")
        if not sep or scheme != "iso6523-actorid-upis" or ":" not in value:
            return 400, {"error": "No valid queries could be created!"}
        matches = [card for pid, card in self.cards.items() if pid.lower() == value.lower()]
        if not matches and self.empty_when_none:
            return 200, None
        return 200, {
            "version": "1.0",
            "total-result-count": len(matches),
            "used-result-count": len(matches),
            "result-page-index": 0,
            "result-page-count": 20,
            "first-result-index": 0,
            "last-result-index": len(matches) - 1,
            "query-terms": f"participant={wanted}",
            "creation-dt": "2026-02-02T06:00:00.000Z",
            "matches": matches,
        }

    @contextmanager
    def running(self) -> Iterator[FakePeppolDirectory]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                status, body = fake.answer(parts.path, parse_qs(parts.query))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Access-Control-Allow-Origin", "*")
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
