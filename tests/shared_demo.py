"""One demo run of the sample, made once per test session and copied to each test that reads it
(the command line's run-then-query test, the Dagster UI journey): `phoenix-estate run --date DAY
--zip ZIP`, as a person runs it, into a data directory of its own with its Dagster instance. Made
under a file lock, so with pytest-xdist the first worker to ask runs it and the others wait and
copy; each consumer reads and writes only its own copy (the instance's dagster.yaml holds no
path, so a copy is an instance of its own).

The environment is the default deployment whatever this shell's says: no MongoDB (the export), no
Postgres instance storage, the lake on disk, no model (a closed port)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from servers.forward_proxy import dead_proxy_url

from phoenix_dagster.settings import PROJECT_ROOT

DAY = "2026-11-28"
ZIP = "85031"
BIN = Path(sys.executable).parent  # the venv's console scripts, as a person runs them
RUN_TIMEOUT_S = 300  # the demo run takes ~60 s


def demo_env(data_dir: Path, ollama_host: str | None = None) -> dict[str, str]:
    """`ollama_host`: the closed port the model is asked at (a new one when not given); a job's
    snapshot includes it, so the run's own is given to load the workspace the run was made from."""
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
        "OLLAMA_HOST": ollama_host or dead_proxy_url(),
        "PHOENIX_BUILD_SENSOR_INTERVAL_S": "10",
    }  # the build follows a backfill within ~10 s, not ~60


@dataclass(frozen=True)
class Demo:
    data_dir: Path  # the consumer's own copy
    env: dict[str, str]  # the environment that points at it
    run_output: str  # what `phoenix-estate run` printed
    made_in: Path  # the data directory the run wrote (paths in its output name it)
    made_with: dict[str, str]  # the run's environment: the workspace its jobs' snapshots were made in


def _make(root: Path) -> None:
    env = demo_env(root / "data")
    run = subprocess.run(
        [str(BIN / "phoenix-estate"), "run", "--date", DAY, "--zip", ZIP],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (root / "run_output.txt").write_text(run.stdout)
    (root / "ollama_host.txt").write_text(env["OLLAMA_HOST"])
    (root / "done").touch()


def shared_root(base: Path) -> Path:
    """The session's one demo run under `base` (made now unless another worker has)."""
    root = base / "shared_demo"
    root.mkdir(parents=True, exist_ok=True)
    with open(base / "shared_demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held while one worker runs it; the others wait here
        try:
            if not (root / "done").exists():
                shutil.rmtree(root / "data", ignore_errors=True)
                _make(root)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root


def copy_of(root: Path, destination: Path) -> Demo:
    """A copy of the demo run's data directory of one's own, and the environment pointing at it."""
    shutil.copytree(root / "data", destination / "data", symlinks=True, ignore=shutil.ignore_patterns("*.lock"))
    data_dir, ollama_host = destination / "data", (root / "ollama_host.txt").read_text()
    return Demo(
        data_dir,
        demo_env(data_dir, ollama_host),
        (root / "run_output.txt").read_text(),
        root / "data",
        demo_env(root / "data", ollama_host),
    )
