"""The asset checks: one per table, generated from its schema (phoenix_dagster/checks.py)."""

from assets.warehouse import SQL_MODELS
from phoenix_dagster.checks import lake_schema_check, unique_grain_check, warehouse_schema_check
from phoenix_dagster.schemas.enriched import EnrichedProperties, ListingTextFacts
from phoenix_dagster.schemas.intermediate import IntAssessorParcels, IntListingsMatched, IntPropertiesResolved
from phoenix_dagster.schemas.marts import MART_TABLES
from phoenix_dagster.schemas.raw import RawPayloads
from phoenix_dagster.schemas.staging import StgAssessorParcels, StgAssessorSearchResults, StgListings

LAKE_TABLES = {
    "raw_assessor_payloads": RawPayloads,
    "raw_listing_payloads": RawPayloads,
    "stg_assessor__search_results": StgAssessorSearchResults,
    "stg_assessor__parcels": StgAssessorParcels,
    "stg_listings__listings": StgListings,
    "int_assessor_parcels": IntAssessorParcels,
    "int_listings_matched": IntListingsMatched,
    "int_properties_resolved": IntPropertiesResolved,
    "listing_text_facts": ListingTextFacts,
    "enriched_properties": EnrichedProperties,
}

schema_checks = [lake_schema_check(name, model) for name, model in LAKE_TABLES.items()] + [
    warehouse_schema_check(model.key, model.table, MART_TABLES[model.table])
    for model in SQL_MODELS if model.table in MART_TABLES
] + [unique_grain_check(model.key, model.table, model.grain) for model in SQL_MODELS if model.grain]
