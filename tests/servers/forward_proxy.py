"""A forward HTTP proxy on 127.0.0.1 (absolute-URI requests, plain HTTP), for the proxy
rotation tests; ``dead_proxy_url()`` is an address where nothing listens."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

from servers.loopback import LoopbackServer, QuietHandler


class ForwardProxy(LoopbackServer):
    def __init__(self):
        self.forwarded: list[str] = []


def dead_proxy_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connections are refused


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        target = urlsplit(self.path)
        self.owner.forwarded.append(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        headers["X-Forwarded-By"] = self.owner.url
        upstream.request("GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers)
        reply = upstream.getresponse()
        body = reply.read()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        upstream.close()


ForwardProxy.handler = _Handler
