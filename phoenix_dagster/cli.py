"""phoenix-estate: run the platform's main job and look at what it produced.

    phoenix-estate run [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--zip 85031 ...] [--full-refresh]
    phoenix-estate sql "select PostalCode, count(*) from marts.properties group by 1"
    phoenix-estate eval-extractor [--extractor rules|llm]
    phoenix-estate docs [--write]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from phoenix_dagster.settings import ConfigError, Settings

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class PartitionOutcome:
    zip_code: str
    run_id: str
    success: bool
    seconds: float
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    error: str | None = None
    enrichment_methods: dict[str, int] = field(default_factory=dict)
    model_state: str = ""


def _today_in_phoenix() -> str:
    from phoenix_dagster.partitions import TIMEZONE

    return datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()


def _instance(settings: Settings):
    """The Dagster instance runs are recorded in: $DAGSTER_HOME, default <data dir>/dagster_home,
    so `make ui` shows the runs this command made."""
    from dagster import DagsterInstance

    home = os.environ.setdefault("DAGSTER_HOME", str(settings.data_dir / "dagster_home"))
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(config):
        with open(config, "w") as handle:
            handle.write("# Local instance for phoenix-estate runs and `make ui`; defaults are fine.\n")
    return DagsterInstance.get()


def run_partitions(defs, instance, day: str, zip_codes: list[str], out=None, *,
                   full_refresh: bool = False) -> list[PartitionOutcome]:
    """Materialize daily_refresh for each ZIP of the day, one in-process run per partition."""
    out = out or sys.stdout
    from phoenix_dagster.definitions import DAILY_REFRESH
    from phoenix_dagster.partitions import partition_key

    job = defs.resolve_job_def(DAILY_REFRESH)
    outcomes = []
    for index, zip_code in enumerate(zip_codes, start=1):
        print(f"[{index}/{len(zip_codes)}] {day} × {zip_code}: collecting, staging, resolving, enriching, serving …",
              file=out, flush=True)
        started = time.perf_counter()
        run_config = {**QUIET_LOGS}
        if full_refresh:
            run_config["ops"] = {"raw_assessor_payloads": {"config": {"full_refresh": True}}}
        result = job.execute_in_process(partition_key=partition_key(day, zip_code), instance=instance,
                                        run_config=run_config, raise_on_error=False)
        outcome = PartitionOutcome(zip_code, result.run_id, result.success, time.perf_counter() - started)
        for evaluation in result.get_asset_check_evaluations():
            if evaluation.passed:
                outcome.checks_passed += 1
            else:
                outcome.checks_failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.to_user_string() == "listing_text_facts":
                metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
                outcome.model_state = str(metadata.get("model_state", ""))
                outcome.enrichment_methods = {k[len("method_"):]: int(v) for k, v in metadata.items()
                                              if k.startswith("method_")}
        if not result.success:
            failures = [_failure_text(event) for event in result.all_events if event.is_step_failure]
            outcome.error = failures[0] if failures else "run failed"
        status = "ok" if outcome.success and not outcome.checks_failed else "FAILED"
        print(f"      {status} in {outcome.seconds:.1f}s: {result.run_id[:8]} — "
              f"{outcome.checks_passed} checks passed, {len(outcome.checks_failed)} failed", file=out, flush=True)
        for name in outcome.checks_failed:
            print(f"      failed check: {name}", file=out)
        if outcome.error:
            print(f"      error: {outcome.error}", file=out)
        outcomes.append(outcome)
    return outcomes


CLI_TUNING_CURSOR = "phoenix/cli/retune_from_run_metrics"


def retune(defs, instance) -> str:
    """Tick the tuning sensor once, as the daemon would after these runs; its cursor is kept
    in the instance, so the next command continues where this one stopped."""
    import dagster as dg

    from phoenix_dagster.sensors import retune_from_run_metrics

    cursor = instance.run_storage.get_cursor_values({CLI_TUNING_CURSOR}).get(CLI_TUNING_CURSOR)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": defs.resources["warehouse"]},
                                 definitions=defs) as context:
        result = retune_from_run_metrics(context)
        if context.cursor:
            instance.run_storage.set_cursor_values({CLI_TUNING_CURSOR: context.cursor})
    return getattr(result, "skip_message", None) or str(result)


def _has_table(warehouse, name: str) -> bool:
    return bool(warehouse.query("select count(*) as n from information_schema.tables where table_name = ?",
                                [name])["n"][0])


def _failure_text(event) -> str:
    """What went wrong in a failed step, in the words the step used."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return f"{event.step_key}: {data.user_failure_data.description}"
    if data.error is not None:
        return f"{event.step_key}: {data.error.message.strip().splitlines()[-1]}"
    return event.message


