"""A server on 127.0.0.1 that speaks Ollama's REST API (/api/chat, /api/generate, /api/tags,
/api/version) for the enrichment tests and benchmark. It is a stand-in for the protocol, not
a model: its answers come from a few regular expressions over the description.

``mode`` decides how /api/chat answers: ``good``, ``slow`` (``delay_s`` first), ``error``
(HTTP 500), ``not_json`` (prose), ``bad_schema`` (JSON of the wrong shape), ``out_of_range``
(values beyond the platform's bounds), ``unsupported_evidence`` (a fact quoting words the text
does not contain, the way a model makes one up). ``die_after`` closes the server after that many chat
requests, as a crashed Ollama would. ``max_in_flight`` records the most concurrent requests.
"""

from __future__ import annotations

import json
import re
import threading
import time

from servers.loopback import LoopbackServer, QuietHandler


def regex_answer(text: str, fields: list[str]) -> dict:
    """What a careful reader would answer, for the patterns the sample uses: every field the
    request's `format` schema asks for, as a model constrained to that schema does."""
    answer = {name: {"value": None, "evidence": None} for name in fields}

    def put(name, value, evidence):
        answer[name] = {"value": value, "evidence": evidence}

    if m := re.search(r"(\d+)\s*(?:bed(?:room)?s?|BR)\b", text, re.I):
        put("BedroomsTotal", int(m[1]), m[0])
    if m := re.search(r"(\d+(?:\.5)?)\s*(?:bath(?:room)?s?|BA)\b", text, re.I):
        put("BathroomsFull", int(float(m[1])), m[0])
        put("BathroomsHalf", 1 if m[1].endswith(".5") else 0, m[0])
    if m := re.search(r"([\d,]{3,6})\s*(?:sq\.?\s*ft|SF|square feet)", text, re.I):
        put("LivingArea", float(m[1].replace(",", "")), m[0])
    if m := re.search(r"(?:[Bb]uilt in|Year built:|Solid)\s*(\d{4})", text):
        put("YearBuilt", int(m[1]), m[0])
    if re.search(r"no HOA", text, re.I):
        put("AssociationYN", False, "No HOA")
    return {**answer, "NotableFeatures": ["RV gate"] if "RV gate" in text else []}


class OllamaServer(LoopbackServer):
    def __init__(self, models: tuple[str, ...] = ("llama3.2:latest",)):
        self.models = list(models)
        self.mode, self.delay_s, self.die_after = "good", 0.0, None
        self.chat_requests: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()

    def content_for(self, text: str, schema: dict | None = None) -> str:
        if self.mode == "not_json":
            return "Sure! This lovely home has 3 bedrooms and 2 baths."
        if self.mode == "bad_schema":
            return json.dumps({"beds": 3, "baths": "two"})
        fields = [name for name in ((schema or {}).get("properties") or {}) if name != "NotableFeatures"]
        answer = regex_answer(text, fields)
        if self.mode == "out_of_range":
            answer["BedroomsTotal"] = {"value": 45, "evidence": "45 bedrooms"}
            answer["YearBuilt"] = {"value": 2099, "evidence": "built 2099"}
        if self.mode == "unsupported_evidence":
            answer["PoolPrivateYN"] = {"value": True, "evidence": "sparkling heated pool"}
            answer["GarageSpaces"] = {"value": 3.0, "evidence": None}
        return json.dumps(answer)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        if self.path == "/api/version":
            return self._send(200, {"version": "0.6.0-standin"})
        if self.path == "/api/tags":
            return self._send(
                200,
                {
                    "models": [
                        {
                            "name": name,
                            "model": name,
                            "modified_at": "2026-11-01T00:00:00Z",
                            "size": 2_019_393_189,
                            "digest": "a80c4f17acd5",
                            "details": {
                                "format": "gguf",
                                "family": "llama",
                                "parameter_size": "3.2B",
                                "quantization_level": "Q4_K_M",
                            },
                        }
                        for name in self.owner.models
                    ]
                },
            )
        self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        server = self.owner
        if self.path not in ("/api/chat", "/api/generate"):
            return self._send(404, {"error": "not found"})
        model = request.get("model", "")
        if model not in server.models and f"{model}:latest" not in server.models:
            return self._send(404, {"error": f"model '{model}' not found, try pulling it first"})
        with server._lock:
            server.chat_requests.append(request)
            count = len(server.chat_requests)
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            if server.die_after is not None and count > server.die_after:
                threading.Thread(target=server.stop, daemon=True).start()
                self.close_connection = True
                return
            if server.mode == "slow":
                time.sleep(server.delay_s)
            if server.mode == "error":
                return self._send(500, {"error": "llama runner process has terminated: signal: killed"})
            text = (
                (request.get("messages") or [{}])[-1].get("content", "")
                if self.path == "/api/chat"
                else request.get("prompt", "")
            )
            content = server.content_for(
                text, request.get("format") if isinstance(request.get("format"), dict) else None
            )
            timing = {
                "total_duration": 850_000_000,
                "load_duration": 12_000_000,
                "prompt_eval_count": 180 + len(text) // 4,
                "prompt_eval_duration": 150_000_000,
                "eval_count": len(content) // 4,
                "eval_duration": 690_000_000,
            }
            common = {
                "model": model,
                "created_at": "2026-11-28T12:00:00Z",
                "done": True,
                "done_reason": "stop",
                **timing,
            }
            if self.path == "/api/chat":
                return self._send(200, {**common, "message": {"role": "assistant", "content": content}})
            return self._send(200, {**common, "response": content})
        finally:
            with server._lock:
                server.in_flight -= 1

    def _send(self, code: int, document: dict) -> None:
        self.reply(code, json.dumps(document).encode(), "application/json; charset=utf-8")


OllamaServer.handler = _Handler
