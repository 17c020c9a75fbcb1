"""What the daily report shows, read from the published warehouse: one function per section,
each returning its charts with the table beneath each. Pure reads through `query(sql, params)`;
a section whose tables have no rows yet says so instead of drawing an empty chart."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from phoenix_dagster.report import charts
from phoenix_dagster.warehouse.queries import query as sql

Query = Callable[..., pl.DataFrame]
ACTIVE = "('Active', 'ActiveUnderContract', 'ComingSoon')"


@dataclass(frozen=True)
class Block:
    """One chart (SVG) with its table; `series`: the series the chart claims to draw (the browser
    test finds a data mark for each)."""

    title: str
    svg: str | None
    table: pl.DataFrame
    series: tuple[str, ...] = ()
    note: str | None = None
    kind: str = "value"  # a chart of counts (whole ticks from zero, every day drawn) or of values


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    blocks: list[Block] = field(default_factory=list)


def _series(frame: pl.DataFrame, column: str) -> tuple[str, ...]:
    return tuple(sorted(str(v) for v in frame[column].unique().to_list())) if frame.height else ()


def _line_block(
    frame: pl.DataFrame,
    *,
    title: str,
    y: str,
    series: str,
    y_title: str,
    y_format: str = ",.0f",
    empty: str,
    table: pl.DataFrame | None = None,
    by_minute: bool = False,
    kind: str = "value",
) -> Block:
    """A line per series over time. A value series keeps its null days (the line breaks there);
    a chart is drawn when any series has a value."""
    if frame.is_empty() or frame[y].drop_nulls().is_empty():
        return Block(title, None, table if table is not None else frame, note=empty)
    chart = charts.line_chart(
        frame,
        x="date",
        y=y,
        series=series,
        title=title,
        y_title=y_title,
        y_format=y_format,
        by_minute=by_minute,
        kind=kind,
    )
    return Block(
        title, charts.svg(chart), table if table is not None else frame, _series(frame.drop_nulls(y), series), kind=kind
    )


def market(query: Query, day: date) -> Section:
    """Counts (new listings, price cuts, sales) are the mart's, zero on a day a ZIP was observed
    without any; values (prices, days on market) are null on a day without one."""
    stats = query(
        sql("report__market_stats"),
        [day],
    )
    latest = stats.filter(pl.col("date") == stats["date"].max()) if stats.height else stats

    def recent(*columns: str, only: pl.Expr | None = None) -> pl.DataFrame:
        frame = stats.filter(only) if only is not None and stats.height else stats
        return frame.select("PostalCode", "date", *columns).tail(12) if frame.height else frame

    sold = pl.col("closed_sales") > 0
    blocks = [
        _line_block(
            stats,
            title="Median list price of active listings",
            y="median_list_price",
            series="PostalCode",
            y_title="USD",
            y_format="$,.0f",
            empty="no active listing yet",
            table=latest,
        ),
        _line_block(
            stats,
            title="Median list price per square foot",
            y="median_price_per_sqft",
            series="PostalCode",
            y_title="USD / sq ft",
            y_format="$,.0f",
            empty="no listing with a living area yet",
            table=recent("median_price_per_sqft"),
        ),
        _line_block(
            stats,
            title="Active inventory",
            y="active_listings",
            series="PostalCode",
            y_title="listings",
            empty="no listing yet",
            table=recent("active_listings", "pending_listings"),
            kind="count",
        ),
        _line_block(
            stats,
            title="New listings per day",
            y="new_listings",
            series="PostalCode",
            y_title="listings",
            empty="no listing seen yet",
            table=recent("new_listings"),
            kind="count",
        ),
        _line_block(
            stats,
            title="Price cuts per day",
            y="price_cuts",
            series="PostalCode",
            y_title="listings",
            empty="no listing seen yet",
            table=recent("price_cuts"),
            kind="count",
        ),
        _line_block(
            stats,
            title="Sales per day",
            y="closed_sales",
            series="PostalCode",
            y_title="sales",
            empty="no listing seen yet",
            table=recent("closed_sales"),
            kind="count",
        ),
        _line_block(
            stats,
            title="Median sale price",
            y="median_sale_price",
            series="PostalCode",
            y_title="USD",
            y_format="$,.0f",
            empty="no sale seen yet",
            table=recent("closed_sales", "median_sale_price", "list_to_sale_ratio", only=sold),
        ),
        _line_block(
            stats,
            title="Median days on market of the day's sales",
            y="median_days_on_market",
            series="PostalCode",
            y_title="days",
            empty="no sale seen yet",
            table=recent("closed_sales", "median_days_on_market", only=sold),
        ),
    ]
    return Section(
        "market",
        "Market, per ZIP over time",
        "From marts.zip_market_stats (active = Active, ActiveUnderContract, ComingSoon; new listings, "
        "price cuts and sales from the day-to-day changes of each listing, zero on a day with none; a "
        "price or days-on-market line breaks on a day without a value). The first table holds each "
        "ZIP's latest values.",
        blocks,
    )


def quality(query: Query, day: date) -> Section:
    scores = query(
        sql("report__quality_scores"),
        [day],
    )
    fields = query(
        sql("report__field_completeness"),
        [day],
    )
    reasons = query(
        sql("report__quarantine_reasons"),
        [day],
    )
    blocks = []
    if scores.height:
        chart = charts.quality_chart(scores, title="Quality score per source and ZIP")
        latest = scores.filter(pl.col("date") == scores["date"].max()).drop("series")
        blocks.append(Block("Quality score per source and ZIP", charts.svg(chart), latest, _series(scores, "series")))
    else:
        blocks.append(Block("Quality score per source and ZIP", None, scores, note="no partition scored yet"))
    if fields.height:
        fields = fields.with_columns((pl.col("source") + " · " + pl.col("field")).alias("source_field"))
        chart = charts.bar_chart(
            fields,
            category="source_field",
            value="share",
            title="Completeness per field, latest day",
            value_title="share present",
            value_format=".0%",
        )
        blocks.append(
            Block("Completeness per field, latest day", charts.svg(chart), fields.drop("source_field"), ("share",))
        )
    if reasons.height:
        chart = charts.bar_chart(
            reasons, category="reason", value="records", title="Quarantine reasons", value_title="records"
        )
        blocks.append(Block("Quarantine reasons", charts.svg(chart), reasons, ("records",)))
    else:
        blocks.append(Block("Quarantine reasons", None, reasons, note="nothing quarantined"))
    return Section(
        "quality",
        "Data quality",
        "ops.quality_daily per source and ZIP (bands: EXCELLENT ≥ 0.95, GOOD ≥ 0.85, FAIR ≥ 0.70, POOR "
        "below), field completeness of the latest day, and ops.quarantine's reasons (numbers as N).",
        blocks,
    )


def _month_spend(daily: pl.DataFrame, budget: dict, day: date) -> pl.DataFrame:
    """Cumulative actual spend per day of the month, then the projection to its last day."""
    actual = daily.sort("date").with_columns(pl.col("usd").cum_sum().alias("usd"), pl.lit("actual").alias("series"))
    if actual.is_empty():
        return actual
    last_day = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    projected = pl.DataFrame(
        {
            "date": [actual["date"].max(), last_day],
            "usd": [actual["usd"].max(), budget["projected_month_usd"]],
            "series": ["projected", "projected"],
        }
    )
    return pl.concat([actual.select("date", "usd", "series"), projected])


def refresh_recommendation(query: Query, day: date, refresh_days: int) -> str:
    """What the ledger supports saying about the county's detail refresh (MARICOPA_REFRESH_DAYS)."""
    month = day.strftime("%Y-%m")
    requests = query(
        sql("report__county_requests_of_month"),
        [month],
    )
    by_endpoint = dict(requests.iter_rows()) if requests.height else {}
    total = sum(by_endpoint.values())
    if not total:
        return (
            "No county request was recorded this month (the assessor source is the embedded sample): "
            "nothing to tune in MARICOPA_REFRESH_DAYS yet."
        )
    parcels = query(sql("report__parcel_count"))["n"][0]
    price = query(sql("report__county_request_price"))
    usd = float(price["usd"][0]) if price.height else 0.0
    longer = max(refresh_days + 15, round(refresh_days * 1.5))
    saved = parcels * 30 * (1 / max(refresh_days, 1) - 1 / longer)
    detail_share = by_endpoint.get("parcel", 0) / total
    return (
        f"Detail refresh is {detail_share:.0%} of this month's {total:,} county requests. With {parcels:,} parcels, "
        f"raising MARICOPA_REFRESH_DAYS from {refresh_days} to {longer} saves ~{saved:,.0f} requests a month "
        f"(${saved * usd:,.2f} at ${usd:g} a request: the county's rate limit, not the budget, is what it buys)."
    )


