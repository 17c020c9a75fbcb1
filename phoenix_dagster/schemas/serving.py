"""Serving: the documents applications read, in MongoDB or the mongoimport-ready export."""

from typing import Optional

import pandera.polars as pa
import polars as pl

from phoenix_dagster.schemas.marts import UTC_TIME, Properties

PRICE_ENTRY = pl.Struct({"ListPrice": pl.Float64, "observed_at": UTC_TIME})
GEOJSON_POINT = pl.Struct({"type": pl.String, "coordinates": pl.List(pl.Float64)})


class PropertyDocument(Properties):
    """properties (MongoDB collection, or serving/properties.jsonl): one document per property — its marts.properties row, price history, location and content hash."""

    price_history: pl.List(PRICE_ENTRY) = pa.Field(
        description="[{ListPrice, observed_at}], oldest first: the listed and price_change events of marts.listing_events"
    )
    location: Optional[GEOJSON_POINT] = pa.Field(
        nullable=True,
        description="GeoJSON Point [Longitude, Latitude] for the 2dsphere index; null without coordinates",
    )
    content_hash: pl.Int64 = pa.Field(
        description="64-bit hash of the document without last_seen_at: written again only when it changes"
    )


class DailyReportDocument(pa.DataFrameModel):
    """daily_reports (MongoDB collection, or serving/daily_reports.jsonl): one document per partition day."""

    date: str = pa.Field(unique=True, description="Partition day, YYYY-MM-DD")
    updated_at: UTC_TIME = pa.Field(description="When the build wrote it")
    zips: pl.Struct({}) = pa.Field(
        description="Per ZIP: counts, records_by_source, quality (per source), cost_usd, errors (top quarantine reasons)"
    )
    budget: Optional[pl.Struct({})] = pa.Field(nullable=True, description="The month's ops.budget_status row")
