"""Raw layer: source payloads landed unchanged, before anything parses them.

The steps that call outside services sit in Dagster concurrency pools (phoenix_dagster/graph/pools.py):
one county collection, and one collection per listing source, at a time across every run, by
default. Both start after `service_preflight` (assets/health.py) has found the services they use
answering. Each configured listing source is an asset of its own (`raw_listing_payloads__<source>`),
built by `raw_listing_payloads_asset` when the definitions are assembled."""

from datetime import date, timedelta
from functools import partial

import dagster as dg
import polars as pl

from phoenix_dagster.graph.bookkeeping import Bookkeeping, lake_asset
from phoenix_dagster.graph.partitions import partition_timezone
from phoenix_dagster.graph.zip_steps import ZipFrames, partition_zips, zip_metadata
from phoenix_dagster.markets.market import day_start_utc
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import CollectionFailed, SourceUnavailable, payloads_frame
from phoenix_dagster.sources.registry import SourceDescriptor
from phoenix_dagster.transforms.assessor import parcels_to_fetch
from phoenix_dagster.transforms.payloads import fetch_failures_frame
from phoenix_dagster.tuning.metrics import from_requests
from phoenix_dagster.warehouse.model_metadata import markdown_table

COLLECTION_RECORDS = ("quarantine", "source_requests", "usage", "stage_metrics")
LISTING_RECORDS = (*COLLECTION_RECORDS, "source_fetches")
# What a collection step uses besides its source's own resource (run_worker: frees the pool slots of dead runs).
COLLECTION_RESOURCES = ("sources", "control_state", "lake", "run_worker")
PREFLIGHT = "service_preflight"  # assets/health.py: the run's services probed before any collection


class AssessorCollection(dg.Config):
    full_refresh: bool = False  # fetch every parcel's detail, however recent its last fetch


def collect_assessor_payloads(
    context: dg.AssetExecutionContext,
    source: SourceDescriptor,
    config: AssessorCollection,
    sources: SourcesResource,
    control_state: ControlStateResource,
    lake: LakeResource,
) -> ZipFrames:
    """Every assessor reply for each ZIP of the partition's county (or of the run's phoenix/zips):
    all search pages (every row, every type), then one /parcel/{apn} detail for each wanted parcel
    that is new, last failed, on its own day of the MARICOPA_REFRESH_DAYS window, or last fetched
    that long ago (every one on a full refresh). Bodies exactly as received, landed in parts as they
    arrive; a collection of the ZIP's day killed before it ended is resumed from what it landed,
    without asking the county again. Requests that got no reply are quarantined. A ZIP the county
    cannot enumerate fails alone (its zips_collected check names it; the county's other ZIPs go on);
    a refused token or a lost rate-limit store stops the step."""
    return collect_each_zip(
        context,
        lake,
        lambda books, zip_code: _collect_zip(context, books, source, config, sources, control_state, lake, zip_code),
    )


def collect_each_zip(context, lake: LakeResource, collect_one, source_label: str | None = None) -> ZipFrames:
    """`collect_one(books, zip_code)` → (the ZIP's landed collection, its metadata), for each ZIP of
    the run, each with its own bookkeeping. A ZIP whose collection fails (CollectionFailed) fails
    alone and is named; a source that cannot collect at all (SourceUnavailable) stops the step.
    `source_label` prefixes the reasons (a listing source's name)."""
    where = partition_zips(context, lake)
    collected, failed, metadata = ZipFrames(), {}, {}
    for zip_code in where.zips:
        with Bookkeeping(context, lake, zip_code=zip_code) as books:
            try:
                collected[zip_code], metadata[zip_code] = collect_one(books, zip_code)
            except SourceUnavailable as exc:
                where_it_was = f"{source_label}: {zip_code}" if source_label else zip_code
                raise dg.Failure(f"{where_it_was}: {exc}") from None
            except CollectionFailed as exc:
                failed[zip_code] = f"{source_label}: {exc}" if source_label else str(exc)
                context.log.error(f"{zip_code}: {failed[zip_code]}")
    return _collected_or_failure(context, where, collected, failed, metadata)


def _collected_or_failure(context, where, collected: ZipFrames, failed: dict, metadata: dict) -> ZipFrames:
    """The ZIPs collected, with the failed ones named in the metadata; a Failure when none was."""
    named = {
        "zips_failed": dg.MetadataValue.md(
            markdown_table(pl.DataFrame({"zip": list(failed), "reason": list(failed.values())}))
        ),
        "rerun_failed_zips": f"phoenix-estate run --date {where.day} --zip {' '.join(failed)}",
    }
    if failed and not collected:
        raise dg.Failure("no ZIP collected: " + "; ".join(f"{z}: {why}" for z, why in failed.items()), metadata=named)
    context.add_output_metadata(zip_metadata(metadata) | (named if failed else {}))
    return collected


