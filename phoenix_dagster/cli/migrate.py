"""phoenix-estate migrate: bring a data directory an earlier version wrote to today's keys.

A parcel is keyed by its county (issue 29): property_id `apn:<APN>` is now
`apn:<county FIPS>:<APN>`, `adr:<ZIP>:<address>` is `adr:<county FIPS>:<ZIP>:<address>`, and the
resolved tables carry `county_fips`. Each step is idempotent (a second run changes nothing):
1. the lake: every file of a table holding property_id that has no `county_fips` column is
   rewritten in place, the county that of its partition's ZIP (zip=…);
2. the served documents: MongoDB's (MONGODB_URI) or the export's (<data dir>/serving), each
   document without `county_fips` gets it and its property_id qualified;
3. the warehouse: when anything changed, or it still holds an earlier key, one build_warehouse run
   (its one writer) rebuilds it from the migrated lake.
The raw layer needs nothing (a partition written before run folders reads as its oldest
collection), nor does the control state (it holds no parcel keys). Dagster's run history keeps the
partition keys its runs were made under."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from phoenix_dagster.documents.mongo_writes import bulk_write_unordered
from phoenix_dagster.documents.properties import COLLECTION
from phoenix_dagster.resources.lake import LakeResource, lake_resource, partition_of
from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.schemas import conform, polars_schema, with_missing_as_null
from phoenix_dagster.schemas.tables import lake_table
from phoenix_dagster.settings import ConfigError, Settings
from phoenix_dagster.transforms.addresses import QUALIFIED_PROPERTY_ID, qualified_property_id
from phoenix_dagster.warehouse.queries import query

KEYED_TABLES = (  # the lake tables holding property_id
    "int_assessor_parcels",
    "int_listings_matched",
    "int_properties_resolved",
    "listing_text_facts",
    "enriched_properties",
)


@dataclass
class Migrated:
    lake_files: int = 0
    documents: int = 0
    warehouse: str = "unchanged"


def migrate_lake(lake: LakeResource) -> int:
    """Files rewritten: each keyed table's files holding an earlier property_id, or lacking the
    `county_fips` column their table has now, with their ZIP's county; in the table's column order."""
    files = {table: lake.storage.glob(f"{table}/zip=*/date=*/*.parquet") for table in KEYED_TABLES}
    unplaced = sorted({partition_of(path)[0] for paths in files.values() for path in paths} - set(lake.zip_counties))
    if unplaced:  # a county guessed would be kept for good: the rewrite never runs twice on a file
        raise ConfigError(
            f"the lake has ZIP {', '.join(unplaced)}, which PHOENIX_ZIP_CODES does not place in a county of "
            "the market: add them there (their county from the markets file), then run migrate again; "
            "nothing was rewritten"
        )
    rewritten = 0
    for table in KEYED_TABLES:
        model = lake_table(table)
        wanted = polars_schema(model)
        for path in files[table]:
            ids = lake.storage.read_parquet(path, columns=["property_id"])["property_id"]
            has_county = "county_fips" in lake.storage.columns(path) or "county_fips" not in wanted
            if has_county and ids.str.contains(QUALIFIED_PROPERTY_ID).all():
                continue
            county = pl.lit(lake.county_of(partition_of(path)[0]))
            migrated = lake.storage.read_parquet(path).with_columns(
                qualified_property_id(pl.col("property_id"), county).alias("property_id"),
                *([county.alias("county_fips")] if "county_fips" in wanted else []),
            )
            # in place, atomically (a temporary file renamed), in the order today's version writes
            lake.storage.write_parquet(conform(with_missing_as_null(migrated, model), model), path)
            rewritten += 1
    return rewritten


def qualified_keys(documents: list[dict], lake: LakeResource) -> list[dict]:
    """Each document's qualified property_id and its county_fips (by its ZIP), in order."""
    keys = pl.DataFrame(
        {"property_id": [d["property_id"] for d in documents], "PostalCode": [d["PostalCode"] for d in documents]},
        schema={"property_id": pl.String, "PostalCode": pl.String},
    )
    counties = {zip_code: lake.county_of(zip_code) for zip_code in keys["PostalCode"].unique().to_list()}
    return keys.select(
        qualified_property_id(pl.col("property_id"), pl.col("PostalCode").replace_strict(counties)),
        pl.col("PostalCode").replace_strict(counties).alias("county_fips"),
    ).to_dicts()


def migrate_documents(mongo: MongoResource, lake: LakeResource) -> int:
    """Documents given their county and qualified key: in MongoDB (or its stand-in), else in the export file."""
    if mongo.target == "export":
        return _migrate_export(mongo.export_path(COLLECTION), lake)
    from pymongo import UpdateOne

    collection = mongo.db()[COLLECTION]
    earlier = list(collection.find({"county_fips": {"$exists": False}}, {"_id": 1, "property_id": 1, "PostalCode": 1}))
    updates = [
        UpdateOne({"_id": doc["_id"]}, {"$set": keys}) for doc, keys in zip(earlier, qualified_keys(earlier, lake))
    ]
    for start in range(0, len(updates), 1000):
        bulk_write_unordered(collection, updates[start : start + 1000])
    return len(updates)


def _migrate_export(path: Path, lake: LakeResource) -> int:
    if not path.exists():
        return 0
    with path.open() as export:
        documents = [json.loads(line) for line in export]
    earlier = [document for document in documents if "county_fips" not in document]
    for document, keys in zip(earlier, qualified_keys(earlier, lake)):
        document |= keys
    if earlier:
        partial = path.with_suffix(".jsonl.tmp")
        partial.write_text("".join(json.dumps(d, separators=(",", ":")) + "\n" for d in documents))
        os.replace(partial, path)
    return len(earlier)


def warehouse_has_earlier_keys(settings: Settings) -> bool:
    from phoenix_dagster.resources.warehouse import PublishedWarehouseResource

    warehouse = PublishedWarehouseResource(path=str(settings.warehouse_path), lake=lake_resource(settings))
    if not warehouse.is_published or not warehouse.has_table("marts.properties"):
        return False
    earlier = warehouse.query(query("migrate__properties_with_earlier_keys"), [QUALIFIED_PROPERTY_ID])
    return bool(earlier["n"][0])


def migrate(settings: Settings, out=None) -> int:
    out = out or sys.stdout
    lake = lake_resource(settings)
    mongo = MongoResource(
        uri=dg.EnvVar("MONGODB_URI").get_value() or None,
        database=settings.mongodb_database,
        export_dir=str(settings.serving_dir),
        stand_in=settings.mongodb_stand_in,
    )
    done = Migrated(lake_files=migrate_lake(lake))
    print(f"lake: {done.lake_files} file(s) given county_fips and county-qualified property ids", file=out)
    done.documents = migrate_documents(mongo, lake)
    print(f"documents ({mongo.describe()}): {done.documents} given their county", file=out)
    if done.lake_files or done.documents or warehouse_has_earlier_keys(settings):
        from phoenix_dagster.cli.local_runs import build_warehouse, local_instance
        from phoenix_dagster.cli.workspace_runs import WorkspaceJobs

        with WorkspaceJobs(local_instance(settings), lock_dir=settings.dagster_home) as jobs:
            built = build_warehouse(jobs, out=out)
        if not built.ok:
            print(f"warehouse: the rebuild failed ({built.error or 'failed checks'}); run migrate again", file=out)
            return 1
        done.warehouse = "rebuilt from the migrated lake"
    print(f"warehouse: {done.warehouse}", file=out, flush=True)
    return 0
