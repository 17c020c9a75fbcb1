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
from phoenix_dagster.graph.partitions import date_and_zip, partition_timezone
from phoenix_dagster.markets.market import day_start_utc
from phoenix_dagster.resources.control_state import ControlStateResource
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.source_clients import SourcesResource
from phoenix_dagster.sources.assessor_crawl import crawl_zip
from phoenix_dagster.sources.base import CollectionFailed, payloads_frame
from phoenix_dagster.sources.landing import LandedCollection
from phoenix_dagster.sources.registry import SourceDescriptor
from phoenix_dagster.transforms.assessor import parcels_to_fetch
from phoenix_dagster.transforms.payloads import fetch_failures_frame
from phoenix_dagster.tuning.metrics import from_requests

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
) -> LandedCollection:
    """Every assessor reply for the ZIP: all search pages (every row, every type), then one
    /parcel/{apn} detail for each wanted parcel that is new, last failed, on its own day of the
    MARICOPA_REFRESH_DAYS window, or last fetched that long ago (every one on a full refresh). Bodies exactly as received,
    landed in parts as they arrive; a collection of the partition killed before it ended is resumed
    from what it landed, without asking the county again. Requests that got no reply are quarantined."""
    with Bookkeeping(context, lake) as books:
        day, zip_code = date_and_zip(context)
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
        # Replies land in parts as they arrive; those of a collection of the partition that did not end are taken.
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
            landing.abandon()  # what was fetched is landed for the next run to take
            raise books.failure(str(exc), **books.requests(api.name, api.request_summary())) from None
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
        context.add_output_metadata(
            books.finish(
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
            | metrics
        )
        return landed  # the IO manager only describes it: its parts are in the lake already


def listing_asset_name(source: str) -> str:
    """The raw asset of one listing source: each source is its own step, in its own pool."""
    return f"raw_listing_payloads__{source}"


def raw_listing_payloads_asset(descriptor: SourceDescriptor) -> dg.AssetsDefinition:
    """The raw asset of one listing source (one of PHOENIX_LISTING_SOURCE), in its pool, opening
    the source's own resource."""
    source_name = descriptor.name

    def collect(context: dg.AssetExecutionContext) -> pl.DataFrame:
        control_state: ControlStateResource = context.resources.control_state
        with Bookkeeping(context, context.resources.lake) as books:
            day, zip_code = date_and_zip(context)
            source = getattr(context.resources, descriptor.resource_key).open(
                replay_time=day_start_utc(day, partition_timezone(context)), day=day
            )
            since = (
                None if source.complete else control_state.listing_high_water(zip_code, before=day, source=source.name)
            )
            try:
                fetched = source.fetch(zip_code, since=since)
            except CollectionFailed as exc:  # a refused token: this run cannot be complete
                raise books.failure(
                    f"{source.name}: {exc}", **books.requests(source.name, source.request_summary())
                ) from None
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
                context.log.warning(f"{source.name}: {fetched.cut_short}; its earlier listings are kept")
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
            context.add_output_metadata(
                books.finish(
                    rows_in=0,
                    rows_out=frame.height,
                    source=source.name,
                    failures=len(fetched.failures),
                    **({"since": since.isoformat()} if since is not None else {}),
                    **requests,
                )
                | metrics
            )
            return frame

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

    def raw_assessor_payloads(context: dg.AssetExecutionContext, config: AssessorCollection) -> LandedCollection:
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
