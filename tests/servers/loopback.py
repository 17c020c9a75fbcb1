"""What every test server shares: a threaded HTTP server on 127.0.0.1, an ephemeral port,
started and stopped as a context manager. Subclasses name their request handler class; the
handler reaches the server object as ``self.owner``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes; without this each reply waits ~40 ms
    owner = None

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def reply(self, code: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        """One whole reply: status, Content-Type, Content-Length, extra headers, body."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class LoopbackServer:
    handler: type[QuietHandler]
    url_path = ""  # appended to http://host:port

    _server: ThreadingHTTPServer | None = None

    def __enter__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (self.handler,), {"owner": self}))
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.address = f"{host}:{port}"
        self.url = f"http://{self.address}{self.url_path}"  # kept after stop(): tests name the host that went away
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    _stopping = threading.Lock()

    def stop(self) -> None:
        """Stop once, however many threads ask (a server told to die mid-batch asks from each)."""
        with self._stopping:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
