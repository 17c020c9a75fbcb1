"""One schema definition per table. The asset checks, the column docs in the UI, the
DDL of the ops tables and docs/tables.md's reference are all read from these models."""

from phoenix_dagster.schemas.core import column_docs, conform, empty_frame, polars_schema, with_missing_as_null

__all__ = ["column_docs", "conform", "empty_frame", "polars_schema", "with_missing_as_null"]
