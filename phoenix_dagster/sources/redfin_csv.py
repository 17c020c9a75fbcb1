"""The shape of a Redfin search download: its header names (old and new exports differ) and
what a file must have to be read at all. Shared by the inbox, which refuses a file it cannot
read before taking it in, and by staging, which reads the rows."""

from __future__ import annotations

import csv
import io

HEADER_START = ("SALE TYPE", '"SALE TYPE')
DISCLAIMER = "In accordance with local MLS rules"
URL_PREFIX = "URL (SEE"
# Header (upper-cased) → the name staging reads. Variants seen in real exports map to one name.
COLUMNS = {
    "SALE TYPE": "sale_type", "SOLD DATE": "sold_date", "PROPERTY TYPE": "property_type", "ADDRESS": "UnparsedAddress",
    "CITY": "City", "STATE OR PROVINCE": "StateOrProvince", "STATE": "StateOrProvince",
    "ZIP OR POSTAL CODE": "PostalCode", "POSTAL CODE": "PostalCode", "ZIP": "PostalCode", "ZIP CODE": "PostalCode",
    "ZIPCODE": "PostalCode", "PRICE": "price", "LIST PRICE": "price", "BEDS": "BedroomsTotal",
    "BATHS": "baths", "SQUARE FEET": "LivingArea", "LOT SIZE": "LotSizeSquareFeet", "YEAR BUILT": "YearBuilt",
    "DAYS ON MARKET": "DaysOnMarket", "HOA/MONTH": "AssociationFee", "STATUS": "status", "MLS#": "ListingId",
    "LATITUDE": "Latitude", "LONGITUDE": "Longitude",
}
REQUIRED = {"UnparsedAddress": "ADDRESS", "PostalCode": "ZIP OR POSTAL CODE (or POSTAL CODE, ZIP)",
            "price": "PRICE"}


def header_key(name: str) -> str | None:
    name = name.strip().upper()
    if name.startswith(URL_PREFIX) or name == "URL":
        return "url"
    return COLUMNS.get(name)


def read_header(text: str) -> tuple[int, list[str]] | None:
    """(line index of the header, its cells), or None when no line starts like Redfin's header.
    The disclaimer may stand before the header."""
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().upper().startswith(HEADER_START)), None)
    if start is None:
        return None
    return start, next(csv.reader(io.StringIO(lines[start])))


def unreadable_reason(text: str) -> str | None:
    """Why a file is not a Redfin download this platform can read, naming the headers found and
    the ones expected; None when it can be read."""
    found = read_header(text)
    if found is None:
        return "no 'SALE TYPE,…' header line: not a Redfin search download"
    keys = {header_key(cell) for cell in found[1]}
    missing = [label for key, label in REQUIRED.items() if key not in keys]
    if missing:
        return (f"headers missing: {', '.join(missing)}; found: {', '.join(c.strip() for c in found[1])}; "
                f"expected also one of: {', '.join(sorted(COLUMNS))}")
    return None
