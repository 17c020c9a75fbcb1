"""The embedded sample's listings, evolving by day, so a backfill has trends to show.

`data/sample/listings/<ZIP>.json` describes the market on BASE_DAY exactly (that day replays the
file byte for byte, so every test pinned to it stays exact). Any other day is derived from it
deterministically — each listing's fate is drawn from a hash of its ListingKey, no random
state — so the same day always gives the same page:

- before BASE_DAY (history): 35% of listings were listed within the 40 days before it and are
  absent until their day; 35% had a price cut within the 35 days before (3–8% higher before
  it); a listing Closed on BASE_DAY was Pending from 12 days before its close (no ClosePrice),
  Active before that; one Pending or under contract was Active before its pending day;
  DaysOnMarket counts back;
- after BASE_DAY: a Pending or under-contract listing closes within 20 days at 96–102% of its
  list price (ClosePrice, CloseDate); an Active one may be cut 3–8% (25%) or withdrawn (6%)
  within 25 days; DaysOnMarket counts on;
- PLANTED_DAY (a week before BASE_DAY) in PLANTED_ZIP: the feed drops the living area, bedrooms,
  baths and year of 60% of its listings — a planted quality fault the degradation detector should
  find in a backfill, gone the next day.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

BASE_DAY = date(2026, 11, 28)
PLANTED_DAY = BASE_DAY - timedelta(days=7)
PLANTED_ZIP = "85031"
PLANTED_FIELDS = ("LivingArea", "BedroomsTotal", "BathroomsTotalInteger", "BathroomsFull", "YearBuilt")
UNDER_CONTRACT = ("Pending", "ActiveUnderContract")


def draw(key: str, purpose: str) -> float:
    """A number in [0, 1) fixed by the listing and what it decides."""
    digest = hashlib.sha256(f"{purpose}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _cut(price, key: str):
    return None if price is None else round(price * (1 + 0.03 + 0.05 * draw(key, "cut size")), -3)


def _history(record: dict, offset: int) -> dict | None:
    """The listing `offset` (< 0) days before BASE_DAY; None while it was not listed yet."""
    key = record["ListingKey"]
    if draw(key, "new") < 0.35 and offset < -1 - int(draw(key, "listed") * 40):
        return None
    out = dict(record)
    if draw(key, "cut") < 0.35 and offset < -int(draw(key, "cut day") * 35):
        out["ListPrice"] = _cut(record.get("ListPrice"), key)
    status = record.get("StandardStatus")
    if status == "Closed":
        closed = -int(draw(key, "closed") * 25)
        if offset < closed:
            out.update(StandardStatus="Pending", MlsStatus="Pending", ClosePrice=None, CloseDate=None)
        if offset < closed - 12:
            out.update(StandardStatus="Active", MlsStatus="Active")
    elif status in UNDER_CONTRACT and offset < -int(draw(key, "pending") * 20):
        out.update(StandardStatus="Active", MlsStatus="Active")
    if isinstance(record.get("DaysOnMarket"), int):
        out["DaysOnMarket"] = max(0, record["DaysOnMarket"] + offset)
    return out


def _future(record: dict, offset: int, day: date) -> dict:
    """The listing `offset` (> 0) days after BASE_DAY."""
    key, out = record["ListingKey"], dict(record)
    status = record.get("StandardStatus")
    if status in UNDER_CONTRACT:
        closes = 1 + int(draw(key, "closes") * 20)
        if offset >= closes:
            price = record.get("ListPrice")
            out.update(StandardStatus="Closed", MlsStatus="Closed",
                       ClosePrice=None if price is None else round(price * (0.96 + 0.06 * draw(key, "sale")), -3),
                       CloseDate=(BASE_DAY + timedelta(days=closes)).isoformat())
    elif status == "Active":
        if draw(key, "withdrawn") < 0.06 and offset >= 1 + int(draw(key, "withdrawn day") * 25):
            out.update(StandardStatus="Withdrawn", MlsStatus="Withdrawn")
        elif draw(key, "later cut") < 0.25 and offset >= 1 + int(draw(key, "later cut day") * 25):
            price = record.get("ListPrice")
            out["ListPrice"] = None if price is None else round(price * (0.92 + 0.05 * draw(key, "later cut size")), -3)
    if out.get("StandardStatus") != "Closed" and isinstance(record.get("DaysOnMarket"), int):
        out["DaysOnMarket"] = record["DaysOnMarket"] + offset
    return out


def _planted(record: dict) -> dict:
    if draw(record["ListingKey"], "planted") < 0.6:
        return {**record, **{name: None for name in PLANTED_FIELDS}}
    return record


def evolve_listing_page(body: bytes, zip_code: str, day: date) -> bytes:
    """The page of `zip_code` as it would read on `day` (BASE_DAY: `body` itself). Records
    without a usable ListingKey (the sample's deliberate dirt) pass through unchanged."""
    offset = (day - BASE_DAY).days
    if offset == 0:
        return body
    page = json.loads(body)
    evolved = []
    for record in page.get("value", []):
        if not isinstance(record, dict) or not isinstance(record.get("ListingKey"), str):
            evolved.append(record)
            continue
        record = _history(record, offset) if offset < 0 else _future(record, offset, day)
        if record is None:
            continue
        if day == PLANTED_DAY and zip_code == PLANTED_ZIP:
            record = _planted(record)
        evolved.append(record)
    page["value"] = evolved
    if "@odata.count" in page:
        page["@odata.count"] = len(evolved)
    return json.dumps(page, indent=1).encode()
