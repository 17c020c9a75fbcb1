"""Asset checks generated from the table schemas (phoenix_dagster/schemas/tables.py): one per asset, blocking where bad data
must not flow on. Failures come back as check metadata (counts per column and check, and
a sample of failing values) so an operator sees them in the UI."""

import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from functools import partial

import dagster as dg
import pandera.polars as pa
import polars as pl

from phoenix_dagster.graph.partitions import COUNTY, DATE, county_and_day, selected_zips
from phoenix_dagster.graph.zip_steps import zip_metadata
from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.warehouse.model_metadata import markdown_table
from phoenix_dagster.warehouse.queries import query as sql

SAMPLE_ROWS = 10


def validate(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> dg.AssetCheckResult:
    """Validate lazily (every failure, not the first) and summarise the result."""
    return validate_batches([frame], model)


def validate_batches(batches: Iterable[pl.DataFrame], model: type[pa.DataFrameModel]) -> dg.AssetCheckResult:
    """`validate` over a table read batch by batch, so memory holds one batch. A column's
    uniqueness is checked within each batch; a warehouse table's `unique_grain` check covers the
    whole table."""
    rows, cases, structural = 0, [], None
    for frame in batches:
        try:
            model.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases.append(
                errors.failure_cases.select(
                    "column", "check", pl.col("failure_case").cast(pl.String), pl.col("index").cast(pl.Int64) + rows
                )
            )
        except pa.errors.SchemaError as error:  # a structural error (missing column, wrong type)
            structural = structural or str(error)
        rows += frame.height
    if structural is not None:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.ERROR, description=structural, metadata={"rows": rows}
        )
    if not cases:
        return dg.AssetCheckResult(passed=True, metadata={"rows": rows, "failure_cases": 0})
    failures = pl.concat(cases)
    summary = failures.group_by(["column", "check"]).len().sort("len", descending=True).rename({"len": "failures"})
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{failures.height} failure case(s) against {model.__name__}",
        metadata={
            "rows": rows,
            "failure_cases": failures.height,
            "failures_by_check": dg.MetadataValue.md(_as_code(summary)),
            "failure_sample": dg.MetadataValue.md(_as_code(failures.head(SAMPLE_ROWS))),
        },
    )


def for_zips(day: str, results: dict[str, dg.AssetCheckResult]) -> dg.AssetCheckResult:
    """One check result from each checked ZIP's: passed when every ZIP passed, as severe as the
    worst failure, the failing ZIPs named in the description, and each ZIP's outcome as a row of
    the `by_zip` metadata table (counts added up, as zip_steps.zip_metadata does)."""
    failing = {z: r for z, r in results.items() if not r.passed}
    errors = {z: r for z, r in failing.items() if r.severity == dg.AssetCheckSeverity.ERROR}
    severity = dg.AssetCheckSeverity.ERROR if errors or not failing else dg.AssetCheckSeverity.WARN
    metadata = zip_metadata(
        {
            z: {"passed": r.passed, **({"description": r.description} if r.description else {}), **(r.metadata or {})}
            for z, r in results.items()
        }
    )
    metadata.pop("description", None)  # the failing ZIPs' descriptions are the result's
    described = "; ".join(f"{day}|{z}: {r.description}" if r.description else f"{day}|{z}" for z, r in failing.items())
    return dg.AssetCheckResult(
        passed=not failing,
        severity=severity,
        description=described or None,
        metadata={
            "day": day,
            **metadata,
            "zips_checked": ", ".join(results) or "none",
            "zips_failing": ", ".join(failing) or "none",
            "zips_failing_error": ", ".join(errors) or "none",
        },
    )


def _as_code(frame: pl.DataFrame) -> str:
    """A frame for check metadata: a markdown table, which the UI renders as one."""
    return markdown_table(frame) if frame.height else "none"


