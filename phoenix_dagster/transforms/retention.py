"""Raw-body retention: after PHOENIX_RAW_RETENTION_DAYS a county reply keeps what staging needs
and loses what identifies a person.

A body is read as JSON and withheld structurally (transforms/privacy.py): an owner's name becomes
"(withheld: <owner type>)" — staging derives the same OwnerType from it — and a mailing or
in-care-of address "(withheld)"; everything else keeps its value, so an old partition stages
again to the same rows. A body that is not JSON cannot be searched for names: past retention it
gives way to a note of what it was (its length), which staging quarantines as before; the
county's "not found" text and empty bodies carry no one's name and stay. The payload's `sha256`
stays the hash of the body as received (what incremental collection compares); compacting twice
changes nothing.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import polars as pl

from phoenix_dagster.sources.json_reply import UnreadableJson, read_json
from phoenix_dagster.transforms.payloads import NOT_FOUND_BODY
from phoenix_dagster.transforms.privacy import withhold

RAW_WITH_PERSONAL_DATA = "raw_assessor_payloads"  # listing payloads name no owners
RETAINED_NOTE = b"(withheld by retention: a reply that was not JSON, "  # + "<n> bytes)"
_RETAINED = re.compile(rb"\(withheld by retention: a reply that was not JSON, \d+ bytes\)")


def retention_cutoff(today: str, retention_days: int) -> str:
    """The first partition day still within the retention: days before it are compacted."""
    return (date.fromisoformat(today) - timedelta(days=retention_days)).isoformat()


def compact_body(body: bytes | None) -> bytes | None:
    """The body with every personal field withheld (names keep their kind); a body that is not JSON
    replaced by a note of its length; unchanged when nothing in it is personal."""
    if body is None:
        return None
    stripped = body.strip()
    if not stripped or NOT_FOUND_BODY.match(stripped) or _RETAINED.fullmatch(stripped):
        return body
    try:
        document = read_json(body)
    except UnreadableJson:
        return RETAINED_NOTE + f"{len(body)} bytes)".encode()
    withheld = withhold(document, keep_kind=True)
    if withheld == document:
        return body
    return json.dumps(withheld).encode("ascii")  # escapes: a lone surrogate (\\ud800) stays an escape


def compact_payloads(payloads: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Raw payloads with compacted bodies, and how many bodies changed."""
    before = payloads["body"].to_list()
    after = [compact_body(body) for body in before]
    changed = sum(1 for old, new in zip(before, after) if old != new)
    return payloads.with_columns(pl.Series("body", after, dtype=pl.Binary)), changed
