"""Intermediate layer: parcels with their latest details, listings matched to parcels, and
one resolved property per parcel, whichever sources saw it."""

from datetime import date

import dagster as dg
import polars as pl

from phoenix_dagster.graph.bookkeeping import Bookkeeping, lake_asset, upstream_assets
from phoenix_dagster.graph.zip_steps import ZipFrames, for_each_zip
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.transforms.address_match import MATCHED
from phoenix_dagster.transforms.listings import current_listings
from phoenix_dagster.transforms.resolve import assessor_parcels, match_listings, resolve_properties


@lake_asset()
def int_assessor_parcels(
    context: dg.AssetExecutionContext,
    stg_assessor__search_results: ZipFrames,
    stg_assessor__parcels: ZipFrames,
    sources: SourcesResource,
    lake: LakeResource,
) -> ZipFrames:
    """The ZIP's wanted parcels (PHOENIX_ASSESSOR_PROPERTY_TYPES), one row each, with the latest
    detail version from whichever day it was fetched (earlier days of stg_assessor__parcels
    included), and a USPS-normalised address key."""

    def resolve(books: Bookkeeping, zip_code: str, search: pl.DataFrame, staged: pl.DataFrame) -> tuple:
        day = books.day
        earlier = lake.history("stg_assessor__parcels", zip_code, before=day, with_day=True)
        versions = pl.concat(
            [v for v in (earlier, staged.with_columns(day=pl.lit(day))) if v is not None], how="diagonal_relaxed"
        )
        parcels = assessor_parcels(
            search, versions, zip_code, tuple(sources.assessor_property_types), county_fips=lake.county_of(zip_code)
        )
        return parcels, books.finish(
            rows_in=search.height + versions.height,
            rows_out=parcels.height,
            without_detail=parcels.filter(pl.col("detail_sha256").is_null()).height,
            address_fallbacks=parcels.filter(pl.col("address_parse") == "fallback").height,
        )

    return for_each_zip(context, lake, resolve, stg_assessor__search_results, stg_assessor__parcels)


def int_listings_matched_asset(listing_assets: list[str]) -> dg.AssetsDefinition:
    """int_listings_matched, reading the source fetches of `listing_assets` (each listing source's raw asset)."""

    @lake_asset(deps=[*listing_assets])
    def int_listings_matched(
        context: dg.AssetExecutionContext,
        stg_listings__listings: ZipFrames,
        int_assessor_parcels: ZipFrames,
        stg_assessor__search_results: ZipFrames,
        sources: SourcesResource,
        lake: LakeResource,
    ) -> ZipFrames:
        """Every current listing of the ZIP (its latest record) with the property it belongs to: by
        APN, else by its address in stages (exact, house number + street, scored street name)
        against every county search row of the ZIP; two parcels that fit are recorded as
        ambiguous with both, never guessed; what matches nothing is flagged unmatched_listing.
        Incremental sources' listings, and those of a complete source whose fetch was cut short
        today (see its source_fetches), carry over from earlier days of stg_listings__listings
        until they change."""

        def match(books: Bookkeeping, zip_code: str, staged, parcels, search) -> tuple[pl.DataFrame, dict]:
            day = books.day
            fetches = lake.current_bookkeeping("source_fetches", day, zip_code, upstream_assets(context))
            seen_whole = set(fetches.filter(pl.col("complete"))["source"].to_list()) if fetches.height else set()
            listings = current_listings(
                staged,
                lake.history("stg_listings__listings", zip_code, before=day),
                complete_sources=sources.complete_listing_sources() & seen_whole,
            )
            matched = match_listings(
                listings,
                parcels,
                search,
                zip_code=zip_code,
                county_fips=lake.county_of(zip_code),
                observed_date=date.fromisoformat(day),
            )
            rates = {
                f"match_{source}_{method}": n
                for source, method, n in matched.group_by("source", "match_method")
                .len()
                .sort("source", "match_method")
                .iter_rows()
            }
            return matched, books.finish(
                rows_in=listings.height,
                rows_out=matched.height,
                **rates,
                match_rate=round(
                    matched.filter(pl.col("match_method").is_in(MATCHED)).height / max(matched.height, 1), 4
                ),
                address_fallbacks=matched.filter(pl.col("address_parse") == "fallback").height,
            )

        return for_each_zip(
            context, lake, match, stg_listings__listings, int_assessor_parcels, stg_assessor__search_results
        )

    return int_listings_matched


@lake_asset()
def int_properties_resolved(
    context: dg.AssetExecutionContext,
    int_assessor_parcels: ZipFrames,
    int_listings_matched: ZipFrames,
    lake: LakeResource,
) -> ZipFrames:
    """One row per property in the ZIP: each parcel with its most recently modified listing,
    and each unmatched listing as its own property."""

    def resolve(books: Bookkeeping, zip_code: str, parcels: pl.DataFrame, listings: pl.DataFrame) -> tuple:
        resolved = resolve_properties(
            parcels,
            listings,
            zip_code=zip_code,
            county_fips=lake.county_of(zip_code),
            observed_date=date.fromisoformat(books.day),
        )
        matches = dict(resolved.group_by("match_method").len().iter_rows())
        return resolved, books.finish(
            rows_in=parcels.height + listings.height,
            rows_out=resolved.height,
            **{f"match_{method}": n for method, n in sorted(matches.items())},
        )

    return for_each_zip(context, lake, resolve, int_assessor_parcels, int_listings_matched)
