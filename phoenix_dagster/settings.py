"""Configuration read from the environment, in one place.

Only non-secret settings live here. Secrets (API tokens, the MongoDB URI) are read by
resources through Dagster's ``EnvVar`` so they never land in run metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SQL_DIR = PROJECT_ROOT / "sql"

DEFAULT_ZIP_CODES = ("85031", "85033", "85035")
# Assessor PropertyType values collected by default: houses and residential lots.
DEFAULT_RESIDENTIAL_TYPES = ("RESIDENTIAL", "VACANT LAND RESIDENTIAL")
ASSESSOR_SOURCES = ("sample", "maricopa")
LISTING_SOURCES = ("sample", "reso", "csv_inbox", "mls_html")


class ConfigError(ValueError):
    """A setting in the environment is invalid; the message names the variable."""


def _number(env, name: str, default, kind=int, low=1):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if value < low:
        raise ConfigError(f"{name}: must be at least {low}")
    return value


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(";", ",").replace(" ", ",").split(",") if part.strip())


@dataclass(frozen=True)
class MaricopaSettings:
    """How the collector treats the county's API. The token is not here: it is a secret,
    read by the resource through EnvVar("MARICOPA_API_TOKEN")."""

    url: str = "https://mcassessor.maricopa.gov"
    rate_limit_per_hour: int = 1000
    refresh_days: int = 30
    concurrency: int | None = None  # pinned when set; otherwise the tuning state decides (default 2)
    timeout_s: float = 30.0
    retry_budget: int = 200
    max_attempts: int = 5

    @classmethod
    def from_env(cls, env) -> "MaricopaSettings":
        return cls(
            url=env.get("MARICOPA_API_URL", "").strip() or cls.url,
            rate_limit_per_hour=_number(env, "MARICOPA_RATE_LIMIT_PER_HOUR", cls.rate_limit_per_hour),
            refresh_days=_number(env, "MARICOPA_REFRESH_DAYS", cls.refresh_days, low=0),
            concurrency=_number(env, "MARICOPA_CONCURRENCY", None),
            timeout_s=_number(env, "MARICOPA_TIMEOUT_S", cls.timeout_s, kind=float),
            retry_budget=_number(env, "MARICOPA_RETRY_BUDGET", cls.retry_budget, low=0),
            max_attempts=_number(env, "MARICOPA_MAX_ATTEMPTS", cls.max_attempts),
        )


@dataclass(frozen=True)
class ListingSettings:
    """Listing sources' non-secret settings. RESO_API_TOKEN is read by its resource through EnvVar."""

    reso_url: str | None = None
    reso_page_size: int = 200
    reso_rate_limit_per_minute: int = 120
    mls_url: str | None = None
    mls_rate_limit_per_minute: int = 54
    mls_proxies: tuple[str, ...] = ()
    mls_user_agent: str = "PhoenixEstateBot/0.1 (+https://github.com/phoenix-real-estate)"
    mls_selectors_file: str = str(PROJECT_ROOT / "data" / "mls_html_selectors.yaml")

    @classmethod
    def from_env(cls, env) -> "ListingSettings":
        return cls(
            reso_url=env.get("RESO_API_URL", "").strip() or None,
            reso_page_size=_number(env, "RESO_PAGE_SIZE", cls.reso_page_size),
            reso_rate_limit_per_minute=_number(env, "RESO_RATE_LIMIT_PER_MINUTE", cls.reso_rate_limit_per_minute),
            mls_url=env.get("MLS_BASE_URL", "").strip() or None,
            mls_rate_limit_per_minute=_number(env, "MLS_RATE_LIMIT_PER_MINUTE", cls.mls_rate_limit_per_minute),
            mls_proxies=_split(env.get("MLS_PROXIES", "")),
            mls_user_agent=env.get("MLS_USER_AGENT", "").strip() or cls.mls_user_agent,
            mls_selectors_file=env.get("MLS_SELECTORS_FILE", "").strip() or cls.mls_selectors_file,
        )


@dataclass(frozen=True)
class OllamaSettings:
    host: str = "http://127.0.0.1:11434"
    model: str = "llama3.2"
    timeout_s: float = 60.0
    batch_size: int | None = None  # pinned when set; otherwise the tuning state decides (default 10)
    concurrency: int | None = None  # likewise (default 5)

    @classmethod
    def from_env(cls, env) -> "OllamaSettings":
        return cls(
            host=env.get("OLLAMA_HOST", "").strip() or cls.host,
            model=env.get("OLLAMA_MODEL", "").strip() or cls.model,
            timeout_s=_number(env, "OLLAMA_TIMEOUT_S", cls.timeout_s, float),
            batch_size=_number(env, "OLLAMA_BATCH_SIZE", None),
            concurrency=_number(env, "OLLAMA_CONCURRENCY", None),
        )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    zip_codes: tuple[str, ...]
    assessor_source: str
    listing_sources: tuple[str, ...]
    residential_types: tuple[str, ...]
    mongodb_database: str = "phoenix_real_estate"
    maricopa: MaricopaSettings = field(default_factory=MaricopaSettings)
    listings: ListingSettings = field(default_factory=ListingSettings)
    ollama: OllamaSettings = field(default_factory=OllamaSettings)

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env.get("PHOENIX_DATA_DIR") or PROJECT_ROOT / "data").expanduser().resolve()
        zip_codes = _split(env.get("PHOENIX_ZIP_CODES", "")) or DEFAULT_ZIP_CODES
        for zip_code in zip_codes:
            if not (len(zip_code) == 5 and zip_code.isdigit()):
                raise ConfigError(f"PHOENIX_ZIP_CODES: {zip_code!r} is not a 5-digit ZIP code")
        assessor = env.get("PHOENIX_ASSESSOR_SOURCE", "sample").strip() or "sample"
        if assessor not in ASSESSOR_SOURCES:
            raise ConfigError(f"PHOENIX_ASSESSOR_SOURCE: {assessor!r} is not one of {', '.join(ASSESSOR_SOURCES)}")
        listings = _split(env.get("PHOENIX_LISTING_SOURCE", "")) or ("sample",)
        for name in listings:
            if name not in LISTING_SOURCES:
                raise ConfigError(f"PHOENIX_LISTING_SOURCE: {name!r} is not one of {', '.join(LISTING_SOURCES)}")
        types = tuple(t.upper() for t in _split_types(env.get("PHOENIX_ASSESSOR_PROPERTY_TYPES", "")))
        return cls(
            data_dir=data_dir,
            zip_codes=tuple(sorted(set(zip_codes))),
            assessor_source=assessor,
            listing_sources=listings,
            residential_types=types or DEFAULT_RESIDENTIAL_TYPES,
            mongodb_database=env.get("MONGODB_DATABASE", "").strip() or "phoenix_real_estate",
            maricopa=MaricopaSettings.from_env(env),
            listings=ListingSettings.from_env(env),
            ollama=OllamaSettings.from_env(env),
        )


def _split_types(value: str) -> tuple[str, ...]:
    # Property types contain spaces ("VACANT LAND RESIDENTIAL"), so only commas separate them.
    return tuple(part.strip() for part in value.split(",") if part.strip())

