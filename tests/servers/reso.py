"""A server on 127.0.0.1 that speaks the slice of the RESO Web API (OData) the collector uses:
``GET /Property`` with ``$filter`` (``PostalCode eq '…'`` and optionally ``ModificationTimestamp
gt …``), ``$orderby=ModificationTimestamp``, ``$top`` and ``$skip``; pages linked by
``@odata.nextLink``; ``Authorization: Bearer <token>`` or 401.

``next_link_host`` makes the server hand out nextLinks to another host (which the client
must refuse); ``fail_statuses`` answers the next requests with those statuses first;
``scenario`` switches every page to a way real feeds go wrong (see SCENARIOS).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from urllib.parse import parse_qs, urlencode, urlsplit

from servers.loopback import LoopbackServer, QuietHandler

FILTER = re.compile(r"PostalCode eq '(?P<zip>\d{5})'(?: and ModificationTimestamp gt (?P<since>[0-9T:\-Z.]+))?$")


# scenario → what every /Property page answers instead of the listings (code, body, content type),
# or a change to the page's listings. "ok" is the contract.
SCENARIOS = (
    "ok",
    "no_listings",
    "no_value",
    "empty_body",
    "html_error",
    "marker_in_remarks",
    "odd_records",
    "deeply_nested",
    "odd_next_link",
    "city_object",
)
# ~200 KB of arrays within arrays: Python's json raises RecursionError on it
DEEPLY_NESTED = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


class ResoContractServer(LoopbackServer):
    url_path = "/reso/odata"
    scenario = "ok"

    def __init__(self, listings: list[dict], token: str = "reso-token"):
        self.listings, self.token = listings, token
        self.next_link_host: str | None = None
        self.fail_statuses: deque[int] = deque()
        self.seen: list[dict] = []
        self._lock = threading.Lock()

    def page(self, query: dict[str, list[str]]) -> tuple[int, dict]:
        match = FILTER.match((query.get("$filter") or [""])[0])
        if not match:
            return 400, {"error": {"code": "400", "message": "unsupported $filter"}}
        rows = [r for r in self.listings if r.get("PostalCode") == match["zip"]]
        if match["since"]:
            rows = [r for r in rows if r["ModificationTimestamp"] > match["since"]]
        rows.sort(key=lambda r: (r["ModificationTimestamp"], r["ListingKey"]))
        top, skip = int((query.get("$top") or ["100"])[0]), int((query.get("$skip") or ["0"])[0])
        body = {"@odata.context": "$metadata#Property", "value": rows[skip : skip + top]}
        if skip + top < len(rows):
            following = {k: v[0] for k, v in query.items()} | {"$skip": str(skip + top)}
            host = self.next_link_host or self.address
            body["@odata.nextLink"] = f"http://{host}/reso/odata/Property?{urlencode(following)}"
        return 200, body


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with self.owner._lock:
            self.owner.seen.append(
                {
                    "path": parts.path,
                    "query": {k: v[0] for k, v in query.items()},
                    "authorization": self.headers.get("Authorization"),
                }
            )
            failing = self.owner.fail_statuses.popleft() if self.owner.fail_statuses else None
        if self.headers.get("Authorization") != f"Bearer {self.owner.token}":
            return self._send(401, {"error": {"code": "401", "message": "Unauthorized"}})
        if failing:
            return self._send(
                failing, {"error": {"code": str(failing)}}, {"Retry-After": "0"} if failing == 429 else {}
            )
        if parts.path != "/reso/odata/Property":
            return self._send(404, {"error": {"code": "404"}})
        code, document = self.owner.page(query)
        scenario = self.owner.scenario
        if scenario == "empty_body":
            return self.reply(200, b"", "application/json")
        if scenario == "html_error":
            return self.reply(200, b"<html><body>Service temporarily unavailable</body></html>", "text/html")
        if scenario == "deeply_nested":
            return self.reply(200, DEEPLY_NESTED, "application/json")
        if code == 200 and scenario == "odd_next_link":  # a link that is not a string
            document = {**document, "@odata.nextLink": {"href": "Property?$skip=200"}}
        elif code == 200 and scenario == "city_object" and document["value"]:  # a text field holding an object
            first = {**document["value"][0], "City": {"name": "PHOENIX"}}
            document = {**document, "value": [first, *document["value"][1:]]}
        if code == 200 and scenario == "no_value":
            document = {"@odata.context": document["@odata.context"]}
        elif code == 200 and scenario == "no_listings":
            document = {**document, "value": []}
        elif code == 200 and scenario == "marker_in_remarks" and document["value"]:
            first = {**document["value"][0], "PublicRemarks": "Seller says: Requested content was not found."}
            document = {**document, "value": [first, *document["value"][1:]]}
        elif code == 200 and scenario == "odd_records" and document["value"]:
            first = {**document["value"][0], "ListPrice": {"amount": 1}}
            document = {**document, "value": [first, "not a listing", *document["value"][1:]]}
        self._send(code, document)

    def _send(self, code: int, document: dict, headers: dict | None = None) -> None:
        self.reply(code, json.dumps(document).encode(), "application/json; odata.metadata=minimal", headers)


ResoContractServer.handler = _Handler
