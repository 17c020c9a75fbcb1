"""The decoding boundary: raw bodies in, JSON text out, with every body that cannot be
read accounted for. This is the one place that looks inside bytes; everything after it
works on columns.

Bodies are read as JSON with `sources.json_reply.read_json`, as the sources read them: what it
refuses is quarantined here with its reason, so everything after this boundary reads JSON
nested no deeper than it allows."""

from __future__ import annotations

import json
import re

import polars as pl

from phoenix_dagster.sources.json_reply import UnreadableJson, json_kind, read_json

DECODED_SCHEMA = {
    "source": pl.String,
    "entity": pl.String,
    "record_key": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "sha256": pl.String,
    "text": pl.String,
}
# Quarantine rows as transforms make them: the record as received (its text), and the payload it
# came from; Bookkeeping.quarantine withholds personal data before anything is written.
REJECT_SCHEMA = {
    "source": pl.String,
    "record_key": pl.String,
    "reason": pl.String,
    "raw_record": pl.String,
    "payload_sha256": pl.String,
    "raw_bytes": pl.Int64,
}
# The county's own answer for one unknown parcel: 404, or 200 with an empty body or `[]`, or
# the whole body `[parcel]:Requested content was not found`. It means nothing for other
# sources (a listing remark may contain those words), so it is matched for parcels only.
NOT_FOUND_ENTITIES = {"parcel"}
NOT_FOUND_BODY = re.compile(rb"^(\[\w+\]:)?Requested content was not found$")
# Entities whose bodies must be JSON; others (HTML pages, CSV files) only need to be UTF-8 text.
JSON_ENTITIES = {"search_page", "parcel", "listing_page"}


def _as_text(body: bytes) -> str:
    return body.decode("utf-8", errors="backslashreplace")


def decode_json_bodies(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split payloads into (decoded, not_found, rejected).

    - decoded: HTTP 200 bodies that are valid UTF-8 (and valid JSON for JSON entities), as text;
    - not_found: the county's "no such parcel" replies (404, an empty body, `[]`, or its whole-body
      not-found text) — for parcel details only;
    - rejected: anything else, with a reason that names the failure and the raw body: a 404 from
      any other source (a wrong URL is not "no listings"), an empty 200 body, …
    """
    decoded, not_found, rejected = [], [], []
    for row in raw.iter_rows(named=True):
        body: bytes = row["body"] or b""
        stripped = body.strip()
        base = {
            "source": row["source"],
            "record_key": row["record_key"],
            "payload_sha256": row["sha256"],
            "raw_bytes": len(body),
        }
        if row["entity"] in NOT_FOUND_ENTITIES and (
            row["http_status"] == 404 or stripped in (b"", b"[]") or NOT_FOUND_BODY.match(stripped)
        ):
            not_found.append(
                {**base, "reason": f"no such record (HTTP {row['http_status']})", "raw_record": _as_text(body)}
            )
            continue
        if row["http_status"] != 200:
            rejected.append({**base, "reason": f"HTTP {row['http_status']} reply", "raw_record": _as_text(body)})
            continue
        if not stripped:
            rejected.append({**base, "reason": "empty body (HTTP 200)", "raw_record": ""})
            continue
        try:
            text = body.decode("utf-8")
            if row["entity"] in JSON_ENTITIES:
                read_json(text)
        except UnicodeDecodeError as exc:
            rejected.append({**base, "reason": f"body is not UTF-8: {exc}", "raw_record": _as_text(body)})
            continue
        except UnreadableJson as exc:
            rejected.append({**base, "reason": str(exc), "raw_record": text})
            continue
        decoded.append(
            {
                "source": row["source"],
                "record_key": row["record_key"],
                "entity": row["entity"],
                "fetched_at": row["fetched_at"],
                "sha256": row["sha256"],
                "text": text,
            }
        )
    return (
        pl.DataFrame(decoded, schema=DECODED_SCHEMA),
        pl.DataFrame(not_found, schema=REJECT_SCHEMA),
        pl.DataFrame(rejected, schema=REJECT_SCHEMA),
    )


def explode_json_list(decoded: pl.DataFrame, list_field: str, key_field: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per object in `list_field` of each decoded page, each as its own JSON text; rejects).

    A page is a JSON object with a `list_field` array; an empty array is a proven "none". A
    page without one (an error object, an array) is rejected whole; an element that is not an
    object is rejected alone, the rest of its page goes on. `record_key` becomes the element's
    `key_field` when present, else `<page key>#<index>`, so a record without a key is named.
    """
    rows, rejects = [], []
    for page in decoded.iter_rows(named=True):
        document = json.loads(page["text"])
        items = document.get(list_field) if isinstance(document, dict) else None
        if not isinstance(items, list):
            shape = type(document).__name__ if not isinstance(document, dict) else f"keys {sorted(document)[:8]}"
            rejects.append(
                {
                    "source": page["source"],
                    "record_key": page["record_key"],
                    "raw_record": page["text"],
                    "reason": f"not a page of records: no `{list_field}` array ({shape})",
                    "payload_sha256": page["sha256"],
                    "raw_bytes": None,
                }
            )
            continue
        for index, item in enumerate(items):
            key = item.get(key_field) if isinstance(item, dict) else None
            record_key = str(key) if key not in (None, "") else f"{page['record_key']}#{index}"
            if not isinstance(item, dict):
                rejects.append(
                    {
                        "source": page["source"],
                        "record_key": record_key,
                        "raw_record": json.dumps(item),
                        "reason": f"element {index} of `{list_field}` is a {type(item).__name__}, not a record",
                        "payload_sha256": page["sha256"],
                        "raw_bytes": None,
                    }
                )
                continue
            rows.append({**page, "record_key": record_key, "text": json.dumps(item)})
    return pl.DataFrame(rows, schema=DECODED_SCHEMA), pl.DataFrame(rejects, schema=REJECT_SCHEMA)


