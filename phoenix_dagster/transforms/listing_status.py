"""Listing statuses as sources write them → RESO StandardStatus."""

from __future__ import annotations

import polars as pl

# Lower-case words a source may use (RESO's own values, Phoenix MLS (ARMLS) codes, portal
# wording) → RESO StandardStatus. A status not listed here rejects the record with its value.
STATUS_TO_RESO = {
    "active": "Active",
    "for sale": "Active",
    "new": "Active",
    "price change": "Active",
    "back on market": "Active",
    "coming soon": "ComingSoon",
    "comingsoon": "ComingSoon",
    "active under contract": "ActiveUnderContract",
    "activeundercontract": "ActiveUnderContract",
    "under contract": "ActiveUnderContract",
    "contingent": "ActiveUnderContract",
    "ucb": "ActiveUnderContract",
    "ccbs": "ActiveUnderContract",
    "active contingent": "ActiveUnderContract",
    "pending": "Pending",
    "sale pending": "Pending",
    "closed": "Closed",
    "sold": "Closed",
    "past sale": "Closed",
    "canceled": "Canceled",
    "cancelled": "Canceled",
    "withdrawn": "Withdrawn",
    "temp off market": "Hold",
    "hold": "Hold",
    "expired": "Expired",
    "delete": "Delete",
    "deleted": "Delete",
    "incomplete": "Incomplete",
}


def standard_status(status: pl.Expr) -> pl.Expr:
    """RESO StandardStatus for a status text, null when the text is not a known status."""
    words = status.str.to_lowercase().str.replace_all(r"[^a-z ]", " ").str.replace_all(r"\s+", " ").str.strip_chars()
    return words.replace_strict(STATUS_TO_RESO, default=None, return_dtype=pl.String)
