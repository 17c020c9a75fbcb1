"""Every table's one schema, by where the table lives. Asset checks, column docs in the UI,
empty bookkeeping views and docs/tables.md's reference all look tables up here."""

import pandera.polars as pa

from phoenix_dagster.schemas.enriched import EnrichedProperties, ListingTextFacts
from phoenix_dagster.schemas.intermediate import IntAssessorParcels, IntListingsMatched, IntPropertiesResolved
from phoenix_dagster.schemas.marts import MART_TABLES
from phoenix_dagster.schemas.ops import (
    Alerts,
    AssetRunsLatest,
    BatchTuning,
    BudgetStatus,
    CostDaily,
    CostEvents,
    Degradations,
    LlmCache,
    MonthlyBudget,
    PartitionCounts,
    QualityDaily,
    QualityDailyWithMatches,
    Quarantine,
    RecordLedger,
    RunLog,
    RunMetrics,
    ServedDocuments,
    ServiceHealth,
    SourceFetches,
    SourceRequests,
    StageMetrics,
    StorageUsage,
    UnitPrices,
    Usage,
)
from phoenix_dagster.schemas.raw import RawPayloads
from phoenix_dagster.schemas.serving import DailyReportDocument, PropertyDocument
from phoenix_dagster.schemas.staging import StgAssessorParcels, StgAssessorSearchResults, StgListings

# Partitioned lake assets: lake/<asset>/zip=<ZIP>/date=<day>/data.parquet (a raw asset's: per run,
# …/runs/<started>__<run>/part-<n>.parquet, sources/landing.py)
LAKE_TABLES: dict[str, type[pa.DataFrameModel]] = {
    "raw_assessor_payloads": RawPayloads,
    # one raw asset per listing source (assets/raw.py: raw_listing_payloads__<source>), each a RawPayloads
    "raw_listing_payloads__<source>": RawPayloads,
    "stg_assessor__search_results": StgAssessorSearchResults,
    "stg_assessor__parcels": StgAssessorParcels,
    "stg_listings__listings": StgListings,
    "int_assessor_parcels": IntAssessorParcels,
    "int_listings_matched": IntListingsMatched,
    "int_properties_resolved": IntPropertiesResolved,
    "listing_text_facts": ListingTextFacts,
    "enriched_properties": EnrichedProperties,
    "quality_daily": QualityDaily,
    "run_metrics": RunMetrics,
}

RAW_LISTING_PREFIX = "raw_listing_payloads__"


def lake_table(name: str) -> type[pa.DataFrameModel] | None:
    """The schema of a lake asset by its name (a listing source's raw asset by its prefix); None
    for an asset that stores nothing in the lake."""
    if name.startswith(RAW_LISTING_PREFIX):
        return LAKE_TABLES["raw_listing_payloads__<source>"]
    return LAKE_TABLES.get(name)


# What assets record about themselves: lake/_bookkeeping/<table>/zip=<ZIP>/date=<day>/<asset>__<run>.parquet
BOOKKEEPING_TABLES: dict[str, type[pa.DataFrameModel]] = {
    "run_log": RunLog,
    "quarantine": Quarantine,
    "source_requests": SourceRequests,
    "stage_metrics": StageMetrics,
    "usage": Usage,
    "llm_replies": LlmCache,
    "storage_usage": StorageUsage,
    "served_documents": ServedDocuments,
    "source_fetches": SourceFetches,
    "record_ledger": RecordLedger,
}

# What sensors decide and the pipeline steers by: control/<table>/*.parquet
CONTROL_TABLES: dict[str, type[pa.DataFrameModel]] = {
    "batch_tuning": BatchTuning,
    "alerts": Alerts,
    "service_health": ServiceHealth,
}

# The warehouse's tables with a contract, checked after every build.
WAREHOUSE_TABLES: dict[str, type[pa.DataFrameModel]] = {
    **MART_TABLES,
    "ops.run_log": RunLog,
    "ops.asset_runs_latest": AssetRunsLatest,
    "ops.quarantine": Quarantine,
    "ops.partition_counts": PartitionCounts,
    "ops.record_ledger": RecordLedger,
    "ops.source_requests": SourceRequests,
    "ops.source_fetches": SourceFetches,
    "ops.quality_daily": QualityDailyWithMatches,
    "ops.degradations": Degradations,
    "ops.service_health": ServiceHealth,
    "ops.run_metrics": RunMetrics,
    "ops.stage_metrics": StageMetrics,
    "ops.llm_cache": LlmCache,
    "ops.unit_prices": UnitPrices,
    "ops.monthly_budget": MonthlyBudget,
    "ops.storage_usage": StorageUsage,
    "ops.served_documents": ServedDocuments,
    "ops.cost_events": CostEvents,
    "ops.cost_daily": CostDaily,
    "ops.budget_status": BudgetStatus,
    "ops.alerts": Alerts,
    "ops.batch_tuning": BatchTuning,
}

# Documents applications read (MongoDB, or the export under serving/ without one).
SERVING_DOCUMENTS: dict[str, type[pa.DataFrameModel]] = {
    "properties": PropertyDocument,
    "daily_reports": DailyReportDocument,
}
