"""Raw layer: source payloads landed unchanged, before anything parses them."""

from datetime import datetime, timezone
from functools import partial

import dagster as dg
import polars as pl

from phoenix_dagster.partitions import ZIP_DAY_PARTITIONS, date_and_zip, partition_start_utc
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.sources import SourcesResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.run_log import AssetRun
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.raw import RawPayloads
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import payloads_frame, request_summary
from phoenix_dagster.transforms.assessor import parcels_to_fetch
from phoenix_dagster.transforms.payloads import REJECT_SCHEMA
from phoenix_dagster.tuning.metrics import as_metadata, from_requests
from phoenix_dagster.tuning.state import current_setting

RAW = dict(group_name="raw", partitions_def=ZIP_DAY_PARTITIONS, kinds={"parquet"},
           metadata={"dagster/column_schema": column_docs(RawPayloads)})


class AssessorCollection(dg.Config):
    full_refresh: bool = False  # fetch every parcel's detail, however recent its last fetch


def _log_requests(context: dg.AssetExecutionContext, warehouse: WarehouseResource, source: str, api) -> dict:
    """Append the source's request summary to ops.source_requests (with a ``proxy`` row for
    traffic that went through proxies); return run totals."""
    summary = request_summary(api.records)
    proxied = getattr(api, "proxy_bytes", 0)
    if proxied:
        summary = pl.concat([summary, pl.DataFrame([{"endpoint": "proxy", "outcome": "ok", "status": None, "requests": 0,
                                                     "retries": 0, "bytes": proxied, "seconds": 0.0,
                                                     "rate_limit_wait_s": 0.0}], schema=summary.schema)])
    warehouse.append_rows("ops.source_requests", summary.with_columns(
        pl.lit(context.run.run_id).alias("run_id"), pl.lit(context.partition_key).alias("partition"),
        pl.lit(source).alias("source"), pl.lit(datetime.now(timezone.utc)).alias("recorded_at")))
    by_outcome = dict(summary.group_by("outcome").agg(pl.col("requests").sum()).iter_rows())
    return {"requests": int(summary["requests"].sum()), "retries": int(summary["retries"].sum()),
            "rate_limited": int(by_outcome.get("rate_limited", 0)), "bytes_received": int(summary["bytes"].sum()),
            "rate_limit_wait_s": round(float(summary["rate_limit_wait_s"].sum()), 3)}


@dg.asset(**RAW)
def raw_assessor_payloads(context: dg.AssetExecutionContext, config: AssessorCollection, sources: SourcesResource,
                          lake: LakeResource, warehouse: WarehouseResource) -> pl.DataFrame:
    """Every assessor reply for the ZIP: all search pages (every row, every type), then one
    /parcel/{apn} detail for each wanted parcel that is new, last failed, or was last fetched
    more than MARICOPA_REFRESH_DAYS ago (every one on a full refresh). Bodies exactly as received;
    requests that got no reply go to ops.quarantine."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    as_of = partition_start_utc(day)
    api = sources.assessor_api(replay_time=as_of)
    earlier_fetches = lake.history("raw_assessor_payloads", zip_code, before=day,
                                   columns=["entity", "record_key", "http_status", "fetched_at", "sha256"])
    plan = partial(
        parcels_to_fetch,
        fetch_history=None if earlier_fetches is None else earlier_fetches.filter(pl.col("entity") == "parcel"),
        version_history=lake.history("stg_assessor__parcels", zip_code, before=day,
                                     columns=["ParcelNumber", "payload_sha256"]),
        as_of=as_of, refresh_days=sources.refresh_days, full_refresh=config.full_refresh,
    )
    batch, concurrency, origin = current_setting(warehouse, "collection:assessor",
                                                 pinned_concurrency=sources.concurrency)
    try:
        crawl = crawl_zip(api, zip_code, tuple(sources.assessor_property_types), plan=plan, concurrency=concurrency)
    except RuntimeError as exc:  # the token was refused, or the ZIP could not be enumerated
        raise dg.Failure(str(exc), metadata=_log_requests(context, warehouse, api.name, api)) from None
    finally:
        api.close()
    requests = _log_requests(context, warehouse, api.name, api)
    payloads = payloads_frame(crawl.payloads)
    quarantined = run.quarantine(pl.DataFrame(
        [{"source": api.name, "record_key": f.record_key, "reason": f"{f.request}: {f.reason}", "raw_record": ""}
         for f in crawl.failures],
        schema=REJECT_SCHEMA))
    collected = payloads.filter((pl.col("entity") == "parcel") & (pl.col("http_status") == 200)).height
    context.add_output_metadata(run.finish(
        rows_in=0, rows_out=payloads.height, rows_quarantined=quarantined, source=api.name,
        search_rows_seen=crawl.search_rows_seen, parcels_wanted=len(crawl.apns_wanted),
        parcels_requested=len(crawl.apns_fetched), parcels_collected=collected,
        unreadable_search_pages=len(crawl.unreadable_pages), full_refresh=config.full_refresh,
        requests_per_parcel=round(requests["requests"] / max(collected, 1), 4), concurrency=concurrency,
        tuning=origin, **requests,
    ) | as_metadata(from_requests("collection:assessor", api.records, duration_s=run.elapsed_s, batch_size=batch,
                                  concurrency=concurrency, cpu_pct=run.cpu_pct(), peak_rss_mb=run.peak_rss_mb())))
    return payloads


@dg.asset(**RAW)
def raw_listing_payloads(context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource,
                         warehouse: WarehouseResource) -> pl.DataFrame:
    """Every page or file the configured listing sources returned for the ZIP, unchanged:
    RESO JSON pages (since the last ModificationTimestamp staged), MLS search and detail
    pages, CSV exports taken from the inbox. What could not be fetched goes to ops.quarantine."""
    run = AssetRun(context, warehouse)
    day, zip_code = date_and_zip(context)
    earlier = lake.history("stg_listings__listings", zip_code, before=day, columns=["source", "ModificationTimestamp"])
    payloads, failures, metadata, records = [], [], {}, []
    for source in sources.listing_sources(replay_time=partition_start_utc(day), day=day):
        since = None
        if earlier is not None and not source.complete:
            since = earlier.filter(pl.col("source") == source.name)["ModificationTimestamp"].max()
        try:
            fetched = source.fetch(zip_code, since=since)
        except RuntimeError as exc:  # a refused token: this run cannot be complete
            raise dg.Failure(f"{source.name}: {exc}", metadata=_log_requests(context, warehouse, source.name,
                                                                             source)) from None
        finally:
            getattr(source, "close", lambda: None)()
        requests = _log_requests(context, warehouse, source.name, source)
        records += source.records
        payloads += fetched.payloads
        failures += [{"source": source.name, "record_key": f.record_key, "reason": f"{f.request}: {f.reason}",
                      "raw_record": ""} for f in fetched.failures]
        metadata[f"{source.name}_payloads"] = len(fetched.payloads)
        metadata[f"{source.name}_requests"] = requests["requests"]
        if since is not None:
            metadata[f"{source.name}_since"] = since.isoformat()
    quarantined = run.quarantine(pl.DataFrame(failures, schema=REJECT_SCHEMA))
    frame = payloads_frame(payloads)
    context.add_output_metadata(run.finish(rows_in=0, rows_out=frame.height, rows_quarantined=quarantined,
                                           sources=", ".join(sources.listings), **metadata)
                                | as_metadata(from_requests("collection:listings", records, duration_s=run.elapsed_s,
                                                            batch_size=None, concurrency=1, cpu_pct=run.cpu_pct(),
                                                            peak_rss_mb=run.peak_rss_mb())))
    return frame
