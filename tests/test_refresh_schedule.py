"""Which parcel details a day's collection asks the county for (transforms/assessor.py
parcels_to_fetch): new and failed parcels, overdue ones, and each parcel on its own day of the
refresh window, so a ZIP's refresh is spread over the window instead of falling due all at once."""

import itertools
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from phoenix_dagster.transforms.assessor import is_refresh_day, parcels_to_fetch, refresh_day

pytestmark = pytest.mark.unit

START = date(2026, 11, 1)
APNS = [f"103{i:05d}" for i in range(3000)]
FETCH_SCHEMA = {
    "record_key": pl.String,
    "http_status": pl.Int64,
    "fetched_at": pl.Datetime("us", "UTC"),
    "sha256": pl.String,
    "day": pl.String,
}


def as_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 7, tzinfo=UTC)  # Phoenix midnight


class County:
    """A fetch history that grows as the days' plans are fetched (each fetch good unless told)."""

    def __init__(self):
        self.fetches: list[dict] = []

    def history(self) -> tuple[pl.DataFrame | None, pl.DataFrame]:
        fetches = pl.DataFrame(self.fetches, schema=FETCH_SCHEMA) if self.fetches else None
        versions = pl.DataFrame({"ParcelNumber": APNS, "payload_sha256": ["good"] * len(APNS)})
        return fetches, versions

    def plan(self, day: date, refresh_days: int = 30, wanted: list[str] = APNS) -> list[str]:
        fetches, versions = self.history()
        return parcels_to_fetch(wanted, fetches, versions, as_of=as_of(day), refresh_days=refresh_days)

    def fetch(self, day: date, apns: list[str], status: int = 200) -> None:
        at = as_of(day) + timedelta(minutes=5)
        self.fetches += [
            {
                "record_key": apn,
                "http_status": status,
                "fetched_at": at,
                "sha256": "good" if status == 200 else "error",
                "day": day.isoformat(),
            }
            for apn in apns
        ]

    def no_reply(self, day: date, apns: list[str]) -> None:
        """Requests that timed out on every attempt: quarantined, so only the key and the day are known."""
        self.fetches += [
            {"record_key": apn, "http_status": None, "fetched_at": None, "sha256": None, "day": day.isoformat()}
            for apn in apns
        ]


def test_after_the_first_load_each_parcel_is_refreshed_once_a_window_about_a_thirtieth_a_day():
    county, fetched_on = County(), {apn: [] for apn in APNS}
    for n in range(91):
        day = START + timedelta(days=n)
        plan = county.plan(day)
        county.fetch(day, plan)
        for apn in plan:
            fetched_on[apn].append(n)
        if n == 0:
            assert len(plan) == len(APNS)  # the first load fetches everything
        else:
            assert 3000 / 30 * 0.6 < len(plan) < 3000 / 30 * 1.4, (day, len(plan))  # ~100 a day, never a spike
    for apn, days in fetched_on.items():
        gaps = [b - a for a, b in itertools.pairwise(days)]
        assert days[0] == 0 and 1 <= days[1] <= 30, (apn, days)  # once within the first window
        assert all(gap == 30 for gap in gaps[1:]), (apn, days)  # then on its own day of every window


def test_a_failed_refresh_is_fetched_again_the_next_day_and_a_missed_day_when_overdue():
    county = County()
    county.fetch(START, APNS)
    apn = next(a for a in APNS if is_refresh_day(a, START + timedelta(days=10), 30))
    day = START + timedelta(days=10)
    assert apn in county.plan(day)
    county.fetch(day, [apn], status=500)  # the county failed it on its day
    assert apn in county.plan(day + timedelta(days=1))  # latest fetch bad: fetched the next run
    county.fetch(day + timedelta(days=1), [apn])
    assert apn not in county.plan(day + timedelta(days=2))
    # a request that got no reply at all (quarantined: no status, no time) is asked again the next day
    later = START + timedelta(days=12)
    unanswered = next(a for a in APNS if is_refresh_day(a, later, 30))
    county.no_reply(later, [unanswered])
    assert unanswered in county.plan(later + timedelta(days=1))
    # another parcel whose day fell on a day with no run: fetched once its last fetch is 30 days old
    skipped = next(a for a in APNS if is_refresh_day(a, START + timedelta(days=12), 30) and a != unanswered)
    for n in (13, 29, 30):  # (fetched at 07:05 on day 0: on day 30's start it is 5 minutes short of 30 days)
        assert skipped not in county.plan(START + timedelta(days=n))
    assert skipped in county.plan(START + timedelta(days=31))


def test_the_refresh_day_is_the_apns_whatever_its_punctuation_and_a_full_refresh_fetches_all():
    assert refresh_day("103-06-005", 30) == refresh_day("10306005", 30) == refresh_day("103.06.005", 30)
    assert len({refresh_day(apn, 30) for apn in APNS}) == 30  # every day of the window is used
    county = County()
    county.fetch(START, APNS)
    fetches, versions = county.history()
    assert (
        parcels_to_fetch(
            APNS, fetches, versions, as_of=as_of(START + timedelta(days=1)), refresh_days=30, full_refresh=True
        )
        == APNS
    )
    # with a window of one day (or none) every parcel is due every day anyway
    assert county.plan(START + timedelta(days=1), refresh_days=1) == APNS
    assert not is_refresh_day(APNS[0], START, 0)


def test_a_history_of_requests_that_all_got_no_reply_asks_for_them_again():
    """A new ZIP whose every detail request got no reply on its first day: the history holds only
    quarantined requests (no status, time or hash columns at all), and the next day asks again."""
    unanswered = pl.DataFrame({"record_key": APNS[:5], "day": ["2026-11-01"] * 5})
    plan = parcels_to_fetch(APNS[:5], unanswered, None, as_of=as_of(START + timedelta(days=1)), refresh_days=30)
    assert plan == APNS[:5]
