"""Upgrading from a warehouse written in place: its history is imported into the lake and the
control state before the first run uses them, so the first publish loses none of it."""

from datetime import datetime, timezone

import dagster as dg
import duckdb
import pytest

from phoenix_dagster.legacy_warehouse import is_in_place_warehouse
from platform_harness import DAY, make_platform

pytestmark = pytest.mark.integration

OLD = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def write_in_place_warehouse(path) -> None:
    """The ops tables as the previous version created and filled them."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute("create schema ops")
        conn.execute("""create table ops.run_log as select 'old-run' as run_id, 'raw_assessor_payloads' as asset,
            '2026-11-20|85031' as partition, 0::bigint as rows_in, 265::bigint as rows_out, 0::bigint as rows_quarantined,
            7200.0 as duration_s, $1::timestamptz as finished_at""", [OLD])
        conn.execute("""create table ops.quarantine as select 'sample' as source, 'raw_assessor_payloads' as asset,
            '2026-11-20|85031' as partition, '1234' as record_key, 'parcel: timed out' as reason, '' as raw_record,
            $1::timestamptz as quarantined_at""", [OLD])
        conn.execute("""create table ops.llm_cache as select 'llama3.2' as model, 'facts-v1' as prompt_version,
            'abc' as text_sha256, '{}' as content, 10::bigint as prompt_tokens, 5::bigint as completion_tokens,
            0.5 as model_seconds, $1::timestamptz as created_at""", [OLD])
        conn.execute("""create table ops.cost_events as select date '2026-11-20' as date, '2026-11-20|85031' as partition,
            'old-run' as run_id, 'llm_model_hour' as service, 'llama3.2' as item, 10.0 as quantity,
            'model hour' as unit, 0.4 as unit_price_usd, 4.0 as cost_usd, $1::timestamptz as recorded_at""", [OLD])
        conn.execute("""create table ops.batch_tuning as select $1::timestamptz + to_seconds(i) as decided_at,
            'collection:assessor' as stage, 'old-run' as run_id, 35::bigint as batch_size_old,
            (35 + 5 * i)::bigint as batch_size_new, 4::bigint as concurrency_old, 4::bigint as concurrency_new,
            'grow: test' as reason from range(2) t(i)""", [OLD])  # the old CLI and daemon both decided
        conn.execute("""create table ops.alerts as select date '2026-11-20' as day, 'budget:2026-11:WARNING' as condition,
            'WARNING' as severity, 'spent' as message, ['log'] as channels, $1::timestamptz as sent_at""", [OLD])


def test_the_first_runs_after_an_upgrade_keep_the_old_warehouses_history(tmp_path):
    platform = make_platform(tmp_path / "data")
    platform.settings.data_dir.mkdir(parents=True)
    write_in_place_warehouse(platform.settings.warehouse_path)
    assert is_in_place_warehouse(platform.settings.warehouse_path)
    [outcome] = platform.run(zip_codes=["85031"])
    assert outcome.ok and platform.builds[-1].ok, platform.builds[-1].checks_failed
    metadata = platform.instance.get_latest_materialization_event(
        dg.AssetKey("raw_assessor_payloads")).asset_materialization.metadata
    assert metadata["concurrency"].value == 4 and metadata["tuning"].value == "tuning"  # the old decision, used
    assert not is_in_place_warehouse(platform.settings.warehouse_path)  # published over, imported once
    wh = platform.warehouse
    assert wh.query("select text_sha256 from ops.llm_cache")["text_sha256"].to_list() == ["abc"]
    assert wh.query("select count(*) as n from ops.run_log where run_id = 'old-run'")["n"][0] == 1
    assert wh.query("select reason from ops.quarantine where partition = '2026-11-20|85031'")["reason"].to_list() == [
        "parcel: timed out"]
    old_cost = wh.query("select sum(cost_usd) as usd from ops.cost_events where date = '2026-11-20'")["usd"][0]
    assert old_cost == pytest.approx(4.0 + 2 * 0.05)  # the model hours, and 2 h of compute from the old run log
    assert wh.query("select month_to_date_usd from ops.budget_status")["month_to_date_usd"][0] > 4.0
    assert wh.query("select condition from ops.alerts")["condition"].to_list() == ["budget:2026-11:WARNING"]
    assert DAY in wh.query("select cast(date as varchar) as d from ops.partition_counts")["d"].to_list()
    assert wh.query("select batch_size_new from ops.batch_tuning where run_id = 'old-run'").rows() == [(40,)]
    marker = platform.settings.control_dir / ".in_place_warehouse_checked"
    assert not marker.exists()
    platform.run(zip_codes=["85031"], build=False)  # the next run finds this version's copy …
    assert marker.exists()  # … and from then on no run opens the published file
