"""Helpers that turn a pandera.polars model into the things other layers need."""

from __future__ import annotations

import dagster as dg
import pandera.polars as pa
import polars as pl


def polars_schema(model: type[pa.DataFrameModel]) -> dict[str, pl.DataType]:
    return {name: column.dtype.type for name, column in model.to_schema().columns.items()}


def empty_frame(model: type[pa.DataFrameModel]) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(model))


def with_missing_as_null(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> pl.DataFrame:
    """The frame with every nullable column of the model it lacks as nulls (rows an older version
    wrote, before the column existed); a missing required column stays missing (conform refuses it)."""
    columns = model.to_schema().columns
    missing = {
        name: dtype
        for name, dtype in polars_schema(model).items()
        if name not in frame.columns and columns[name].nullable
    }
    return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in missing.items())


def conform(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> pl.DataFrame:
    """Select the model's columns in its order, cast to its types (missing columns are an error)."""
    schema = polars_schema(model)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


CHECK_WORDS = {
    "greater_than_or_equal_to": "≥ {}",
    "less_than_or_equal_to": "≤ {}",
    "greater_than": "> {}",
    "less_than": "< {}",
    "str_matches": "matches {}",
    "isin": "one of {}",
    "in_range": "in {}",
    "str_length": "length {}",
}


def _describe_checks(column: pa.Column) -> str:
    parts = []
    if not column.nullable:
        parts.append("required")
    if column.unique:
        parts.append("unique")
    for check in column.checks:
        values = [
            ("/".join(map(str, v)) if isinstance(v, (list, tuple, set)) else str(v))
            for v in (check.statistics or {}).values()
            if v is not None
        ]
        template = CHECK_WORDS.get(check.name, check.name + " {}")
        parts.append(template.format("..".join(values)).strip())
    return "; ".join(parts)


def column_docs(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The model as Dagster column metadata, shown on the asset's page in the UI. The UI reads
    descriptions as markdown, where `<APN>` is an HTML tag and vanishes: angle brackets are
    escaped."""
    columns = []
    for name, column in model.to_schema().columns.items():
        rules = _describe_checks(column).replace("<", "&lt;").replace(">", "&gt;")
        text = (column.description or "").replace("<", "&lt;").replace(">", "&gt;")
        columns.append(
            dg.TableColumn(name=name, type=str(column.dtype), description=f"{text} [{rules}]" if rules else text)
        )
    return dg.TableSchema(columns=columns)
