"""Which county parcel a listing is, in stages, most certain first.

Listing sites spell addresses their own way: `4021 North 55th` for the county's `4021 N 55TH
AVE`, `Dr.` for `DR`, a unit number on a house, a typo in a street name. Within one ZIP, a
listing tries each stage in turn and stops at the first that finds any candidate:

1. `apn`: its parcel number (any punctuation) is one of the ZIP's parcels;
2. `address`: its normalised street line equals a county row's, part for part (house number,
   directional, street name, suffix, post-directional, unit);
3. `street`: house number and street name agree, and the directional, suffix and unit agree
   where both have one — a missing suffix or directional is filled in only when one row fits,
   and a unit on a listing of a house the county lists without one is ignored. A
   *conflicting* suffix is another street on Phoenix's grid (55th Ave and 55th Dr both exist),
   so it never fits;
4. `fuzzy`: a street name the ZIP does not have, scored against the names of the rows with the
   same house number (rapidfuzz's ratio, blocked by ZIP and house number; named streets only,
   since `55` and `56` are different streets however alike they look), at or above
   FUZZY_THRESHOLD. A street the ZIP has is never re-spelled into its neighbour.

A listing whose APN is a county row of the ZIP that is not kept (a commercial parcel) is that
parcel: it stays unmatched, whatever its address resembles. An APN the ZIP has no row for is
left to the address stages (a mistyped number). A city, state and ZIP after the street line
(", Phoenix, AZ 85031") are dropped before parsing.

Candidates come from every county search row of the ZIP, not only the parcels kept: a listing
whose address is a commercial parcel's is not pushed onto a similar house. A stage that finds
one row matches it when it is a kept parcel (else the listing stays unmatched); two or more are
`ambiguous`: recorded with the candidates, never guessed. Pure Polars apart from the scorer.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz

from phoenix_dagster.transforms.addresses import normalize_street

DIRECTIONS = ("N", "S", "E", "W", "NE", "NW", "SE", "SW")
SUFFIXES = (
    "AVE",
    "DR",
    "ST",
    "RD",
    "LN",
    "PL",
    "CT",
    "BLVD",
    "WAY",
    "CIR",
    "TER",
    "PKWY",
    "HWY",
    "TRL",
    "LOOP",
    "PATH",
    "ALY",
    "SQ",
    "XING",
    "PASS",
    "RUN",
)
PARTS = ("house_number", "pre_directional", "street_name", "street_suffix", "post_directional", "unit")
FUZZY_THRESHOLD = 80.0  # rapidfuzz ratio (0–100) of two street names with the same house number
CONFIDENCE = {"apn": 1.0, "address": 0.99, "street": 0.95}  # fuzzy: its score / 100
MATCHED = ("apn", "address", "street", "fuzzy")
UNMATCHED = ("ambiguous", "unmatched_listing")
MATCH_METHODS = (*MATCHED, *UNMATCHED)

_DIRS = "|".join(DIRECTIONS)
_CITY_STATE_ZIP = r"(?i),\s*([a-z .]+,\s*)?(az|arizona)\.?(\s+\d{5}(-\d{4})?)?\s*$"  # ", Phoenix, AZ 85031"
_STREET_LINE = (
    rf"^(\d+[A-Z]?)\s+(?:({_DIRS})\s+)?(.+?)(?:\s+({'|'.join(SUFFIXES)}))?(?:\s+({_DIRS}))?"
    r"(?:\s+UNIT(?:\s+(.*))?)?$"
)


def street_parts(address: pl.Expr) -> pl.Expr:
    """An address ('4027 North 55th Avenue, #2') → a struct of PARTS, USPS-abbreviated, with an
    ordinal street as its number ('55TH' → '55', so '71ST' and the county's '71TH' agree), and
    `line`: the whole normalised line, which is what an address without a house number ('LOT 5
    DESERT RANCH') is compared by. Null parts where the line has none."""
    line = normalize_street(address.str.replace(_CITY_STATE_ZIP, ""))
    groups = line.str.extract_groups(_STREET_LINE)
    return pl.struct(
        groups.struct.field("1").alias("house_number"),
        groups.struct.field("2").alias("pre_directional"),
        groups.struct.field("3").str.replace_all(r"\b(\d+)(?:ST|ND|RD|TH)\b", "${1}").alias("street_name"),
        groups.struct.field("4").alias("street_suffix"),
        groups.struct.field("5").alias("post_directional"),
        groups.struct.field("6").alias("unit"),
        pl.coalesce(groups.struct.field("2"), groups.struct.field("5")).alias("direction"),
        line.alias("line"),
    )


def _agree(part: str) -> pl.Expr:
    """Both sides have the part and it is the same, or one side lacks it."""
    mine, theirs = pl.col(part), pl.col(f"{part}_row")
    return mine.is_null() | theirs.is_null() | (mine == theirs)


def _exact(listings: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Every part the same (a line without a house number: the whole line the same)."""
    keys = [pl.col(p).fill_null("") for p in PARTS] + [
        pl.when(pl.col("house_number").is_null()).then(pl.col("line")).otherwise(pl.lit("")).alias("line")
    ]
    return (
        listings.with_columns(keys)
        .join(rows.with_columns(keys), on=[*PARTS, "line"])
        .select("_listing", "ParcelNumber_row", pl.lit(None, pl.Float64).alias("score"))
    )


# The direction is one part whether written before or after the name ('E MAIN ST' vs 'MAIN ST W').
ALL_AGREE = ("direction", "street_suffix")


def _fitting(pairs: pl.DataFrame) -> pl.DataFrame:
    """Listing × row pairs whose direction and suffix agree and whose units do: a listing's unit is
    ignored only when no row at that address has one (a house the county lists without a unit)."""
    units_here = pl.col("unit_row").is_not_null().any().over("_listing")
    unit_fits = _agree("unit") & ~(pl.col("unit").is_not_null() & pl.col("unit_row").is_null() & units_here)
    return pairs.filter(pl.all_horizontal(_agree(part) for part in ALL_AGREE) & unit_fits)


def _street(listings: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    joined = listings.join(rows, on=["house_number", "street_name"], suffix="_row")
    return _fitting(joined).select("_listing", "ParcelNumber_row", pl.lit(None, pl.Float64).alias("score"))


def _fuzzy(listings: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Only for a street name the ZIP does not have: a real street whose house number the county
    lacks is not a typo of its neighbour (GLENROSA is not GLENROSE)."""
    named = pl.col("street_name").str.contains(r"^[A-Z][A-Z ]{3,}$")
    unknown = listings.filter(named).join(rows.select("street_name").unique(), on="street_name", how="anti")
    pairs = _fitting(unknown.join(rows.filter(named), on="house_number", suffix="_row"))
    # A few pairs per listing (one house number's rows): scored one by one, no array library needed.
    scores = [fuzz.ratio(mine, theirs) for mine, theirs in zip(pairs["street_name"], pairs["street_name_row"])]
    return (
        pairs.with_columns(pl.Series("score", scores, dtype=pl.Float64))
        .filter(pl.col("score") >= FUZZY_THRESHOLD)
        .select("_listing", "ParcelNumber_row", "score")
    )


STAGES = (("address", _exact), ("street", _street), ("fuzzy", _fuzzy))


def match_addresses(listings: pl.DataFrame, search_rows: pl.DataFrame, kept: pl.Series) -> pl.DataFrame:
    """`listings` (ParcelNumber normalised, UnparsedAddress) within one ZIP, against that ZIP's
    county `search_rows` (ParcelNumber, UnparsedAddress) of which `kept` are the parcels the
    platform keeps → `listings` plus match_method, match_confidence, match_candidates (the
    rows' APNs when ambiguous, else empty) and matched_parcel (null unless matched)."""
    kept_set = kept.unique()
    numbered = listings.with_row_index("_listing").with_columns(street_parts(pl.col("UnparsedAddress")).alias("_parts"))
    by_apn = numbered.filter(pl.col("ParcelNumber").is_in(kept_set.implode()))
    # Its APN is a county row of the ZIP the platform does not keep (a commercial parcel): that is
    # what it is, whatever its address resembles.
    not_kept = numbered.filter(
        pl.col("ParcelNumber").is_in(search_rows["ParcelNumber"].implode())
        & ~pl.col("ParcelNumber").is_in(kept_set.implode())
    )
    decided = [
        by_apn.select(
            "_listing",
            pl.lit("apn").alias("match_method"),
            pl.col("ParcelNumber").alias("matched_parcel"),
            pl.lit(CONFIDENCE["apn"]).alias("match_confidence"),
            pl.lit([], dtype=pl.List(pl.String)).alias("match_candidates"),
        ),
        not_kept.select(
            "_listing",
            pl.lit("unmatched_listing").alias("match_method"),
            pl.lit(None, pl.String).alias("matched_parcel"),
            pl.lit(None, pl.Float64).alias("match_confidence"),
            pl.lit([], dtype=pl.List(pl.String)).alias("match_candidates"),
        ),
    ]
    open_ = (
        numbered.join(pl.concat([by_apn, not_kept]).select("_listing"), on="_listing", how="anti")
        .unnest("_parts")
        .filter(pl.col("line").is_not_null())
    )
    rows = (
        search_rows.unique("ParcelNumber", keep="first", maintain_order=True)
        .select(
            pl.col("ParcelNumber").alias("ParcelNumber_row"), street_parts(pl.col("UnparsedAddress")).alias("_parts")
        )
        .unnest("_parts")
        .filter(pl.col("line").is_not_null())
    )
    for method, candidates_of in STAGES:
        if method != "address":  # house number and street name are needed from here on
            open_, rows = (frame.filter(pl.col("house_number").is_not_null()) for frame in (open_, rows))
        found = (
            candidates_of(open_.select("_listing", *PARTS, "direction", "line"), rows)
            .group_by("_listing")
            .agg(pl.col("ParcelNumber_row").unique().sort().alias("match_candidates"), pl.col("score").max())
        )
        if found.height:
            only = pl.col("match_candidates").list.len() == 1
            first = pl.col("match_candidates").list.first()
            decided.append(
                found.select(
                    "_listing",
                    pl.when(only & first.is_in(kept_set.implode()))
                    .then(pl.lit(method))
                    .when(only)
                    .then(pl.lit("unmatched_listing"))
                    .otherwise(pl.lit("ambiguous"))
                    .alias("match_method"),
                    pl.when(only & first.is_in(kept_set.implode())).then(first).alias("matched_parcel"),
                    pl.when(only & first.is_in(kept_set.implode()))
                    .then(pl.col("score") / 100 if method == "fuzzy" else pl.lit(CONFIDENCE[method]))
                    .alias("match_confidence"),
                    pl.when(only)
                    .then(pl.lit([], dtype=pl.List(pl.String)))
                    .otherwise("match_candidates")
                    .alias("match_candidates"),
                )
            )
        open_ = open_.join(found.select("_listing"), on="_listing", how="anti")
    outcomes = pl.concat(decided, how="vertical_relaxed")
    return (
        numbered.drop("_parts")
        .join(outcomes, on="_listing", how="left")
        .with_columns(
            pl.col("match_method").fill_null("unmatched_listing"),
            pl.col("match_candidates").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        .sort("_listing")
        .drop("_listing")
    )
