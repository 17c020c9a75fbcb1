"""A server on 127.0.0.1 that serves MLS-style public search pages, in the structure that
data/mls_html_selectors.yaml describes, built from RESO listing records.

- ``/robots.txt`` (``disallow`` paths configurable);
- ``/search?zip=<zip>&page=<n>``: ``per_page`` listing cards with links, a "next" link, or
  ``div.no-results`` when the ZIP has none;
- ``/listing/<ListingId>``: the detail page;
- ``layout = "v2"`` renames every class, as a site redesign would;
- ``fail_statuses``: the next requests get these statuses first (429 with Retry-After: 0);
- ``robots_status``: what /robots.txt answers when not 200 (a 5xx, 429, 404 …).
- ``search_failures``: search page number → the status that page always answers (404, 503 …).
- ``links``: ListingId → the href its search card carries instead of `/listing/<id>` (another host …).
- ``redirects``: path → the Location a 302 from that path points to.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from urllib.parse import parse_qs, urlsplit

from servers.loopback import LoopbackServer, QuietHandler


def _money(value) -> str:
    return f"${value:,.0f}" if isinstance(value, (int, float)) else str(value)


class MlsHtmlServer(LoopbackServer):
    def __init__(self, listings: list[dict], per_page: int = 20):
        self.listings = [r for r in listings if r.get("ListingId") and r.get("ListingKey")]
        self.per_page = per_page
        self.layout = "v1"
        self.disallow: list[str] = []
        self.fail_statuses: deque[int] = deque()
        self.robots_status = 200
        self.search_failures: dict[int, int] = {}
        self.links: dict[str, str] = {}
        self.redirects: dict[str, str] = {}
        self.seen: list[dict] = []
        self._lock = threading.Lock()

    def cls(self, name: str) -> str:
        return name if self.layout == "v1" else f"x-{name}-2025"

    def search_page(self, zip_code: str, page: int) -> str:
        rows = [r for r in self.listings if r.get("PostalCode") == zip_code]
        chunk = rows[(page - 1) * self.per_page : page * self.per_page]
        if not rows:
            body = f'<div class="{self.cls("no-results")}">No homes match your search.</div>'
        else:
            cards = "".join(
                f'<article class="{self.cls("listing-card")}"><a class="{self.cls("listing-link")}" '
                f'href="{html.escape(self.links.get(r["ListingId"], "/listing/" + r["ListingId"]))}">'
                f"{html.escape(r['UnparsedAddress'])}</a>"
                f'<span class="price">{_money(r.get("ListPrice"))}</span></article>'
                for r in chunk
            )
            pager = (
                f'<nav class="{self.cls("pager")}"><a class="next" href="/search?zip={zip_code}&amp;page={page + 1}">'
                "Next</a></nav>"
                if page * self.per_page < len(rows)
                else ""
            )
            body = f'<section class="results">{cards}</section>{pager}'
        return f"<!doctype html><html><head><title>Search {zip_code}</title></head><body>{body}</body></html>"

    def detail_page(self, listing_id: str) -> str | None:
        r = next((r for r in self.listings if r["ListingId"] == listing_id), None)
        if r is None:
            return None
        baths = (r.get("BathroomsFull") or 0) + 0.5 * (r.get("BathroomsHalf") or 0)
        facts = "".join(
            f'<li class="{self.cls(name)}">{text}</li>'
            for name, text in [
                ("beds", f"{r.get('BedroomsTotal')} bd" if r.get("BedroomsTotal") is not None else ""),
                ("baths", f"{baths:g} ba" if baths else ""),
                ("sqft", f"{r['LivingArea']:,} sqft" if r.get("LivingArea") else ""),
                ("lot", f"{r['LotSizeSquareFeet']:,} sqft lot" if r.get("LotSizeSquareFeet") else ""),
                ("year", f"Built {r['YearBuilt']}" if r.get("YearBuilt") else ""),
                ("type", "Single Family"),
            ]
            if text
        )
        return (
            "<!doctype html><html><body>"
            f'<h1 class="{self.cls("address")}">{html.escape(r["UnparsedAddress"])}, {r.get("City", "Phoenix")}, AZ '
            f"{r['PostalCode']}</h1>"
            f'<span class="{self.cls("mls-number")}">MLS# {r["ListingId"]}</span>'
            f'<div class="{self.cls("price")}">{_money(r.get("ListPrice"))}</div>'
            f'<span class="{self.cls("status")}">{r.get("StandardStatus") or ""}</span>'
            f"<ul>{facts}</ul>"
            f'<p class="{self.cls("description")}">{html.escape(r.get("PublicRemarks") or "")}</p>'
            f'<img class="{self.cls("photo")}" src="/photos/{r["ListingId"]}/1.jpg">'
            f'<img class="{self.cls("photo")}" src="/photos/{r["ListingId"]}/2.jpg">'
            "</body></html>"
        )


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        site = self.owner
        with site._lock:
            site.seen.append(
                {
                    "path": parts.path,
                    "query": parts.query,
                    "user_agent": self.headers.get("User-Agent"),
                    "via_proxy": self.headers.get("X-Forwarded-By"),
                }
            )
            failing = site.fail_statuses.popleft() if site.fail_statuses and parts.path != "/robots.txt" else None
        if parts.path == "/robots.txt" and site.robots_status != 200:
            return self._send(site.robots_status, "unavailable", "text/plain", {"Retry-After": "0"})
        if parts.path == "/robots.txt":
            rules = "\n".join(f"Disallow: {path}" for path in site.disallow)
            return self._send(200, f"User-agent: *\n{rules}\n", "text/plain")
        if failing:
            return self._send(failing, "busy", "text/plain", {"Retry-After": "0"})
        query = parse_qs(parts.query)
        if parts.path in site.redirects:
            return self._send(302, "moved", "text/plain", {"Location": site.redirects[parts.path]})
        if parts.path == "/search":
            page = int(query.get("page", ["1"])[0])
            if page in site.search_failures:
                return self._send(site.search_failures[page], "unavailable", "text/plain")
            return self._send(200, site.search_page(query["zip"][0], page))
        if parts.path.startswith("/listing/"):
            page = site.detail_page(parts.path.rsplit("/", 1)[-1])
            return self._send(200, page) if page else self._send(404, "Not found", "text/plain")
        self._send(404, "Not found", "text/plain")

    def _send(
        self, code: int, text: str, content_type: str = "text/html; charset=utf-8", headers: dict | None = None
    ) -> None:
        self.reply(code, text.encode(), content_type, headers)


MlsHtmlServer.handler = _Handler
