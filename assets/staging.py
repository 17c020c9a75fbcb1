"""Staging layer: decode and type each source entity; rejects are quarantined."""

import dagster as dg
import polars as pl

from assets.raw import listing_asset_name
from phoenix_dagster.graph.bookkeeping import Bookkeeping, lake_asset
from phoenix_dagster.graph.partitions import date_and_zip
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
    context: dg.AssetExecutionContext, raw_assessor_payloads: pl.DataFrame, sources: SourcesResource, lake: LakeResource
) -> pl.DataFrame:
    """One row per search result row the county returned (every type and ZIP, duplicates kept)."""
    with Bookkeeping(context, lake) as books:
        _, zip_code = date_and_zip(context)
        pages = raw_assessor_payloads.filter(pl.col("entity") == "search_page")
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
        context.add_output_metadata(books.finish(rows_in=pages.height, rows_out=staged.height))
        return staged


@lake_asset(records=LEDGERED)
def stg_assessor__parcels(
    context: dg.AssetExecutionContext, raw_assessor_payloads: pl.DataFrame, lake: LakeResource
) -> pl.DataFrame:
    """New versions of parcel details: one row per detail that parsed and whose body differs
    from the latest earlier version of that parcel. Malformed or truncated bodies are quarantined
    (and fetched again next run); "no such parcel" replies are counted."""
    with Bookkeeping(context, lake) as books:
        day, zip_code = date_and_zip(context)
        details = raw_assessor_payloads.filter(pl.col("entity") == "parcel")
        decoded, not_found, unreadable = decode_json_bodies(details)
        parsed, rejected = stage_parcels(decoded)
        versions = new_versions(
            parsed,
            lake.history(
                "stg_assessor__parcels",
                zip_code,
                before=day,
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
                sources=raw_assessor_payloads["source"].unique().to_list(),
            ),
        )
        context.add_output_metadata(
            books.finish(
                rows_in=details.height,
                rows_out=versions.height,
                parcels_not_found=not_found.height,
                unchanged_payloads=parsed.height - versions.height,
            )
        )
        return versions


def stg_listings_asset(listing_sources: list[str]) -> dg.AssetsDefinition:
    """stg_listings__listings over the raw asset of each configured listing source."""
    ins = {f"raw_{source}": dg.AssetIn(listing_asset_name(source)) for source in listing_sources}

    @lake_asset(records=LEDGERED, ins=ins)
    def stg_listings__listings(
        context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource, **raw_payloads: pl.DataFrame
    ) -> pl.DataFrame:
        """One row per listing record (RESO names, statuses mapped to StandardStatus), from every
        configured listing source: RESO JSON pages, Redfin CSV exports and MLS detail pages."""
        with Bookkeeping(context, lake) as books:
            _, zip_code = date_and_zip(context)
            raw = pl.concat(list(raw_payloads.values()))
            decoded, _, unreadable = decode_json_bodies(raw)
            records, unreadable_formats = listing_records(decoded, sources.mls_selectors())
            staged, rejected, out_of_scope = stage_listings(records, zip_code)
            quarantined = pl.concat([unreadable, unreadable_formats, rejected])
            books.quarantine(quarantined)
            books.record(
                "record_ledger", listing_ledger(raw, staged=staged, quarantined=quarantined, out_of_scope=out_of_scope)
            )
            context.add_output_metadata(
                books.finish(rows_in=records.height, rows_out=staged.height, other_zip_records=out_of_scope.height)
            )
            return staged

    return stg_listings__listings
