"""phoenix-estate: run the platform's main job and look at what it produced.

phoenix-estate run [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--zip 85031 ...] [--full-refresh]
phoenix-estate sql [--csv | --json] "select PostalCode, count(*) from marts.properties group by 1"
phoenix-estate eval-extractor [--extractor rules|llm]
phoenix-estate eval-resolver
phoenix-estate report [--date YYYY-MM-DD]
phoenix-estate docs [--write]
phoenix-estate migrate
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from phoenix_dagster.settings import ConfigError, Settings


def run_sql(query: str, settings: Settings, out=None, form: str = "table") -> None:
    """`form`: table (paged on a terminal), csv or json."""
    from phoenix_dagster.resources.lake import lake_resource
    from phoenix_dagster.resources.warehouse import PublishedWarehouseResource
    from phoenix_dagster.settings import SQL_DIR
    from phoenix_dagster.warehouse.analyst_output import render, show
    from phoenix_dagster.warehouse.analyst_sql import MAX_ROWS, AnalystLimits, readable_folders

    # never holds a lock a run needs; with the lake on S3, its views read the bucket
    warehouse = PublishedWarehouseResource(
        path=str(settings.warehouse_path), lake=lake_resource(settings), memory_limit_mb=settings.duckdb_memory_mb
    )
    if not warehouse.is_published:
        raise ConfigError(f"no warehouse at {settings.warehouse_path}: run `phoenix-estate run` first")
    folders = readable_folders(settings.lake_location, settings.control_dir, SQL_DIR)
    limits = AnalystLimits(
        timeout_s=settings.sql_timeout_s,
        memory_limit_mb=settings.duckdb_memory_mb,
        max_temp_mb=settings.sql_max_temp_mb,
    )
    result = warehouse.analyst_query(query, folders, limits)
    if form != "table":
        (out or sys.stdout).write(render(result.frame, form))
    else:
        show(render(result.frame, form), out, settings.pager)
    if result.truncated:  # never in the data a script reads
        print(
            f"(more than {MAX_ROWS:,} rows: only the first {MAX_ROWS:,} were read; add a LIMIT or aggregate)",
            file=sys.stderr if form != "table" else out or sys.stdout,
        )


def evaluate_extractor(kind: str, out=None) -> int:
    out = out or sys.stdout
    import polars as pl

    from phoenix_dagster.evaluation.llm_extraction import llm_predictions, load_examples, rules_predictions, score
    from phoenix_dagster.llm.client import OllamaExtractor

    examples, today = load_examples(), datetime.now().date()
    if kind == "rules":
        predictions, label = rules_predictions(examples, today), "rules extractor"
    else:
        settings = Settings.from_env().ollama
        try:
            predictions = llm_predictions(
                examples, OllamaExtractor(settings.host, settings.model, settings.timeout_s), today
            )
        except RuntimeError as exc:
            print(f"phoenix-estate: {exc}", file=sys.stderr)
            return 2
        label = f"{settings.model} at {settings.host}"
    table = score(examples, predictions)
    totals = table.select(pl.col("correct").sum(), pl.col("answered").sum(), pl.col("stated").sum()).row(0)
    print(f"{label} on {len(examples)} labelled descriptions:", file=out)
    with pl.Config(tbl_rows=20, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(table, file=out)
    print(
        f"overall: precision {totals[0] / max(totals[1], 1):.3f}, recall {totals[0] / max(totals[2], 1):.3f}", file=out
    )
    return 0


def write_daily_report(settings: Settings, day: str | None, out=None) -> int:
    """The day's HTML report (default: the latest partition day in the published warehouse)."""
    out = out or sys.stdout
    from datetime import date

    from phoenix_dagster.report import latest_partition_day, write_report
    from phoenix_dagster.resources.lake import lake_resource
    from phoenix_dagster.resources.warehouse import PublishedWarehouseResource

    warehouse = PublishedWarehouseResource(
        path=str(settings.warehouse_path), lake=lake_resource(settings), memory_limit_mb=settings.duckdb_memory_mb
    )
    if not warehouse.is_published:
        raise ConfigError(f"no warehouse at {settings.warehouse_path}: run `phoenix-estate run` first")
    with warehouse.held_open():
        chosen = date.fromisoformat(day) if day else latest_partition_day(warehouse)
        if chosen is None:
            raise ConfigError("the warehouse has no partition day yet: run `phoenix-estate run` first")
        report = write_report(
            warehouse, chosen, settings.reports_dir, settings.maricopa.refresh_days, settings.market.timezone
        )
    print(
        f"report for {chosen}: {report.path} ({report.bytes / 1024:,.0f} KB, {report.charts} charts; "
        f"sections: {', '.join(report.sections)})",
        file=out,
    )
    return 0


