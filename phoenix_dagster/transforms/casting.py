"""Turn text fields into typed columns, rejecting (not nulling) values that do not parse."""

from __future__ import annotations

import polars as pl

# ISO 8601 as sources write it; an explicit list, because inferring the format from the first
# value lets one odd value ("[]") fail the whole batch instead of its record.
UTC_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)
OFFSET_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%:z")
TRUE_WORDS = {
    "true": True,
    "t": True,
    "y": True,
    "yes": True,
    "1": True,
    "false": False,
    "f": False,
    "n": False,
    "no": False,
    "0": False,
}


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _parse(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return text
    if dtype == pl.Boolean:
        return text.str.to_lowercase().replace_strict(TRUE_WORDS, default=None, return_dtype=pl.Boolean)
    if dtype == pl.Date:
        iso = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        us = text.str.strptime(pl.Date, "%m/%d/%Y", strict=False)
        return pl.coalesce(iso, us)
    if isinstance(dtype, pl.Datetime):
        return pl.coalesce(
            [text.str.to_datetime(f, time_unit="us", time_zone="UTC", strict=False) for f in UTC_FORMATS]
            + [
                text.str.to_datetime(f, time_unit="us", strict=False).dt.convert_time_zone("UTC")
                for f in OFFSET_FORMATS
            ]
        )
    if dtype.is_numeric():
        # "$425,000", "1,980" and "6,534 sqft" are numbers written by people; "Call for price" is not.
        digits = text.str.replace_all(r"[$,\s]", "").str.replace(r"(?i)(sqft|sq\.?ft\.?|sf)$", "")
        number = digits.cast(pl.Float64, strict=False)
        if dtype.is_integer():
            return pl.when(number == number.round(0)).then(number).otherwise(None).cast(dtype, strict=False)
        return number.cast(dtype, strict=False)
    raise TypeError(f"no parser for {dtype}")


def parse_text_columns(frame: pl.DataFrame, types: dict[str, pl.DataType]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse the text columns named in `types`.

    Returns (parsed rows, rejected rows). A row is rejected when a non-blank value does not
    parse as its type; the rejected frame keeps the original text and a `reason` naming
    every field that failed and its value.
    """
    texts = {name: blank_to_null(pl.col(name)) for name in types}
    parsed = {name: _parse(texts[name], dtype) for name, dtype in types.items()}
    problems = [
        pl.when(texts[name].is_not_null() & parsed[name].is_null())
        .then(
            pl.format(
                "{} {} is not a valid {}",
                pl.lit(name),
                pl.lit("'") + texts[name] + pl.lit("'"),
                pl.lit(_type_word(dtype)),
            )
        )
        .otherwise(None)
        for name, dtype in types.items()
    ]
    checked = frame.with_columns(
        pl.concat_list(problems).list.drop_nulls().list.join("; ").alias("_reason")
        if problems
        else pl.lit("").alias("_reason")
    )
    good = (
        checked.filter(pl.col("_reason") == "")
        .with_columns([expr.alias(name) for name, expr in parsed.items()])
        .drop("_reason")
    )
    bad = checked.filter(pl.col("_reason") != "").rename({"_reason": "reason"})
    return good, bad


def _type_word(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "whole number"
    if dtype.is_numeric():
        return "number"
    if dtype == pl.Boolean:
        return "yes/no value"
    if dtype == pl.Date:
        return "date"
    return "timestamp" if isinstance(dtype, pl.Datetime) else str(dtype)
