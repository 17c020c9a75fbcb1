"""One demo-and-backfill of the sample, built once per test session and copied to each test that
reads it (the Dagster UI journey, the daily report in a browser): the command line a person runs
(`phoenix-estate run`) over three weeks of one ZIP, two rounds of service probes, then the demo run
of the last day with its warehouse build. Built under a file lock, so with pytest-xdist the first
worker to ask builds it and the others wait and copy; each consumer writes only in its own copy.

The environment is the default deployment (the lake on disk, SQLite instance storage, no model: a
closed port) with MongoDB's in-process stand-in, so serving and its probe have a peer."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from servers.forward_proxy import dead_proxy_url

from phoenix_dagster.settings import PROJECT_ROOT

DAY = "2026-11-28"  # the demo run's day, the last of the backfill
ZIP = "85031"  # one ZIP of the sample: three would triple the backfill
BACKFILL_DAYS = 21  # the planted quality fault (a week before DAY) gets the detector's 14-day baseline
BIN = Path(sys.executable).parent  # the venv's console scripts, as a person runs them
COMMAND_TIMEOUT_S = 900


def demo_env(data_dir: Path) -> dict[str, str]:
    """The default deployment whatever this shell's environment says: MongoDB's stand-in (no server),
    no Postgres instance storage, the lake on disk, no model (a closed port)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PHOENIX_", "MONGODB_", "DAGSTER_", "OLLAMA_"))
    }
    return {
        **env,
        "PHOENIX_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "PHOENIX_FIRST_DATE": "2026-11-01",
        "OLLAMA_HOST": dead_proxy_url(),
        "MONGODB_STAND_IN": "1",
        "PHOENIX_BUILD_SENSOR_INTERVAL_S": "10",
    }  # the build follows a backfill within ~10 s, not ~60


@dataclass(frozen=True)
class Backfill:
    data_dir: Path
    env: dict[str, str]
    run_output: str  # what the demo run (`phoenix-estate run --date DAY --zip ZIP`) printed


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def _build(root: Path) -> None:
    env = demo_env(root / "data")
    first = (date.fromisoformat(DAY) - timedelta(days=BACKFILL_DAYS - 1)).isoformat()
    before = (date.fromisoformat(DAY) - timedelta(days=1)).isoformat()
    _run([str(BIN / "phoenix-estate"), "run", "--from", first, "--to", before, "--zip", ZIP, "--no-build"], env)
    for _ in range(2):  # two rounds of probes for the report's health section (the model is down: a WARN)
        _run(
            [
                str(BIN / "dagster"),
                "job",
                "execute",
                "-m",
                "phoenix_dagster.code_location",
                "-a",
                "defs",
                "-j",
                "probe_services",
            ],
            env,
        )
    output = _run([str(BIN / "phoenix-estate"), "run", "--date", DAY, "--zip", ZIP], env)
    (root / "run_output.txt").write_text(output)
    (root / "done").touch()


def shared_root(base: Path) -> Path:
    """The session's one built backfill under `base` (built now unless another worker has)."""
    root = base / "shared_backfill"
    root.mkdir(parents=True, exist_ok=True)
    with open(base / "shared_backfill.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held while one worker builds; the others wait here
        try:
            if not (root / "done").exists():
                shutil.rmtree(root / "data", ignore_errors=True)
                _build(root)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root


def copy_of(root: Path, destination: Path) -> Backfill:
    """A copy of the built backfill of one's own, and the environment that points at it."""
    shutil.copytree(root / "data", destination / "data", symlinks=True)
    return Backfill(destination / "data", demo_env(destination / "data"), (root / "run_output.txt").read_text())
