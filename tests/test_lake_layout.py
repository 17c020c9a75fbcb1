"""How the lake lays out a raw partition: append-only per run, a collection's replies landed in parts
as they arrive (a crash loses at most the replies since the last part, and the next collection takes
what landed instead of asking again), readers taking the newest collection that ended; each part in
row groups of RAW_ROW_GROUP_ROWS replies, so a reader of one kind of reply (search_complete reads the
county's search pages, which land first) skips the detail bodies' row groups by their statistics
instead of downloading them (on S3)."""

import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from phoenix_dagster.resources.lake import RAW_ROW_GROUP_ROWS, LakeResource
from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.sources.landing import LEGACY_FILE

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 28, 7, tzinfo=UTC)


def test_a_raw_partition_is_written_in_row_groups_that_keep_the_search_pages_apart(tmp_path):
    pages = [RawPayload("m", "search_page", f"q=85031&page={n}", "/search", 200, T, b"{}") for n in range(1, 41)]
    details = [RawPayload("m", "parcel", f"1{i:07d}", "/parcel", 200, T, b'{"APN": 1}') for i in range(5_000)]
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path))
    frame = payloads_frame(pages + details)
    [raw] = lake.land(frame, "raw_assessor_payloads", "2026-11-28", "85031", "run-a").parts
    staged = lake.write(frame, "stg_assessor__search_results", "2026-11-28", "85031")  # any other layer: one group
    layout = pq.ParquetFile(raw).metadata
    assert layout.num_row_groups == -(-frame.height // RAW_ROW_GROUP_ROWS) == 3
    entity = layout.schema.names.index("entity")
    stats = [layout.row_group(g).column(entity).statistics for g in range(layout.num_row_groups)]
    assert [(s.min, s.max) for s in stats[1:]] == [("parcel", "parcel")] * 2  # skippable for a search-page reader
    assert pq.ParquetFile(staged).metadata.num_row_groups == 1
    assert lake.read("raw_assessor_payloads", "2026-11-28", "85031").equals(frame)


RAW, DAY, ZIP = "raw_assessor_payloads", "2026-11-28", "85031"


def replies(n: int, body: bytes = b"{}", start: int = 0) -> list[RawPayload]:
    return [RawPayload("m", "parcel", f"1{i:07d}", f"/parcel/1{i:07d}", 200, T, body) for i in range(start, start + n)]


def test_a_collection_lands_in_parts_as_it_goes_and_is_read_only_once_it_ended(tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path), raw_part_replies=100)
    landing = lake.landing(RAW, DAY, ZIP, "run-a")
    for payload in replies(250):
        landing.land(payload)
    assert len(lake.raw_files(RAW, DAY, ZIP)) == 2  # two parts of 100 on disk while the collection runs
    assert not lake.is_materialized(RAW, DAY, ZIP)  # not a collection until it ends
    collected = landing.finish()  # the parts gathered into one file, then removed
    assert [Path(part).name for part in collected.parts] == ["replies.parquet"] and collected.replies == 250
    assert lake.raw_files(RAW, DAY, ZIP) == list(collected.parts)
    assert lake.read(RAW, DAY, ZIP).equals(payloads_frame(replies(250)))


def test_a_rerun_adds_its_collection_beside_the_earlier_one_and_readers_take_the_newest(tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path))
    legacy = tmp_path / "lake" / RAW / f"zip={ZIP}" / f"date={DAY}" / LEGACY_FILE  # an older version's
    legacy.parent.mkdir(parents=True)
    payloads_frame(replies(3, b"old")).write_parquet(legacy)
    assert lake.read(RAW, DAY, ZIP)["body"].to_list() == [b"old"] * 3
    first = lake.land(payloads_frame(replies(2, b"first")), RAW, DAY, ZIP, "run-a")
    written = {path: Path(path).read_bytes() for path in first.parts}
    second = lake.land(payloads_frame(replies(4, b"second")), RAW, DAY, ZIP, "run-b")
    assert lake.read(RAW, DAY, ZIP)["body"].to_list() == [b"second"] * 4
    assert {path: Path(path).read_bytes() for path in first.parts} == written  # the earlier run's untouched
    assert lake.raw_files(RAW, DAY, ZIP) == [str(legacy), *first.parts, *second.parts]
    assert lake.read(RAW, DAY, ZIP, run_id="run-a")["body"].to_list() == [b"first"] * 2  # a run reads its own
    assert lake.read(RAW, DAY, ZIP, run_id="run-unknown")["body"].to_list() == [b"second"] * 4
    assert lake.history(RAW, ZIP, through=DAY, columns=["body"])["body"].to_list() == [b"second"] * 4
    assert lake.partitions(RAW, before="2026-11-29") == [(ZIP, DAY)]
    with pytest.raises(ValueError, match="append-only"):
        lake.write(payloads_frame(replies(1)), RAW, DAY, ZIP)


