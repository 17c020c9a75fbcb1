"""Personal data: county replies name owners (and their mailing addresses). Analysts get what
they need from a name — the kind of owner — derived in staging; the names themselves stay in
the raw layer only, and there only until retention (transforms/retention.py).

What is personal is declared once, below, and applied to parsed JSON, never to text: a key is
compared case-insensitively with its punctuation ignored (`OWNER_NAME`, `ownerName` and an
escaped `"\\u004fwnerName"`, which JSON reads as `OwnerName`, are one key), and the whole value
goes, whatever its type (a string, an array of address lines, an object). An `Owner` object
keeps only the sale fields. Anything else that carries a record (quarantined records and the
log lines about them) is withheld this way first; a record that does not parse as JSON cannot be
searched for names, so only its hash and length leave the raw layer.
"""

from __future__ import annotations

import json
import re

import polars as pl

from phoenix_dagster.sources.json_reply import UnreadableJson, read_json

# The one declaration of what identifies a person, by normalised key (`personal_key`): owners' and
# occupants' names, and where they are reached (mailing address, in care of, phone, e-mail). County
# layers name them OWNER_NAME / OWNERNME1, INCAREOF, MAIL_ADDR1 / MAIL_CITY / MAIL1…5
# (as the counties' ArcGIS parcel layers publish them); RESO has OwnerName, OwnerPhone, OccupantName, OccupantPhone.
PERSONAL_NAME_KEYS = frozenset(
    {
        "ownership",
        "ownername",
        "ownername1",
        "ownername2",
        "ownernme",
        "ownernme1",
        "ownernme2",
        "owner1",
        "owner2",
        "ownersname",
        "taxpayername",
        "occupantname",
    }
)
# Any other key starting or ending so is about a person too (OwnerPhone, Owners: [...], MAIL_ZIP,
# TaxpayerAddress, ListAgentEmail), its whole value withheld.
PERSONAL_PREFIXES = ("owner", "occupant", "taxpayer", "mail", "fullmailingaddress", "incareof", "careof")
PERSONAL_SUFFIXES = ("phone", "email", "mailingaddress")
# An object under this key is the owner block: every key but the sale fields is personal; any other
# value under it is an owner's name.
OWNER_BLOCK = "owner"
SALE_FIELDS = frozenset({"saleprice", "saledate", "deeddate", "deedtype", "deednumber", "mostcurrentdeed"})
WITHHELD = "(withheld)"
# What a retained raw body says instead of a name (transforms/retention.py): the kind survives.
STAND_IN = r"^\(WITHHELD: (GOVERNMENT|TRUST|COMPANY|INDIVIDUAL)\)$"

OWNER_TYPES = {  # checked in this order; the first that matches the upper-cased name wins
    "government": r"\b(CITY OF|STATE OF|COUNTY|UNITED STATES|USA|FLOOD CONTROL|SCHOOL DIST|HOUSING AUTHORITY|"
    r"TOWN OF|DEPARTMENT|DEPT OF|AUTHORITY)\b",
    "trust": r"\b(TRUST|TRUSTEE|TRUSTEES|TR|REVOCABLE|LIVING TRUST)\b",
    "company": r"\b(LLC|L L C|INC|CORP|CORPORATION|CO|COMPANY|LP|LLP|LTD|PARTNERS|PARTNERSHIP|BANK|ASSOCIATION|"
    r"ASSN|HOLDINGS|PROPERTIES|INVESTMENTS|HOMES|REALTY|FUND|VENTURES|GROUP)\b",
}


def personal_key(key: str) -> str:
    """A key as the declaration compares it: case folded, everything but letters and digits dropped."""
    return re.sub(r"[^0-9a-z]", "", key.casefold())


def personal_kind(key: str) -> str | None:
    """ "name" (an owner's name: retention keeps its kind), "contact" (anything else about a
    person) or None: what a value under `key` would reveal."""
    normal = personal_key(key)
    if normal in PERSONAL_NAME_KEYS:
        return "name"
    if normal.startswith(PERSONAL_PREFIXES) or normal.endswith(PERSONAL_SUFFIXES):
        return "contact"
    return None


