"""The summary a run command ends with, read from the published warehouse: per-ZIP counts and
market medians, quality, checks, enrichment, cost, tuning, and where everything is."""

from __future__ import annotations

import sys

from phoenix_dagster.cli.local_runs import RunOutcome
from phoenix_dagster.documents.properties import COLLECTION
from phoenix_dagster.resources.mongo import EXPORT
from phoenix_dagster.settings import Settings
from phoenix_dagster.warehouse.queries import query as sql


def print_summary(
    defs, day: str, outcomes: list[RunOutcome], build: RunOutcome, settings: Settings, out=None, tuning: str = ""
) -> None:
    out = out or sys.stdout
    warehouse, mongo = defs.resources["warehouse"], defs.resources["mongo"]
    print(f"\nSummary for {day}", file=out)
    if not warehouse.is_published:
        print(f"  No warehouse published yet: the build did not finish ({build.error or 'checks failed'}).", file=out)
        return
    counts = warehouse.query(
        sql("summary__counts_per_zip"),
        [day],
    )
    marts = warehouse.query(sql("summary__mart_sizes"))
    stats = {
        row["PostalCode"]: row
        for row in warehouse.query(
            sql("summary__market_of_day"),
            [day],
        ).iter_rows(named=True)
    }
    quality = dict(
        warehouse.query(
            sql("summary__worst_quality_per_zip"),
            [day],
        ).iter_rows()
    )
    print(
        f"  {'ZIP':<7}{'properties':>11}{'listed':>8}{'unmatched':>11}{'quarantined':>13}{'served':>8}"
        f"{'active':>8}{'median $':>11}{'$/sqft':>8}  quality (worst source)",
        file=out,
    )
    for row in counts.iter_rows(named=True):
        stat = stats.get(row["PostalCode"], {})
        price, per_sqft = stat.get("median_list_price"), stat.get("median_price_per_sqft")
        print(
            f"  {row['PostalCode']:<7}{row['properties']:>11}{row['with_listing']:>8}{row['unmatched_listings']:>11}"
            f"{row['quarantined']:>13}{row['served']:>8}{stat.get('active_listings', 0):>8}"
            f"{(f'{price:,.0f}' if price else '-'):>11}{(f'{per_sqft:,.0f}' if per_sqft else '-'):>8}"
            f"  {quality.get(row['PostalCode'], '-')}",
            file=out,
        )
    ledger = warehouse.query(
        sql("summary__record_ledger_of_day"),
        [day],
    )
    if ledger.height:
        print("  Records offered → staged / unchanged / out of scope / not found / quarantined / duplicates:", file=out)
        for row in ledger.iter_rows(named=True):
            print(
                f"    {row['zip']} {row['asset']:<28} {row['source']:<9} {row['offered']:>6} → {row['staged']} / "
                f"{row['unchanged']} / {row['out_of_scope']} / {row['not_found']} / {row['quarantined']} / "
                f"{row['duplicates']}",
                file=out,
            )
    runs = [*outcomes, build]
    print(
        f"  Checks: {sum(o.checks_passed for o in runs)} passed, {sum(len(o.checks_warned) for o in runs)} warned "
        f"({', '.join(sorted({w.split(':', 1)[1] for o in runs for w in o.checks_warned})) or 'none'}), "
        f"{sum(len(o.checks_failed) for o in runs)} failed",
        file=out,
    )
    methods: dict[str, int] = {}
    for outcome in outcomes:
        for method, count in outcome.enrichment_methods.items():
            methods[method] = methods.get(method, 0) + count
    states = sorted({o.model_state for o in outcomes if o.model_state})
    print(
        f"  Enrichment: {', '.join(f'{m} {n}' for m, n in sorted(methods.items())) or 'nothing to read'}"
        f" — {'; '.join(states) or 'no listing text'}",
        file=out,
    )
    run_ids = [o.run_id for o in runs]
    run_cost = warehouse.query(sql("summary__cost_of_runs"), [run_ids])["usd"][0]
    properties = int(counts["properties"].sum()) if counts.height else 0
    budget = warehouse.query(sql("summary__budget_of_month"), [day[:7]])
    line = f"  Cost: ${run_cost:.6f} for these runs (${1000 * run_cost / max(properties, 1):.6f} per 1,000 properties)"
    if budget.height:
        b = budget.row(0, named=True)
        line += (
            f"; {b['month']}: ${b['month_to_date_usd']:.4f} of ${b['budget_usd']:.2f} budget ({b['level']}), "
            f"projected ${b['projected_month_usd']:.4f}"
        )
    print(line, file=out)
    if tuning:
        print(f"  Tuning: {tuning}", file=out)
    print(
        f"  Warehouse: {settings.warehouse_path} (published copy) — marts.properties {marts['properties'][0]} rows, "
        f"marts.zip_market_stats {marts['zip_days'][0]} rows",
        file=out,
    )
    print(f"  Lake: {settings.lake_location}", file=out)
    if mongo.target == EXPORT:
        path = mongo.export_path(COLLECTION)
        documents = 0
        if path.exists():
            with path.open() as lines:
                documents = sum(1 for _ in lines)
        print(
            f"  MongoDB: not configured (MONGODB_URI) — {documents} documents exported to {path}, ready for "
            f"`mongoimport --mode upsert --upsertFields property_id`",
            file=out,
        )
    else:
        documents = mongo.db()[COLLECTION].count_documents({})
        print(f"  MongoDB: {mongo.describe()} — {documents} documents in {mongo.database}.{COLLECTION}", file=out)
    report = settings.reports_dir / f"{day}.html"  # the build writes the report of every day it was given
    if report.exists():
        print(f"  Report: {report} — open it in a browser (market, quality, cost, throughput, health)", file=out)
    else:
        print(f"  Report: none for {day} yet — `phoenix-estate report --date {day}` writes it", file=out)
    print("\nNext:", file=out)
    print("  make ui          # Dagster UI at http://127.0.0.1:3000 (lineage, checks, runs)", file=out)
    print('  .venv/bin/phoenix-estate sql "select * from marts.zip_market_stats"', file=out)
