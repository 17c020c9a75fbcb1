"""Raw layer: source payloads landed unchanged, before anything parses them.

The steps that call outside services sit in Dagster concurrency pools (phoenix_dagster/pools.py):
one county collection and one listing collection at a time across every run, by default."""

from functools import partial

import dagster as dg
import polars as pl

from phoenix_dagster.bookkeeping import Bookkeeping, lake_asset
from phoenix_dagster.partitions import date_and_zip, partition_start_utc
from phoenix_dagster.pools import LISTING_POOL, MARICOPA_POOL
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.run_worker import RunWorkerResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import payloads_frame
from phoenix_dagster.transforms.assessor import parcels_to_fetch
from phoenix_dagster.transforms.payloads import fetch_failures_frame
from phoenix_dagster.tuning.metrics import from_requests

COLLECTION_RECORDS = ("quarantine", "source_requests", "usage", "stage_metrics")
LISTING_RECORDS = (*COLLECTION_RECORDS, "source_fetches")


class AssessorCollection(dg.Config):
    full_refresh: bool = False  # fetch every parcel's detail, however recent its last fetch


@lake_asset(records=COLLECTION_RECORDS, kinds=("parquet",), pool=MARICOPA_POOL)
def raw_assessor_payloads(context: dg.AssetExecutionContext, config: AssessorCollection, sources: SourcesResource,
                          control_state: ControlStateResource, lake: LakeResource,
                          run_worker: RunWorkerResource) -> pl.DataFrame:  # run_worker: pool slots of dead runs freed
    """Every assessor reply for the ZIP: all search pages (every row, every type), then one
    /parcel/{apn} detail for each wanted parcel that is new, last failed, or was last fetched
    more than MARICOPA_REFRESH_DAYS ago (every one on a full refresh). Bodies exactly as received;
    requests that got no reply are quarantined."""
    books = Bookkeeping(context, lake)
    day, zip_code = date_and_zip(context)
    as_of = partition_start_utc(day)
    api = sources.assessor_api(replay_time=as_of)
    plan = partial(parcels_to_fetch, fetch_history=control_state.parcel_fetches(zip_code, before=day),
                   version_history=control_state.parcel_versions(zip_code, before=day), as_of=as_of,
                   refresh_days=sources.refresh_days, full_refresh=config.full_refresh)
    setting = control_state.tuning_setting("collection:assessor", pinned_concurrency=sources.concurrency)
    try:
        crawl = crawl_zip(api, zip_code, tuple(sources.assessor_property_types), plan=plan,
                          concurrency=setting.concurrency, max_rows=sources.max_search_rows)
    except RuntimeError as exc:  # the token was refused, or the ZIP could not be enumerated
        raise books.failure(str(exc), **books.requests(api.name, api)) from None
    finally:
        api.close()
    requests = books.requests(api.name, api)
    payloads = payloads_frame(crawl.payloads)
    books.quarantine(fetch_failures_frame(api.name, crawl.failures))
    collected = payloads.filter((pl.col("entity") == "parcel") & (pl.col("http_status") == 200)).height
    metrics = books.stage_metrics(from_requests(
        "collection:assessor", api.records, duration_s=books.elapsed_s, batch_size=setting.batch_size,
        concurrency=setting.concurrency, cpu_pct=books.cpu_pct(), peak_rss_mb=books.peak_rss_mb()))
    context.add_output_metadata(books.finish(
        rows_in=0, rows_out=payloads.height, source=api.name, search_rows_seen=crawl.search_rows_seen,
        parcels_wanted=len(crawl.apns_wanted), parcels_requested=len(crawl.apns_fetched), parcels_collected=collected,
        unreadable_search_pages=len(crawl.unreadable_pages), full_refresh=config.full_refresh,
        requests_per_parcel=round(requests["requests"] / max(collected, 1), 4), concurrency=setting.concurrency,
        tuning=setting.origin, **requests) | metrics)
    return payloads


@lake_asset(records=LISTING_RECORDS, kinds=("parquet",), pool=LISTING_POOL)
def raw_listing_payloads(context: dg.AssetExecutionContext, sources: SourcesResource,
                         control_state: ControlStateResource, lake: LakeResource,
                         run_worker: RunWorkerResource) -> pl.DataFrame:  # run_worker: pool slots of dead runs freed
    """Every page or file the configured listing sources returned for the ZIP, unchanged:
    RESO JSON pages (since the last ModificationTimestamp staged), MLS search and detail
    pages, CSV exports taken from the inbox. What could not be fetched is quarantined."""
    books = Bookkeeping(context, lake)
    day, zip_code = date_and_zip(context)
    payloads, failures, metadata, records = [], [], {}, []
    for source in sources.listing_sources(replay_time=partition_start_utc(day), day=day):
        since = None if source.complete else control_state.listing_high_water(zip_code, before=day, source=source.name)
        try:
            fetched = source.fetch(zip_code, since=since)
        except RuntimeError as exc:  # a refused token: this run cannot be complete
            raise books.failure(f"{source.name}: {exc}", **books.requests(source.name, source)) from None
        finally:
            getattr(source, "close", lambda: None)()
        requests = books.requests(source.name, source)
        records += source.records
        payloads += fetched.payloads
        failures.append(fetch_failures_frame(source.name, fetched.failures))
        books.record("source_fetches", pl.DataFrame([{
            "source": source.name, "complete": source.complete and fetched.cut_short is None,
            "payloads": len(fetched.payloads), "failures": len(fetched.failures), "cut_short": fetched.cut_short}]))
        if fetched.cut_short:
            context.log.warning(f"{source.name}: {fetched.cut_short}; its earlier listings are kept")
        metadata[f"{source.name}_payloads"] = len(fetched.payloads)
        metadata[f"{source.name}_requests"] = requests["requests"]
        if since is not None:
            metadata[f"{source.name}_since"] = since.isoformat()
    books.quarantine(pl.concat(failures) if failures else fetch_failures_frame("", []))
    frame = payloads_frame(payloads)
    metrics = books.stage_metrics(from_requests(
        "collection:listings", records, duration_s=books.elapsed_s, batch_size=None, concurrency=1,
        cpu_pct=books.cpu_pct(), peak_rss_mb=books.peak_rss_mb()))
    context.add_output_metadata(books.finish(rows_in=0, rows_out=frame.height, sources=", ".join(sources.listings),
                                             **metadata) | metrics)
    return frame
