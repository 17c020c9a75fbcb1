"""Partition rollups: what a county × day's run produced for each of its ZIPs, measured from the data and from the
bookkeeping of the assets it declares as its inputs, written to the lake like every layer."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from phoenix_dagster.graph.bookkeeping import Bookkeeping, lake_asset, upstream_assets
from phoenix_dagster.graph.zip_steps import ZipFrames, for_each_zip
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.quality_targets import QualityTargetsResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.schemas import conform, empty_frame
from phoenix_dagster.schemas.ops import RunMetrics
from phoenix_dagster.transforms.quality import quality_rows, quarantined_by_source


def quality_daily_asset(listing_assets: list[str]) -> dg.AssetsDefinition:
    """quality_daily, reading the quarantine of its upstream assets, `listing_assets` included."""

    @lake_asset(deps=["raw_assessor_payloads", *listing_assets, "stg_assessor__parcels"])
    def quality_daily(
        context: dg.AssetExecutionContext,
        stg_assessor__search_results: ZipFrames,
        int_assessor_parcels: ZipFrames,
        stg_listings__listings: ZipFrames,
        int_listings_matched: ZipFrames,
        enriched_properties: ZipFrames,
        listing_text_facts: ZipFrames,
        quality_targets: QualityTargetsResource,
        sources: SourcesResource,
        lake: LakeResource,
    ) -> ZipFrames:
        """Completeness, validity, freshness, duplicates, cross-source agreement and enrichment per
        source for the partition, with an overall score and status (validity counts the records
        its upstream assets quarantined)."""

        def score(books: Bookkeeping, zip_code: str, search, parcels, records, listings, properties, facts) -> tuple:
            quarantine = lake.current_bookkeeping("quarantine", books.day, zip_code, upstream_assets(context))
            rows = quality_rows(
                day=date.fromisoformat(books.day),
                zip_code=zip_code,
                evaluated_at=datetime.now(UTC),
                search=search,
                parcels=parcels,
                listing_records=records,
                listings=listings,
                properties=properties,
                facts=facts,
                quarantined=quarantined_by_source(quarantine),
                targets=quality_targets.targets(),
                expected=sources.quality_labels(),
            )
            scores = {f"score_{r['source']}": r["overall_score"] for r in rows.iter_rows(named=True)}
            statuses = {f"status_{r['source']}": r["status"] for r in rows.iter_rows(named=True)}
            return rows, books.finish(rows_in=properties.height, rows_out=rows.height, **scores, **statuses)

        return for_each_zip(
            context,
            lake,
            score,
            stg_assessor__search_results,
            int_assessor_parcels,
            stg_listings__listings,
            int_listings_matched,
            enriched_properties,
            listing_text_facts,
        )

    return quality_daily


def run_metrics_asset(listing_assets: list[str]) -> dg.AssetsDefinition:
    """run_metrics, reading the stage metrics of its upstream assets, `listing_assets` included."""

    @lake_asset(deps=["raw_assessor_payloads", *listing_assets, "listing_text_facts"])
    def run_metrics(context: dg.AssetExecutionContext, lake: LakeResource) -> ZipFrames:
        """Per stage of the partition's latest collection and enrichment (whichever runs made them):
        items, duration, throughput, p50/p95 latency, error and retry rates, 429s, timeouts, CPU,
        peak memory, and the batch size and concurrency used. Each materialization carries the rows
        in its metadata, each naming the run that measured it; the tuning sensor reads every one."""

        def gather(books: Bookkeeping, zip_code: str) -> tuple[pl.DataFrame, dict]:
            measured = lake.current_bookkeeping("stage_metrics", books.day, zip_code, upstream_assets(context))
            rows = conform(measured, RunMetrics) if measured.height else empty_frame(RunMetrics)
            stages = [
                {k: v for k, v in row.items() if k not in ("asset", "partition", "recorded_at")}
                for row in rows.iter_rows(named=True)
            ]
            return rows, books.finish(rows_in=measured.height, rows_out=rows.height) | {
                "stages": dg.MetadataValue.json(stages)
            }

        return for_each_zip(context, lake, gather)

    return run_metrics