def cost(query: Query, day: date, refresh_days: int) -> Section:
    month = day.strftime("%Y-%m")
    budget_rows = query(sql("report__budget_of_month"), [month])
    daily = query(
        sql("report__cost_per_day_of_month"),
        [month, day],
    )
    per_property = query(
        sql("report__cost_per_1000_properties"),
        [day],
    )
    services = query(
        sql("report__cost_per_service_of_month"),
        [month, day],
    )
    blocks = []
    if budget_rows.height and daily.height:
        budget = budget_rows.row(0, named=True)
        spend = _month_spend(daily, budget, day)
        chart = charts.budget_chart(
            spend, budget_usd=budget["budget_usd"], title=f"Spend in {month} against the budget"
        )
        blocks.append(
            Block(f"Spend in {month} against the budget", charts.svg(chart), budget_rows, _series(spend, "series"))
        )
    else:
        blocks.append(Block(f"Spend in {month}", None, budget_rows, note="no cost recorded this month"))
    blocks.append(
        _line_block(
            per_property,
            title="Cost per 1,000 properties",
            y="usd",
            series="series",
            y_title="USD",
            y_format=charts.money_format(per_property["usd"]) if per_property.height else "$,.2f",
            empty="no cost recorded yet",
        )
    )
    if services.height:
        chart = charts.bar_chart(
            services,
            category="service",
            value="usd",
            title="Cost by service, month to date",
            value_title="USD",
            value_format=charts.money_format(services["usd"]),
        )
        blocks.append(Block("Cost by service, month to date", charts.svg(chart), services, ("usd",)))
    blocks.append(Block("Recommendation", None, pl.DataFrame(), note=refresh_recommendation(query, day, refresh_days)))
    return Section(
        "cost",
        "Cost",
        "ops.cost_daily and ops.budget_status: month to date against the monthly budget with the projection "
        "and the 80% (warning) and 95% (critical) levels; the recommendation is computed from the request "
        "ledger.",
        blocks,
    )


