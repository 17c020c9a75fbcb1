"""How the lake lays out a raw partition: row groups of RAW_ROW_GROUP_ROWS replies, so a reader of
one kind of reply (search_complete reads the county's search pages, which land first) skips the
detail bodies' row groups by their statistics instead of downloading them (on S3)."""

from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from phoenix_dagster.resources.lake import RAW_ROW_GROUP_ROWS, LakeResource
from phoenix_dagster.sources.base import RawPayload, payloads_frame

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)


def test_a_raw_partition_is_written_in_row_groups_that_keep_the_search_pages_apart(tmp_path):
    pages = [RawPayload("m", "search_page", f"q=85031&page={n}", "/search", 200, T, b"{}") for n in range(1, 41)]
    details = [RawPayload("m", "parcel", f"1{i:07d}", "/parcel", 200, T, b'{"APN": 1}') for i in range(5_000)]
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path))
    frame = payloads_frame(pages + details)
    raw = lake.write(frame, "raw_assessor_payloads", "2026-11-28", "85031")
    staged = lake.write(frame, "stg_assessor__search_results", "2026-11-28", "85031")  # any other layer: one group
    layout = pq.ParquetFile(raw).metadata
    assert layout.num_row_groups == -(-frame.height // RAW_ROW_GROUP_ROWS) == 3
    entity = layout.schema.names.index("entity")
    stats = [layout.row_group(g).column(entity).statistics for g in range(layout.num_row_groups)]
    assert [(s.min, s.max) for s in stats[1:]] == [("parcel", "parcel")] * 2  # skippable for a search-page reader
    assert pq.ParquetFile(staged).metadata.num_row_groups == 1
    assert lake.read("raw_assessor_payloads", "2026-11-28", "85031").equals(frame)