RUN_LINEAGE_TAGS = ("dagster/parent_run_id", "dagster/root_run_id")  # set by Dagster on a re-execution


def _collected_earlier_in_lineage(context, lake: LakeResource, day: str, zip_code: str):
    """A re-execution of a run (the UI's "Re-execute → From failure") does not ask the county again
    for a ZIP its parent or root run finished collecting: that collection is landed again as this
    run's, from the lake. None when there is none (a new run, or the ZIP was not finished)."""
    asset = context.asset_key.path[-1]
    for earlier in dict.fromkeys(context.run.tags.get(tag) for tag in RUN_LINEAGE_TAGS):
        if earlier and lake.made_by(asset, day, zip_code, earlier):
            landed = lake.land(lake.read(asset, day, zip_code, run_id=earlier), asset, day, zip_code, context.run_id)
            context.log.info(f"{zip_code}: the collection of run {earlier[:8]} is taken again, not asked for")
            return landed, earlier
    return None


def _collect_zip(context, books, source, config, sources, control_state, lake, zip_code) -> tuple:
    """One ZIP's collection (collect_assessor_payloads): its landed replies and its metadata."""
    day = books.day
    reused = _collected_earlier_in_lineage(context, lake, day, zip_code)
    if reused is not None:
        landed, earlier = reused
        return landed, books.finish(rows_in=0, rows_out=landed.replies, collection_taken_from_run=earlier)
    as_of = day_start_utc(day, partition_timezone(context))
    api = getattr(context.resources, source.resource_key).open(replay_time=as_of, day=day)
    # Requests of partition days before the refresh window cannot keep a parcel waiting: read only the window's.
    since = (date.fromisoformat(day) - timedelta(days=sources.refresh_days + 1)).isoformat()
    plan = partial(
        parcels_to_fetch,
        fetch_history=control_state.parcel_fetches(zip_code, before=day, since=since),
        version_history=control_state.parcel_versions(zip_code, before=day),
        as_of=as_of,
        refresh_days=sources.refresh_days,
        full_refresh=config.full_refresh,
    )
    setting = control_state.tuning_setting("collection:assessor", pinned_concurrency=sources.concurrency)
    # Replies land in parts as they arrive; those of a collection of the ZIP's day that did not end are taken.
    landing = lake.landing(context.asset_key.path[-1], day, zip_code, context.run_id)
    try:
        crawl = crawl_zip(
            api,
            zip_code,
            tuple(sources.assessor_property_types),
            plan=plan,
            concurrency=setting.concurrency,
            max_rows=sources.max_search_rows,
            landing=landing,
        )
    except CollectionFailed as exc:  # a refused token, a ZIP that cannot be enumerated, the limiter's store gone
        # what was fetched is landed; the next run takes it, unless it is what the ZIP failed on
        landing.abandon(refused=None if isinstance(exc, SourceUnavailable) else str(exc))
        books.failure(str(exc), **books.requests(api.name, api.request_summary()))
        raise
    except BaseException:  # anything else (a bug, an interrupt) fails as it is, its requests still recorded
        landing.abandon()
        books.requests(api.name, api.request_summary())
        raise
    finally:
        api.close()
    requests = books.requests(api.name, api.request_summary())
    books.quarantine(fetch_failures_frame(api.name, crawl.failures))
    # Counted from the replies, not a frame of them: their bodies are in the lake already.
    collected = sum(1 for p in crawl.payloads if p.entity == "parcel" and p.http_status == 200)
    metrics = books.stage_metrics(
        from_requests(
            "collection:assessor",
            api.records,
            duration_s=books.elapsed_s,
            batch_size=setting.batch_size,
            concurrency=setting.concurrency,
            cpu_pct=books.cpu_pct(),
            peak_rss_mb=books.peak_rss_mb(),
        )
    )
    landed = landing.finish()  # last: a step that fails before here leaves a collection to take up
    metadata = books.finish(
        rows_in=0,
        rows_out=len(crawl.payloads),
        source=api.name,
        search_total=crawl.search_total,
        search_rows_seen=crawl.search_rows_seen,
        parcels_wanted=len(crawl.apns_wanted),
        parcels_requested=len(crawl.apns_fetched),
        parcels_collected=collected,
        unreadable_search_pages=len(crawl.unreadable_pages),
        replies_taken_from_unfinished_runs=landing.taken,
        resumed_from=",".join(landing.resumed_from) or "-",
        landed_parts=len(landed.parts),
        full_refresh=config.full_refresh,
        requests_per_parcel=round(requests["requests"] / max(collected, 1), 4),
        concurrency=setting.concurrency,
        tuning=setting.origin,
        **requests,
    )
    return landed, metadata | metrics  # the IO manager only describes it: its parts are in the lake already


