"""Raw-body retention: after PHOENIX_RAW_RETENTION_DAYS a county reply keeps what staging needs
and loses what identifies a person.

Staging reads an owner's name only to derive the kind of owner, so an owner-name field's value
becomes "(withheld: <owner type>)" — staging derives the same OwnerType from it — and a mailing
address becomes "(withheld)". Everything else in the body is kept byte for byte, so a partition
can still be staged again. The payload's `sha256` stays the hash of the body as received (what
incremental collection compares); compacting twice changes nothing.
"""

from __future__ import annotations

import re

import polars as pl

from phoenix_dagster.transforms.privacy import OWNER_NAME_FIELDS, PERSONAL_FIELDS, WITHHELD, owner_type_of

_FIELD = re.compile(r'("(?P<field>' + "|".join(PERSONAL_FIELDS) + r')"\s*:\s*)"(?P<value>(?:[^"\\]|\\.)*)(?:"|$)')


def _stand_in(match: re.Match) -> str:
    kind = owner_type_of(match["value"]) if match["field"] in OWNER_NAME_FIELDS else None
    return f'{match.group(1)}"{WITHHELD if kind is None else f"(withheld: {kind})"}"'


def compact_body(body: bytes | None) -> bytes | None:
    """The body with every personal field's value replaced by its stand-in. Bytes that are not
    UTF-8 pass through unchanged around the fields."""
    if body is None:
        return None
    text = body.decode("utf-8", errors="surrogateescape")
    return _FIELD.sub(_stand_in, text).encode("utf-8", errors="surrogateescape")


def compact_payloads(payloads: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Raw payloads with compacted bodies, and how many bodies changed."""
    before = payloads["body"].to_list()
    after = [compact_body(body) for body in before]
    changed = sum(1 for old, new in zip(before, after) if old != new)
    return payloads.with_columns(pl.Series("body", after, dtype=pl.Binary)), changed
