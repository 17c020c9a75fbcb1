"""The embedded sample's listings and parcels, evolving by day, so a backfill has trends to show.

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
  within 25 days; DaysOnMarket counts on; and new listings come on the market: in each 30-day
  window NEW_LISTING_RATE (8%) of the ZIP's parcels with a readable detail and no listing in the
  file are listed on a day of the window drawn from their APN (`new_listings`: Active, priced at
  115–140% of the parcel's FullCashValue in the files, facts from the county's detail, the parcel
  number on 60% of them), about 20 a ZIP a month;
- PLANTED_DAY (a week before BASE_DAY) in PLANTED_ZIP: the feed drops the living area, bedrooms,
  baths and year of 60% of its listings — a planted quality fault the degradation detector should
  find in a backfill, gone the next day;
- BURST_DAY (the same day) in BURST_ZIP: the feed writes 'Active Auction' as the StandardStatus of
  about 30% of its active listings, a status RESO does not know: staging quarantines them and the
  quarantine_rate check WARNs (above PHOENIX_QUARANTINE_WARN_RATE, 2%) for that ZIP and day only.

The county's parcels evolve the same way, from hashes of each APN (`parcel_changes`): the
`/parcel/{apn}` replies and search pages under `data/sample/assessor/` are the county on
BASE_DAY, replayed byte for byte that day; only parcels with a readable detail change (not the
404 nor the truncated reply), and a reply or page with nothing to change keeps its bytes. Time
is cut into 30-day windows (BASE_DAY+1 … +30 is window 0, BASE_DAY-29 … BASE_DAY window -1); in
each window a parcel has

- a sale recorded (windows from 0 on, SALE_RATE = 1% of parcels a window; none before BASE_DAY,
  since the files' sales are all older): from the day the county records it, the detail's
  `Owner` carries the new `Ownership` (a quarter of buyers are companies: "… HOMES LLC"),
  `SalePrice` at 105–135% of the parcel's latest `FullCashValue` (rounded to $1,000),
  `SaleDate` 3–20 days before the recording day, `DeedDate` 0–2 days after the sale,
  `DeedType` WD or SW and a new `MostCurrentDeed`; the parcel's search rows show the new
  `Ownership` from the same day;
- a valuation updated (every window, VALUATION_RATE = 1% a window; the 2026 notice reviewed):
  the latest tax year's `FullCashValue` becomes 88–106% of what it was (rounded to $100;
  `LimitedPropertyValue` kept at or below it). Before BASE_DAY this is history: the file shows
  the value after the update, days before it the value before (94–114% of the file's).

Values keep the county's JSON shape and types (strings stay strings), and a changed body is
written the way the files are (`json.dumps`). About 2% of a ZIP's parcels change in a window: in
the 30 days after BASE_DAY, 6 of 85031's 251 parcels with a detail (4 sales, 2 valuations), 3 of
85033's 249 (3 valuations) and 5 of 85035's 233 (2 sales, 3 valuations); in the 30 days up to
BASE_DAY 2, 2 and 1 valuations. The days 2026-11-26 … 11-29 replay the files, as BASE_DAY does
(tests/test_sample_evolution.py holds these).

The pipeline sees a changed detail only when it fetches the parcel again: new, last failed,
on the parcel's own day of the MARICOPA_REFRESH_DAYS window, last fetched that long ago or more,
or `--full-refresh` (transforms/assessor.py parcels_to_fetch). With the default 30 days a 30-day
backfill fetches each parcel once more on its day, so it sees a change made before that day and
not one made after it; a search row's new `Ownership` does not make it fetch. With
MARICOPA_REFRESH_DAYS=1 every parcel is fetched every day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

from phoenix_dagster.sources.json_reply import UnreadableJson, read_json

BASE_DAY = date(2026, 11, 28)
PLANTED_DAY = BASE_DAY - timedelta(days=7)
PLANTED_ZIP = "85031"
PLANTED_FIELDS = ("LivingArea", "BedroomsTotal", "BathroomsTotalInteger", "BathroomsFull", "YearBuilt")
UNDER_CONTRACT = ("Pending", "ActiveUnderContract")
BURST_DAY, BURST_ZIP, BURST_STATUS = PLANTED_DAY, "85035", "Active Auction"


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
            out.update(
                StandardStatus="Closed",
                MlsStatus="Closed",
                ClosePrice=None if price is None else round(price * (0.96 + 0.06 * draw(key, "sale")), -3),
                CloseDate=(BASE_DAY + timedelta(days=closes)).isoformat(),
            )
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
        return {**record, **dict.fromkeys(PLANTED_FIELDS)}
    return record


def _burst(record: dict) -> dict:
    if record.get("StandardStatus") == "Active" and draw(record["ListingKey"], "burst") < 0.3:
        return {**record, "StandardStatus": BURST_STATUS}
    return record


NEW_LISTING_RATE = 0.08  # of a ZIP's unlisted parcels, listed in a 30-day window after BASE_DAY


def _listed_day(apn: str, day: date) -> date | None:
    """The day `apn` came on the market after BASE_DAY and by `day` (its first window drawn)."""
    for window in range(max(0, (day - BASE_DAY).days - 1) // WINDOW_DAYS + 1):
        if draw(apn, f"listed:{window}") < NEW_LISTING_RATE:
            listed = _change_day(apn, "listed", window)
            return listed if listed <= day else None
    return None


def _situs(detail: dict) -> str:
    """The street address of a county detail ('4383 N 57TH AVE   PHOENIX  85031' → its first part)."""
    return detail.get("PropertyAddress", "").split("   ")[0].strip()


def _street(address: str) -> tuple[str, ...]:
    """House number and street number or name, lower case: '4383 North 57th Avenue' and
    '4383 N 57TH AVE' are the same house."""
    words = address.lower().split()
    words = [w for w in words if w not in ("n", "s", "e", "w", "north", "south", "east", "west")]
    return tuple(words[:2])


def new_listing(detail: dict, zip_code: str, listed: date, day: date) -> dict:
    """A RESO record for a parcel listed on `listed`, as the feed shows it on `day`."""
    apn, facts = detail["APN"], detail.get("ResidentialPropertyData") or {}
    area, year = _amount(facts.get("LivableSpace")), _amount(facts.get("ConstructionYear"))
    value = _amount((_latest_valuation(detail) or {}).get("FullCashValue")) or 300_000
    price = int(round(value * (1.15 + 0.25 * draw(apn, "list price")), -3))
    beds = 2 + ((area or 0) > 1300) + ((area or 0) > 1900)
    street = " ".join(word.capitalize() for word in _situs(detail).split())
    geo = detail.get("Geo") or {}
    remarks = " ".join(
        part
        for part in (
            f"Just listed: {beds} bedroom single-level home.",
            f"{area:,} SF per county records." if area else None,
            f"Built in {year}." if year else None,
            "Private pool." if str(facts.get("Pool", "0")) not in ("0", "") else None,
        )
        if part
    )
    return {
        "ListingKey": f"SMPLN{apn}",
        "ListingId": str(7_000_000 + int(draw(apn, "listing id") * 900_000)),
        "StandardStatus": "Active",
        "MlsStatus": "Active",
        "ListPrice": price,
        "OriginalListPrice": price,
        "ClosePrice": None,
        "CloseDate": None,
        "ListingContractDate": listed.isoformat(),
        "DaysOnMarket": (day - listed).days,
        "UnparsedAddress": street,
        "City": "Phoenix",
        "StateOrProvince": "AZ",
        "PostalCode": zip_code,
        "ParcelNumber": f"{apn[:3]}-{apn[3:5]}-{apn[5:]}" if draw(apn, "apn shown") < 0.6 else None,
        "PropertyType": "Residential",
        "PropertySubType": "SingleFamilyResidence",
        "BedroomsTotal": beds if draw(apn, "beds shown") < 0.8 else None,
        "BathroomsTotalInteger": None,
        "LivingArea": area,
        "YearBuilt": year,
        "LotSizeSquareFeet": _amount(detail.get("LotSize")),
        "GarageSpaces": _amount(facts.get("NumberOfGarages")),
        "PoolPrivateYN": str(facts.get("Pool", "0")) not in ("0", ""),
        "AssociationYN": False,
        "AssociationFee": None,
        "Latitude": _amount_float(geo.get("lat")),
        "Longitude": _amount_float(geo.get("long")),
        "PublicRemarks": remarks,
        "ModificationTimestamp": f"{listed.isoformat()}T15:00:00Z",
        "OriginatingSystemName": "Embedded sample (constructed)",
    }


def _amount_float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def new_listings(details: list[dict], listed_records: list, zip_code: str, day: date) -> list[dict]:
    """The listings that came on the market after BASE_DAY by `day`, from the ZIP's parcel
    `details`, leaving out parcels the file already lists (by parcel number or street address)."""
    listed_apns = {str(r.get("ParcelNumber") or "").replace("-", "") for r in listed_records if isinstance(r, dict)}
    listed_streets = {_street(str(r.get("UnparsedAddress") or "")) for r in listed_records if isinstance(r, dict)}
    records = []
    for detail in details:
        apn = detail.get("APN")
        if not isinstance(apn, str) or apn in listed_apns:
            continue
        if _street(_situs(detail)) in listed_streets:
            continue
        listed = _listed_day(apn, day)
        if listed is not None:
            records.append(new_listing(detail, zip_code, listed, day))
    return records


def evolve_listing_page(body: bytes, zip_code: str, day: date, parcels: Callable[[], list[dict]] = list) -> bytes:
    """The page of `zip_code` as it would read on `day` (BASE_DAY: `body` itself). Records
    without a usable ListingKey (the sample's deliberate dirt) pass through unchanged.
    `parcels`: the ZIP's readable parcel details, read only for a day after BASE_DAY (its new
    listings)."""
    offset = (day - BASE_DAY).days
    if offset == 0:
        return body
    try:
        page = read_json(body)
    except UnreadableJson:
        return body  # replayed as it is; staging quarantines it
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        return body
    evolved = []
    for record in page["value"]:
        if not isinstance(record, dict) or not isinstance(record.get("ListingKey"), str):
            evolved.append(record)
            continue
        record = _history(record, offset) if offset < 0 else _future(record, offset, day)
        if record is None:
            continue
        if day == PLANTED_DAY and zip_code == PLANTED_ZIP:
            record = _planted(record)
        if day == BURST_DAY and zip_code == BURST_ZIP:
            record = _burst(record)
        evolved.append(record)
    if offset > 0:
        evolved.extend(new_listings(parcels(), page["value"], zip_code, day))
    page["value"] = evolved
    if "@odata.count" in page:
        page["@odata.count"] = len(evolved)
    return json.dumps(page, indent=1).encode()


# The county's parcels ------------------------------------------------------------------------

WINDOW_DAYS = 30
SALE_RATE = 0.01  # of parcels, a sale recorded in a window (from BASE_DAY on)
VALUATION_RATE = 0.01  # of parcels, a valuation updated in a window (before BASE_DAY too)
SALE_TO_VALUE = (1.05, 1.35)  # a sale's price, as a share of the parcel's latest FullCashValue


class ParcelChange(NamedTuple):
    kind: str  # "sale" or "valuation"
    day: date  # the day the county's replies show it first
    window: int  # the 30-day window it falls in (0: the first after BASE_DAY)


def _change_day(apn: str, kind: str, window: int) -> date:
    return BASE_DAY + timedelta(days=WINDOW_DAYS * window + 1 + int(draw(apn, f"{kind} day:{window}") * WINDOW_DAYS))


def parcel_changes(apn: str, day: date) -> list[ParcelChange]:
    """What changes `apn`'s replies on `day` compared with BASE_DAY's: after it, the sales and
    valuation updates recorded by then, oldest first; before it, the valuation updates still to
    come until BASE_DAY (to be undone, latest first). None on BASE_DAY."""
    offset = (day - BASE_DAY).days
    changes = []
    if offset > 0:
        for window in range((offset - 1) // WINDOW_DAYS + 1):
            for kind, rate in (("sale", SALE_RATE), ("valuation", VALUATION_RATE)):
                if draw(apn, f"{kind}:{window}") < rate and _change_day(apn, kind, window) <= day:
                    changes.append(ParcelChange(kind, _change_day(apn, kind, window), window))
        return sorted(changes, key=lambda c: (c.day, c.kind == "sale"))  # a sale prices the day's value
    for window in range((offset - 1) // WINDOW_DAYS, 0):
        if draw(apn, f"valuation:{window}") < VALUATION_RATE and _change_day(apn, "valuation", window) > day:
            changes.append(ParcelChange("valuation", _change_day(apn, "valuation", window), window))
    return sorted(changes, key=lambda c: c.day, reverse=True)


def _number_like(value, number: int):
    """`number` written the way the county wrote `value` (text stays text)."""
    return str(number) if isinstance(value, str) else number


def _latest_valuation(detail: dict) -> dict | None:
    valuations = [v for v in detail.get("Valuations") or [] if isinstance(v, dict)]
    dated = [v for v in valuations if str(v.get("TaxYear", "")).isdigit() and _amount(v.get("FullCashValue"))]
    return max(dated, key=lambda v: int(v["TaxYear"]), default=None)


def _amount(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _revalue(valuation: dict, value: int) -> None:
    valuation["FullCashValue"] = _number_like(valuation["FullCashValue"], value)
    limited = _amount(valuation.get("LimitedPropertyValue"))
    if limited is not None and limited > value:  # the limited value never exceeds the full cash value
        valuation["LimitedPropertyValue"] = _number_like(valuation["LimitedPropertyValue"], value)


def new_owner(apn: str, window: int) -> str:
    """The buyer's name on a sale, redacted like the sample's other owners."""
    company = " HOMES LLC" if draw(apn, f"buyer:{window}") < 0.25 else ""
    return f"BUYER {apn}-{window + 1}{company} (redacted)"


def _apply(detail: dict, apn: str, change: ParcelChange, undo: bool) -> None:
    valuation = _latest_valuation(detail)
    if change.kind == "valuation" and valuation is not None:
        value = _amount(valuation["FullCashValue"])
        share = (
            0.94 + 0.20 * draw(apn, f"valuation before:{change.window}")
            if undo
            else 0.88 + 0.18 * draw(apn, f"valuation size:{change.window}")
        )
        _revalue(valuation, int(round(value * share, -2)))
    elif change.kind == "sale" and valuation is not None and isinstance(detail.get("Owner"), dict):
        owner, (low, high) = detail["Owner"], SALE_TO_VALUE
        sold = change.day - timedelta(days=3 + int(draw(apn, f"sale lag:{change.window}") * 18))  # recorded later
        deed = sold + timedelta(days=int(draw(apn, f"deed lag:{change.window}") * 3))
        share = low + (high - low) * draw(apn, f"sale price:{change.window}")
        price = int(round(_amount(valuation["FullCashValue"]) * share, -3))
        owner.update(
            Ownership=new_owner(apn, change.window),
            SalePrice=_number_like(owner.get("SalePrice", ""), price),
            SaleDate=sold.strftime("%m/%d/%Y"),
            DeedDate=deed.strftime("%m/%d/%Y"),
            DeedType="SW" if draw(apn, f"deed type:{change.window}") < 0.3 else "WD",
            MostCurrentDeed=f"{deed.year}{int(draw(apn, f'deed:{change.window}') * 10**7):07d}",
        )


def evolve_parcel_body(body: str, day: date) -> str:
    """A `/parcel/{apn}` reply body as the county would send it on `day` (BASE_DAY, or nothing
    to change, or not a parcel: `body` itself)."""
    if day == BASE_DAY:
        return body
    try:
        detail = read_json(body)
    except UnreadableJson:
        return body  # the sample's truncated reply stays truncated
    if not isinstance(detail, dict) or not isinstance(detail.get("APN"), str):
        return body
    changes = parcel_changes(detail["APN"], day)
    if not changes:
        return body
    for change in changes:
        _apply(detail, detail["APN"], change, undo=day < BASE_DAY)
    return json.dumps(detail)


def last_sale(apn: str, day: date) -> ParcelChange | None:
    """The latest sale of `apn` the county has recorded by `day` since BASE_DAY."""
    return next((c for c in reversed(parcel_changes(apn, day)) if c.kind == "sale"), None) if day > BASE_DAY else None


def evolve_search_page(body: bytes, day: date, has_detail: Callable[[str], bool]) -> bytes:
    """A search page as it reads on `day`: the rows of a parcel sold by then (and with a detail
    in the sample, `has_detail`) name its new owner. A page with no such row keeps its bytes."""
    if day <= BASE_DAY:
        return body
    try:
        page = read_json(body)
    except UnreadableJson:
        return body
    rows = page.get("Results") if isinstance(page, dict) else None
    changed = False
    for row in rows if isinstance(rows, list) else []:
        apn = row.get("APN") if isinstance(row, dict) else None
        sale = last_sale(apn, day) if isinstance(apn, str) and apn else None
        if sale is not None and has_detail(apn):
            row["Ownership"], changed = new_owner(apn, sale.window), True
    return (json.dumps(page, indent=1) + "\n").encode() if changed else body
