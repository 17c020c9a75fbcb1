"""Data quality for one day × ZIP, per source, computed from what actually flowed.

One row per source (`assessor:<impl>`, `listing:<impl>`) and one for the resolved
properties (`resolved`):

- completeness: share of records with every required field; `field_completeness` per field
  (LivingArea and YearBuilt are required of RESIDENTIAL parcels only, not of vacant land);
- validity: records that passed staging / (those + records quarantined for the source);
- freshness_hours: hours from the newest record's fetch to the evaluation;
- duplicates: records that resolve to a property already seen from the same source (repeated
  search rows or listing records, two listings of one source on one property); for
  `resolved`, properties that look like the same house under two ids (same address key);
- agreement (listing sources): share of assessor-vs-listing comparisons within tolerance on
  LivingArea (±5%), YearBuilt (±1 year) and lot size (±10%);
- enrichment shares by method and the model's validation pass rate (listing sources); for
  `resolved`, how many properties' listing text contradicts a source's structured value;
- overall_score: weighted mean (completeness 0.30, validity 0.30, 1 − duplicate_rate 0.15,
  freshness 0.10 as max(0, 1 − hours / target), agreement 0.15), weights of missing metrics
  dropped; status EXCELLENT ≥ 0.95, GOOD ≥ 0.85, FAIR ≥ 0.70, else POOR; a source that
  delivered no record (none offered, or every one quarantined) is NO_DATA, with no score and
  no completeness: nothing is not perfect;
- every rate is bounded to [0, 1]: duplicates are counted over the records offered;
- issues: each metric below its "fair" threshold (QualityTargets), named with its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from phoenix_dagster.schemas import conform
from phoenix_dagster.schemas.ops import QualityDaily
from phoenix_dagster.transforms.address_match import MATCHED

ASSESSOR_REQUIRED = ["ParcelNumber", "UnparsedAddress", "LotSizeSquareFeet", "Latitude", "Longitude"]
ASSESSOR_BUILDING = ["LivingArea", "YearBuilt"]  # required of RESIDENTIAL parcels only
LISTING_REQUIRED = [
    "ListingKey",
    "ListPrice",
    "StandardStatus",
    "UnparsedAddress",
    "BedroomsTotal",
    "BathroomsTotalInteger",
    "LivingArea",
]
RESOLVED_REQUIRED = [
    "UnparsedAddress",
    "PropertyType",
    "LivingArea",
    "YearBuilt",
    "LotSizeSquareFeet",
    "Latitude",
    "Longitude",
]
WEIGHTS = {"completeness": 0.30, "validity": 0.30, "duplicates": 0.15, "freshness": 0.10, "agreement": 0.15}


@dataclass(frozen=True)
class QualityTargets:
    """(good, fair) thresholds of each metric — the quality targets the platform promises — and the freshness target
    (PHOENIX_FRESHNESS_TARGET_HOURS, default in settings.py)."""

    freshness_target_hours: float
    completeness: tuple[float, float] = (0.95, 0.85)
    accuracy: tuple[float, float] = (0.98, 0.90)
    duplicates: tuple[float, float] = (0.02, 0.05)
    freshness_hours: tuple[float, float] = (1.0, 2.0)
    error_rate: tuple[float, float] = (0.05, 0.10)
    area_tolerance: float = 0.05
    year_tolerance: int = 1
    lot_tolerance: float = 0.10


def _completeness(frame: pl.DataFrame, required: dict[str, pl.Expr]) -> tuple[float | None, list[dict]]:
    """`required`: field → expression true where the field is required of the row."""
    if frame.is_empty():
        return None, []
    shares, all_present = [], pl.lit(True)
    for field, needed in required.items():
        present = pl.col(field).is_not_null() | ~needed
        all_present = all_present & present
        shares.append({"field": field, "share": round(frame.select(present.mean()).item(), 4)})
    return round(frame.select(all_present.mean()).item(), 4), shares


def _within(a: pl.Expr, b: pl.Expr, relative: float | None = None, absolute: float | None = None) -> pl.Expr:
    return (a - b).abs() <= (b.abs() * relative if relative is not None else pl.lit(absolute))


def agreement(listings: pl.DataFrame, parcels: pl.DataFrame, targets: QualityTargets) -> tuple[float | None, int]:
    """Share of assessor-vs-listing comparisons within tolerance, and how many were made."""
    pairs = listings.filter(pl.col("match_method").is_in(MATCHED)).join(
        parcels.select(
            "property_id",
            pl.col("LivingArea").alias("a_area"),
            pl.col("YearBuilt").alias("a_year"),
            pl.col("LotSizeSquareFeet").alias("a_lot"),
        ),
        on="property_id",
    )
    checks = [
        (pl.col("LivingArea"), pl.col("a_area"), dict(relative=targets.area_tolerance)),
        (pl.col("YearBuilt"), pl.col("a_year"), dict(absolute=targets.year_tolerance)),
        (pl.col("LotSizeSquareFeet"), pl.col("a_lot"), dict(relative=targets.lot_tolerance)),
    ]
    made = agreed = 0
    for listing_value, assessor_value, tolerance in checks:
        both = pairs.filter(listing_value.is_not_null() & assessor_value.is_not_null())
        made += both.height
        agreed += both.filter(
            _within(listing_value.cast(pl.Float64), assessor_value.cast(pl.Float64), **tolerance)
        ).height
    return (round(agreed / made, 4) if made else None), made


def score(metrics: dict, targets: QualityTargets) -> tuple[float | None, str, list[str]]:
    if metrics["completeness"] is None:  # no record: nothing to score
        return None, "NO_DATA", ["no records"]
    parts = {
        "completeness": metrics["completeness"],
        "validity": metrics["validity"],
        "duplicates": 1 - metrics["duplicate_rate"],
        "freshness": None
        if metrics["freshness_hours"] is None
        else max(0.0, 1 - metrics["freshness_hours"] / targets.freshness_target_hours),
        "agreement": metrics["agreement"],
    }
    used = {k: v for k, v in parts.items() if v is not None}
    overall = round(sum(WEIGHTS[k] * v for k, v in used.items()) / sum(WEIGHTS[k] for k in used), 4)
    status = "EXCELLENT" if overall >= 0.95 else "GOOD" if overall >= 0.85 else "FAIR" if overall >= 0.70 else "POOR"
    issues = []
    if metrics["completeness"] < targets.completeness[1]:
        issues.append(f"completeness {metrics['completeness']:.3f} below fair {targets.completeness[1]}")
    if metrics["validity"] is not None and metrics["validity"] < targets.accuracy[1]:
        issues.append(f"validity {metrics['validity']:.3f} below fair {targets.accuracy[1]}")
    if metrics["duplicate_rate"] > targets.duplicates[1]:
        issues.append(f"duplicate rate {metrics['duplicate_rate']:.3f} above fair {targets.duplicates[1]}")
    if metrics["freshness_hours"] is not None and metrics["freshness_hours"] > targets.freshness_hours[1]:
        issues.append(f"freshness {metrics['freshness_hours']:.1f} h above fair {targets.freshness_hours[1]:g} h")
    if metrics["agreement"] is not None and metrics["agreement"] < targets.accuracy[1]:
        issues.append(f"agreement {metrics['agreement']:.3f} below fair {targets.accuracy[1]}")
    return overall, status, issues


def quality_rows(
    *,
    day: date,
    zip_code: str,
    evaluated_at: datetime,
    search: pl.DataFrame,
    parcels: pl.DataFrame,
    listing_records: pl.DataFrame,
    listings: pl.DataFrame,
    properties: pl.DataFrame,
    facts: pl.DataFrame,
    quarantined: dict[str, int],
    targets: QualityTargets,
    expected: tuple[str, ...] = (),
) -> pl.DataFrame:
    """The partition's quality rows: one per source label that was expected (configured), delivered
    records, or had records quarantined, and one for the resolved properties.
    `quarantined`: source label → records quarantined."""
    rows = []

    def add(
        source: str, frame: pl.DataFrame, required: dict, duplicates: int, offered: int, newest, extra: dict
    ) -> None:
        completeness, fields = _completeness(frame, required)
        rejected = quarantined.get(source, 0)
        validity = round(frame.height / (frame.height + rejected), 4) if frame.height + rejected else None
        hours = None if newest is None else round((evaluated_at - newest).total_seconds() / 3600, 3)
        metrics = {
            "completeness": completeness,
            "validity": validity,
            "freshness_hours": hours,
            "duplicate_rate": round(min(duplicates / offered, 1.0), 4) if offered else 0.0,
            "agreement": extra.get("agreement"),
        }
        overall, status, issues = score(metrics, targets)
        rows.append(
            {
                "date": day,
                "PostalCode": zip_code,
                "source": source,
                "records": frame.height,
                "completeness": completeness,
                "field_completeness": fields,
                "validity": validity,
                "quarantined": rejected,
                "freshness_hours": hours,
                "duplicates": duplicates,
                "duplicate_rate": metrics["duplicate_rate"],
                "agreement": None,
                "agreement_checked": 0,
                "enriched_llm": None,
                "enriched_cache": None,
                "enriched_rules": None,
                "model_validation_rate": None,
                "text_disagreements": None,
                **extra,
                "overall_score": overall,
                "status": status,
                "issues": issues,
                "evaluated_at": evaluated_at,
            }
        )

    def labelled(kind: str, delivered: pl.DataFrame) -> list[str]:
        seen = {f"{kind}:{s}" for s in delivered["source"].unique().to_list()}
        seen |= {label for label in [*expected, *quarantined] if label.startswith(f"{kind}:")}
        return [label.split(":", 1)[1] for label in sorted(seen)]

    for source in labelled("assessor", parcels):
        mine = parcels.filter(pl.col("source") == source)
        rows_seen = search.filter((pl.col("source") == source) & pl.col("ParcelNumber").is_in(mine["ParcelNumber"]))
        residential = pl.col("assessor_property_type") == "RESIDENTIAL"
        required = {f: pl.lit(True) for f in ASSESSOR_REQUIRED} | dict.fromkeys(ASSESSOR_BUILDING, residential)
        repeated = max(rows_seen.height - mine.height, 0)
        add(f"assessor:{source}", mine, required, repeated, mine.height + repeated, mine["seen_at"].max(), {})

    for source in labelled("listing", listings):
        mine = listings.filter(pl.col("source") == source)
        records = listing_records.filter(pl.col("source") == source)
        shared = mine.height - mine["property_id"].n_unique()
        agreed, made = agreement(mine, parcels, targets)
        my_facts = facts.filter(pl.col("source") == source)
        with_text = my_facts.filter(pl.col("method") != "none")

        def share(method: str, with_text: pl.DataFrame = with_text) -> float | None:
            return (
                round(with_text.filter(pl.col("method") == method).height / with_text.height, 4)
                if with_text.height
                else None
            )

        answered = with_text.filter(
            pl.col("method").is_in(["llm", "cache"])
            | pl.col("fallback_reason").str.starts_with("reply does not match").fill_null(False)
        )
        valid = answered.filter(pl.col("method").is_in(["llm", "cache"])).height
        extra = {
            "agreement": agreed,
            "agreement_checked": made,
            "enriched_llm": share("llm"),
            "enriched_cache": share("cache"),
            "enriched_rules": share("rules"),
            "model_validation_rate": round(valid / answered.height, 4) if answered.height else None,
        }
        duplicates = max(records.height - mine.height, 0) + shared
        add(
            f"listing:{source}",
            mine,
            {f: pl.lit(True) for f in LISTING_REQUIRED},
            duplicates,
            mine.height + duplicates,
            mine["fetched_at"].max(),
            extra,
        )

    same_house = properties.filter(pl.col("address_key").is_not_null()).group_by("address_key").len()
    contradicted = (
        properties.filter(pl.col("text_disagreements").list.len() > 0).height
        if "text_disagreements" in properties.columns
        else None
    )
    add(
        "resolved",
        properties,
        {f: pl.lit(True) for f in RESOLVED_REQUIRED},
        int((same_house["len"] - 1).sum()),
        properties.height,
        properties["observed_at"].max(),
        {"text_disagreements": contradicted},
    )
    return conform(pl.DataFrame(rows), QualityDaily)


def quarantined_by_source(quarantine: pl.DataFrame) -> dict[str, int]:
    """Quarantined records (columns asset, source) per quality label: `assessor:<impl>` for
    the assessor's assets, `listing:<impl>` for the listing sources'."""
    if quarantine.height == 0:
        return {}
    kind = pl.when(pl.col("asset").str.contains("assessor")).then(pl.lit("assessor:")).otherwise(pl.lit("listing:"))
    labels = quarantine.select((kind + pl.col("source")).alias("label"))
    return dict(labels.group_by("label").len().iter_rows())
