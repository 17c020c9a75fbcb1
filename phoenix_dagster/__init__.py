"""Phoenix real-estate data platform: the Dagster code location and the code it runs."""

from phoenix_dagster.settings import configure_polars_allocator

configure_polars_allocator()  # before anything imports Polars (see settings.POLARS_ALLOCATOR)