def throughput(query: Query, day: date, has_table: Callable[[str], bool], timezone: str) -> Section:
    stages = query(
        sql("report__stage_medians_per_day"),
        [day],
    )
    tuning = _with_day(query(sql("report__batch_tuning")), query, "decided_at", timezone)
    tuning = (
        tuning.filter(pl.col("day") <= day)
        .sort("decided_at", descending=True)
        .head(15)
        .select(
            "day",
            "decided_at",
            "stage",
            "batch_size_old",
            "batch_size_new",
            "concurrency_old",
            "concurrency_new",
            "reason",
        )
    )
    blocks = [
        _line_block(
            stages,
            title="Throughput per stage (median of the day's runs)",
            y="items_per_s",
            series="stage",
            y_title="items / s",
            empty="no stage measured yet",
            table=stages.tail(15),
            y_format=",.0f" if (stages["items_per_s"].max() or 0) >= 10 else ",.2f",
        ),  # a slow model
        _line_block(
            stages,
            title="p95 latency per stage",
            y="p95_ms",
            series="stage",
            y_title="ms",
            y_format=",.0f",
            empty="no latency measured yet",
            table=stages.select("date", "stage", "p95_ms").tail(15),
        ),
        Block(
            "Batch size and concurrency decisions",
            None,
            tuning,
            note=None if tuning.height else f"no tuning decision by {day}",
        ),
    ]
    if has_table("ops.degradations"):
        degradations = query(
            sql("report__degradations_until_day"),
            [day],
        )
        blocks.append(Block("Degradations", None, degradations, note=None if degradations.height else "none detected"))
    return Section(
        "throughput",
        "Throughput and tuning",
        "ops.stage_metrics per stage and day (each value the median over the day's runs, one a ZIP; "
        "`runs` counts them), the tuning controller's decisions (ops.batch_tuning) up to the report's "
        "day with their reasons (day: the partition day of the run whose metrics drove it; times in "
        f"{timezone}), and degradations against each stage's own baseline.",
        blocks,
    )