def print_summary(defs, day: str, outcomes: list[PartitionOutcome], settings: Settings, out=None,
                  tuning: str = "") -> None:
    out = out or sys.stdout
    warehouse = defs.resources["warehouse"]
    mongo = defs.resources["mongo"]
    counts = warehouse.query(
        "select PostalCode, properties, with_listing, unmatched_listings, quarantined, served "
        "from ops.partition_counts where date = ? order by PostalCode", [day])
    marts = warehouse.query(
        "select (select count(*) from marts.properties) as properties, "
        "(select count(*) from marts.zip_market_stats) as zip_days")
    stats = warehouse.query(
        "select PostalCode, active_listings, median_list_price, median_price_per_sqft "
        "from marts.zip_market_stats where date = ? order by PostalCode", [day])
    quality = dict(warehouse.query(
        "select PostalCode, min(overall_score) || ' ' || arg_min(status, overall_score) from ops.quality_daily "
        "where date = ? group by 1", [day]).iter_rows()) if _has_table(warehouse, "quality_daily") else {}
    passed = sum(o.checks_passed for o in outcomes)
    failed = sum(len(o.checks_failed) for o in outcomes)
    print(f"\nSummary for {day}", file=out)
    print(f"  {'ZIP':<7}{'properties':>11}{'listed':>8}{'unmatched':>11}{'quarantined':>13}{'served':>8}"
          f"{'active':>8}{'median $':>11}{'$/sqft':>8}  quality (worst source)", file=out)
    medians = {row["PostalCode"]: row for row in stats.iter_rows(named=True)}
    for row in counts.iter_rows(named=True):
        stat = medians.get(row["PostalCode"], {})
        price = stat.get("median_list_price")
        per_sqft = stat.get("median_price_per_sqft")
        print(f"  {row['PostalCode']:<7}{row['properties']:>11}{row['with_listing']:>8}{row['unmatched_listings']:>11}"
              f"{row['quarantined']:>13}{row['served']:>8}{stat.get('active_listings', 0):>8}"
              f"{(f'{price:,.0f}' if price else '-'):>11}{(f'{per_sqft:,.0f}' if per_sqft else '-'):>8}"
              f"  {quality.get(row['PostalCode'], '-')}", file=out)
    print(f"  Checks: {passed} passed, {failed} failed", file=out)
    methods: dict[str, int] = {}
    for outcome in outcomes:
        for method, count in outcome.enrichment_methods.items():
            methods[method] = methods.get(method, 0) + count
    states = sorted({o.model_state for o in outcomes if o.model_state})
    print(f"  Enrichment: {', '.join(f'{m} {n}' for m, n in sorted(methods.items())) or 'nothing to read'}"
          f" — {'; '.join(states) or 'no listing text'}", file=out)
    if _has_table(warehouse, "budget_status"):
        run_ids = [o.run_id for o in outcomes]
        run_cost = warehouse.query("select coalesce(sum(cost_usd), 0) as usd from ops.cost_events "
                                   "where run_id in (select unnest(?))", [run_ids])["usd"][0]
        properties = int(counts["properties"].sum()) if counts.height else 0
        budget = warehouse.query("select * from ops.budget_status where month = ?", [day[:7]])
        line = f"  Cost: ${run_cost:.6f} for these runs (${run_cost / max(properties, 1):.8f} per property)"
        if budget.height:
            b = budget.row(0, named=True)
            line += (f"; {b['month']}: ${b['month_to_date_usd']:.4f} of ${b['budget_usd']:.2f} budget ({b['level']}), "
                     f"projected ${b['projected_month_usd']:.4f}")
        print(line, file=out)
    if tuning:
        print(f"  Tuning: {tuning}", file=out)
    print(f"  Warehouse: {settings.warehouse_path} — marts.properties {marts['properties'][0]} rows, "
          f"marts.zip_market_stats {marts['zip_days'][0]} rows", file=out)
    print(f"  Lake: {settings.lake_dir}", file=out)
    from phoenix_dagster.serving.properties import COLLECTION

    documents = mongo.db()[COLLECTION].count_documents({})
    print(f"  MongoDB: {mongo.describe()} — {documents} documents in {mongo.database}.{COLLECTION}", file=out)
    print("\nNext:", file=out)
    print("  make ui          # Dagster UI at http://127.0.0.1:3000 (lineage, checks, runs)", file=out)
    print('  .venv/bin/phoenix-estate sql "select * from marts.zip_market_stats"', file=out)


def run_sql(query: str, settings: Settings, out=None) -> None:
    out = out or sys.stdout
    import duckdb
    import polars as pl

    if not settings.warehouse_path.exists():
        raise ConfigError(f"no warehouse at {settings.warehouse_path}: run `phoenix-estate run` first")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        frame = conn.execute(query).pl()
    with pl.Config(tbl_rows=50, tbl_cols=30, fmt_str_lengths=40, tbl_width_chars=250, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True):
        print(frame, file=out)


