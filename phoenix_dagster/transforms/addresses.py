"""Normalised addresses and parcel numbers, and the property id derived from them."""

from __future__ import annotations

import polars as pl

# USPS Publication 28 abbreviations for the words that vary between sources.
STREET_WORDS = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
    "AVENUE": "AVE", "AV": "AVE", "AVEN": "AVE", "DRIVE": "DR", "DRV": "DR", "ROAD": "RD", "LANE": "LN",
    "STREET": "ST", "STR": "ST", "BOULEVARD": "BLVD", "BOUL": "BLVD", "PLACE": "PL", "COURT": "CT",
    "CIRCLE": "CIR", "TERRACE": "TER", "PARKWAY": "PKWY", "HIGHWAY": "HWY", "TRAIL": "TRL",
    "APARTMENT": "UNIT", "APT": "UNIT", "STE": "UNIT", "SUITE": "UNIT", "NUMBER": "UNIT", "NO": "UNIT",
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
        words.list.eval(pl.element().filter(pl.element() != "").replace(STREET_WORDS))
        .list.join(" ")
        .replace("", None)
    )


def property_id(apn: pl.Expr, address_key: pl.Expr, postal_code: pl.Expr) -> pl.Expr:
    """apn:<APN> when the parcel is known, else adr:<ZIP>:<address key with _ for spaces>."""
    by_address = pl.format("adr:{}:{}", postal_code, address_key.str.replace_all(" ", "_"))
    return pl.when(apn.is_not_null()).then(pl.format("apn:{}", apn)).otherwise(by_address)
