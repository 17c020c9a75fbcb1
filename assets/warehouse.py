"""SQL models (sql/staging, sql/intermediate, sql/marts) as assets, one per file.

Each model's upstream assets come from the tables its SQL reads; see phoenix_dagster/sql_models.py.
"""

from pathlib import Path

import dagster as dg

from phoenix_dagster.resources.lake import LakeResource
from phoenix_dagster.resources.warehouse import WarehouseResource
from phoenix_dagster.schemas import column_docs
from phoenix_dagster.schemas.marts import MART_TABLES
from phoenix_dagster.settings import PROJECT_ROOT, SQL_DIR
from phoenix_dagster.sql_models import SqlModel, build_model, dependency_key, discover_models


def sql_model_asset(model: SqlModel) -> dg.AssetsDefinition:
    metadata = {"sql_file": str(model.path.relative_to(PROJECT_ROOT)), "dagster/table_name": model.table}
    if model.table in MART_TABLES:
        metadata["dagster/column_schema"] = column_docs(MART_TABLES[model.table])

    @dg.asset(key=model.key, group_name=model.layer, description=model.description, kinds={"duckdb", "sql"},
              deps=[dependency_key(schema, name) for schema, name in model.upstream], metadata=metadata)
    def _build(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               lake: LakeResource) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            rows = build_model(conn, model, Path(lake.base_dir))
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "sql": dg.MetadataValue.md(f"```sql\n{model.sql}\n```")})

    return _build


SQL_MODELS = discover_models(SQL_DIR)
sql_model_assets = [sql_model_asset(model) for model in SQL_MODELS]
