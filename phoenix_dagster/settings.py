"""Configuration, read from the environment in one place: the only module that reads `os.environ`.

Every platform default is stated once, here; a source's own defaults are in its settings class in
its module (sources/registry.py), which settings hands the environment to. Secrets (API tokens, the MongoDB URI, the SMTP password,
the alert webhook) are not read: only *whether* each is set is recorded, and resources take
them through Dagster's `EnvVar` so their values never land in run metadata.
`definitions.build_definitions(settings)` is the only path from settings to definitions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from phoenix_dagster.markets.market import DEFAULT_MARKET, MARKETS_FILE, Market, markets
from phoenix_dagster.markets.market import market as market_named
from phoenix_dagster.redact import UrlSettingError, check_url
from phoenix_dagster.sources import registry
from phoenix_dagster.sources.assessor_crawl import DEFAULT_MAX_SEARCH_ROWS
from phoenix_dagster.sources.env_values import ConfigError
from phoenix_dagster.sources.env_values import number as _number
from phoenix_dagster.sources.env_values import one_of as _one_of
from phoenix_dagster.sources.env_values import split as _split
from phoenix_dagster.sources.env_values import text as _text
from phoenix_dagster.sources.http import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_FETCH_BYTES
from phoenix_dagster.sources.landing import DEFAULT_PART_REPLIES, DEFAULT_PART_SECONDS
from phoenix_dagster.sources.registry import SharedSourceSettings, SourceDescriptor

# Polars allocates through its own jemalloc, which by default keeps freed pages for seconds before
# giving them back: a step that reads one ZIP after another then holds every ZIP's pages at once
# (the build's serving step at 1M properties: 1,437 MB peak with the default, 777 MB returning
# them at once; 100k partition runs 1,016 → 813 MB). Read when Polars loads, so the package sets
# it on import, before anything imports Polars; an operator's own value wins.
POLARS_ALLOCATOR = ("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0")


def configure_polars_allocator() -> None:
    os.environ.setdefault(*POLARS_ALLOCATOR)


PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SQL_DIR = PROJECT_ROOT / "sql"
PRICES_FILE = PROJECT_ROOT / "data" / "unit_prices.yaml"

DEFAULT_ZIP_CODES = ("85031", "85033", "85035")
# Assessor PropertyType values collected by default: houses and residential lots.
DEFAULT_RESIDENTIAL_TYPES = ("RESIDENTIAL", "VACANT LAND RESIDENTIAL")
EXECUTORS = ("in_process", "multiprocess", "celery")
# Read by resources through EnvVar; settings only note whether each is set. Each source declares
# its own (its descriptor's `secrets`).
SECRET_VARIABLES = (
    "MONGODB_URI",
    "SMTP_PASSWORD",
    "PHOENIX_ALERT_WEBHOOK_URL",
    "PHOENIX_RATE_LIMIT_STORE",
    "PHOENIX_DAGSTER_POSTGRES_URL",
    "PHOENIX_CELERY_BROKER",
    "PHOENIX_CELERY_BACKEND",
)
# The lake's S3 credentials (with PHOENIX_LAKE_URL), likewise.
SECRET_VARIABLES += ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# The platform's URL settings, checked when the settings load (secrets among them only checked,
# never kept): a malformed one is refused naming the variable and what is wrong, never its value.
# Each source's settings check its own URLs (sources/env_values.url).
URL_SETTINGS = {
    "PHOENIX_RATE_LIMIT_STORE": ("redis", "rediss", "postgresql", "postgres"),
    "MONGODB_URI": ("mongodb", "mongodb+srv"),
    "OLLAMA_HOST": ("http", "https"),
    "PHOENIX_ALERT_WEBHOOK_URL": ("http", "https"),
}


@dataclass(frozen=True)
class OllamaSettings:
    host: str = "http://127.0.0.1:11434"
    model: str = "llama3.2"
    timeout_s: float = 60.0
    batch_size: int | None = None  # pinned when set; otherwise the tuning state decides
    concurrency: int | None = None  # likewise

    @classmethod
    def from_env(cls, env) -> OllamaSettings:
        return cls(
            host=_text(env, "OLLAMA_HOST", cls.host),
            model=_text(env, "OLLAMA_MODEL", cls.model),
            timeout_s=_number(env, "OLLAMA_TIMEOUT_S", cls.timeout_s, float),
            batch_size=_number(env, "OLLAMA_BATCH_SIZE", None),
            concurrency=_number(env, "OLLAMA_CONCURRENCY", None),
        )


@dataclass(frozen=True)
class SystemLevels:
    """The levels stages are alerted against: a stage's CPU share of the machine and its peak
    memory share of the machine's RAM, and the free disk under PHOENIX_DATA_DIR measured with
    every stage (ops.stage_metrics.disk_free_mb). The budget's levels are the 80% / 95% in
    data/unit_prices.yaml."""

    cpu_warn_pct: float = 70.0
    cpu_critical_pct: float = 85.0
    memory_warn_pct: float = 75.0
    memory_critical_pct: float = 90.0
    disk_free_warn_mb: float = 2048.0
    disk_free_critical_mb: float = 512.0


SYSTEM_LEVEL_VARIABLES = {
    "cpu_warn_pct": "PHOENIX_CPU_WARN_PCT",
    "cpu_critical_pct": "PHOENIX_CPU_CRITICAL_PCT",
    "memory_warn_pct": "PHOENIX_MEMORY_WARN_PCT",
    "memory_critical_pct": "PHOENIX_MEMORY_CRITICAL_PCT",
    "disk_free_warn_mb": "PHOENIX_DISK_FREE_WARN_MB",
    "disk_free_critical_mb": "PHOENIX_DISK_FREE_CRITICAL_MB",
}


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go besides the Dagster log. The webhook URL and SMTP password are secrets."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_ca_file: str | None = None  # a private CA's bundle (PEM) the SMTP server's certificate is verified against
    smtp_tls: str = "auto"  # implicit TLS (SMTPS) or STARTTLS; auto: implicit on port 465
    email_from: str | None = None
    email_to: tuple[str, ...] = ()
    freshness_target_hours: float = 24.0
    levels: SystemLevels = SystemLevels()

    @classmethod
    def from_env(cls, env) -> AlertSettings:
        return cls(
            smtp_host=_text(env, "SMTP_HOST", None),
            smtp_port=_number(env, "SMTP_PORT", cls.smtp_port),
            smtp_user=_text(env, "SMTP_USER", None),
            smtp_ca_file=_text(env, "SMTP_CA_FILE", None),
            smtp_tls=_one_of(env, "SMTP_TLS", cls.smtp_tls, ("auto", "implicit", "starttls")),
            email_from=_text(env, "ALERT_EMAIL_FROM", None),
            email_to=tuple(a.strip() for a in env.get("ALERT_EMAIL_TO", "").split(",") if a.strip()),
            freshness_target_hours=_number(env, "PHOENIX_FRESHNESS_TARGET_HOURS", cls.freshness_target_hours, float),
            levels=SystemLevels(
                **{
                    name: _number(env, variable, getattr(SystemLevels, name), float)
                    for name, variable in SYSTEM_LEVEL_VARIABLES.items()
                }
            ),
        )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    zip_codes: tuple[str, ...] = DEFAULT_ZIP_CODES
    assessor_source: str = "sample"
    listing_sources: tuple[str, ...] = ("sample",)
    optional_sources: tuple[str, ...] = ()  # a source here that delivers nothing warns instead of failing the run
    residential_types: tuple[str, ...] = DEFAULT_RESIDENTIAL_TYPES
    market_name: str = DEFAULT_MARKET  # PHOENIX_MARKET: a market of the markets file (its counties, its zone)
    markets_file: Path = MARKETS_FILE  # PHOENIX_MARKETS_FILE: where the markets are declared (data/markets.yaml)
    first_date: str = "2026-11-01"  # the go-live day: the first partition day
    executor: str = "in_process"  # how a partition run executes its steps
    lake_dir_override: Path | None = None
    lake_url: str | None = None  # s3://bucket/prefix: the lake on object storage instead of lake_dir
    aws_endpoint_url: str | None = None  # an S3-compatible server's URL (AWS_ENDPOINT_URL); unset: AWS itself
    aws_region: str | None = None
    dagster_home_override: Path | None = None
    mongodb_database: str = "phoenix_real_estate"
    mongodb_stand_in: bool = False  # tests only: serve into the in-process mongomock instead of the export
    celery_queue: str = "dagster"  # with the celery executor: the queue its steps go to and its workers consume
    max_concurrent_runs: int = 2  # runs the instance's queue starts at once (one per core here)
    build_sensor_interval_s: int = 60  # warehouse_after_partitions looks for finished lake runs this often
    duckdb_memory_mb: int = 512  # DuckDB's memory_limit in the warehouse (it spills to disk beyond it)
    sql_timeout_s: float = 120.0  # an analyst's query (phoenix-estate sql) is interrupted after this
    sql_max_temp_mb: int = 2048  # and may spill at most this much to DuckDB's temporary files
    pager: str = "less -SRFX"  # PAGER: what `phoenix-estate sql` pages a long table through on a terminal
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES  # PHOENIX_MAX_FETCH_MB
    max_search_rows: int = DEFAULT_MAX_SEARCH_ROWS
    raw_retention_days: int = 90  # county bodies older than this are compacted: owners' names dropped
    raw_part_replies: int = DEFAULT_PART_REPLIES  # a collection lands a part every this many replies…
    raw_part_seconds: float = DEFAULT_PART_SECONDS  # …or this often: what a crash can lose
    quarantine_warn_rate: float = 0.02  # a landing/staging asset quarantining more of a source's new bad records WARNs
    secrets_set: frozenset[str] = frozenset()  # names of the secret variables that are set
    source_modules: tuple[str, ...] = ()  # PHOENIX_SOURCE_MODULES: a deployment's own source modules
    listing_pool_limit: int = 1  # collection steps of one listing source at once across every run (its pool)
    # Each declared source's own settings (its descriptor's `settings` read them), by (kind, name);
    # a source missing here has its defaults.
    source_settings: Mapping[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    declared_sources: tuple[SourceDescriptor, ...] = field(default=(), repr=False, compare=False)  # instances included
    ollama: OllamaSettings = field(default_factory=OllamaSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    # Where things live under the data directory: the CSV inbox; control state (tuning decisions,
    # alerts sent); the published warehouse readers open; the file only the build writes.
    inbox_dir = property(lambda self: self.data_dir / "inbox")
    serving_dir = property(lambda self: self.data_dir / "serving")
    control_dir = property(lambda self: self.data_dir / "control")
    reports_dir = property(lambda self: self.data_dir / "reports")  # the daily HTML reports
    warehouse_path = property(lambda self: self.data_dir / "warehouse.duckdb")
    warehouse_build_path = property(lambda self: self.data_dir / "warehouse.build.duckdb")
    lake_dir = property(lambda self: self.lake_dir_override or self.data_dir / "lake")
    lake_location = property(lambda self: self.lake_url or str(self.lake_dir))  # where the lake is, local or S3
    dagster_home = property(lambda self: self.dagster_home_override or self.data_dir / "dagster_home")

    @property
    def market(self) -> Market:
        """The market this deployment runs: partition days are its days, times shown are in its zone."""
        return market_named(self.market_name, self.markets_file)

    @property
    def zip_counties(self) -> dict[str, str]:
        """Each ZIP → the FIPS code of the county its parcels belong to: with the county's parcel
        id, what keys a parcel everywhere (lake, warehouse, property_id, MongoDB)."""
        return {zip_code: self.market.county_of(zip_code).fips for zip_code in self.zip_codes}

    def has_secret(self, name: str) -> bool:
        return name in self.secrets_set

    @property
    def sources(self) -> tuple[SourceDescriptor, ...]:
        """Every declared source: this package's and PHOENIX_SOURCE_MODULES', with the instances
        their modules declared from the environment."""
        return self.declared_sources or registry.descriptors(self.source_modules)

    @property
    def configured_sources(self) -> tuple[SourceDescriptor, ...]:
        """The assessor source, then each listing source, as PHOENIX_*_SOURCE name them."""
        found = self.sources
        return (
            registry.descriptor(found, "assessor", self.assessor_source),
            *(registry.descriptor(found, "listings", name) for name in self.listing_sources),
        )

    def settings_of(self, source: SourceDescriptor) -> Any:
        """A source's own settings, as read from the environment (its defaults when not read)."""
        if source.key in self.source_settings:
            return self.source_settings[source.key]
        return source.read_settings({})

    @property
    def maricopa(self):
        """The county API's settings (its refresh window and concurrency also govern the sample)."""
        return self.settings_of(registry.descriptor(self.sources, "assessor", "maricopa"))

    @property
    def shared_source_settings(self) -> SharedSourceSettings:
        return SharedSourceSettings(
            max_body_bytes=self.max_body_bytes,
            max_fetch_bytes=self.max_fetch_bytes,
            control_dir=str(self.control_dir),
            inbox_dir=str(self.inbox_dir),
            sample_dir=str(SAMPLE_DIR),
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        _check_urls(env)
        data_dir = Path(_text(env, "PHOENIX_DATA_DIR", str(PROJECT_ROOT / "data"))).expanduser().resolve()
        zip_codes = _split(env.get("PHOENIX_ZIP_CODES", "")) or DEFAULT_ZIP_CODES
        markets_file = Path(_text(env, "PHOENIX_MARKETS_FILE", str(MARKETS_FILE))).expanduser().resolve()
        if not markets_file.is_file():
            raise ConfigError(f"PHOENIX_MARKETS_FILE: {markets_file} is not a file")
        for zip_code in zip_codes:
            if not (len(zip_code) == 5 and zip_code.isdigit()):
                raise ConfigError(f"PHOENIX_ZIP_CODES: {zip_code!r} is not a 5-digit ZIP code")
        modules = _split(env.get("PHOENIX_SOURCE_MODULES", ""))
        try:
            declared = registry.descriptors(modules, env)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        assessor = _one_of(env, "PHOENIX_ASSESSOR_SOURCE", "sample", registry.names(declared, "assessor"))
        listings = _split(env.get("PHOENIX_LISTING_SOURCE", "")) or ("sample",)
        for name in listings:
            if name not in registry.names(declared, "listings"):
                known = ", ".join(registry.names(declared, "listings"))
                raise ConfigError(f"PHOENIX_LISTING_SOURCE: {name!r} is not one of {known}")
        types = tuple(t.upper() for t in _split_types(env.get("PHOENIX_ASSESSOR_PROPERTY_TYPES", "")))
        first_date = _text(env, "PHOENIX_FIRST_DATE", cls.first_date)
        try:
            date.fromisoformat(first_date)
        except ValueError:
            raise ConfigError(f"PHOENIX_FIRST_DATE: {first_date!r} is not a YYYY-MM-DD day") from None
        lake, home = _text(env, "PHOENIX_LAKE_DIR", None), _text(env, "DAGSTER_HOME", None)
        lake_url = _lake_url(env)
        if lake_url and lake:
            raise ConfigError("PHOENIX_LAKE_URL and PHOENIX_LAKE_DIR are both set: the lake is in one place")
        dagster_postgres = env.get("PHOENIX_DAGSTER_POSTGRES_URL", "").strip()
        if dagster_postgres and not dagster_postgres.startswith("postgresql+psycopg2://"):
            # SQLAlchemy 2.1 reads postgresql:// as psycopg 3, whose server-side parameters break
            # dagster-postgres 0.29's NOTIFY statements: the driver must be named.
            raise ConfigError(
                "PHOENIX_DAGSTER_POSTGRES_URL must start with postgresql+psycopg2:// "
                "(dagster-postgres issues psycopg2-style SQL)"
            )
        settings = cls(
            data_dir=data_dir,
            market_name=_one_of(env, "PHOENIX_MARKET", DEFAULT_MARKET, tuple(markets(markets_file))),
            markets_file=markets_file,
            zip_codes=tuple(sorted(set(zip_codes))),
            assessor_source=assessor,
            listing_sources=listings,
            optional_sources=_split(env.get("PHOENIX_OPTIONAL_SOURCES", "")),
            residential_types=types or DEFAULT_RESIDENTIAL_TYPES,
            first_date=first_date,
            executor=_one_of(env, "PHOENIX_EXECUTOR", cls.executor, EXECUTORS),
            lake_dir_override=Path(lake).expanduser().resolve() if lake else None,
            lake_url=lake_url,
            aws_endpoint_url=_text(env, "AWS_ENDPOINT_URL", None),
            aws_region=_text(env, "AWS_REGION", None),
            dagster_home_override=Path(home).expanduser().resolve() if home else None,
            mongodb_database=_text(env, "MONGODB_DATABASE", cls.mongodb_database),
            mongodb_stand_in=_one_of(env, "MONGODB_STAND_IN", "0", ("0", "1")) == "1",
            max_body_bytes=int(_number(env, "PHOENIX_MAX_BODY_MB", cls.max_body_bytes / 2**20, float) * 2**20),
            max_fetch_bytes=int(_number(env, "PHOENIX_MAX_FETCH_MB", cls.max_fetch_bytes / 2**20, float) * 2**20),
            max_search_rows=_number(env, "PHOENIX_MAX_SEARCH_ROWS", cls.max_search_rows),
            raw_retention_days=_number(env, "PHOENIX_RAW_RETENTION_DAYS", cls.raw_retention_days),
            raw_part_replies=_number(env, "PHOENIX_RAW_PART_REPLIES", cls.raw_part_replies),
            raw_part_seconds=_number(env, "PHOENIX_RAW_PART_SECONDS", cls.raw_part_seconds, float),
            quarantine_warn_rate=_number(env, "PHOENIX_QUARANTINE_WARN_RATE", cls.quarantine_warn_rate, float, low=0),
            secrets_set=frozenset(
                name
                for name in (*SECRET_VARIABLES, *(secret for source in declared for secret in source.secrets))
                if env.get(name, "").strip()
            ),
            source_modules=modules,
            listing_pool_limit=_number(env, "PHOENIX_LISTING_POOL_LIMIT", cls.listing_pool_limit),
            source_settings={source.key: source.read_settings(env) for source in declared},
            declared_sources=declared,
            celery_queue=_text(env, "PHOENIX_CELERY_QUEUE", cls.celery_queue),
            max_concurrent_runs=_number(env, "PHOENIX_MAX_CONCURRENT_RUNS", cls.max_concurrent_runs, low=1),
            build_sensor_interval_s=_number(env, "PHOENIX_BUILD_SENSOR_INTERVAL_S", cls.build_sensor_interval_s, low=5),
            duckdb_memory_mb=_number(env, "PHOENIX_DUCKDB_MEMORY_MB", cls.duckdb_memory_mb, low=64),
            sql_timeout_s=_number(env, "PHOENIX_SQL_TIMEOUT_S", cls.sql_timeout_s, float),
            sql_max_temp_mb=_number(env, "PHOENIX_SQL_MAX_TEMP_MB", cls.sql_max_temp_mb),
            pager=_text(env, "PAGER", cls.pager),
            ollama=OllamaSettings.from_env(env),
            alerts=AlertSettings.from_env(env),
        )
        probed = [source.service for source in settings.configured_sources if source.service]
        if len(probed) != len(set(probed)):  # one <service>_up check, one probe: a second would go unseen
            raise ConfigError(f"two configured sources probe the same service: {', '.join(sorted(probed))}")
        settings.zip_counties  # noqa: B018 — every ZIP belongs to one of the market's counties, or it is refused here
        return settings


def _check_urls(env) -> None:
    for name, schemes in URL_SETTINGS.items():
        value = env.get(name, "").strip()
        if value:
            try:
                check_url(name, value, schemes, default_scheme="http" if name == "OLLAMA_HOST" else None)
            except UrlSettingError as exc:
                raise ConfigError(str(exc)) from None


def _lake_url(env) -> str | None:
    """PHOENIX_LAKE_URL as `s3://bucket[/prefix]` (no trailing slash), or None when unset."""
    raw = _text(env, "PHOENIX_LAKE_URL", None)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if "@" in raw:  # never echoed: it may carry a key
        raise ConfigError(
            "PHOENIX_LAKE_URL: credentials do not go in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if parts.scheme != "s3" or not parts.netloc or ":" in parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            "PHOENIX_LAKE_URL is not s3://bucket/prefix (the lake on S3-compatible object storage, "
            "with no port, query or credentials; leave it unset for the local lake under "
            "PHOENIX_DATA_DIR)"
        )
    return f"s3://{parts.netloc}{parts.path.rstrip('/')}"


def _split_types(value: str) -> tuple[str, ...]:
    # Property types contain spaces ("VACANT LAND RESIDENTIAL"), so only commas separate them.
    return tuple(part.strip() for part in value.split(",") if part.strip())
