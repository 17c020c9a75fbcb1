"""Score the listing → parcel resolver against the labelled cases in
tests/eval/resolution_cases.jsonl (built from the embedded sample's parcels by
tests/eval/build_resolution_set.py; see tests/eval/README.md).

Each case is a listing-style address in a sample ZIP with the parcel it belongs to, no parcel
(a negative), or two parcels that both fit (ambiguous). The resolver runs exactly as in
int_listings_matched: against the ZIP's county search rows as staging makes them from the
sample's pages, with the default residential types as the kept parcels.

- precision: correct matches / matches made (a wrong match is worse than none);
- recall: correct matches / cases that expect a match;
- an ambiguous case is right when the resolver matches nothing and reports it ambiguous;
- cross-ZIP matches: a listing matched to a parcel of another ZIP (must be 0).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from phoenix_dagster.settings import DEFAULT_RESIDENTIAL_TYPES, PROJECT_ROOT
from phoenix_dagster.transforms.address_match import MATCHED, match_addresses
from phoenix_dagster.transforms.addresses import normalize_apn
from phoenix_dagster.transforms.assessor import stage_search_results

EVAL_FILE = PROJECT_ROOT / "tests" / "eval" / "resolution_cases.jsonl"
SAMPLE_SEARCH = PROJECT_ROOT / "data" / "sample" / "assessor" / "search"
GOALS = {"precision": 0.99, "recall": 0.95}


def load_cases(path: Path = EVAL_FILE) -> pl.DataFrame:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return pl.DataFrame(
        rows,
        schema={
            "case_id": pl.String,
            "kind": pl.String,
            "expected": pl.String,
            "expected_parcel": pl.String,
            "candidates": pl.List(pl.String),
            "UnparsedAddress": pl.String,
            "City": pl.String,
            "PostalCode": pl.String,
            "ParcelNumber": pl.String,
        },
    )


def sample_search_rows(search_dir: Path = SAMPLE_SEARCH) -> pl.DataFrame:
    """Every county search row of the sample, as staging makes them (stg_assessor__search_results)."""
    pages = pl.DataFrame(
        {
            "text": [path.read_text() for path in sorted(search_dir.glob("*.json"))],
            "record_key": [
                f"q={path.stem.split('_')[0][1:]}&page={int(path.stem.split('page')[1])}"
                for path in sorted(search_dir.glob("*.json"))
            ],
        }
    ).with_columns(
        pl.lit("sample").alias("source"),
        pl.lit(datetime(2026, 11, 1, tzinfo=UTC)).alias("fetched_at"),
        pl.lit(None, pl.String).alias("sha256"),
    )
    staged, _ = stage_search_results(pages)
    return staged.unique("ParcelNumber", keep="first", maintain_order=True)


def resolve_cases(
    cases: pl.DataFrame, search_rows: pl.DataFrame, kept_types: tuple[str, ...] = DEFAULT_RESIDENTIAL_TYPES
) -> pl.DataFrame:
    """The cases with the resolver's answer: match_method, matched_parcel, match_candidates."""
    listings = cases.with_columns(
        pl.col("PostalCode").str.strip_chars().str.slice(0, 5),
        normalize_apn(pl.col("ParcelNumber")).alias("ParcelNumber"),
    )
    resolved = []
    for zip_code, group in listings.group_by("PostalCode", maintain_order=True):
        rows = search_rows.filter(pl.col("PostalCode") == zip_code[0])
        kept = rows.filter(pl.col("assessor_property_type").is_in(list(kept_types)))["ParcelNumber"]
        resolved.append(match_addresses(group, rows.select("ParcelNumber", "UnparsedAddress"), kept))
    return pl.concat(resolved).sort("case_id")


def score(resolved: pl.DataFrame, search_rows: pl.DataFrame) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """(per variation kind, overall, matches per stage)."""
    zip_of = search_rows.select(
        pl.col("ParcelNumber").alias("matched_parcel"), pl.col("PostalCode").alias("parcel_zip")
    )
    judged = resolved.join(zip_of, on="matched_parcel", how="left").with_columns(
        pl.col("match_method").is_in(MATCHED).alias("matched"),
        (pl.col("expected") == "match").alias("wants_match"),
        (pl.col("match_method").is_in(MATCHED) & (pl.col("matched_parcel") == pl.col("expected_parcel")))
        .fill_null(False)
        .alias("correct"),
        ((pl.col("expected") == "ambiguous") & (pl.col("match_method") == "ambiguous")).alias("ambiguity_reported"),
        (pl.col("match_method").is_in(MATCHED) & (pl.col("parcel_zip") != pl.col("PostalCode")))
        .fill_null(False)
        .alias("cross_zip"),
    )
    sums = [
        pl.len().alias("cases"),
        pl.col("wants_match").sum().alias("expect_match"),
        pl.col("matched").sum().alias("matched"),
        pl.col("correct").sum().alias("correct"),
        (pl.col("matched") & ~pl.col("correct")).sum().alias("wrong"),
        pl.col("ambiguity_reported").sum().alias("ambiguous_reported"),
    ]
    ratios = [
        (pl.col("correct") / pl.col("matched")).round(3).fill_nan(None).alias("precision"),
        (pl.col("correct") / pl.col("expect_match")).round(3).fill_nan(None).alias("recall"),
    ]  # null: 0 / 0
    per_kind = judged.group_by("kind", maintain_order=True).agg(sums).with_columns(ratios)
    total = judged.select(sums).with_columns(ratios).row(0, named=True)
    total["cross_zip_matches"] = int(judged["cross_zip"].sum())
    total["ambiguous_cases"] = int((judged["expected"] == "ambiguous").sum())
    stages = (
        judged.group_by("match_method")
        .len()
        .rename({"len": "listings"})
        .sort(
            pl.col("match_method").replace_strict(
                {m: i for i, m in enumerate([*MATCHED, "ambiguous", "unmatched_listing"])}, default=99
            )
        )
    )
    return per_kind, total, stages
