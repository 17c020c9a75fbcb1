"""The pipeline's records about itself.

Bookkeeping tables are written by assets into the lake (`lake/_bookkeeping/<table>/…`, one
file per asset, partition and run); control tables by sensors (`control/<table>/`). The
warehouse's `ops` models (sql/ops/) are built from them; each model's contract is here too."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.tuning.controller import BATCH_BOUNDS, CONCURRENCY_BOUNDS

UTC_TIME = pl.Datetime("us", "UTC")


class RunLog(pa.DataFrameModel):
    """ops.run_log: one row per run and asset (bookkeeping `run_log`)."""

    run_id: str = pa.Field(description="Dagster run id")
    asset: str = pa.Field(description="Asset key")
    partition: Optional[str] = pa.Field(nullable=True, description="date|zip partition, null for whole-table assets")
    date: pl.Date = pa.Field(description="Partition day; for whole-table assets the day of the run in Phoenix")
    succeeded: bool = pa.Field(description="False when the asset's body failed (what it did is still recorded)")
    error: Optional[str] = pa.Field(nullable=True, description="Why it failed, when it failed with a reason")
    rows_in: pl.Int64 = pa.Field(ge=0, description="Rows read")
    rows_out: pl.Int64 = pa.Field(ge=0, description="Rows written")
    rows_quarantined: pl.Int64 = pa.Field(ge=0, description="Rows sent to ops.quarantine")
    duration_s: pl.Float64 = pa.Field(ge=0, description="Wall time of the asset's body")
    finished_at: UTC_TIME = pa.Field(description="When the asset finished")

    class Config:
        strict = True


class Quarantine(pa.DataFrameModel):
    """ops.quarantine: records rejected on the way in, with the reason and the record (personal fields withheld), as left by the latest successful run of each asset and partition."""

    run_id: str = pa.Field(description="Run that rejected it")
    source: str = pa.Field(description="Source the record came from")
    asset: str = pa.Field(description="Asset that rejected it")
    partition: str = pa.Field(description="date|zip partition")
    record_key: Optional[str] = pa.Field(nullable=True, description="The record's key, when it has one")
    reason: str = pa.Field(description="Why it was rejected")
    raw_record: Optional[str] = pa.Field(
        nullable=True,
        description="The record as received, as JSON with owners' names, mailing and in-care-of addresses withheld; null when it is not JSON (an HTML page, a CSV file, a truncated or undecodable body), which stays in the raw layer only",
    )
    payload_sha256: Optional[str] = pa.Field(
        nullable=True,
        description="SHA-256 of the raw payload the record came from (its row in the raw layer); null when no reply came",
    )
    raw_bytes: Optional[pl.Int64] = pa.Field(
        nullable=True,
        ge=0,
        description="The record's length in bytes: the reply's as received for a whole reply, the record's JSON for one record of a page; null when no reply came",
    )
    quarantined_at: UTC_TIME = pa.Field(description="When it was rejected")

    class Config:
        strict = True


class PartitionCounts(pa.DataFrameModel):
    """ops.partition_counts: what one day × ZIP produced, from the latest successful run of each of its assets."""

    date: pl.Date = pa.Field(description="Partition day")
    PostalCode: str = pa.Field(description="Partition ZIP")
    run_id: str = pa.Field(description="Latest run of the partition's collection (raw_assessor_payloads)")
    raw_payloads: pl.Int64 = pa.Field(ge=0, description="Payloads landed (assessor + listings)")
    assessor_requests: pl.Int64 = pa.Field(ge=0, description="Requests made to the assessor, retries included")
    parcels_collected: pl.Int64 = pa.Field(ge=0, description="Parcel details received (HTTP 200) this run")
    requests_per_parcel: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="assessor_requests / parcels_collected; null when no detail was due"
    )
    parcels: pl.Int64 = pa.Field(ge=0, description="Parcel detail versions staged (new or changed)")
    listings: pl.Int64 = pa.Field(ge=0, description="Listing records staged")
    properties: pl.Int64 = pa.Field(ge=0, description="Resolved properties")
    with_listing: pl.Int64 = pa.Field(ge=0, description="Properties with a listing")
    unmatched_listings: pl.Int64 = pa.Field(
        ge=0, description="Properties made by a listing that found no parcel (ambiguous included)"
    )
    ambiguous_listings: pl.Int64 = pa.Field(ge=0, description="… of which two or more parcels fit (none guessed)")
    quarantined: pl.Int64 = pa.Field(ge=0, description="Records in ops.quarantine for the partition")
    recorded_at: UTC_TIME = pa.Field(description="When the partition's last asset finished")

    class Config:
        strict = True


class SourceRequests(pa.DataFrameModel):
    """ops.source_requests: what a run asked of a source, by endpoint and outcome."""

    run_id: str = pa.Field(description="Dagster run id")
    asset: str = pa.Field(description="Asset that made the requests")
    partition: str = pa.Field(description="date|zip partition")
    source: str = pa.Field(description="Source implementation (maricopa, sample, …)")
    endpoint: str = pa.Field(description="search, parcel, …")
    outcome: str = pa.Field(
        description="ok, not_found, redirect, rate_limited, server_error, client_error, timeout, connection (cut or refused), undecodable (a body its Content-Encoding does not match), too_large, auth"
    )
    status: Optional[pl.Int32] = pa.Field(nullable=True, description="HTTP status; null when no reply came")
    requests: pl.Int64 = pa.Field(ge=0, description="Attempts made, retries included")
    retries: pl.Int64 = pa.Field(ge=0, description="Attempts that were retries")
    bytes: pl.Int64 = pa.Field(ge=0, description="Body bytes received")
    seconds: pl.Float64 = pa.Field(ge=0, description="Time spent in requests")
    rate_limit_wait_s: pl.Float64 = pa.Field(ge=0, description="Time held back by the rate limit")
    recorded_at: UTC_TIME = pa.Field(description="When the run recorded it")

    class Config:
        strict = True


class LlmCache(pa.DataFrameModel):
    """ops.llm_cache: every model reply, keyed by model, prompt version and text hash (bookkeeping `llm_replies`; the latest per key)."""

    model: str = pa.Field(description="Ollama model")
    prompt_version: str = pa.Field(description="Prompt version")
    text_sha256: str = pa.Field(description="SHA-256 of the whitespace-normalised listing text")
    content: str = pa.Field(description="The model's reply, as it came")
    prompt_tokens: pl.Int64 = pa.Field(ge=0, description="Prompt tokens of the call")
    completion_tokens: pl.Int64 = pa.Field(ge=0, description="Completion tokens of the call")
    model_seconds: pl.Float64 = pa.Field(ge=0, description="Ollama total_duration of the call")
    created_at: UTC_TIME = pa.Field(description="When the call was made")

    class Config:
        strict = True
        unique = ["model", "prompt_version", "text_sha256"]


class QualityDaily(pa.DataFrameModel):
    """ops.quality_daily: data quality per day × ZIP × source, from the data (formulas: transforms/quality.py)."""

    date: pl.Date = pa.Field(description="Partition day")
    PostalCode: str = pa.Field(description="Partition ZIP")
    source: str = pa.Field(description="assessor:<impl>, listing:<impl>, or resolved (the properties)")
    records: pl.Int64 = pa.Field(
        ge=0, description="Records the source contributed (current listings for listing sources)"
    )
    completeness: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="Share of records with every required field; null with no records"
    )
    field_completeness: pl.List(pl.Struct({"field": pl.String, "share": pl.Float64})) = pa.Field(
        description="Share present, per required field"
    )
    validity: Optional[pl.Float64] = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="Records passing staging / (those + quarantined); null when nothing was offered",
    )
    quarantined: pl.Int64 = pa.Field(ge=0, description="Records of the source quarantined in the partition")
    freshness_hours: Optional[pl.Float64] = pa.Field(
        nullable=True, description="Hours from the newest record's fetch to the evaluation"
    )
    duplicates: pl.Int64 = pa.Field(
        ge=0, description="Records resolving to a property already seen from the source (resolved: same house, two ids)"
    )
    duplicate_rate: pl.Float64 = pa.Field(ge=0, le=1, description="duplicates / records offered (kept + set aside)")
    agreement: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="Assessor vs listing agreement within tolerances"
    )
    agreement_checked: pl.Int64 = pa.Field(ge=0, description="Comparisons behind agreement")
    enriched_llm: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="Share of listings with text read by the model"
    )
    enriched_cache: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="… from the model's cached replies"
    )
    enriched_rules: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, le=1, description="… by the rules extractor")
    model_validation_rate: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="Model replies that passed validation"
    )
    text_disagreements: Optional[pl.Int64] = pa.Field(
        nullable=True, ge=0, description="resolved: properties whose listing text contradicts a source's value"
    )
    overall_score: Optional[pl.Float64] = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="Weighted mean of the metrics (see docs/quality-and-cost.md); null with no records",
    )
    status: str = pa.Field(
        isin=["EXCELLENT", "GOOD", "FAIR", "POOR", "NO_DATA"],
        description="From overall_score: ≥0.95, ≥0.85, ≥0.70, below; NO_DATA when the source delivered no record (alerts like POOR)",
    )
    issues: pl.List(pl.String) = pa.Field(description="Metrics below their fair threshold, each with its value")
    evaluated_at: UTC_TIME = pa.Field(description="When the rollup ran")

    class Config:
        strict = True
        unique = ["date", "PostalCode", "source"]


class QualityDailyWithMatches(QualityDaily):
    """ops.quality_daily: the lake's quality_daily, with each listing source's resolution beside it
    (from marts.listing_match_rates; null for the assessor and resolved rows)."""

    match_rate: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, le=1, description="Listings matched to a parcel / listings"
    )
    match_rate_14d_median: Optional[pl.Float64] = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="Median match_rate of the 14 days before; more than 5 points above match_rate is an issue",
    )
    matched_listings: Optional[pl.Int64] = pa.Field(
        nullable=True, ge=0, description="Listings matched (apn, address, street or fuzzy)"
    )
    ambiguous_listings: Optional[pl.Int64] = pa.Field(
        nullable=True, ge=0, description="Listings two or more parcels fit (none guessed)"
    )
    unmatched_listings: Optional[pl.Int64] = pa.Field(nullable=True, ge=0, description="Listings no parcel fits")


class CostEvents(pa.DataFrameModel):
    """ops.cost_events: every billable thing a run did, with its quantity and price (usage, run log and storage priced by ops.unit_prices)."""

    date: pl.Date = pa.Field(description="Partition day (storage: the day measured)")
    partition: str = pa.Field(description="date|zip partition, or the date alone for storage snapshots")
    run_id: str = pa.Field(description="Run that recorded it")
    service: str = pa.Field(description="Priced item in data/unit_prices.yaml")
    item: str = pa.Field(description="What used it: the source, the asset (compute), the store (storage)")
    quantity: pl.Float64 = pa.Field(ge=0, description="How much")
    unit: str = pa.Field(description="Unit of quantity")
    unit_price_usd: pl.Float64 = pa.Field(ge=0, description="Price per unit")
    cost_usd: pl.Float64 = pa.Field(ge=0, description="quantity × unit price")
    recorded_at: UTC_TIME = pa.Field(description="When it was recorded")

    class Config:
        strict = True


class Alerts(pa.DataFrameModel):
    """ops.alerts: every alert, one per condition per day, where it went and what is still owed (control state written by the alert_deliveries asset)."""

    day: pl.Date = pa.Field(description="Day the condition was alerted for")
    condition: str = pa.Field(description="What is wrong, as a stable key")
    severity: str = pa.Field(isin=["WARNING", "CRITICAL"], description="How bad")
    message: str = pa.Field(description="What the operator is told")
    channels: pl.List(pl.String) = pa.Field(description="Where it went: log, webhook, email")
    owed: Optional[pl.List(pl.String)] = pa.Field(
        nullable=True,
        description="Channels that have not taken it yet (tried again every tick of the alert sensor for ALERT_RETRY_DAYS); empty when delivered",
    )
    status: Optional[str] = pa.Field(
        nullable=True,
        isin=["delivered", "owed", "undeliverable"],
        description="delivered: every channel took it; owed: some channel has not yet; undeliverable: still owed after ALERT_RETRY_DAYS (7) days, no longer tried (shown in the report)",
    )
    first_attempt_at: Optional[UTC_TIME] = pa.Field(nullable=True, description="When it was first sent")
    sent_at: UTC_TIME = pa.Field(description="When it was last sent (or given up on)")

    class Config:
        strict = True
        unique = ["day", "condition"]


class CostDaily(pa.DataFrameModel):
    """ops.cost_daily: cost per day and service (rebuilt from ops.cost_events)."""

    date: pl.Date = pa.Field(description="Day")
    service: str = pa.Field(description="Priced item")
    quantity: pl.Float64 = pa.Field(ge=0, description="Total quantity")
    unit: str = pa.Field(description="Unit")
    cost_usd: pl.Float64 = pa.Field(ge=0, description="Total cost")


class BudgetStatus(pa.DataFrameModel):
    """ops.budget_status: the month against the budget (rebuilt from ops.cost_events)."""

    month: str = pa.Field(description="YYYY-MM")
    month_to_date_usd: pl.Float64 = pa.Field(ge=0, description="Cost so far this month")
    projected_month_usd: pl.Float64 = pa.Field(ge=0, description="Month to date / days with data × days in month")
    budget_usd: pl.Float64 = pa.Field(ge=0, description="monthly_budget_usd in data/unit_prices.yaml")
    cost_per_property_usd: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Month to date / distinct properties collected this month"
    )
    properties_collected: pl.Int64 = pa.Field(ge=0, description="Distinct properties observed this month")
    level: str = pa.Field(
        isin=["OK", "WARNING", "CRITICAL"], description="Month to date ≥ 80% of budget: WARNING; ≥ 95%: CRITICAL"
    )
    projected_level: str = pa.Field(isin=["OK", "WARNING", "CRITICAL"], description="The same for the projection")


class RunMetrics(pa.DataFrameModel):
    """ops.run_metrics: per partition and stage, what its latest collection and enrichment measured (lake asset `run_metrics`, whose materializations the tuning sensor reads)."""

    run_id: str = pa.Field(description="Dagster run that measured the stage")
    asset: str = pa.Field(description="Asset that measured the stage")
    partition: Optional[str] = pa.Field(
        nullable=True, description="date|zip partition; null for whole-table assets (serving)"
    )
    stage: str = pa.Field(description="collection:assessor, collection:listings:<source>, enrichment, serving")
    items: pl.Int64 = pa.Field(ge=0, description="Items the stage handled (requests, listings, documents)")
    duration_s: pl.Float64 = pa.Field(ge=0, description="Wall time of the stage")
    items_per_s: pl.Float64 = pa.Field(ge=0, description="items / duration_s")
    p50_ms: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="Median item latency")
    p95_ms: Optional[pl.Float64] = pa.Field(nullable=True, ge=0, description="95th percentile item latency")
    error_rate: pl.Float64 = pa.Field(ge=0, le=1, description="Items that failed / items")
    retry_rate: pl.Float64 = pa.Field(ge=0, description="Retries / items")
    rate_limited: pl.Int64 = pa.Field(ge=0, description="429 replies")
    timeouts: pl.Int64 = pa.Field(ge=0, description="Timed-out items")
    cpu_pct: pl.Float64 = pa.Field(
        ge=0, description="Process CPU time / (wall time × cores) during the stage (100 = the whole machine)"
    )
    peak_rss_mb: pl.Float64 = pa.Field(ge=0, description="Peak resident memory of the process so far")
    batch_size: Optional[pl.Int64] = pa.Field(nullable=True, description="Batch size used")
    concurrency: Optional[pl.Int64] = pa.Field(nullable=True, description="Concurrency used")
    bytes_received: Optional[pl.Int64] = pa.Field(
        nullable=True,
        ge=0,
        description="Bytes of the replies the stage received (collection); null where it receives none worth counting",
    )
    disk_free_mb: Optional[pl.Float64] = pa.Field(
        nullable=True,
        ge=0,
        description="Free disk under PHOENIX_DATA_DIR when the stage ended (null: no local data directory)",
    )
    recorded_at: UTC_TIME = pa.Field(description="When recorded")

    class Config:
        strict = True


class BatchTuning(pa.DataFrameModel):
    """ops.batch_tuning: every decision of the tuning controller; the next run reads the latest (control state written by the batch_tuning asset, in the run the tuning sensor requests)."""

    decided_at: UTC_TIME = pa.Field(description="When decided")
    stage: str = pa.Field(description="Stage tuned")
    run_id: str = pa.Field(description="Run whose metrics drove it")
    batch_size_old: Optional[pl.Int64] = pa.Field(
        nullable=True, ge=1, description="Batch size before (null: the stage has no batches, e.g. the county collector)"
    )
    batch_size_new: Optional[pl.Int64] = pa.Field(
        nullable=True, ge=BATCH_BOUNDS[0], le=BATCH_BOUNDS[1], description="Batch size after"
    )
    concurrency_old: pl.Int64 = pa.Field(ge=1, description="Concurrency before")
    concurrency_new: pl.Int64 = pa.Field(
        ge=CONCURRENCY_BOUNDS[0], le=CONCURRENCY_BOUNDS[1], description="Concurrency after"
    )
    reason: str = pa.Field(description="Why (the controller's rule and the numbers)")

    class Config:
        strict = True


class Usage(pa.DataFrameModel):
    """Bookkeeping `usage`: billable quantities an asset used (requests, proxy traffic, model tokens and hours), unpriced."""

    run_id: str = pa.Field(description="Dagster run id")
    asset: str = pa.Field(description="Asset that used it")
    partition: Optional[str] = pa.Field(nullable=True, description="date|zip partition")
    date: pl.Date = pa.Field(description="Partition day")
    service: str = pa.Field(description="Priced item in data/unit_prices.yaml")
    item: str = pa.Field(description="What used it: the source or the model")
    quantity: pl.Float64 = pa.Field(ge=0, description="How much, in the service's unit")
    recorded_at: UTC_TIME = pa.Field(description="When recorded")

    class Config:
        strict = True


class StorageUsage(pa.DataFrameModel):
    """ops.storage_usage: bytes held by each store, measured by each warehouse build (bookkeeping `storage_usage`)."""

    run_id: str = pa.Field(description="Build run that measured it")
    date: pl.Date = pa.Field(description="Day measured, in Phoenix")
    store: str = pa.Field(isin=["lake", "warehouse", "mongodb"], description="Which store")
    bytes: pl.Int64 = pa.Field(ge=0, description="Bytes held")
    measured_at: UTC_TIME = pa.Field(description="When measured")

    class Config:
        strict = True


class ServedDocuments(pa.DataFrameModel):
    """ops.served_documents: per serving run and ZIP, the property documents served to MongoDB or the export (bookkeeping `served_documents`)."""

    run_id: str = pa.Field(description="Serving run")
    PostalCode: str = pa.Field(description="ZIP")
    documents: pl.Int64 = pa.Field(ge=0, description="Documents served (one per mart row)")
    content_writes: pl.Int64 = pa.Field(
        ge=0,
        description="Documents written whole: new, or their content hash changed (the rest only had their sighting moved)",
    )
    target: str = pa.Field(
        description="MongoDB at MONGODB_URI, the mongoimport-ready export, or the tests' in-process stand-in"
    )
    served_at: UTC_TIME = pa.Field(description="When served")

    class Config:
        strict = True


class AssetRunsLatest(pa.DataFrameModel):
    """ops.asset_runs_latest: the latest successful run of each asset and partition, which the other ops models count from."""

    asset: str = pa.Field(description="Asset key")
    partition: str = pa.Field(description="date|zip partition")
    date: pl.Date = pa.Field(description="Partition day")
    PostalCode: str = pa.Field(description="Partition ZIP")
    run_id: str = pa.Field(description="Its latest successful run")
    rows_out: pl.Int64 = pa.Field(ge=0, description="Rows that run wrote")
    finished_at: UTC_TIME = pa.Field(description="When that run finished the asset")

    class Config:
        strict = True
        unique = ["asset", "partition"]


class UnitPrices(pa.DataFrameModel):
    """ops.unit_prices: the price of each billable unit (seeded from data/unit_prices.yaml)."""

    service: str = pa.Field(unique=True, description="Priced item")
    unit: str = pa.Field(description="Unit of quantity")
    usd: pl.Float64 = pa.Field(ge=0, description="Price per unit")


class MonthlyBudget(pa.DataFrameModel):
    """ops.monthly_budget: the monthly budget (seeded from data/unit_prices.yaml)."""

    budget_usd: pl.Float64 = pa.Field(ge=0, description="monthly_budget_usd")


class StageMetrics(RunMetrics):
    """ops.stage_metrics: every run's stage metrics, serving's included (bookkeeping `stage_metrics`)."""


class SourceFetches(pa.DataFrameModel):
    """ops.source_fetches: per run and listing source, what one fetch delivered and whether it saw everything (bookkeeping `source_fetches`)."""

    run_id: str = pa.Field(description="Dagster run id")
    asset: str = pa.Field(description="Asset that fetched")
    partition: str = pa.Field(description="date|zip partition")
    source: str = pa.Field(description="Listing source")
    complete: bool = pa.Field(
        description="A complete source whose fetch saw the whole ZIP: its listings replace the earlier ones"
    )
    payloads: pl.Int64 = pa.Field(ge=0, description="Pages or files landed")
    failures: pl.Int64 = pa.Field(ge=0, description="Requests or files that could not be had (quarantined)")
    cut_short: Optional[str] = pa.Field(
        nullable=True, description="Why a complete source's fetch saw only part of the ZIP"
    )
    recorded_at: UTC_TIME = pa.Field(description="When recorded")

    class Config:
        strict = True


class RecordLedger(pa.DataFrameModel):
    """ops.record_ledger: per staging asset, source and partition, every record the source offered and where it went (bookkeeping `record_ledger`; formulas: transforms/ledger.py)."""

    run_id: str = pa.Field(description="Run that staged the partition (its latest successful one)")
    asset: str = pa.Field(description="Staging asset")
    partition: str = pa.Field(description="date|zip partition")
    source: str = pa.Field(description="Source implementation")
    offered: pl.Int64 = pa.Field(
        ge=0,
        description="Records in the raw payloads (array elements, CSV rows, pages; an unreadable payload counts one)",
    )
    staged: pl.Int64 = pa.Field(ge=0, description="Records that go on downstream")
    unchanged: pl.Int64 = pa.Field(ge=0, description="Parcel replies equal to their last version")
    out_of_scope: pl.Int64 = pa.Field(ge=0, description="Another property type or another ZIP")
    not_found: pl.Int64 = pa.Field(ge=0, description="The county's own 'no such parcel'")
    quarantined: pl.Int64 = pa.Field(ge=0, description="Rejected with a reason (ops.quarantine)")
    duplicates: pl.Int64 = pa.Field(ge=0, description="The same record offered again in the partition")
    payloads: pl.Int64 = pa.Field(
        ge=0, description="Listing pages or files the source sent (listings only; 0 for the county)"
    )
    unreadable_payloads: pl.Int64 = pa.Field(ge=0, description="Of those, how many could not be read at all")
    recorded_at: UTC_TIME = pa.Field(description="When recorded")

    class Config:
        strict = True


class Degradations(pa.DataFrameModel):
    """ops.degradations: every run of a stage (and every day's quality score of a source) worse than the median of its own last 14 runs in that ZIP by a robust margin (formulas: phoenix_dagster/monitoring/degradations.py), with the likely cause named from the data."""

    run_id: Optional[str] = pa.Field(nullable=True, description="Run that measured it (null for a quality score)")
    stage: str = pa.Field(
        description="Stage (collection:assessor, collection:listings:<source>, enrichment, serving) or quality:<source>"
    )
    PostalCode: Optional[str] = pa.Field(nullable=True, description="ZIP of the series; null for whole-table stages")
    metric: str = pa.Field(isin=["items_per_s", "p95_ms", "error_rate", "quality_score"], description="What got worse")
    value: pl.Float64 = pa.Field(description="The run's value")
    baseline_median: pl.Float64 = pa.Field(description="Median of the series' earlier runs (at most 14)")
    baseline_mad: pl.Float64 = pa.Field(ge=0, description="Their median absolute deviation, × 1.4826")
    history_runs: pl.Int64 = pa.Field(ge=0, description="Earlier runs behind the baseline")
    ratio: Optional[pl.Float64] = pa.Field(
        nullable=True, description="value / baseline_median (null when the median is 0)"
    )
    direction: str = pa.Field(isin=["lower", "higher"], description="Which way is worse for the metric")
    likely_cause: str = pa.Field(description="The likely cause, named from the run's other measures")
    recorded_at: UTC_TIME = pa.Field(description="When the run measured it (a quality score: its partition day)")

    class Config:
        strict = True


class ServiceHealth(pa.DataFrameModel):
    """ops.service_health: every probe of every configured dependency — its state, latency and reason (control state written by the service_health asset, each partition run's service_preflight and a <service>_up check run on its own; probes: each source's module, and phoenix_dagster/monitoring/health.py)."""

    checked_at: UTC_TIME = pa.Field(description="When the probe started")
    service: str = pa.Field(
        str_matches=r"^[a-z][a-z0-9_]*$",
        description="The dependency: ollama, mongodb or a source's probed service (its descriptor's: county_api, reso, mls_html)",
    )
    required: bool = pa.Field(
        description="A failing required probe fails collection (the county with the maricopa source, a configured RESO feed or MLS site)"
    )
    state: str = pa.Field(
        isin=["up", "down", "misconfigured", "refused", "degraded"],
        description="up, down, misconfigured, refused (credentials), degraded (works, not fully)",
    )
    latency_ms: Optional[pl.Float64] = pa.Field(
        nullable=True, ge=0, description="Time to the probe's last reply; null when nothing answered"
    )
    detail: str = pa.Field(description="The reason, one line, secrets masked")
    run_id: Optional[str] = pa.Field(nullable=True, description="The run that probed")

    class Config:
        strict = True
