"""Against a real MongoDB server: runs only when MONGODB_URI is set (none can be installed here)."""

import os
import uuid

import pytest
from test_serving import day, events, mart

from phoenix_dagster.documents.mongo_writes import write_changed
from phoenix_dagster.documents.properties import ensure_indexes, property_documents
from phoenix_dagster.resources.mongo import MongoResource

pytestmark = [
    pytest.mark.integration,
    pytest.mark.mongodb,
    pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="MONGODB_URI is not set"),
]


def test_bulk_writes_against_a_real_server():
    resource = MongoResource(
        uri=os.environ["MONGODB_URI"], database=f"phoenix_test_{uuid.uuid4().hex[:8]}", export_dir="unused"
    )
    client = resource.client()
    try:
        collection = resource.db().properties
        ensure_indexes(collection)
        ensure_indexes(collection)  # idempotent
        docs = property_documents(
            mart({"property_id": "apn:1", "Latitude": 33.5, "Longitude": -112.2, "last_seen_at": day(2)}), events()
        )
        assert write_changed(collection, docs, "property_id").content_writes == 1
        assert write_changed(collection, docs, "property_id").content_writes == 0
        assert (
            collection.count_documents(
                {
                    "location": {
                        "$nearSphere": {
                            "$geometry": {"type": "Point", "coordinates": [-112.2, 33.5]},
                            "$maxDistance": 10,
                        }
                    }
                }
            )
            == 1
        )
        assert {"property_id_unique", "location_2dsphere"} <= set(collection.index_information())
    finally:
        client.drop_database(resource.database)