def evaluate_extractor(kind: str, out=None) -> int:
    out = out or sys.stdout
    import polars as pl

    from phoenix_dagster.llm.client import OllamaExtractor
    from phoenix_dagster.llm.evaluate import llm_predictions, load_examples, rules_predictions, score

    examples, today = load_examples(), datetime.now().date()
    if kind == "rules":
        predictions, label = rules_predictions(examples, today), "rules extractor"
    else:
        settings = Settings.from_env().ollama
        try:
            predictions = llm_predictions(examples, OllamaExtractor(settings.host, settings.model, settings.timeout_s),
                                          today)
        except RuntimeError as exc:
            print(f"phoenix-estate: {exc}", file=sys.stderr)
            return 2
        label = f"{settings.model} at {settings.host}"
    table = score(examples, predictions)
    totals = table.select(pl.col("correct").sum(), pl.col("answered").sum(), pl.col("stated").sum()).row(0)
    print(f"{label} on {len(examples)} labelled descriptions:", file=out)
    with pl.Config(tbl_rows=20, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(table, file=out)
    print(f"overall: precision {totals[0] / max(totals[1], 1):.3f}, recall {totals[0] / max(totals[2], 1):.3f}",
          file=out)
    return 0


def _days(args) -> list[str]:
    """The partition days a run command covers: --date, or --from … --to, or today."""
    from datetime import date, timedelta

    if args.date_from or args.date_to:
        if not (args.date_from and args.date_to) or args.date:
            raise ConfigError("a backfill needs both --from and --to, and no --date")
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
        if last < first:
            raise ConfigError(f"--to {last} is before --from {first}")
        days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    else:
        days = [args.date or _today_in_phoenix()]
        date.fromisoformat(days[0])
    from phoenix_dagster.partitions import FIRST_DATE

    if days[-1] > _today_in_phoenix() or days[0] < FIRST_DATE:
        raise ConfigError(f"partition days run from {FIRST_DATE} to today in Phoenix ({_today_in_phoenix()})")
    return days


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phoenix-estate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialize the daily_refresh job for a day and ZIP codes, in-process")
    run.add_argument("--date", help="partition day, YYYY-MM-DD (default: today in Phoenix)")
    run.add_argument("--from", dest="date_from", help="backfill: first day, YYYY-MM-DD (with --to)")
    run.add_argument("--to", dest="date_to", help="backfill: last day, YYYY-MM-DD (inclusive)")
    run.add_argument("--zip", nargs="+", dest="zip_codes", help="ZIP codes (default: all of PHOENIX_ZIP_CODES)")
    run.add_argument("--full-refresh", action="store_true",
                     help="fetch every parcel's detail again, however recent (default: incremental)")
    sql = commands.add_parser("sql", help="run a read-only query against the DuckDB warehouse")
    sql.add_argument("query")
    evaluate = commands.add_parser("eval-extractor", help="score a listing-facts extractor on the labelled set")
    evaluate.add_argument("--extractor", choices=["rules", "llm"], default="rules")
    docs = commands.add_parser("docs", help="print the analyst table reference generated from the schemas")
    docs.add_argument("--write", action="store_true", help="update the reference section of README.md")
    args = parser.parse_args(argv)
    if args.command == "eval-extractor":
        return evaluate_extractor(args.extractor)
    if args.command == "docs":
        from phoenix_dagster.docs import table_reference, write_readme

        write_readme() if args.write else print(table_reference())
        return 0
    try:
        settings = Settings.from_env()
        if args.command == "sql":
            run_sql(args.query, settings)
            return 0
        days = _days(args)
        zip_codes = args.zip_codes or list(settings.zip_codes)
        unknown = sorted(set(zip_codes) - set(settings.zip_codes))
        if unknown:
            raise ConfigError(f"ZIP {', '.join(unknown)} not in PHOENIX_ZIP_CODES ({', '.join(settings.zip_codes)}); "
                              "add it there to make it a partition")
    except (ConfigError, ValueError) as exc:
        print(f"phoenix-estate: {exc}", file=sys.stderr)
        return 2
    print(f"Phoenix real estate: daily_refresh for {days[0]}{f' to {days[-1]}' if len(days) > 1 else ''}, ZIP {', '.join(zip_codes)} "
          f"(assessor: {settings.assessor_source}, listings: {', '.join(settings.listing_sources)}; "
          f"data in {settings.data_dir})", flush=True)
    from phoenix_dagster.definitions import defs

    instance = _instance(settings)
    outcomes = []
    for day in days:
        todays = run_partitions(defs, instance, day, zip_codes, full_refresh=args.full_refresh)
        print_summary(defs, day, todays, settings, tuning=retune(defs, instance))
        outcomes += todays
    return 0 if all(o.success and not o.checks_failed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
