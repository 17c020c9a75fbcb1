"""Configuration read from the environment, in one place.

Only non-secret settings live here. Secrets (API tokens, the MongoDB URI) are read by
resources through Dagster's ``EnvVar`` so they never land in run metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SQL_DIR = PROJECT_ROOT / "sql"

DEFAULT_ZIP_CODES = ("85031", "85033", "85035")
# Assessor PropertyType values collected by default: houses and residential lots.
DEFAULT_RESIDENTIAL_TYPES = ("RESIDENTIAL", "VACANT LAND RESIDENTIAL")
ASSESSOR_SOURCES = ("sample", "maricopa")
LISTING_SOURCES = ("sample",)


class ConfigError(ValueError):
    """A setting in the environment is invalid; the message names the variable."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.replace(";", ",").replace(" ", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    zip_codes: tuple[str, ...]
    assessor_source: str
    listing_sources: tuple[str, ...]
    residential_types: tuple[str, ...]
    mongodb_database: str = "phoenix_real_estate"

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
        )


def _split_types(value: str) -> tuple[str, ...]:
    # Property types contain spaces ("VACANT LAND RESIDENTIAL"), so only commas separate them.
    return tuple(part.strip() for part in value.split(",") if part.strip())