def _fetch_listings(context, books, descriptor: SourceDescriptor, zip_code: str) -> tuple[pl.DataFrame, dict]:
    """One ZIP's fetch from a listing source: every page or file it returned, and the metadata."""
    control_state: ControlStateResource = context.resources.control_state
    day = books.day
    source = getattr(context.resources, descriptor.resource_key).open(
        replay_time=day_start_utc(day, partition_timezone(context)), day=day
    )
    since = None if source.complete else control_state.listing_high_water(zip_code, before=day, source=source.name)
    try:
        fetched = source.fetch(zip_code, since=since)
    except CollectionFailed as exc:  # a refused token: this ZIP's collection cannot be complete
        books.failure(f"{source.name}: {exc}", **books.requests(source.name, source.request_summary()))
        raise
    except BaseException:  # anything else fails as it is, its requests still recorded
        books.requests(source.name, source.request_summary())
        raise
    finally:
        getattr(source, "close", lambda: None)()
    requests = books.requests(source.name, source.request_summary())
    books.quarantine(fetch_failures_frame(source.name, fetched.failures))
    books.record(
        "source_fetches",
        pl.DataFrame(
            [
                {
                    "source": source.name,
                    "complete": source.complete and fetched.cut_short is None,
                    "payloads": len(fetched.payloads),
                    "failures": len(fetched.failures),
                    "cut_short": fetched.cut_short,
                }
            ]
        ),
    )
    if fetched.cut_short:
        context.log.warning(f"{zip_code}: {source.name}: {fetched.cut_short}; its earlier listings are kept")
    frame = payloads_frame(fetched.payloads)
    metrics = books.stage_metrics(
        from_requests(
            f"collection:listings:{source.name}",
            source.records,
            duration_s=books.elapsed_s,
            batch_size=None,
            concurrency=1,
            cpu_pct=books.cpu_pct(),
            peak_rss_mb=books.peak_rss_mb(),
        )
    )
    metadata = books.finish(
        rows_in=0,
        rows_out=frame.height,
        source=source.name,
        failures=len(fetched.failures),
        **({"since": since.isoformat()} if since is not None else {}),
        **requests,
    )
    return frame, metadata | metrics


def listing_asset_name(source: str) -> str:
    """The raw asset of one listing source: each source is its own step, in its own pool."""
    return f"raw_listing_payloads__{source}"


def raw_listing_payloads_asset(descriptor: SourceDescriptor) -> dg.AssetsDefinition:
    """The raw asset of one listing source (one of PHOENIX_LISTING_SOURCE), in its pool, opening
    the source's own resource."""
    source_name = descriptor.name

    def collect(context: dg.AssetExecutionContext) -> ZipFrames:
        lake: LakeResource = context.resources.lake

        def fetch_and_land(books: Bookkeeping, zip_code: str) -> tuple:
            frame, metadata = _fetch_listings(context, books, descriptor, zip_code)
            # landed as this run's collection now: one ZIP's replies in memory at a time
            return lake.land(frame, context.asset_key.path[-1], books.day, zip_code, context.run_id), metadata

        return collect_each_zip(context, lake, fetch_and_land, source_label=source_name)

    collect.__name__ = listing_asset_name(source_name)
    collect.__doc__ = (
        f"Every page or file the {source_name} listing source returned for the ZIP, unchanged "
        "(RESO JSON pages since the last ModificationTimestamp staged, MLS search and detail pages, "
        "or CSV exports taken from the inbox). What could not be fetched is quarantined."
    )
    return lake_asset(
        records=LISTING_RECORDS,
        kinds=("parquet",),
        pool=descriptor.pool,
        deps=[PREFLIGHT],
        required_resource_keys={*COLLECTION_RESOURCES, descriptor.resource_key},
    )(collect)


def raw_assessor_payloads_asset(descriptor: SourceDescriptor) -> dg.AssetsDefinition:
    """The assessor collection step, in its source's pool (the county's; none for the sample),
    opening the source's own resource."""

    def raw_assessor_payloads(context: dg.AssetExecutionContext, config: AssessorCollection) -> ZipFrames:
        r = context.resources
        return collect_assessor_payloads(context, descriptor, config, r.sources, r.control_state, r.lake)

    raw_assessor_payloads.__doc__ = collect_assessor_payloads.__doc__
    return lake_asset(
        records=COLLECTION_RECORDS,
        kinds=("parquet",),
        pool=descriptor.pool,
        deps=[PREFLIGHT],
        required_resource_keys={*COLLECTION_RESOURCES, descriptor.resource_key},
    )(raw_assessor_payloads)
