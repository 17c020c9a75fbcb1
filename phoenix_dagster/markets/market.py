"""A market as data/markets.yaml declares it: its name, its counties (FIPS code, name, state) and
its time zone. A partition's day is the market's calendar day: it starts at the market's local
midnight, so a day in a zone that observes daylight saving is 23 or 25 hours long twice a year
(Phoenix keeps standard time all year). Times shown to people are in the market's zone, named
beside them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from phoenix_dagster.sources.env_values import ConfigError

MARKETS_FILE = Path(__file__).resolve().parents[2] / "data" / "markets.yaml"
DEFAULT_MARKET = "phoenix"


@dataclass(frozen=True)
class County:
    fips: str  # the county's five-digit FIPS code (state + county): what qualifies its parcel ids
    name: str
    state: str
    zips: tuple[str, ...] = ()  # its ZIP codes, where the market has more than one county


@dataclass(frozen=True)
class Market:
    name: str
    timezone: str  # an IANA zone name
    counties: tuple[County, ...]

    @property
    def place(self) -> str:
        """How people name it ("Phoenix", "Las Vegas")."""
        return self.name.replace("_", " ").title()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> str:
        """The market's calendar day now, ISO."""
        return today_in_zone(self.timezone)

    def day_of(self, moment: datetime) -> str:
        """The market's calendar day of a UTC moment, ISO."""
        return moment.astimezone(self.zone).date().isoformat()

    def day_start_utc(self, day: str) -> datetime:
        """The market's local midnight starting `day`, in UTC."""
        return day_start_utc(day, self.timezone)

    def county_of(self, zip_code: str) -> County:
        """The county a ZIP's parcels are collected from: the market's only county, or the one
        that lists the ZIP (a ZIP that straddles two counties is listed under the one collected)."""
        if len(self.counties) == 1:
            return self.counties[0]
        listing = [county for county in self.counties if zip_code in county.zips]
        if len(listing) != 1:
            where = "none" if not listing else " and ".join(c.name for c in listing)
            raise ConfigError(
                f"ZIP {zip_code}: market {self.name!r} has several counties and {where} of them list it "
                f"({MARKETS_FILE.name}: each county's zips)"
            )
        return listing[0]

    def day_hours(self, day: str) -> float:
        """How long `day` is in the market (24, or 23/25 on a daylight-saving change)."""
        following = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
        return (self.day_start_utc(following) - self.day_start_utc(day)).total_seconds() / 3600


def today_in_zone(timezone: str) -> str:
    """Today in `timezone`, ISO."""
    return datetime.now(ZoneInfo(timezone)).date().isoformat()


def day_start_utc(day: str, timezone: str) -> datetime:
    """Local midnight starting `day` in `timezone`, in UTC (a partition's start: its day in the
    market's zone)."""
    return datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _county(market: str, entry: dict) -> County:
    fips = str(entry.get("fips", ""))
    if not re.fullmatch(r"\d{5}", fips):
        raise ConfigError(f"markets file: market {market!r}: county FIPS {fips!r} is not five digits")
    zips = tuple(str(z) for z in entry.get("zips") or ())
    for zip_code in zips:
        if not re.fullmatch(r"\d{5}", zip_code):
            raise ConfigError(f"markets file: market {market!r}: county {fips}: {zip_code!r} is not a ZIP code")
    return County(fips, str(entry.get("name", "")), str(entry.get("state", "")), zips)


@cache
def markets(path: Path = MARKETS_FILE) -> dict[str, Market]:
    """Every market the file declares, each checked: a known time zone, counties with FIPS codes."""
    found = {}
    for name, entry in (yaml.safe_load(path.read_text()) or {}).items():
        try:
            ZoneInfo(str(entry.get("timezone")))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{path.name}: market {name!r}: {entry.get('timezone')!r} is not a time zone") from None
        counties = tuple(_county(name, county) for county in entry.get("counties") or ())
        if not counties:
            raise ConfigError(f"{path.name}: market {name!r} has no counties")
        found[name] = Market(name, entry["timezone"], counties)
    return found


def market(name: str = DEFAULT_MARKET, path: Path = MARKETS_FILE) -> Market:
    known = markets(path)
    if name not in known:
        raise ConfigError(f"PHOENIX_MARKET: {name!r} is not one of {', '.join(known)} ({path})")
    return known[name]
