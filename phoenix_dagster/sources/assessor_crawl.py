"""Collect one ZIP code from the assessor: page through the search, keep the ZIP's
residential rows, then one detail request per parcel.

Works against anything that speaks the county's contract (the real API or the embedded
replay), so the sample exercises the same logic as production.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from phoenix_dagster.sources.base import AssessorApi, RawPayload

ROWS_PER_PAGE = 25


@dataclass
class CrawlResult:
    payloads: list[RawPayload] = field(default_factory=list)
    apns_wanted: list[str] = field(default_factory=list)
    search_rows_seen: int = 0
    unreadable_pages: list[str] = field(default_factory=list)


def _rows(payload: RawPayload) -> tuple[int | None, list[dict]]:
    """TOTAL and Results of a search page, or (None, []) if the body is not the contract's JSON."""
    try:
        document = json.loads(payload.body)
        return int(document["TOTAL"]), list(document["Results"])
    except (ValueError, KeyError, TypeError):
        return None, []


def crawl_zip(api: AssessorApi, zip_code: str, property_types: tuple[str, ...]) -> CrawlResult:
    wanted_types = {t.strip().upper() for t in property_types}
    result = CrawlResult()
    seen: set[str] = set()
    page, pages = 1, 1
    while page <= pages:
        payload = api.search_page(zip_code, page)
        result.payloads.append(payload)  # landed whatever it says
        total, rows = _rows(payload)
        if total is None:
            result.unreadable_pages.append(payload.record_key)
        elif page == 1:
            pages = math.ceil(total / ROWS_PER_PAGE)
        result.search_rows_seen += len(rows)
        for row in rows:
            apn = str(row.get("APN") or "")
            if (
                apn
                and apn not in seen
                and str(row.get("SitusZip") or "").strip() == zip_code
                and str(row.get("PropertyType") or "").strip().upper() in wanted_types
            ):
                seen.add(apn)
                result.apns_wanted.append(apn)
        page += 1
    for apn in result.apns_wanted:
        result.payloads.append(api.parcel(apn))
    return result
