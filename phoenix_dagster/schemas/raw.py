"""Raw layer: payloads exactly as a source returned them."""

import pandera.polars as pa
import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")


class RawPayloads(pa.DataFrameModel):
    """One row per response body a source returned for the partition."""

    source: str = pa.Field(description="Which implementation answered: sample, maricopa, …")
    entity: str = pa.Field(
        isin=["search_page", "parcel", "listing_page", "csv_export", "mls_search_page", "mls_listing_page"],
        description="What the payload is",
    )
    record_key: str = pa.Field(description="Page or parcel the payload answers (q=85031&page=2, an APN, …)")
    request: str = pa.Field(
        description="Path and query requested (MLS pages: the full URL, host included); never carries credentials"
    )
    http_status: pl.Int32 = pa.Field(ge=100, le=599, description="HTTP status of the reply")
    fetched_at: UTC_TIME = pa.Field(description="When the reply was received (UTC)")
    sha256: str = pa.Field(str_length={"min_value": 64, "max_value": 64}, description="SHA-256 of body")
    bytes: pl.Int64 = pa.Field(ge=0, description="Length of body in bytes")
    body: pl.Binary = pa.Field(description="The body, unchanged")

    class Config:
        strict = True
