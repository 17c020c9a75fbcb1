"""A server on 127.0.0.1 that speaks the Maricopa County Assessor API's contract
(docs/maricopa-assessor-api.md), for tests and the collector benchmark.

- ``GET /search/property/?q=<q>&page=<n>`` → ``{"TOTAL", "Results"}``, 25 rows a page;
  ``GET /parcel/{apn}`` → the parcel's JSON, or 404 ``[parcel]:Requested content was not found``.
- Requests without ``AUTHORIZATION: <token>`` get HTTP 500 ``[search]:Unauthorized access!
  Please contact support.`` as the county answers; ``user-agent`` is recorded for the tests.
- gzip when asked, ``Cache-Control: no-store``, HTTP/1.1 keep-alive, many clients at once.
- Faults scripted per path, consumed one per request: ``status`` (any code, headers, body),
  ``delay`` (seconds before replying), ``truncate`` (announce the full length, send half, close),
  ``malformed`` (200 with a cut JSON body), ``empty`` (200 with no body), ``reset`` (close
  without replying).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from servers.loopback import LoopbackServer, QuietHandler

ROWS_PER_PAGE = 25
UNAUTHORIZED = b"[search]:Unauthorized access! Please contact support."
NOT_FOUND = b"[parcel]:Requested content was not found"


@dataclass(frozen=True)
class Fault:
    kind: str  # status | delay | truncate | malformed | empty | reset | corrupt_gzip
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0


def status(code: int, body: bytes = b"", **headers) -> Fault:
    return Fault("status", status=code, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


def delay(seconds: float) -> Fault:
    return Fault("delay", seconds=seconds)


TRUNCATE, MALFORMED, EMPTY, RESET = Fault("truncate"), Fault("malformed"), Fault("empty"), Fault("reset")
CORRUPT_GZIP = Fault("corrupt_gzip")


@dataclass(frozen=True)
class SeenRequest:
    at: float  # time.monotonic() on arrival
    path: str
    authorization: str | None
    user_agent: str | None


class MaricopaContractServer(LoopbackServer):
    def __init__(
        self, search_rows: dict[str, list[dict]], parcels: dict[str, tuple[int, bytes]], token: str = "test-token"
    ):
        self.search_rows, self.parcels, self.token = search_rows, parcels, token
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.seen: list[SeenRequest] = []
        self.parcel_delay_s = 0.0  # every /parcel/ reply waits this long (to see concurrency at work)
        self.in_flight = self.max_in_flight = 0  # requests being answered now, and the most at once
        self._lock = threading.Lock()

    @classmethod
    def from_sample(cls, sample_dir: Path, token: str = "test-token") -> MaricopaContractServer:
        rows: dict[str, list[dict]] = defaultdict(list)
        for path in sorted((sample_dir / "assessor" / "search").glob("q*_page*.json")):
            rows[path.name[1:6]].extend(json.loads(path.read_text())["Results"])
        parcels = {}
        for path in sorted((sample_dir / "assessor" / "parcels").glob("*.jsonl")):
            for line in path.read_text().splitlines():
                reply = json.loads(line)
                parcels[reply["path"].rsplit("/", 1)[-1]] = (reply["status"], reply["body"].encode())
        return cls(dict(rows), parcels, token)

    # -- scripting and inspection ---------------------------------------------------
    def fail(self, path: str, *faults: Fault) -> None:
        with self._lock:
            self.faults[path].extend(faults)

    def requests_to(self, prefix: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.seen if r.path.startswith(prefix)]

    # -- the contract ---------------------------------------------------------------
    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(path)
            return queue.popleft() if queue else None

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str]:
        if path.rstrip("/") == "/search/property":
            q = (query.get("q") or [""])[0]
            page = int((query.get("page") or ["1"])[0])
            rows = self.search_rows.get(q, []) if q else []
            body = {"TOTAL": len(rows), "Results": rows[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE]}
            return 200, json.dumps(body).encode(), "application/json"
        if path.startswith("/parcel/"):
            apn = path.split("/")[2].replace("-", "").replace(".", "").replace(" ", "")
            code, body = self.parcels.get(apn, (404, NOT_FOUND))
            return code, body, "application/json" if code == 200 else "text/plain"
        return 404, b"Not Found", "text/plain"


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        contract = self.owner
        with contract._lock:
            contract.in_flight += 1
            contract.max_in_flight = max(contract.max_in_flight, contract.in_flight)
        try:
            if self.path.startswith("/parcel/") and contract.parcel_delay_s:
                time.sleep(contract.parcel_delay_s)
            self._answer()
        finally:
            with contract._lock:
                contract.in_flight -= 1

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        contract = self.owner
        with contract._lock:
            contract.seen.append(
                SeenRequest(
                    time.monotonic(), self.path, self.headers.get("AUTHORIZATION"), self.headers.get("user-agent")
                )
            )
        if self.headers.get("AUTHORIZATION") != contract.token:
            return self._send(500, UNAUTHORIZED, "text/plain")
        fault = contract._next_fault(parts.path)
        if fault is not None:
            if fault.kind == "reset":
                self.close_connection = True
                return
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            elif fault.kind == "status":
                return self._send(fault.status, fault.body, "text/plain", fault.headers)
            elif fault.kind == "empty":
                return self._send(200, b"", "application/json")
            elif fault.kind == "corrupt_gzip":  # says gzip, is not: the client cannot decode the body
                return self.reply(
                    200,
                    b"\x1f\x8b\x08\x00not gzip at all",
                    "application/json",
                    {"Content-Encoding": "gzip", "Cache-Control": "no-store"},
                )
        code, body, content_type = contract.answer(parts.path, parse_qs(parts.query))
        if fault is not None and fault.kind == "malformed":
            body = body[: len(body) // 2]
        if fault is not None and fault.kind == "truncate":
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(code, body, content_type)

    def _send(self, code: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and body:
            body = gzip.compress(body)
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
        self.reply(code, body, content_type, {"Cache-Control": "no-store", **(headers or {})})


MaricopaContractServer.handler = _Handler