def fetch_failures_frame(source: str, failures) -> pl.DataFrame:
    """Requests that got no usable reply (`FetchFailure`s), as quarantine rows."""
    return pl.DataFrame(
        [
            {
                "source": source,
                "record_key": f.record_key,
                "reason": f"{f.request}: {f.reason}",
                "raw_record": None,
                "payload_sha256": None,
                "raw_bytes": None,
            }
            for f in failures
        ],
        schema=REJECT_SCHEMA,
    )


def decoded_rejects(frame: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    """Quarantine rows for decoded records (`text`): the record as received and its payload's hash."""
    return frame.select(
        "source",
        "record_key",
        reason.alias("reason"),
        pl.col("text").alias("raw_record"),
        pl.col("sha256").alias("payload_sha256"),
        pl.lit(None, pl.Int64).alias("raw_bytes"),
    )


SHAPE = "_shape"  # a flattened record's problems of shape, "; "-joined (null when it has none)


def _as_cell(value):
    """A JSON value as a typed column's text reads it: scalars as they are, an object or array as
    its JSON text (the record is rejected for its shape, naming the field)."""
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def shape_problems(record: dict, fields, list_fields: frozenset[str] = frozenset()) -> list[str]:
    """The `fields` of a record that hold an object or array where a value belongs (for `list_fields`,
    where a list of values or one value belongs): read as text, they would be silently wrong."""
    problems = []
    for name in fields:
        value = record.get(name)
        items = value if name in list_fields and isinstance(value, list) else [value]
        odd = next((item for item in items if isinstance(item, (dict, list))), None)
        if odd is not None:
            expected = "a list of values" if name in list_fields else "a value"
            problems.append(f"{name} is {json_kind(value if odd is value else odd)}, expected {expected}")
    return problems


def flatten_record(text: str, list_fields: frozenset[str] = frozenset(), read: frozenset[str] = frozenset()) -> str:
    """A record's JSON with every field a scalar (or, for `list_fields`, a list of scalars), so one
    odd value (a `ListPrice` object) rejects that record alone; the fields staging `read` that hold
    an object or array where a value belongs are named under SHAPE."""
    record = json.loads(text)
    if not isinstance(record, dict):
        return json.dumps({})
    flat = {
        k: ([_as_cell(x) for x in v] if isinstance(v, list) else [_as_cell(v)]) if k in list_fields else _as_cell(v)
        for k, v in record.items()
    }
    problems = shape_problems(record, sorted(read), list_fields)
    return json.dumps({**flat, SHAPE: "; ".join(problems) if problems else None})


def flatten_list_elements(text: str, list_field: str, read: frozenset[str] = frozenset()) -> str:
    """A page whose `list_field` elements are flattened records (`flatten_record`, SHAPE included);
    an element that is not an object becomes null (staging rejects it for its missing key)."""
    page = json.loads(text)
    if isinstance(page, dict) and isinstance(page.get(list_field), list):
        page[list_field] = [
            json.loads(flatten_record(json.dumps(item), read=read)) if isinstance(item, dict) else None
            for item in page[list_field]
        ]
    return json.dumps(page)
