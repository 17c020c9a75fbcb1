"""The shape of a Redfin search download: its header names (old and new exports differ) and
what a file must have to be read at all. Shared by the inbox, which refuses a file it cannot
read before taking it in, and by staging, which reads the rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

HEADER_START = ("SALE TYPE", '"SALE TYPE')
DISCLAIMER = "In accordance with local MLS rules"
URL_PREFIX = "URL (SEE"
# Header (upper-cased) → the name staging reads. Variants seen in real exports map to one name.
COLUMNS = {
    "SALE TYPE": "sale_type",
    "SOLD DATE": "sold_date",
    "PROPERTY TYPE": "property_type",
    "ADDRESS": "UnparsedAddress",
    "CITY": "City",
    "STATE OR PROVINCE": "StateOrProvince",
    "STATE": "StateOrProvince",
    "ZIP OR POSTAL CODE": "PostalCode",
    "POSTAL CODE": "PostalCode",
    "ZIP": "PostalCode",
    "ZIP CODE": "PostalCode",
    "ZIPCODE": "PostalCode",
    "PRICE": "price",
    "LIST PRICE": "price",
    "BEDS": "BedroomsTotal",
    "BATHS": "baths",
    "SQUARE FEET": "LivingArea",
    "LOT SIZE": "LotSizeSquareFeet",
    "YEAR BUILT": "YearBuilt",
    "DAYS ON MARKET": "DaysOnMarket",
    "HOA/MONTH": "AssociationFee",
    "STATUS": "status",
    "MLS#": "ListingId",
    "LATITUDE": "Latitude",
    "LONGITUDE": "Longitude",
}
REQUIRED = {"UnparsedAddress": "ADDRESS", "PostalCode": "ZIP OR POSTAL CODE (or POSTAL CODE, ZIP)", "price": "PRICE"}


def header_key(name: str) -> str | None:
    name = name.strip().upper()
    if name.startswith(URL_PREFIX) or name == "URL":
        return "url"
    return COLUMNS.get(name)


def _lines(text: str) -> Iterator[str]:
    """The text's lines, one at a time (no copy of the whole text into a list)."""
    return iter(io.StringIO(text.lstrip("\ufeff"), newline=None))


def read_header(text: str) -> tuple[int, list[str]] | None:
    """(line index of the header, its cells), or None when no line starts like Redfin's header.
    The disclaimer may stand before the header; only the lines up to the header are read."""
    for index, line in enumerate(_lines(text)):
        if line.strip().upper().startswith(HEADER_START):
            return index, next(csv.reader([line]))
    return None


def unreadable_reason(text: str) -> str | None:
    """Why a file is not a Redfin download this platform can read, naming the headers found and
    the ones expected; None when it can be read. Only the lines up to the header are read, so the
    start of a file is enough."""
    found = read_header(text)
    if found is None:
        return "no 'SALE TYPE,…' header line: not a Redfin search download"
    keys = {header_key(cell) for cell in found[1]}
    missing = [label for key, label in REQUIRED.items() if key not in keys]
    if missing:
        return (
            f"headers missing: {', '.join(missing)}; found: {', '.join(c.strip() for c in found[1])}; "
            f"expected also one of: {', '.join(sorted(COLUMNS))}"
        )
    return None


def data_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, the row keyed by staging's names) for each data row of a readable download,
    streamed: rows are parsed one at a time as the csv module reads them. Blank rows and the
    disclaimer row are skipped; unknown columns are dropped."""
    lines = _lines(text)
    header = None
    number = 0
    for number, line in enumerate(lines, start=1):  # noqa: B007 (read after the loop)
        if line.strip().upper().startswith(HEADER_START):
            header = [header_key(name) for name in next(csv.reader([line]))]
            break
    if header is None:
        return
    reader = csv.reader(lines)  # continues from the line after the header
    for cells in reader:
        line_number = number + reader.line_num
        if not any(cell.strip() for cell in cells) or cells[0].strip().startswith(DISCLAIMER):
            continue
        yield line_number, {key: cell.strip() for key, cell in zip(header, cells) if key}
