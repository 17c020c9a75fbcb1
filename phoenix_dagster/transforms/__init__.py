"""Pure transforms: DataFrame in, DataFrame out. No I/O, no Dagster; tests call them directly."""
