"""Listing payloads in each source's format → one JSON record per listing in RESO names.

The record's text then goes through the same typed staging as every other source
(transforms/listings.py). This is a decoding boundary: the formats are parsed here, row by
row where the format requires it (CSV), and nowhere else.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

import polars as pl

from phoenix_dagster.sources import redfin_csv
from phoenix_dagster.transforms.payloads import DECODED_SCHEMA, REJECT_SCHEMA

# Redfin search download → RESO. Keys are matched after upper-casing and trimming; the URL
# column's name has changed over the years, so it is matched by prefix.
PROPERTY_TYPES = {
    "single family residential": ("Residential", "SingleFamilyResidence"),
    "condo/co-op": ("Residential", "Condominium"),
    "townhouse": ("Residential", "Townhouse"),
    "mobile/manufactured home": ("Residential", "ManufacturedHome"),
    "vacant land": ("Land", None),
    "multi-family (2-4 unit)": ("ResidentialIncome", None),
    "multi-family (5+ unit)": ("ResidentialIncome", None),
}


def _sold_date(text: str) -> str | None:
    """'October-31-2025' → '2025-10-31' (the format is Redfin's); anything else is kept for staging to judge."""
    try:
        return datetime.strptime(text.strip(), "%B-%d-%Y").date().isoformat()
    except ValueError:
        return text or None


def _baths(text: str) -> dict:
    try:
        value = float(text)
    except ValueError:
        return {"BathroomsTotalInteger": text or None}
    half = 1 if value % 1 else 0
    return {
        "BathroomsTotalInteger": str(math.ceil(value)),
        "BathroomsFull": str(int(value)),
        "BathroomsHalf": str(half),
    }


def redfin_row_to_reso(row: dict[str, str]) -> dict:
    """One row of a Redfin download (already keyed by RESO-ish names) → a RESO record."""
    record = {k: v for k, v in row.items() if k[0].isupper() and v != ""}
    sale_type = row.get("sale_type", "").strip().upper()
    status = row.get("status", "").strip() or ("Sold" if sale_type == "PAST SALE" else "")
    kind, subtype = PROPERTY_TYPES.get(row.get("property_type", "").strip().lower(), (None, None))
    record.update(
        {
            "ListingKey": row.get("ListingId") or row.get("url", "").rstrip("/").rsplit("/", 1)[-1] or None,
            "StandardStatus": status or None,
            "PropertyType": kind,
            "PropertySubType": subtype,
            "NewConstructionYN": "true" if sale_type == "NEW CONSTRUCTION HOME" else None,
        }
    )
    record.update(_baths(row.get("baths", "")))
    fee = row.get("AssociationFee", "").strip()
    if fee:
        record["AssociationYN"] = "false" if fee.replace("$", "").strip() in ("0", "0.00") else "true"
    if sale_type == "PAST SALE" or record["StandardStatus"] in ("Sold", "Closed"):
        record["ClosePrice"] = row.get("price") or None
        record["CloseDate"] = _sold_date(row.get("sold_date", ""))
    record["ListPrice"] = row.get("price") or None
    return {k: v for k, v in record.items() if v is not None}


def redfin_csv_records(payloads: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decoded CSV exports (`text`) → (one RESO JSON record per data row, rejected files), the
    rows streamed one at a time. An export covers many ZIPs: every row goes on, and staging
    counts the other ZIPs' rows as out of scope for this partition."""
    records, rejected = [], []
    for payload in payloads.iter_rows(named=True):
        reason = redfin_csv.unreadable_reason(payload["text"])
        if reason is not None:  # the whole file: a row-by-row skip would lose every row silently
            rejected.append(
                {
                    "source": payload["source"],
                    "record_key": payload["record_key"],
                    "reason": reason,
                    "raw_record": payload["text"],
                    "payload_sha256": payload["sha256"],
                    "raw_bytes": None,
                }
            )
            continue
        for number, row in redfin_csv.data_rows(payload["text"]):
            record = redfin_row_to_reso(row)
            records.append(
                {
                    **{k: payload[k] for k in ("source", "entity", "fetched_at", "sha256")},
                    "record_key": record.get("ListingKey") or f"{payload['record_key'][:12]}#line{number}",
                    "text": json.dumps(record),
                }
            )
    return pl.DataFrame(records, schema=DECODED_SCHEMA), pl.DataFrame(rejected, schema=REJECT_SCHEMA)


def mls_html_records(pages: pl.DataFrame, selectors) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decoded MLS detail pages (`text` is the HTML) → (records as RESO JSON, rejected pages).
    A page the selectors no longer fit is rejected as "selectors out of date", naming the fields."""
    from phoenix_dagster.sources.mls_selectors import SelectorsOutOfDate

    records, rejected = [], []
    for page in pages.iter_rows(named=True):
        try:
            record = selectors.read_detail(page["text"], page["record_key"])
        except SelectorsOutOfDate as exc:
            rejected.append(
                {
                    "source": page["source"],
                    "record_key": page["record_key"],
                    "reason": str(exc),
                    "raw_record": page["text"],
                    "payload_sha256": page["sha256"],
                    "raw_bytes": None,
                }
            )
            continue
        record["SelectorsVersion"] = str(selectors.version)
        records.append(
            {
                **{k: page[k] for k in ("source", "entity", "fetched_at", "sha256")},
                "record_key": record.get("ListingKey") or page["record_key"],
                "text": json.dumps(record),
            }
        )
    return pl.DataFrame(records, schema=DECODED_SCHEMA), pl.DataFrame(rejected, schema=REJECT_SCHEMA)


def listing_records(decoded: pl.DataFrame, selectors=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decoded listing payloads of any source → (one RESO JSON record per listing, rejects).

    listing_page: RESO/OData JSON pages (`value`); csv_export: Redfin downloads;
    mls_listing_page: MLS detail pages read with `selectors`; mls_search_page: only the
    crawl's map, no listings in it.
    """
    from phoenix_dagster.transforms.payloads import explode_json_list

    pages, page_rejects = explode_json_list(decoded.filter(pl.col("entity") == "listing_page"), "value", "ListingKey")
    parts, rejects = [pages], [page_rejects]
    csv_records, csv_rejects = redfin_csv_records(decoded.filter(pl.col("entity") == "csv_export"))
    parts.append(csv_records)
    rejects.append(csv_rejects)
    pages = decoded.filter(pl.col("entity") == "mls_listing_page")
    if pages.height:
        if selectors is None:
            raise ValueError("MLS pages were landed but no MLS selectors are configured")
        html_records, html_rejects = mls_html_records(pages, selectors)
        parts.append(html_records)
        rejects.append(html_rejects)
    return pl.concat(parts), pl.concat(rejects)