def evaluate_resolver(out=None) -> int:
    """Score the listing → parcel resolver on tests/eval/resolution_cases.jsonl; exit 1 when a
    goal (precision, recall, no cross-ZIP match) is missed."""
    out = out or sys.stdout
    import polars as pl

    from phoenix_dagster.evaluation.resolution import GOALS, load_cases, resolve_cases, sample_search_rows, score

    rows = sample_search_rows()
    cases = load_cases()
    per_kind, total, stages = score(resolve_cases(cases, rows), rows)
    print(
        f"resolver on {total['cases']} labelled listing addresses ({total['expect_match']} expect a match, "
        f"{total['ambiguous_cases']} ambiguous, the rest no parcel), against the sample's county search rows:",
        file=out,
    )
    with pl.Config(
        tbl_rows=40, tbl_cols=12, tbl_width_chars=200, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True
    ):
        print(per_kind, file=out)
        print("listings per stage (the first stage that found a candidate decides):", file=out)
        print(stages, file=out)
    met = (
        total["precision"] >= GOALS["precision"]
        and total["recall"] >= GOALS["recall"]
        and total["cross_zip_matches"] == 0
    )
    print(
        f"overall: precision {total['precision']:.3f} (goal ≥ {GOALS['precision']}), recall {total['recall']:.3f} "
        f"(goal ≥ {GOALS['recall']}), wrong matches {total['wrong']}, ambiguous reported "
        f"{total['ambiguous_reported']} of {total['ambiguous_cases']}, cross-ZIP matches "
        f"{total['cross_zip_matches']} — {'goals met' if met else 'GOALS NOT MET'}",
        file=out,
    )
    return 0 if met else 1


