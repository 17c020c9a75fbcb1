"""Asset checks generated from the table schemas (phoenix_dagster/schemas/tables.py): one per asset, blocking where bad data
must not flow on. Failures come back as check metadata (counts per column and check, and
a sample of failing values) so an operator sees them in the UI."""

import warnings
from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg
import pandera.polars as pa
import polars as pl

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


def for_partition(result: dg.AssetCheckResult, day: str, zip_code: str) -> dg.AssetCheckResult:
    """The result naming the partition it checked, in its metadata and its description (the UI
    shows a check on an unpartitioned check key without a partition otherwise)."""
    partition = f"{day}|{zip_code}"
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=result.severity,
        check_name=result.check_name,
        description=f"{partition}: {result.description}" if result.description else partition,
        metadata={"partition": partition, **(result.metadata or {})},
    )


def _as_code(frame: pl.DataFrame) -> str:
    """A frame for check metadata: a markdown table, which the UI renders as one."""
    return markdown_table(frame) if frame.height else "none"


def _checked_partition(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> tuple[str, str]:
    """The partition this check should look at: the run's, else the latest materialized one."""
    tags = context.run.tags
    if "dagster/partition/date" in tags and "dagster/partition/zip" in tags:
        return tags["dagster/partition/date"], tags["dagster/partition/zip"]
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.dagster_event.partition is None:
        raise dg.Failure(f"{key.to_user_string()} has no materialized partition to check")
    date_part, zip_part = event.dagster_event.partition.split("|")
    return date_part, zip_part


def _ledger(context: dg.AssetCheckExecutionContext, lake: LakeResource, asset_name: str):
    """(day, ZIP, the record ledger the staging asset's latest successful run wrote for them)."""
    day, zip_code = _checked_partition(context, dg.AssetKey(asset_name))
    return day, zip_code, lake.current_bookkeeping("record_ledger", day, zip_code, [asset_name])


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

        day, zip_code, entries = _ledger(context, lake, asset_name)
        if entries.is_empty():  # nothing was offered (no payload of this kind); sources_delivered judges that
            return for_partition(
                dg.AssetCheckResult(passed=True, description="no records offered", metadata={"offered": 0}),
                day,
                zip_code,
            )
        broken = unbalanced(entries)
        ledger = entries.select("source", "offered", *TERMS)
        return for_partition(
            dg.AssetCheckResult(
                passed=broken.is_empty(),
                severity=dg.AssetCheckSeverity.ERROR,
                description=None
                if broken.is_empty()
                else "records unaccounted for: "
                + ", ".join(f"{r['source']} {r['unaccounted']:+d}" for r in broken.iter_rows(named=True)),
                metadata={"offered": int(entries["offered"].sum()), "ledger": dg.MetadataValue.md(_as_code(ledger))},
            ),
            day,
            zip_code,
        )

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

        day, zip_code, entries = _ledger(context, lake, asset_name)
        silent = silent_sources(entries, lake.current_bookkeeping("source_fetches", day, zip_code, fetched_by))
        required = {s: why for s, why in silent.items() if s not in optional}
        reasons = "; ".join(f"{s}: {why}" for s, why in sorted(silent.items()))
        return for_partition(
            dg.AssetCheckResult(
                passed=not silent,
                severity=dg.AssetCheckSeverity.ERROR if required else dg.AssetCheckSeverity.WARN,
                description=f"delivered nothing: {reasons}" if silent else None,
                metadata={"silent_sources": ", ".join(sorted(silent)) or "none"},
            ),
            day,
            zip_code,
        )

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
        day, zip_code = _checked_partition(context, key)
        return for_partition(validate(lake.read(asset_name, day, zip_code), model), day, zip_code)

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
        day, zip_code = _checked_partition(context, key)
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
        return for_partition(
            dg.AssetCheckResult(
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
            ),
            day,
            zip_code,
        )

    return _check


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
        from phoenix_dagster.sources.assessor_crawl import search_completeness

        day, zip_code = _checked_partition(context, key)
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
        return for_partition(
            dg.AssetCheckResult(
                passed=seen.complete,
                severity=dg.AssetCheckSeverity.WARN,
                description=None
                if seen.complete
                else (
                    short
                    + f"{seen.rows_read:,} of {seen.total or 0:,} rows read (ops.quarantine says why a page was not "
                    "read; re-run the partition to read it)"
                ),
                metadata={
                    "search_total": seen.total if seen.total is not None else -1,
                    "rows_read": seen.rows_read,
                    "pages_unread": len(unread),
                },
            ),
            day,
            zip_code,
        )

    return _check
