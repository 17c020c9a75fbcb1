"""Raw layer: source payloads landed unchanged, before anything parses them."""

import dagster as dg
import polars as pl

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip, partition_start_utc
from phoenix_dagster.resources.sources import SourcesResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.raw import RawPayloads
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import payloads_frame

RAW = dict(group_name="raw", partitions_def=ZIP_DAY_PARTITIONS, metadata={"dagster/column_schema": column_docs(RawPayloads)})


@dg.asset(**RAW, kinds={"parquet"})
def raw_assessor_payloads(context: dg.AssetExecutionContext, sources: SourcesResource,
                          warehouse: WarehouseResource) -> pl.DataFrame:
    """Every assessor reply for the ZIP: search pages (all rows, every type) and one
    /parcel/{apn} detail per residential parcel, bodies exactly as received."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    api = sources.assessor_api(partition_start_utc(day))
    crawl = crawl_zip(api, zip_code, tuple(sources.assessor_property_types))
    payloads = payloads_frame(crawl.payloads)
    context.add_output_metadata(run.finish(
        rows_in=0, rows_out=payloads.height, source=api.name, search_rows_seen=crawl.search_rows_seen,
        parcels_wanted=len(crawl.apns_wanted), unreadable_search_pages=len(crawl.unreadable_pages),
    ))
    return payloads


@dg.asset(**RAW, kinds={"parquet"})
def raw_listing_payloads(context: dg.AssetExecutionContext, sources: SourcesResource,
                         warehouse: WarehouseResource) -> pl.DataFrame:
    """Every listing page the configured listing sources returned for the ZIP, unchanged."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    payloads = payloads_frame(
        payload for source in sources.listing_sources(partition_start_utc(day)) for payload in source.fetch(zip_code)
    )
    context.add_output_metadata(run.finish(rows_in=0, rows_out=payloads.height, sources=", ".join(sources.listings)))
    return payloads
