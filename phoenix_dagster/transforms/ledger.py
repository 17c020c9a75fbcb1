"""The record ledger: every record a source offered, accounted for.

For each source and partition, at each staging asset:

    offered = staged + unchanged + out_of_scope + not_found + quarantined + duplicates

`offered` is counted from the raw payloads themselves (array lengths, CSV rows, pages), not
from what the transforms produced, so a transform that loses records silently breaks the sum,
and the blocking `records_accounted_for` check stops the partition.
- staged: records that go on downstream; unchanged: parcel replies equal to their last
  version; out_of_scope: another property type or ZIP; not_found: the county's own "no such
  parcel"; quarantined: rejected with a reason (an unreadable page counts as one record);
  duplicates: the same record offered again in the partition.
"""

from __future__ import annotations

import polars as pl

from phoenix_dagster.sources import redfin_csv
from phoenix_dagster.sources.assessor_crawl import search_page_rows
from phoenix_dagster.sources.json_reply import UnreadableJson, read_json

TERMS = ("staged", "unchanged", "out_of_scope", "not_found", "quarantined", "duplicates")
LEDGER_SCHEMA = {
    "source": pl.String,
    "offered": pl.Int64,
    **dict.fromkeys(TERMS, pl.Int64),
    "payloads": pl.Int64,
    "unreadable_payloads": pl.Int64,
}


def ledger(rows: list[dict]) -> pl.DataFrame:
    blank = dict.fromkeys(TERMS, 0) | {"payloads": 0, "unreadable_payloads": 0}
    return pl.DataFrame([blank | row for row in rows], schema=LEDGER_SCHEMA)


def silent_sources(entries: pl.DataFrame, fetches: pl.DataFrame) -> dict[str, str]:
    """Sources that delivered nothing although they were asked: every payload they sent was
    unreadable (a 404, an empty body, not a page of records), or (from the raw asset's
    `source_fetches`) requests failed and no payload came — with the reason. A readable reply
    with no records is a proven "none" (an OData page with an empty `value`, an MLS "no results"
    page, an empty inbox); a readable page whose records were all rejected is quarantine, not
    silence."""
    silent = {}
    for row in entries.iter_rows(named=True):
        if row["payloads"] and row["unreadable_payloads"] == row["payloads"]:
            silent[row["source"]] = f"none of its {row['payloads']} payload(s) could be read"
    for row in fetches.iter_rows(named=True):  # empty when the raw asset recorded no fetch
        if row["payloads"] == 0 and row["failures"]:
            silent[row["source"]] = f"no reply: {row['failures']} request(s) or file(s) failed"
    return silent


def unbalanced(entries: pl.DataFrame) -> pl.DataFrame:
    """The ledger rows whose terms do not add up to what was offered, with the difference."""
    return entries.with_columns((pl.col("offered") - pl.sum_horizontal(*TERMS)).alias("unaccounted")).filter(
        pl.col("unaccounted") != 0
    )


def _json_items(text: str | None, field: str) -> int | None:
    """How many elements the payload's `field` array has; None when it has none to count."""
    try:
        document = read_json(text or "")
    except UnreadableJson:
        return None
    items = document.get(field) if isinstance(document, dict) else None
    return len(items) if isinstance(items, list) else None


def search_ledger(
    pages: pl.DataFrame,
    staged: pl.DataFrame,
    rejected: pl.DataFrame,
    unreadable: pl.DataFrame,
    *,
    zip_code: str,
    wanted_types: tuple[str, ...],
) -> pl.DataFrame:
    """County search rows: those of the ZIP and a wanted type go on once each; the rest are out of
    scope or repeats. `pages`: the raw search-page payloads, each read as the crawl and staging read
    it (`search_page_rows`: a page that is not the contract offers one record, quarantined)."""
    rows = []
    for source in sorted(set(pages["source"].to_list())):
        mine = pages.filter(pl.col("source") == source)
        read = [search_page_rows(status, bytes(body or b"")) for body, status in zip(mine["body"], mine["http_status"])]
        counts = [len(found) if total is not None else None for total, found in read]
        offered = sum(c if c is not None else 1 for c in counts)
        kept = staged.filter(pl.col("source") == source)
        in_scope = kept.filter(
            (pl.col("PostalCode") == zip_code)
            & pl.col("assessor_property_type").is_in([t.upper() for t in wanted_types])
        )
        unique = in_scope["ParcelNumber"].n_unique()
        rows.append(
            {
                "source": source,
                "offered": offered,
                "staged": unique,
                "payloads": mine.height,
                "unreadable_payloads": sum(c is None for c in counts),
                "out_of_scope": kept.height - in_scope.height,
                "duplicates": in_scope.height - unique,
                "quarantined": rejected.filter(pl.col("source") == source).height
                + unreadable.filter(pl.col("source") == source).height,
            }
        )
    return ledger(rows)


def parcel_ledger(
    details: pl.DataFrame,
    *,
    staged: pl.DataFrame,
    parsed: pl.DataFrame,
    not_found: pl.DataFrame,
    quarantined: pl.DataFrame,
    sources: list[str],
) -> pl.DataFrame:
    """County parcel replies: each is a new version, unchanged, not found, or quarantined. Every
    source in `sources` gets a row, also when no detail was due (offered 0)."""
    rows = []
    for source in sorted(set(sources) | set(details["source"].to_list())):
        of = lambda frame, source=source: frame.filter(pl.col("source") == source).height  # noqa: E731
        rows.append(
            {
                "source": source,
                "offered": of(details),
                "staged": of(staged),
                "unchanged": of(parsed) - of(staged),
                "not_found": of(not_found),
                "quarantined": of(quarantined),
            }
        )
    return ledger(rows)


def _utf8(body: bytes | None) -> str | None:
    try:
        return bytes(body or b"").decode("utf-8")
    except UnicodeDecodeError:
        return None


def listing_ledger(
    raw: pl.DataFrame, *, staged: pl.DataFrame, quarantined: pl.DataFrame, out_of_scope: pl.DataFrame
) -> pl.DataFrame:
    """Listing records per source: a RESO page offers its `value` elements, a CSV export its data
    rows, an MLS detail page one listing; a payload that cannot be read offers one record,
    quarantined. Records of another ZIP are out of scope. MLS search pages only map the crawl."""
    rows = []
    for source in sorted(set(raw["source"].to_list())):
        offered = unreadable = 0
        payloads = raw.filter(pl.col("source") == source)
        for payload in payloads.iter_rows(named=True):
            text = _utf8(payload["body"])  # staging refuses a body that is not UTF-8, whole
            readable = payload["http_status"] == 200 and bool(text and text.strip())
            if not readable:
                offered += 1
            elif payload["entity"] == "listing_page":
                count = _json_items(text, "value")
                offered += count if count is not None else 1
                readable = count is not None
            elif payload["entity"] == "csv_export":  # its data rows, streamed; 1 when it cannot be read
                readable = redfin_csv.unreadable_reason(text) is None
                offered += sum(1 for _ in redfin_csv.data_rows(text)) if readable else 1
            elif payload["entity"] == "mls_listing_page":
                offered += 1
            unreadable += not readable
        of = lambda frame, source=source: frame.filter(pl.col("source") == source).height  # noqa: E731
        rows.append(
            {
                "source": source,
                "offered": offered,
                "out_of_scope": of(out_of_scope),
                "payloads": payloads.height,
                "unreadable_payloads": unreadable,
                "staged": of(staged),
                "quarantined": of(quarantined),
            }
        )
    return ledger(rows)