def test_a_collection_that_did_not_end_is_taken_up_by_the_next_without_asking_again(tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path), raw_part_replies=100)
    crashed = lake.landing(RAW, DAY, ZIP, "run-killed")
    for payload in replies(150):  # killed after 150 replies: the first 100 are in a part, 50 are lost
        crashed.land(payload)
    resumed = lake.landing(RAW, DAY, ZIP, "run-again")
    assert resumed.resumed_from == ["run-killed"] and len(resumed.earlier) == 100
    asked = []
    for payload in replies(250):
        taken = resumed.take_earlier(payload.entity, payload.record_key)
        if taken is None:
            asked.append(payload.record_key)
        resumed.land(taken or payload)
    resumed.finish()
    assert resumed.taken == 100 and len(asked) == 150  # only what did not land is asked again
    assert lake.read(RAW, DAY, ZIP).height == 250  # its collection is whole on its own
    assert lake.landing(RAW, DAY, ZIP, "run-later").earlier == {}  # the next run starts afresh


def test_replies_that_wait_are_written_on_time_and_a_failed_collection_leaves_them_for_the_next(tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path), raw_part_seconds=0.2)
    stalled = lake.landing(RAW, DAY, ZIP, "run-stalled")
    stalled.land_all(replies(2))
    time.sleep(1.0)  # the source stalls (a rate limit, a backoff): the two replies do not wait for a third
    assert len(lake.raw_files(RAW, DAY, ZIP)) == 1
    stalled.land_all(replies(1, start=2))
    stalled.abandon()  # the collection failed (a refused token): what it fetched is landed, not ended
    assert len(lake.raw_files(RAW, DAY, ZIP)) == 2 and not lake.is_materialized(RAW, DAY, ZIP)
    assert len(lake.landing(RAW, DAY, ZIP, "run-next").earlier) == 3


def test_a_collection_that_failed_on_the_sources_answer_is_not_taken_up(tmp_path):
    """A ZIP the county would not enumerate (page 1 said TOTAL 0): its reply is kept in the lake,
    but the next run asks again instead of failing on the same answer."""
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path))
    refused = lake.landing(RAW, DAY, ZIP, "run-refused")
    refused.land_all(replies(1))
    refused.abandon(refused="assessor search for 85031 answered TOTAL: 0 (no parcels)")
    assert len(lake.raw_files(RAW, DAY, ZIP)) == 1  # landed, not lost; retention reads the replies only
    again = lake.landing(RAW, DAY, ZIP, "run-again")
    assert again.earlier == {} and again.resumed_from == []
    assert not lake.made_by(RAW, DAY, ZIP, "run-refused")


def test_an_error_reply_is_asked_again_and_a_killed_parts_temporary_file_is_removed_by_retention(tmp_path):
    lake = LakeResource(root=str(tmp_path / "lake"), data_dir=str(tmp_path), raw_part_replies=1)
    killed = lake.landing(RAW, DAY, ZIP, "run-killed")
    killed.land(RawPayload("m", "parcel", "10000001", "/parcel/10000001", 200, T, b"{}"))
    killed.land(RawPayload("m", "parcel", "10000002", "/parcel/10000002", 404, T, b"{}"))  # none: kept
    killed.land(RawPayload("m", "parcel", "10000003", "/parcel/10000003", 503, T, b"down"))  # asked again
    assert sorted(key for _, key in lake.landing(RAW, DAY, ZIP, "run-next").earlier) == ["10000001", "10000002"]
    temporary = Path(killed.folder) / "tmpabc.parquet.tmp"  # a part being written when the process died
    temporary.write_bytes(b'{"Owner": "half a part"}')
    assert lake.remove_left_behind(RAW, DAY, ZIP) == 1 and not temporary.exists()
