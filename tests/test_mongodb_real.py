"""Against a real MongoDB server: runs only when MONGODB_URI is set (none can be installed here)."""

import os
import uuid
from datetime import datetime, timezone

import pytest

from phoenix_dagster.resources.mongo import MongoResource
from phoenix_dagster.documents.properties import upsert_properties
from test_serving import mart

pytestmark = [pytest.mark.integration, pytest.mark.mongodb,
              pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="MONGODB_URI is not set")]


def test_upserts_against_a_real_server():
    resource = MongoResource(uri=os.environ["MONGODB_URI"], database=f"phoenix_test_{uuid.uuid4().hex[:8]}")
    client = resource.client()
    try:
        collection = resource.db().properties
        day = datetime(2026, 11, 1, 7, tzinfo=timezone.utc)
        upsert_properties(collection, mart(300000, day, day))
        assert upsert_properties(collection, mart(300000, day, day))["modified"] == 0
        assert collection.count_documents({}) == 1
        assert "property_id_unique" in collection.index_information()
    finally:
        client.drop_database(resource.database)