def _stand_in(value, kind: str, keep_kind: bool) -> str:
    if keep_kind and kind == "name" and isinstance(value, str):
        found = owner_type_of(value)
        return WITHHELD if found is None else f"(withheld: {found})"
    return WITHHELD


def withhold(document, *, keep_kind: bool = False):
    """A parsed JSON value with every personal field's value replaced by "(withheld)" — with
    `keep_kind`, a name by "(withheld: <kind of owner>)", from which staging derives the same
    OwnerType. Empty values (null, "") stay as they are. Returns a new value."""
    if isinstance(document, list):
        return [withhold(item, keep_kind=keep_kind) for item in document]
    if not isinstance(document, dict):
        return document
    kept = {}
    for key, value in document.items():
        kind = personal_kind(key)
        if personal_key(key) == OWNER_BLOCK:  # before the prefixes: its sale fields stay
            if isinstance(value, dict):
                value = {
                    inner: (
                        withhold(v, keep_kind=keep_kind)
                        if personal_key(inner) in SALE_FIELDS
                        else _withheld_value(v, personal_kind(inner) or "name", keep_kind)
                    )
                    for inner, v in value.items()
                }
            else:
                value = _withheld_value(value, "name", keep_kind)
        elif kind is not None:
            value = _withheld_value(value, kind, keep_kind)
        else:
            value = withhold(value, keep_kind=keep_kind)
        kept[key] = value
    return kept


def _withheld_value(value, kind: str, keep_kind: bool):
    if value is None or value == "":
        return value
    return _stand_in(value, kind, keep_kind)


def withhold_text(text: str | None) -> str | None:
    """A record's text with personal fields withheld, as JSON; None when it is not JSON (it cannot
    be searched for names, so it does not leave the raw layer)."""
    if text is None or not text.strip():
        return None
    try:
        return json.dumps(withhold(read_json(text)))  # ASCII: a lone surrogate escape stays an escape
    except UnreadableJson:
        return None


def quarantine_rows(rejected: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows as they may be written: `raw_bytes` the record's length as received (when the
    transform did not give it), `raw_record` the record with personal fields withheld, or null when it
    does not parse as JSON (an HTML page, a CSV file, a truncated body: its hash and length point at
    the bytes in the raw layer)."""
    records = rejected["raw_record"].to_list()
    lengths = [None if text is None else len(text.encode("utf-8", errors="surrogateescape")) for text in records]
    return rejected.with_columns(
        pl.coalesce(pl.col("raw_bytes"), pl.Series(lengths, dtype=pl.Int64)).alias("raw_bytes"),
        pl.Series("raw_record", [withhold_text(text) for text in records], dtype=pl.String),
    )


def owner_type(ownership: pl.Expr) -> pl.Expr:
    """government, trust, company or individual, from the owner's name (or a retained body's
    stand-in for it); null without a name."""
    name = ownership.str.to_uppercase().str.strip_chars()
    expr = pl.when(name.is_null() | (name == "")).then(None)
    expr = expr.when(name.str.contains(STAND_IN)).then(name.str.extract(STAND_IN).str.to_lowercase())
    for kind, pattern in OWNER_TYPES.items():
        expr = expr.when(name.str.contains(pattern)).then(pl.lit(kind))
    return expr.otherwise(pl.lit("individual"))


def owner_type_of(name: str | None) -> str | None:
    """`owner_type` for one name, in Python (retention compacts bodies one at a time); a test
    holds the two to the same answers."""
    upper = (name or "").upper().strip()
    if not upper:
        return None
    stand_in = re.match(STAND_IN, upper)
    if stand_in:
        return stand_in[1].lower()
    return next((kind for kind, pattern in OWNER_TYPES.items() if re.search(pattern, upper)), "individual")
