"""Control state: what the pipeline steers itself by, read through this resource rather than
declared as asset inputs, because declaring it would make a cycle in the graph.

- the tuning decision a collector or the enrichment reads at start (run metrics → decision →
  next run): `control/batch_tuning/`, written by the tuning sensor;
- the alerts already sent today: `control/alerts/`, written by the alert sensor;
- the incremental collection state: which parcels were fetched when, the parcel versions seen,
  and each listing source's high-water mark — earlier partitions of the lake that the raw
  assets' own downstream assets wrote;
- the model's reply cache: earlier `llm_replies` bookkeeping of the enrichment itself.

The warehouse models `ops.batch_tuning` and `ops.alerts` are built from `control/`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import polars as pl

from phoenix_dagster.llm.client import LlmReply
from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.resources.lake import LakeResource, write_parquet_atomically
from phoenix_dagster.schemas import conform, empty_frame, polars_schema, with_missing_as_null
from phoenix_dagster.schemas.tables import CONTROL_TABLES
from phoenix_dagster.tuning.state import Setting, choose_setting

RAW_ASSESSOR = "raw_assessor_payloads"  # its quarantine holds the detail requests that got no reply


class ControlStateResource(MaskedRepr, dg.ConfigurableResource):
    control_dir: str
    lake: LakeResource

    def _dir(self, table: str) -> Path:
        return Path(self.control_dir) / table

    def read(self, table: str) -> pl.DataFrame:
        paths = sorted(self._dir(table).glob("*.parquet"))
        if not paths:
            return empty_frame(CONTROL_TABLES[table])
        # a column the schema gained after some files were written reads as null in them
        return pl.scan_parquet(
            paths, schema=polars_schema(CONTROL_TABLES[table]), missing_columns="insert", extra_columns="ignore"
        ).collect()

    def write(self, table: str, frame: pl.DataFrame, name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        model = CONTROL_TABLES[table]
        return write_parquet_atomically(
            conform(with_missing_as_null(frame, model), model), self._dir(table) / f"{safe}.parquet"
        )

    # Tuning -------------------------------------------------------------------------------

    def tuning_setting(
        self, stage: str, *, pinned_batch: int | None = None, pinned_concurrency: int | None = None
    ) -> Setting:
        """(batch size, concurrency, where they came from) for the stage's next run."""
        return choose_setting(
            self.read("batch_tuning"), stage, pinned_batch=pinned_batch, pinned_concurrency=pinned_concurrency
        )

    def decided_runs(self) -> set[tuple[str, str]]:
        """(stage, run) pairs a decision was already made for."""
        return set(self.read("batch_tuning").select("stage", "run_id").iter_rows())

    def record_tuning(self, decisions: pl.DataFrame) -> None:
        for row in decisions.iter_rows(named=True):
            # One decision per stage and run: deciding again for the same run replaces it.
            self.write("batch_tuning", pl.DataFrame([row]), f"{row['stage']}__{row['run_id']}")

    # Alerts -------------------------------------------------------------------------------

    def alerts_delivered(self, day) -> dict[str, list[str]]:
        """Condition → the channels that took its alert on `day`."""
        today = self.read("alerts").filter(pl.col("day") == day)
        return {row["condition"]: list(row["channels"] or []) for row in today.iter_rows(named=True)}

    def alerts_owed(self) -> list[dict]:
        """Alerts some channel has not taken yet, of any day (ops.alerts rows with status `owed`)."""
        return self.read("alerts").filter(pl.col("status") == "owed").sort("day", "condition").to_dicts()

    def alert_record(self, day, condition: str) -> dict | None:
        """The alert's row as last written, or None before its first delivery."""
        found = self.read("alerts").filter((pl.col("day") == day) & (pl.col("condition") == condition))
        return found.row(0, named=True) if found.height else None

    def record_alerts(self, alerts: pl.DataFrame) -> None:
        for row in alerts.iter_rows(named=True):
            self.write("alerts", pl.DataFrame([row]), f"{row['day']}__{row['condition']}")

    # Service health -----------------------------------------------------------------------

    def record_probes(self, probes: pl.DataFrame, name: str) -> None:
        """One file per round of probes (`name`: the run that probed)."""
        if probes.height:
            self.write("service_health", probes, name)

    # Incremental collection ---------------------------------------------------------------

    def parcel_fetches(self, zip_code: str, before: str, since: str | None = None) -> pl.DataFrame | None:
        """Earlier parcel-detail requests of the ZIP from partition days ≥ `since` and < `before`
        (key, status, when, body hash, partition day): the replies landed in the raw layer, and the
        requests that got no reply (quarantined by the latest successful collection of their
        partition; no status, time or hash). None when there were none."""
        earlier = self.lake.history(
            RAW_ASSESSOR,
            zip_code,
            before=before,
            since=since,
            with_day=True,
            columns=["entity", "record_key", "http_status", "fetched_at", "sha256"],
        )
        replies = earlier.filter(pl.col("entity") == "parcel").drop("entity") if earlier is not None else None
        found = [
            frame
            for frame in (replies, self._unanswered_parcel_requests(zip_code, before, since))
            if frame is not None and frame.height
        ]
        return pl.concat(found, how="diagonal_relaxed") if found else None

    def _unanswered_parcel_requests(self, zip_code: str, before: str, since: str | None) -> pl.DataFrame | None:
        quarantined = self.lake.current_bookkeeping(
            "quarantine", "*", zip_code, [RAW_ASSESSOR], since=since, before=before
        )
        if quarantined.is_empty():
            return None
        # Not a reply too large to read: that one was answered, and would be as large again.
        return quarantined.filter(
            pl.col("reason").str.starts_with("/parcel/")
            & ~pl.col("reason").str.contains("reply larger than", literal=True)
        ).select("record_key", pl.col("partition").str.split("|").list.first().alias("day"))

    def parcel_versions(self, zip_code: str, before: str) -> pl.DataFrame | None:
        """Every parcel version staged for the ZIP before the day (APN, body hash)."""
        return self.lake.history(
            "stg_assessor__parcels", zip_code, before=before, columns=["ParcelNumber", "payload_sha256"]
        )

    def listing_high_water(self, zip_code: str, before: str, source: str) -> datetime | None:
        """The newest ModificationTimestamp staged from `source` for the ZIP before the day."""
        earlier = self.lake.history(
            "stg_listings__listings", zip_code, before=before, columns=["source", "ModificationTimestamp"]
        )
        return None if earlier is None else earlier.filter(pl.col("source") == source)["ModificationTimestamp"].max()

    # Model reply cache --------------------------------------------------------------------

    def cached_replies(self, model: str, prompt_version: str, keys: list[str]) -> dict[str, LlmReply]:
        """Earlier replies of this model to this prompt version, for these text keys."""
        replies = self.lake.scan_bookkeeping("llm_replies")
        if not keys or replies is None:
            return {}
        frame = (
            replies.filter(
                (pl.col("model") == model)
                & (pl.col("prompt_version") == prompt_version)
                & pl.col("text_sha256").is_in(keys)
            )
            .sort("created_at")
            .unique("text_sha256", keep="last")
            .collect()
        )
        return {
            row["text_sha256"]: LlmReply(
                row["content"], row["prompt_tokens"], row["completion_tokens"], row["model_seconds"]
            )
            for row in frame.iter_rows(named=True)
        }