def _checked_partition(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> tuple[str, str]:
    """(day, county) this check should look at: the run's partition, else the latest materialized one."""
    tags = context.run.tags
    if f"dagster/partition/{DATE}" in tags and f"dagster/partition/{COUNTY}" in tags:
        return tags[f"dagster/partition/{DATE}"], tags[f"dagster/partition/{COUNTY}"]
    event = context.instance.get_latest_materialization_event(key)
    parsed = county_and_day(event.dagster_event.partition or "") if event is not None else None
    if parsed is None:  # none, or one made before county × day partitions
        raise dg.Failure(f"{key.to_user_string()} has no county × day partition materialized to check")
    county, day = parsed
    return day, county


def checked_zips(
    context: dg.AssetCheckExecutionContext, lake: LakeResource, asset_name: str, *, made: bool = True
) -> tuple[str, list[str]]:
    """(day, the run's ZIPs of the checked partition): with `made`, only those this run made the
    asset's output of (a ZIP whose collection failed has none), or, for a check run on its own,
    those with an output of the day. A run of some ZIPs checks those
    (a blocking check failing at one ZIP must not stop the others' next runs); the alert sensor
    judges each ZIP by the latest evaluation that checked it (`zips_checked`)."""
    day, county = _checked_partition(context, dg.AssetKey(asset_name))
    zips = selected_zips(context.run.tags, lake.zips_of(county), county)
    if not made:
        return day, list(zips)
    this_run = [z for z in zips if lake.made_by(asset_name, day, z, context.run.run_id)]
    # in the run that made the asset, what it made (not a file an earlier run left); run alone, what is there
    return day, this_run or [z for z in zips if lake.is_materialized(asset_name, day, z)]


def each_zip(context, lake: LakeResource, asset_name: str, evaluate) -> dg.AssetCheckResult:
    """`evaluate(day, zip_code)` → that ZIP's result, for each ZIP the asset made; one result."""
    day, zips = checked_zips(context, lake, asset_name)
    return for_zips(day, {zip_code: evaluate(day, zip_code) for zip_code in zips})


def single_check(
    key: dg.AssetKey,
    name: str,
    *,
    blocking: bool,
    description: str,
    partitions_def: dg.PartitionsDefinition | None = None,
):
    """`@asset_check` for one check, but with an output named after the check (a multi-asset check
    of one spec). Dagster orders an asset's blocking checks by output name; with every check's
    output called `result`, the order — and so the job's snapshot id — changed from one process
    to the next, and the UI called each run of the job "a different version". With
    `partitions_def` (the lake's day × ZIP) each evaluation is recorded against its partition,
    so the UI's check history has a Partition column."""
    with warnings.catch_warnings():  # partitioned checks are a preview in Dagster 1.13; used knowingly
        warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec")
        spec = dg.AssetCheckSpec(
            name, asset=key, blocking=blocking, description=description, partitions_def=partitions_def
        )
    return dg.multi_asset_check(specs=[spec], name=f"{key.to_python_identifier()}_{name}", description=description)


def records_accounted_for_check(asset_name: str, partitions_def: dg.PartitionsDefinition | None = None):
    """Blocking: for every source, records offered = staged + unchanged + out of scope + not found +
    quarantined + duplicates, in the ledger the staging asset recorded for the partition."""
    key = dg.AssetKey(asset_name)

    @single_check(
        key,
        "records_accounted_for",
        blocking=True,
        partitions_def=partitions_def,
        description="Every record each source offered is staged, unchanged, out of scope, not found, "
        "quarantined or set aside as a duplicate (phoenix_dagster/transforms/ledger.py)",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        from phoenix_dagster.transforms.ledger import TERMS, unbalanced

        def one(day: str, zip_code: str) -> dg.AssetCheckResult:
            entries = lake.current_bookkeeping("record_ledger", day, zip_code, [asset_name])
            if entries.is_empty():  # nothing was offered (no payload of this kind); sources_delivered judges that
                return dg.AssetCheckResult(passed=True, metadata={"offered": 0})
            broken = unbalanced(entries)
            ledger = entries.select("source", "offered", *TERMS)
            return dg.AssetCheckResult(
                passed=broken.is_empty(),
                severity=dg.AssetCheckSeverity.ERROR,
                description=None
                if broken.is_empty()
                else "records unaccounted for: "
                + ", ".join(f"{r['source']} {r['unaccounted']:+d}" for r in broken.iter_rows(named=True)),
                metadata={"offered": int(entries["offered"].sum()), "ledger": dg.MetadataValue.md(_as_code(ledger))},
            )

        return each_zip(context, lake, asset_name, one)

    return _check


def sources_delivered_check(
    asset_name: str,
    fetched_by: list[str],
    optional: tuple[str, ...],
    partitions_def: dg.PartitionsDefinition | None = None,
):
    """A source that delivered nothing although something went wrong fails the partition (blocking),
    or — for a source in PHOENIX_OPTIONAL_SOURCES — gives a WARN; never a quiet zero."""
    key = dg.AssetKey(asset_name)

    @single_check(
        key,
        "sources_delivered",
        blocking=True,
        partitions_def=partitions_def,
        description="Every configured source delivered records, or a proven none; an optional one "
        "(PHOENIX_OPTIONAL_SOURCES) that did not is a WARN",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        from phoenix_dagster.transforms.ledger import silent_sources

        def one(day: str, zip_code: str) -> dg.AssetCheckResult:
            entries = lake.current_bookkeeping("record_ledger", day, zip_code, [asset_name])
            silent = silent_sources(entries, lake.current_bookkeeping("source_fetches", day, zip_code, fetched_by))
            required = {s: why for s, why in silent.items() if s not in optional}
            reasons = "; ".join(f"{s}: {why}" for s, why in sorted(silent.items()))
            return dg.AssetCheckResult(
                passed=not silent,
                severity=dg.AssetCheckSeverity.ERROR if required else dg.AssetCheckSeverity.WARN,
                description=f"delivered nothing: {reasons}" if silent else None,
                metadata={"silent_sources": ", ".join(sorted(silent)) or "none"},
            )

        return each_zip(context, lake, asset_name, one)

    return _check


def lake_schema_check(
    asset_name: str,
    model: type[pa.DataFrameModel],
    blocking: bool = True,
    partitions_def: dg.PartitionsDefinition | None = None,
):
    key = dg.AssetKey(asset_name)

    @single_check(
        key,
        "matches_schema",
        blocking=blocking,
        partitions_def=partitions_def,
        description=f"The partition validates against {model.__module__}.{model.__name__}",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        return each_zip(
            context, lake, asset_name, lambda day, zip_code: validate(lake.read(asset_name, day, zip_code), model)
        )

    return _check


# Checks of what a rollup means, beyond its schema and grain: name → (description, a query over
# the built warehouse returning one row (passed, detail)). Non-blocking: they WARN the operator.
ROLLUP_CHECKS: dict[str, dict[str, tuple[str, str]]] = {
    "ops.budget_status": {
        "budget_row_this_month": (
            "The month of the latest cost event has its budget row (spend, projection, levels)",
            sql("checks__budget_row_this_month"),
        )
    },
    "marts.listing_match_rates": {
        "match_rate_near_its_median": (
            "On the latest day, no source × ZIP matched its listings more than 5 points below its median of the 14 "
            "days before (a resolver or a source's address spelling changed)",
            sql("checks__match_rate_near_its_median"),
        )
    },
    "ops.quality_daily": {
        "every_partition_scored_overall": (
            "Every day × ZIP with a source scored also has its resolved properties scored (source 'resolved')",
            sql("checks__every_partition_scored_overall"),
        )
    },
}


def warehouse_check_specs(
    key: dg.AssetKey, table: str, model: type[pa.DataFrameModel] | None, grain: tuple[str, ...]
) -> list[dg.AssetCheckSpec]:
    """The blocking checks of a SQL model, evaluated in the model's own step right after it is
    built (`warehouse_check_results`): one step per model, not three."""
    specs = []
    if model is not None:
        specs.append(
            dg.AssetCheckSpec(
                "matches_schema",
                asset=key,
                blocking=True,
                description=f"{table} validates against {model.__module__}.{model.__name__}",
            )
        )
    if grain:
        specs.append(
            dg.AssetCheckSpec(
                "unique_grain",
                asset=key,
                blocking=True,
                description=f"No two rows of {table} share ({', '.join(grain)})",
            )
        )
    specs += [
        dg.AssetCheckSpec(name, asset=key, blocking=False, description=description)
        for name, (description, _) in ROLLUP_CHECKS.get(table, {}).items()
    ]
    return specs


def warehouse_check_results(
    query, table: str, model: type[pa.DataFrameModel] | None, grain: tuple[str, ...], batches=None
) -> list[dg.AssetCheckResult]:
    """Evaluate `warehouse_check_specs` with `query` (SQL → Polars) on the freshly built table;
    the schema check reads the table through `batches` (SQL → Polars frames) when given."""
    results = []
    if model is not None:
        table_rows = batches(f"select * from {table}") if batches is not None else [query(f"select * from {table}")]
        result = validate_batches(table_rows, model)
        results.append(
            dg.AssetCheckResult(
                check_name="matches_schema",
                passed=result.passed,
                severity=result.severity,
                description=result.description,
                metadata=result.metadata,
            )
        )
    if grain:
        columns = ", ".join(grain)
        repeated = query(
            f"select {columns}, count(*) as copies from {table} group by all having count(*) > 1 "
            f"order by copies desc limit {SAMPLE_ROWS}"
        )
        total = query(f"select count(*) as n from (select {columns} from {table} group by all having count(*) > 1)")[
            "n"
        ][0]
        results.append(
            dg.AssetCheckResult(
                check_name="unique_grain",
                passed=total == 0,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"repeated_keys": int(total), "sample": dg.MetadataValue.md(_as_code(repeated))},
            )
        )
    for name, (_, statement) in ROLLUP_CHECKS.get(table, {}).items():
        passed, detail = query(statement).row(0)
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=bool(passed),
                severity=dg.AssetCheckSeverity.WARN,
                description=None if passed else detail,
                metadata={"detail": detail},
            )
        )
    return results


REPEAT_WINDOW_DAYS = 30  # a record quarantined again with the same payload within this many days is not news


def quarantine_rate_check(
    asset_name: str, warn_rate: float, *, ledgered: bool, partitions_def: dg.PartitionsDefinition | None = None
):
    """Non-blocking: the share of the partition's records the asset quarantined, per source, WARN
    above `warn_rate` (PHOENIX_QUARANTINE_WARN_RATE). A record quarantined again with the payload
    it had when the same asset quarantined it in the ZIP within REPEAT_WINDOW_DAYS (a county
    reply that is truncated every day it is asked again) is counted apart as `repeated` and
    warns no more; a request that got no reply has no payload and is never a repeat (an outage
    warns every day it lasts); the metadata names the reasons and counts.
    Staging assets divide by the records offered (their ledger); raw assets by replies landed
    plus requests quarantined."""
    key = dg.AssetKey(asset_name)

    @single_check(
        key,
        "quarantine_rate",
        blocking=False,
        partitions_def=partitions_def,
        description=f"At most {warn_rate:.0%} of each source's records newly quarantined (a WARN above; "
        "the same bad payload again is counted apart; reasons and counts in the metadata)",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        return each_zip(context, lake, asset_name, partial(_quarantine_rate, lake, asset_name, warn_rate, ledgered))

    return _check


def _quarantine_rate(
    lake: LakeResource, asset_name: str, warn_rate: float, ledgered: bool, day: str, zip_code: str
) -> dg.AssetCheckResult:
    """One ZIP's quarantine_rate_check."""
    quarantined = lake.current_bookkeeping("quarantine", day, zip_code, [asset_name])
    if ledgered:
        ledger = lake.current_bookkeeping("record_ledger", day, zip_code, [asset_name])
        offered = dict(ledger.select("source", "offered").iter_rows()) if ledger.height else {}
    else:
        landed = lake.read(asset_name, day, zip_code, columns=["source"])  # not the bodies
        offered = dict(landed.group_by("source").len().iter_rows()) if landed.height else {}
        for source, n in quarantined.group_by("source").len().iter_rows() if quarantined.height else []:
            offered[source] = offered.get(source, 0) + n
    new = quarantined
    if quarantined.height:
        repeated = _repeated_quarantines(lake, quarantined, asset_name, day, zip_code)
        new = quarantined.join(repeated, on=list(repeated.columns), how="anti")
    counts = dict(new.group_by("source").len().iter_rows()) if new.height else {}
    rates = {source: counts.get(source, 0) / n for source, n in offered.items() if n}
    over = {source: rate for source, rate in rates.items() if rate > warn_rate}
    reasons = (
        quarantined.group_by("source", "reason")
        .len()
        .sort("len", descending=True)
        .head(SAMPLE_ROWS)
        .rename({"len": "records"})
        if quarantined.height
        else None
    )
    return dg.AssetCheckResult(
        passed=not over,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "quarantined: "
            + ", ".join(f"{s} {r:.1%} of {offered[s]}" for s, r in sorted(over.items()))
            + f" newly (above {warn_rate:.0%})"
        )
        if over
        else None,
        metadata={
            "quarantined": quarantined.height,
            "repeated": quarantined.height - new.height,
            "offered": int(sum(offered.values())),
            **{f"rate_{source}": round(rate, 4) for source, rate in sorted(rates.items())},
            "reasons": dg.MetadataValue.md(_as_code(reasons) if reasons is not None else "none"),
        },
    )


def _repeated_quarantines(
    lake: LakeResource, quarantined: pl.DataFrame, asset_name: str, day: str, zip_code: str
) -> pl.DataFrame:
    """(source, record_key, payload_sha256) of the partition's quarantined records that the asset
    quarantined with the same payload in the ZIP on one of the REPEAT_WINDOW_DAYS days before."""
    keys = ["source", "record_key", "payload_sha256"]
    since = (date.fromisoformat(day) - timedelta(days=REPEAT_WINDOW_DAYS)).isoformat()
    earlier = lake.current_bookkeeping("quarantine", "*", zip_code, [asset_name], since=since, before=day)
    if earlier.is_empty() or "payload_sha256" not in earlier.columns:
        return quarantined.select(keys).clear()
    return (
        earlier.select(keys)
        .filter(pl.col("payload_sha256").is_not_null())  # no reply is not a payload: an
        .unique()
        .cast(quarantined.select(keys).schema)
    )  # outage keeps warning


def search_complete_check(partitions_def: dg.PartitionsDefinition | None = None):
    """Non-blocking: every search page the county's TOTAL announces was read for the partition,
    from the landed pages; a page with no reply, an error reply or an unreadable body leaves its
    rows (and their parcels) out of the day — a WARN naming the pages."""
    asset_name = "raw_assessor_payloads"
    key = dg.AssetKey(asset_name)

    @single_check(
        key,
        "search_complete",
        blocking=False,
        partitions_def=partitions_def,
        description="Every search page the county's TOTAL announces was read, with the rows TOTAL "
        "announces (a WARN naming the pages that were not: their parcels are left out of the day)",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        return each_zip(context, lake, asset_name, partial(_search_complete, lake, asset_name))

    return _check


def _search_complete(lake: LakeResource, asset_name: str, day: str, zip_code: str) -> dg.AssetCheckResult:
    """One ZIP's search_complete_check."""
    from phoenix_dagster.sources.assessor_crawl import search_completeness

    pages = (
        lake.scan(asset_name, day, zip_code)
        .filter(pl.col("entity") == "search_page")
        .select("record_key", "http_status", "body")
        .collect()
    )
    seen = search_completeness(list(pages.iter_rows()))
    unread = seen.pages_unread
    named = ", ".join(map(str, unread[:SAMPLE_ROWS])) + (
        f" … ({len(unread)} pages)" if len(unread) > SAMPLE_ROWS else ""
    )
    short = f"search pages not read: {named}; " if unread else "search pages answered fewer rows than TOTAL: "
    return dg.AssetCheckResult(
        passed=seen.complete,
        severity=dg.AssetCheckSeverity.WARN,
        description=None
        if seen.complete
        else (
            short + f"{seen.rows_read:,} of {seen.total or 0:,} rows read (ops.quarantine says why a page was not "
            "read; re-run the partition to read it)"
        ),
        metadata={
            **({"search_total": seen.total} if seen.total is not None else {"search_total_unknown": True}),
            "rows_read": seen.rows_read,
            "pages_unread": len(unread),
        },
    )


def zips_collected_check(asset_name: str, partitions_def: dg.PartitionsDefinition | None = None):
    """ERROR, not blocking (the county's other ZIPs go on): every ZIP of the run that a run
    collected that day was collected by the latest attempt at it; a ZIP that failed is named with the
    reason its run_log row keeps, and the command that re-runs it alone."""
    key = dg.AssetKey(asset_name)

    @single_check(
        key,
        "zips_collected",
        blocking=False,
        partitions_def=partitions_def,
        description="Every ZIP of the county collected that day was, by the latest attempt at it (a failed ZIP is named with "
        "its reason and re-run alone: phoenix-estate run --date DAY --zip ZIP)",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        day, zips = checked_zips(context, lake, asset_name, made=False)
        attempts = {zip_code: _latest_attempt(lake, asset_name, day, zip_code) for zip_code in zips}
        result = for_zips(day, {zip_code: found for zip_code, found in attempts.items() if found is not None})
        if result.passed:
            return result
        failing = [zip_code for zip_code, found in attempts.items() if found is not None and not found.passed]
        rerun = f"phoenix-estate run --date {day} --zip {' '.join(failing)}"
        return dg.AssetCheckResult(
            passed=False,
            severity=result.severity,
            description=f"{result.description} (re-run them alone: {rerun})",
            metadata={**result.metadata, "rerun": rerun},
        )

    return _check


def _latest_attempt(lake: LakeResource, asset_name: str, day: str, zip_code: str) -> dg.AssetCheckResult | None:
    """One ZIP's zips_collected: the latest run_log row of the asset for the ZIP's day; None when no
    run has collected the ZIP that day (a run of some of the county's ZIPs leaves the others be)."""
    log = lake.scan_bookkeeping("run_log", day, zip_code, asset=asset_name)
    rows = log.collect().sort("finished_at") if log is not None else pl.DataFrame()
    if rows.is_empty():
        return None
    latest = rows.row(-1, named=True)
    return dg.AssetCheckResult(
        passed=bool(latest["succeeded"]),
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if latest["succeeded"] else (latest.get("error") or "its collection failed"),
        metadata={"run_id": latest["run_id"]},
    )
