"""Normalised addresses and parcel numbers, and the property id derived from them."""

from __future__ import annotations

import polars as pl
from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError

# USPS Publication 28 abbreviations for the words that vary between sources.
STREET_WORDS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "AVENUE": "AVE",
    "AV": "AVE",
    "AVEN": "AVE",
    "DRIVE": "DR",
    "DRV": "DR",
    "ROAD": "RD",
    "LANE": "LN",
    "STREET": "ST",
    "STR": "ST",
    "BOULEVARD": "BLVD",
    "BOUL": "BLVD",
    "PLACE": "PL",
    "COURT": "CT",
    "CIRCLE": "CIR",
    "TERRACE": "TER",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "TRAIL": "TRL",
    "APARTMENT": "UNIT",
    "APT": "UNIT",
    "STE": "UNIT",
    "SUITE": "UNIT",
    "NUMBER": "UNIT",
    "NO": "UNIT",
}


def normalize_apn(expr: pl.Expr) -> pl.Expr:
    """'103-06-005', '103 06 005' and '103.06.005' are all APN 10306005."""
    cleaned = expr.cast(pl.String).str.to_uppercase().str.replace_all(r"[\s.\-]", "")
    return pl.when(cleaned.str.contains(r"^[0-9]{3,}[0-9A-Z]*$")).then(cleaned).otherwise(None)


def normalize_street(expr: pl.Expr) -> pl.Expr:
    """'4027 North 55th Avenue' and '4027 N 55TH AVE' both become '4027 N 55TH AVE'.

    Upper case, punctuation dropped ('#' reads as UNIT), words abbreviated the USPS way.
    """
    words = (
        expr.cast(pl.String)
        .str.to_uppercase()
        .str.replace_all("#", " UNIT ")
        .str.replace_all(r"[^A-Z0-9 ]", " ")
        .str.strip_chars()
        .str.split(" ")
    )
    return (
        words.list.eval(pl.element().filter(pl.element() != "").replace(STREET_WORDS)).list.join(" ").replace("", None)
    )


def property_id(county_fips: pl.Expr, apn: pl.Expr, address_key: pl.Expr, postal_code: pl.Expr) -> pl.Expr:
    """apn:<county FIPS>:<APN> when the parcel is known (parcel ids are the county's own: two
    counties may use the same one), else adr:<county FIPS>:<ZIP>:<address key with _ for spaces>."""
    by_address = pl.format("adr:{}:{}:{}", county_fips, postal_code, address_key.str.replace_all(" ", "_"))
    return pl.when(apn.is_not_null()).then(pl.format("apn:{}:{}", county_fips, apn)).otherwise(by_address)


def usps_street(address: str, zip_code: str) -> str | None:
    """The street line in USPS Publication 28 form (usaddress-scourgify), or None when the
    library cannot parse it."""
    try:
        record = normalize_address_record(f"{address}, Phoenix, AZ {zip_code}")
    except (AddressNormalizationError, ValueError, TypeError):
        return None
    return " ".join(part for part in (record["address_line_1"], record["address_line_2"]) if part)


def with_address_key(frame: pl.DataFrame, address: str, zip_code: str) -> pl.DataFrame:
    """Add `address_key` (the normalised street line used for matching) and
    `address_parse` (`usps` when usaddress-scourgify parsed it, `fallback` when the
    simple normalisation had to do, null when there is no address).

    The library is called once per distinct address, not per row.
    """
    distinct = frame.select(pl.col(address).drop_nulls().unique()).to_series().to_list()
    parsed = pl.DataFrame(
        {"_address": distinct, "_usps": [usps_street(a, zip_code) for a in distinct]},
        schema={"_address": pl.String, "_usps": pl.String},
    )
    keyed = frame.join(parsed, left_on=address, right_on="_address", how="left", coalesce=False)
    return keyed.with_columns(
        normalize_street(pl.coalesce("_usps", pl.col(address))).alias("address_key"),
        pl.when(pl.col(address).is_null())
        .then(None)
        .when(pl.col("_usps").is_not_null())
        .then(pl.lit("usps"))
        .otherwise(pl.lit("fallback"))
        .alias("address_parse"),
    ).drop("_address", "_usps")


QUALIFIED_PROPERTY_ID = r"^(apn:\d{5}:|adr:\d{5}:\d{5}:)"


def qualified_property_id(earlier: pl.Expr, county_fips: pl.Expr) -> pl.Expr:
    """An earlier version's property_id (apn:<APN>, adr:<ZIP>:<address>) with its county's FIPS
    code after the prefix, as property_id makes it now; one already qualified is kept as it is."""
    qualified = pl.concat_str(earlier.str.slice(0, 4), county_fips, pl.lit(":"), earlier.str.slice(4))
    return pl.when(earlier.str.contains(QUALIFIED_PROPERTY_ID)).then(earlier).otherwise(qualified)