def _days(args, first_date: str, market) -> list[str]:
    """The partition days a run command covers: --date, or --from … --to, or today (the market's)."""
    from datetime import date, timedelta

    if args.date_from or args.date_to:
        if not (args.date_from and args.date_to) or args.date:
            raise ConfigError("a backfill needs both --from and --to, and no --date")
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
        if last < first:
            raise ConfigError(f"--to {last} is before --from {first}")
        days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    else:
        days = [args.date or market.today()]
        date.fromisoformat(days[0])
    if days[-1] > market.today() or days[0] < first_date:
        raise ConfigError(
            f"partition days run from {first_date} (PHOENIX_FIRST_DATE) to today in {market.place} "
            f"({market.today()}, {market.timezone})"
        )
    return days


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="phoenix-estate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the daily_refresh job for a day and ZIP codes through the run queue, then build the warehouse"
    )
    run.add_argument("--date", help="partition day, YYYY-MM-DD (default: today in Phoenix)")
    run.add_argument("--from", dest="date_from", help="backfill: first day, YYYY-MM-DD (with --to)")
    run.add_argument("--to", dest="date_to", help="backfill: last day, YYYY-MM-DD (inclusive)")
    run.add_argument("--zip", nargs="+", dest="zip_codes", help="ZIP codes (default: all of PHOENIX_ZIP_CODES)")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="fetch every parcel's detail again, however recent (default: incremental)",
    )
    run.add_argument(
        "--no-build",
        action="store_true",
        help="the partitions only: no warehouse build and no summary (a later run or the "
        "warehouse_after_partitions sensor builds)",
    )
    sql = commands.add_parser("sql", help="run a read-only query against the DuckDB warehouse")
    sql.add_argument("query")
    form = sql.add_mutually_exclusive_group()
    form.add_argument(
        "--csv",
        dest="form",
        action="store_const",
        const="csv",
        help="CSV with a header line (default: a table, through $PAGER on a terminal)",
    )
    form.add_argument("--json", dest="form", action="store_const", const="json", help="a JSON array of objects")
    evaluate = commands.add_parser("eval-extractor", help="score a listing-facts extractor on the labelled set")
    evaluate.add_argument("--extractor", choices=["rules", "llm"], default="rules")
    commands.add_parser(
        "eval-resolver",
        help="score the listing → parcel resolver on the labelled address set "
        "(precision and recall overall and per variation kind, matches per stage)",
    )
    report = commands.add_parser(
        "report",
        help="write the day's self-contained HTML report under $PHOENIX_DATA_DIR/reports/ from the published warehouse",
    )
    report.add_argument("--date", help="the report's day, YYYY-MM-DD (default: the warehouse's latest partition day)")
    commands.add_parser(
        "instance",
        help="create or update the local Dagster instance: its dagster.yaml, pool limits, "
        "and the slots of dead runs freed (make ui runs this first)",
    )
    commands.add_parser(
        "migrate",
        help="bring a data directory an earlier version wrote to today's keys (lake, served documents, "
        "warehouse); idempotent",
    )
    docs = commands.add_parser("docs", help="print the analyst table reference generated from the schemas")
    docs.add_argument("--write", action="store_true", help="update the generated reference in docs/tables.md")
    args = parser.parse_args(argv)
    if args.command == "eval-extractor":
        return evaluate_extractor(args.extractor)
    if args.command == "eval-resolver":
        return evaluate_resolver()
    if args.command == "docs":
        from phoenix_dagster.cli.docs import table_reference, write_tables_page

        write_tables_page() if args.write else print(table_reference())
        return 0
    try:
        settings = Settings.from_env()
        if args.command == "sql":
            import duckdb

            from phoenix_dagster.warehouse.analyst_sql import AnalystQueryRefused, AnalystQueryStopped

            try:
                run_sql(args.query, settings, form=args.form or "table")
            except (AnalystQueryRefused, AnalystQueryStopped, duckdb.Error) as exc:  # one clear line, not a traceback
                print(f"phoenix-estate sql: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
                return 2
            return 0
        if args.command == "instance":
            return prepare_instance(settings)
        if args.command == "report":
            return write_daily_report(settings, args.date)
        if args.command == "migrate":
            from phoenix_dagster.cli.migrate import migrate

            return migrate(settings)
        days = _days(args, settings.first_date, settings.market)
        zip_codes = args.zip_codes or list(settings.zip_codes)
        unknown = sorted(set(zip_codes) - set(settings.zip_codes))
        if unknown:
            raise ConfigError(
                f"ZIP {', '.join(unknown)} not in PHOENIX_ZIP_CODES ({', '.join(settings.zip_codes)}); "
                "add it there to make it a partition"
            )
    except (ConfigError, ValueError) as exc:
        print(f"phoenix-estate: {exc}", file=sys.stderr)
        return 2
    print(
        f"Phoenix real estate: daily_refresh for {days[0]}{f' to {days[-1]}' if len(days) > 1 else ''}, "
        f"ZIP {', '.join(zip_codes)} (assessor: {settings.assessor_source}, listings: "
        f"{', '.join(settings.listing_sources)}; data in {settings.data_dir})",
        flush=True,
    )
    return run_days(settings, days, zip_codes, full_refresh=args.full_refresh, build=not args.no_build)


def prepare_instance(settings: Settings) -> int:
    from phoenix_dagster.cli.local_runs import local_instance

    instance = local_instance(settings)
    limits = {pool.name: pool.limit for pool in instance.event_log_storage.get_pool_limits()}
    print(
        f"Dagster instance in {settings.dagster_home}: pools "
        + ", ".join(f"{name}={limit}" for name, limit in sorted(limits.items()))
    )
    return 0


def run_days(
    settings: Settings, days: list[str], zip_codes: list[str], *, full_refresh: bool = False, build: bool = True
) -> int:
    """The days' partitions (each day's ZIPs), the tuning tick the daemon would make after them, one
    warehouse build over all of it, and the summary (the partitions and the tick only, without `build`).
    Every run is created from the code location as workspace.yaml loads it, like the UI's."""
    from phoenix_dagster.cli.local_runs import build_warehouse, compact_raw, local_instance, retune, run_partitions
    from phoenix_dagster.cli.summary import print_summary
    from phoenix_dagster.cli.workspace_runs import WorkspaceJobs
    from phoenix_dagster.resources.lake import lake_resource

    instance = local_instance(settings)
    with WorkspaceJobs(instance, lock_dir=settings.dagster_home) as jobs:
        outcomes = []
        for day in days:
            outcomes += run_partitions(
                jobs, day, zip_codes, settings.zip_counties, full_refresh=full_refresh, builds_itself=build
            )
        tuning = retune(jobs)
        retained, retention = compact_raw(
            jobs, lake_resource(settings), settings.raw_retention_days, settings.control_dir
        )
        print(f"Retention: {retention}", flush=True)
        if not build:
            print(f"Tuning: {tuning}\nNo warehouse build (--no-build).")
            return 0 if all(o.ok for o in outcomes) and retained else 1
        built = build_warehouse(jobs, report_days=days)
        print_summary(jobs.defs, days[-1], outcomes, built, settings, tuning=tuning)
    return 0 if all(o.ok for o in [*outcomes, built]) and retained else 1
