"""Thin Dagster asset definitions, one module per layer. Each names its inputs, calls a
transform from phoenix_dagster.transforms and attaches metadata; the logic lives there."""