def alerts(query: Query, day: date) -> Block:
    """The day's alerts, and every earlier one a channel has not taken: still owed (tried again each
    tick of the alert sensor) or undeliverable (given up on after 7 days)."""
    rows = query(
        sql("report__alerts_until_day"),
        [day, day],
    )
    missed = rows.filter(pl.col("status") != "delivered").height
    title = "Alerts" + (f": {missed} not delivered to every channel" if missed else "")
    return Block(
        title,
        None,
        rows.with_columns(pl.col("channels", "owed").list.join(", ")),
        note=None if rows.height else "no alert for this day",
    )


def health(
    query: Query, day: date, has_table: Callable[[str], bool], timezone: str, up_to_now: bool = False
) -> Section:
    """The probes that belong to the report's day: a partition run's preflight belongs to its
    partition day, a scheduled probe to its own day in the market's zone (a backfilled day shows
    the probes its runs made). `up_to_now`: the report is for the warehouse's latest day, so the
    probes since belong in it too."""
    alert_blocks = [alerts(query, day)] if has_table("ops.alerts") else []
    if not has_table("ops.service_health"):
        return Section(
            "health",
            "Health",
            "The latest probe of every dependency and its history, and the alerts.",
            [Block("Service probes", None, pl.DataFrame(), note="no probe recorded yet"), *alert_blocks],
        )
    probes = _with_day(query(sql("report__service_health")), query, "checked_at", timezone)
    week = pl.col("day") >= day - timedelta(days=6)
    shown = probes.filter(week if up_to_now else week & (pl.col("day") <= day)).sort("checked_at")
    mine = probes.filter(pl.lit(up_to_now) | (pl.col("day") <= day))
    latest = (
        mine.sort("day", "checked_at")
        .group_by("service")
        .last()
        .sort("service")
        .select("service", "day", "checked_at", "state", "required", "latency_ms", "detail")
    )
    history = shown.with_columns(pl.col("checked_at").dt.replace_time_zone(None).alias("date"))
    blocks = [
        Block("Latest probe of each dependency", None, latest, note=None if latest.height else f"no probe by {day}"),
        _line_block(
            history,
            title=f"Probe latency, the week to {day}",
            y="latency_ms",
            series="service",
            y_title="ms",
            empty="no latency measured that week",
            table=history.select("day", "checked_at", "service", "state", "latency_ms").tail(15),
            by_minute=True,
        ),
        *alert_blocks,
    ]
    return Section(
        "health",
        "Health",
        "ops.service_health: the probes of every configured dependency that belong to "
        f"the report's day (a partition run's probes to its partition day; times in {timezone}); "
        "ops.alerts: the day's alerts and any a channel has not taken.",
        blocks,
    )


def _with_day(frame: pl.DataFrame, query: Query, at: str, timezone: str) -> pl.DataFrame:
    """`frame` (with a run_id and a UTC time `at`) with `at` in the market's zone and the day it
    belongs to: the partition day of its run, else the day of `at` in the market's zone."""
    runs = query(sql("report__run_days"))
    local = pl.col(at).dt.convert_time_zone(timezone)
    if frame.is_empty():
        return frame.with_columns(local, pl.lit(None, pl.Date).alias("day"))
    return (
        frame.join(runs, on="run_id", how="left")
        .with_columns(local, pl.coalesce("run_day", local.dt.date()).alias("day"))
        .drop("run_day")
    )
