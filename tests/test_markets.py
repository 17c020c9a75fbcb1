"""Markets (data/markets.yaml): a partition's day is the market's calendar day, in its zone.
Phoenix keeps standard time all year; a market that observes daylight saving (Denver here) has a
23-hour and a 25-hour day, its partition day starts at its local midnight, and its schedules run
at its local times."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from phoenix_dagster.automation.schedules import build_schedules
from phoenix_dagster.graph.partitions import county_day_partitions
from phoenix_dagster.markets.market import County, Market, day_start_utc, market, markets
from phoenix_dagster.settings import ConfigError, Settings

pytestmark = pytest.mark.unit

DENVER = Market("denver", "America/Denver", (County("08031", "Denver", "CO"),))


def test_the_shipped_market_is_phoenix_in_maricopa_on_standard_time_all_year(tmp_path):
    phoenix = Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)}).market
    assert phoenix == market("phoenix") and phoenix.timezone == "America/Phoenix"
    assert [(c.fips, c.name) for c in phoenix.counties] == [("04013", "Maricopa")]
    assert {day: phoenix.day_hours(day) for day in ("2026-03-08", "2026-07-01", "2026-11-01")} == dict.fromkeys(
        ("2026-03-08", "2026-07-01", "2026-11-01"), 24
    )
    assert phoenix.day_start_utc("2026-01-15") == datetime(2026, 1, 15, 7, tzinfo=UTC)
    assert phoenix.day_start_utc("2026-07-15") == datetime(2026, 7, 15, 7, tzinfo=UTC)


def test_a_market_with_daylight_saving_has_short_and_long_days_starting_at_its_midnight():
    assert DENVER.day_hours("2026-03-08") == 23 and DENVER.day_hours("2026-11-01") == 25
    assert DENVER.day_start_utc("2026-01-15") == datetime(2026, 1, 15, 7, tzinfo=UTC)  # MST
    assert DENVER.day_start_utc("2026-07-15") == datetime(2026, 7, 15, 6, tzinfo=UTC)  # MDT
    assert day_start_utc("2026-07-15", DENVER.timezone) == DENVER.day_start_utc("2026-07-15")
    late_evening = datetime(2026, 7, 16, 5, 30, tzinfo=UTC)  # 23:30 on the 15th in Denver
    assert DENVER.day_of(late_evening) == "2026-07-15" and market("phoenix").day_of(late_evening) == "2026-07-15"
    assert DENVER.day_of(datetime(2026, 7, 16, 6, 30, tzinfo=UTC)) == "2026-07-16"
    assert market("phoenix").day_of(datetime(2026, 7, 16, 6, 30, tzinfo=UTC)) == "2026-07-15"  # still 23:30 there


def test_the_partitions_and_schedules_count_days_in_the_markets_zone(tmp_path, monkeypatch):
    import phoenix_dagster.settings as settings_module

    monkeypatch.setattr(settings_module, "market_named", lambda name, path=None: DENVER)
    settings = Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path)})
    partitions = county_day_partitions(settings)
    assert partitions.time_window_partitions_def.timezone == "America/Denver"
    assert partitions.get_partition_keys()[0] == f"{DENVER.counties[0].fips}|{settings.first_date}"
    job = dg.define_asset_job("daily_refresh", partitions_def=partitions)
    daily, weekly = build_schedules(job, [DENVER.counties[0].fips], settings.market)
    assert daily.execution_timezone == weekly.execution_timezone == "America/Denver"
    assert daily.description.startswith("03:00 in Denver")


def test_an_unknown_market_a_bad_zone_or_a_bad_county_is_refused_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="PHOENIX_MARKET: 'gotham' is not one of phoenix"):
        Settings.from_env({"PHOENIX_DATA_DIR": str(tmp_path), "PHOENIX_MARKET": "gotham"})
    for entry, reason in (
        ("tucson: {timezone: Arizona/Tucson, counties: [{fips: '04019'}]}", "'Arizona/Tucson' is not a time zone"),
        ("tucson: {timezone: America/Phoenix, counties: [{fips: '4019'}]}", "county FIPS '4019' is not five digits"),
        ("tucson: {timezone: America/Phoenix}", "market 'tucson' has no counties"),
    ):
        path = tmp_path / f"markets_{len(reason)}.yaml"
        path.write_text(entry)
        with pytest.raises(ConfigError, match=reason):
            markets(path)
