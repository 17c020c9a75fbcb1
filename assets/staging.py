"""Staging layer: decode and type each source entity; rejects are quarantined."""

import dagster as dg
import polars as pl

from assets.raw import listing_asset_name
from phoenix_dagster.graph.bookkeeping import Bookkeeping, lake_asset
from phoenix_dagster.graph.zip_steps import ZipFrames, for_each_zip
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.transforms.assessor import new_versions, stage_parcels, stage_search_results
from phoenix_dagster.transforms.ledger import listing_ledger, parcel_ledger, search_ledger
from phoenix_dagster.transforms.listing_formats import listing_records
from phoenix_dagster.transforms.listings import stage_listings
from phoenix_dagster.transforms.payloads import decode_json_bodies

LEDGERED = ("quarantine", "record_ledger")  # every staging asset accounts for each record offered


@lake_asset(records=LEDGERED)
def stg_assessor__search_results(
    context: dg.AssetExecutionContext, raw_assessor_payloads: ZipFrames, sources: SourcesResource, lake: LakeResource
) -> ZipFrames:
    """One row per search result row the county returned (every type and ZIP, duplicates kept)."""

    def stage(books: Bookkeeping, zip_code: str, raw: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
        pages = raw.filter(pl.col("entity") == "search_page")
        decoded, _, unreadable = decode_json_bodies(pages)
        staged, rejected = stage_search_results(decoded)
        books.quarantine(pl.concat([unreadable, rejected]))
        books.record(
            "record_ledger",
            search_ledger(
                pages,
                staged,
                rejected,
                unreadable,
                zip_code=zip_code,
                wanted_types=tuple(sources.assessor_property_types),
            ),
        )
        return staged, books.finish(rows_in=pages.height, rows_out=staged.height)

    return for_each_zip(context, lake, stage, raw_assessor_payloads)


@lake_asset(records=LEDGERED)
def stg_assessor__parcels(
    context: dg.AssetExecutionContext, raw_assessor_payloads: ZipFrames, lake: LakeResource
) -> ZipFrames:
    """New versions of parcel details: one row per detail that parsed and whose body differs
    from the latest earlier version of that parcel. Malformed or truncated bodies are quarantined
    (and fetched again next run); "no such parcel" replies are counted."""

    def stage(books: Bookkeeping, zip_code: str, raw: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
        details = raw.filter(pl.col("entity") == "parcel")
        decoded, not_found, unreadable = decode_json_bodies(details)
        parsed, rejected = stage_parcels(decoded)
        versions = new_versions(
            parsed,
            lake.history(
                "stg_assessor__parcels",
                zip_code,
                before=books.day,
                with_day=True,
                columns=["ParcelNumber", "payload_sha256", "fetched_at"],
            ),
        )
        books.quarantine(pl.concat([unreadable, rejected]))
        books.record(
            "record_ledger",
            parcel_ledger(
                details,
                staged=versions,
                parsed=parsed,
                not_found=not_found,
                quarantined=pl.concat([unreadable, rejected]),
                sources=raw["source"].unique().to_list(),
            ),
        )
        return versions, books.finish(
            rows_in=details.height,
            rows_out=versions.height,
            parcels_not_found=not_found.height,
            unchanged_payloads=parsed.height - versions.height,
        )

    return for_each_zip(context, lake, stage, raw_assessor_payloads)


def stg_listings_asset(listing_sources: list[str]) -> dg.AssetsDefinition:
    """stg_listings__listings over the raw asset of each configured listing source."""
    ins = {f"raw_{source}": dg.AssetIn(listing_asset_name(source)) for source in listing_sources}

    @lake_asset(records=LEDGERED, ins=ins)
    def stg_listings__listings(
        context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource, **raw_payloads: ZipFrames
    ) -> ZipFrames:
        """One row per listing record (RESO names, statuses mapped to StandardStatus), from every
        configured listing source: RESO JSON pages, Redfin CSV exports and MLS detail pages."""

        def stage(books: Bookkeeping, zip_code: str, *per_source: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
            raw = pl.concat(per_source)
            decoded, _, unreadable = decode_json_bodies(raw)
            records, unreadable_formats = listing_records(decoded, sources.mls_selectors())
            staged, rejected, out_of_scope = stage_listings(records, zip_code)
            quarantined = pl.concat([unreadable, unreadable_formats, rejected])
            books.quarantine(quarantined)
            books.record(
                "record_ledger", listing_ledger(raw, staged=staged, quarantined=quarantined, out_of_scope=out_of_scope)
            )
            return staged, books.finish(
                rows_in=records.height, rows_out=staged.height, other_zip_records=out_of_scope.height
            )

        return for_each_zip(context, lake, stage, *raw_payloads.values())

    return stg_listings__listings
