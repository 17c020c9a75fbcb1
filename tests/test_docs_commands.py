"""docs/runbook.md and docs/scaling.md cannot rot: every fenced block is marked, every block marked
``bash runnable`` is executed (in order, one fresh data directory per page, from the repository
root) and must exit 0 and print what its ``expect="…"`` says; every other block says why it is not
run. The runbook names every asset check of the code location, every alert condition the code can
raise, and every job, schedule and sensor; the environment variables the pages mention are in the
docs/configuration.md's table; the `phoenix-estate` subcommands and `make` targets they mention
exist.

Conventions (also explained at the top of each page):
    ```bash runnable [expect="text" …]     executed by this test
    ```bash not-runnable: <reason>          not executed, with the reason
    ```<language> not-runnable: <reason>    a configuration snippet, not executed
    ```text                                 output or a layout, never a command
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = {"runbook": REPO / "docs" / "runbook.md", "scaling": REPO / "docs" / "scaling.md"}
FIRST_DATE = "2026-11-01"  # before every day the pages run (2026-11-26 … 2026-11-28), few partition keys
BLOCK_TIMEOUT_S = 420
# Variables cleared from the commands' environment, so the operator's own settings (another data
# directory, a real token, a MongoDB) never leak into the test: the embedded sample is the source.
CLEARED_PREFIXES = (
    "PHOENIX_",
    "MARICOPA_",
    "RESO_",
    "MLS_",
    "OLLAMA_",
    "MONGODB_",
    "SMTP_",
    "ALERT_EMAIL_",
    "AWS_",
    "DAGSTER_",
)
# What names an environment variable of the platform in the pages' text.
ENV_NAME = re.compile(
    r"(?<![A-Za-z0-9_])(?:(?:PHOENIX|MARICOPA|RESO|MLS|OLLAMA|MONGODB|SMTP|ALERT|AWS)_[A-Z0-9_]*[A-Z0-9]"
    r"|DAGSTER_HOME|_RJEM_MALLOC_CONF)(?![A-Za-z0-9_])"
)


@dataclass
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    info: str
    code: str
    runnable: bool = False
    expect: list[str] = field(default_factory=list)
    reason: str | None = None

    @property
    def where(self) -> str:
        return f"docs/{DOCS[self.doc].name}:{self.line}"


def fenced_blocks(doc: str) -> list[Block]:
    """Every fenced block of a page, with its info string parsed (``` fences, not indented ones
    inside list items are fences too)."""
    blocks, current, lines = [], None, []
    for number, line in enumerate(DOCS[doc].read_text().splitlines(), start=1):
        stripped = line.strip()
        if current is None:
            if stripped.startswith("```") and not stripped.startswith("````"):
                current, lines = Block(doc, number, stripped[3:].strip(), ""), []
        elif stripped == "```":
            current.code = "\n".join(lines) + "\n"
            blocks.append(_parsed(current))
            current = None
        else:
            lines.append(line)
    assert current is None, f"docs/{DOCS[doc].name}:{current.line}: a fence that is never closed"
    return blocks


def _parsed(block: Block) -> Block:
    _language, _, rest = block.info.partition(" ")
    rest = rest.strip()
    if rest.startswith("not-runnable:"):
        block.reason = rest[len("not-runnable:") :].strip()
    elif rest == "runnable" or rest.startswith("runnable "):
        block.runnable = True
        for word in shlex.split(rest)[1:]:
            key, _, value = word.partition("=")
            assert key == "expect" and value, f'{block.where}: unknown attribute {word!r} (only expect="…")'
            block.expect.append(value)
    return block


def runnable_blocks(doc: str) -> list[Block]:
    return [b for b in fenced_blocks(doc) if b.runnable]


def page_text() -> str:
    return "\n".join(path.read_text() for path in DOCS.values())


def code_text() -> str:
    """Where commands are written: the fenced blocks and the inline code spans of both pages."""
    fenced = [block.code for doc in DOCS for block in fenced_blocks(doc)]
    prose = []
    for path in DOCS.values():
        inside = False
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("```") and not stripped.startswith("````"):
                inside = not inside
            elif not inside:
                prose.append(line)
    spans = re.findall(r"`([^`\n]+)`", "\n".join(prose))
    return "\n".join(fenced + spans)


def command_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
    env.update(
        PHOENIX_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(data_dir / "dagster_home"),
        PHOENIX_FIRST_DATE=FIRST_DATE,
        OLLAMA_HOST="http://127.0.0.1:9",
    )  # a closed port: rules extractor
    return env


# -- static: the pages are marked and name only what exists -------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_fenced_block_is_runnable_not_runnable_with_a_reason_or_text(doc):
    blocks = fenced_blocks(doc)
    assert runnable_blocks(doc), f"docs/{DOCS[doc].name} has no runnable block"
    for block in blocks:
        if block.runnable:
            assert block.info.split(" ", 1)[0] == "bash", f"{block.where}: runnable blocks are bash"
            assert block.code.strip(), f"{block.where}: an empty runnable block"
        elif block.reason is not None:
            assert len(block.reason) >= 10, f"{block.where}: say why the block is not run"
        else:
            assert block.info == "text", (
                f"{block.where}: fenced block {block.info!r} is neither `bash runnable`, "
                "`<language> not-runnable: <reason>` nor `text` output"
            )
            assert not re.search(r"^\s*(\.venv/bin/|make |phoenix-estate |dagster )", block.code, flags=re.M), (
                f"{block.where}: a `text` block holds a command; mark it runnable or not-runnable"
            )


def documented_configuration_variables() -> set[str]:
    section = (REPO / "docs" / "configuration.md").read_text()
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z_][A-Z0-9_]*)`", line.split("|")[1]))
    return names


@pytest.mark.unit
def test_every_environment_variable_the_pages_name_is_in_the_configuration_table():
    documented = documented_configuration_variables()
    assert {"PHOENIX_DATA_DIR", "MARICOPA_API_TOKEN", "DAGSTER_HOME"} <= documented  # the table was found
    named = set(ENV_NAME.findall(page_text()))
    assert named, "no variable found: the pattern is broken"
    assert not named - documented, f"not in docs/configuration.md's table: {sorted(named - documented)}"


def cli_subcommands() -> set[str]:
    usage = subprocess.run(
        [sys.executable, "-m", "phoenix_dagster.cli", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert usage.returncode == 0, usage.stderr
    return set(re.search(r"\{([a-z,-]+)\}", usage.stdout).group(1).split(","))


@pytest.mark.unit
def test_every_phoenix_estate_subcommand_and_make_target_the_pages_name_exists():
    subcommands = cli_subcommands()
    assert {"run", "sql", "report", "instance", "eval-resolver"} <= subcommands
    named = set(re.findall(r"phoenix-estate\s+([a-z][a-z-]*)", page_text()))
    assert named and not named - subcommands, f"not a phoenix-estate subcommand: {sorted(named - subcommands)}"
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    made = set(re.findall(r"(?<![\w-])make\s+([a-z][a-z-]*)", code_text()))
    assert made and not made - targets, f"not a Makefile target: {sorted(made - targets)}"


def definitions_of_every_configuration():
    """The code location built for the default settings and for every optional source and service
    configured (checks such as county_api_up or reso_up only exist when their service is)."""
    from phoenix_dagster.definitions import build_definitions
    from phoenix_dagster.settings import Settings

    with tempfile.TemporaryDirectory() as data_dir:
        fullest = {
            "PHOENIX_DATA_DIR": data_dir,
            "PHOENIX_ASSESSOR_SOURCE": "maricopa",
            "PHOENIX_LISTING_SOURCE": "sample,reso,mls_html,csv_inbox",
            "RESO_API_URL": "http://127.0.0.1:9/reso",
            "MLS_BASE_URL": "http://127.0.0.1:9",
            "MONGODB_URI": "mongodb://127.0.0.1:9",
        }
        return [build_definitions(Settings.from_env(env)) for env in ({"PHOENIX_DATA_DIR": data_dir}, fullest)]


@pytest.fixture(scope="module")
def every_definitions():
    return definitions_of_every_configuration()


@pytest.mark.unit
def test_the_runbook_names_every_asset_check_of_the_code_location(every_definitions):
    runbook = DOCS["runbook"].read_text()
    checks: dict[str, set[str]] = {}
    for defs in every_definitions:
        for key in defs.resolve_asset_graph().asset_check_keys:
            checks.setdefault(key.name, set()).add(key.asset_key.to_user_string())
    assert {"matches_schema", "records_accounted_for", "county_api_up"} <= set(checks)
    missing = sorted(name for name in checks if f"`{name}`" not in runbook)
    assert not missing, f"asset checks the runbook does not explain: {missing}"
    # the checks on a handful of assets name them (the schema and grain checks are on every table)
    for name, assets in checks.items():
        if name in ("matches_schema", "unique_grain"):
            continue
        row = next(line for line in runbook.splitlines() if line.startswith(f"| `{name}` |"))
        for asset in assets:
            shown = asset.replace("/", ".")
            if asset.startswith("raw_listing_payloads__"):
                shown = "raw_listing_payloads__<source>"
            assert f"`{shown}`" in row, f"the runbook's row for {name} does not name {shown}"


def alert_condition_prefixes() -> set[str]:
    """The first word of every alert condition the code builds (alerts.py's Alert(...) keys and the
    run-failure sensor's)."""
    sources = (REPO / "phoenix_dagster" / "monitoring" / "alerts.py").read_text() + (
        REPO / "phoenix_dagster" / "automation" / "sensors.py"
    ).read_text()
    found = set(re.findall(r"Alert\(\s*f?\"([a-z_]+):", sources)) | set(
        re.findall(r"\"condition\":\s*f?\"([a-z_]+):", sources)
    )
    return found


@pytest.mark.unit
def test_the_runbook_explains_every_alert_condition_the_code_raises():
    prefixes = alert_condition_prefixes()
    assert {"check", "quality", "stale", "budget", "run"} <= prefixes, prefixes
    runbook = DOCS["runbook"].read_text()
    missing = sorted(p for p in prefixes if f"| `{p}:" not in runbook)
    assert not missing, f"alert conditions without a row in the runbook's alert table: {missing}"


@pytest.mark.unit
def test_the_runbook_names_every_job_schedule_and_sensor(every_definitions):
    runbook = DOCS["runbook"].read_text()
    names = set()
    for defs in every_definitions:
        names |= {job.name for job in defs.jobs} | {s.name for s in defs.schedules} | {s.name for s in defs.sensors}
    names = {n for n in names if not n.startswith("__")}
    missing = sorted(n for n in names if f"`{n}`" not in runbook)
    assert not missing, f"not in the runbook: {missing}"


# -- the commands run ----------------------------------------------------------------------------------


def run_page(doc: str, tmp_path: Path) -> list[tuple[Block, float]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = command_env(data_dir)
    timings = []
    for block in runnable_blocks(doc):
        started = time.perf_counter()
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.code],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
        )
        seconds = time.perf_counter() - started
        output = result.stdout + result.stderr
        shown = f"\n--- {block.where} ---\n{block.code}--- output (last 4,000 characters) ---\n{output[-4000:]}"
        assert result.returncode == 0, f"exit code {result.returncode}{shown}"
        for text in block.expect:
            assert text in output, f"{text!r} not in the output{shown}"
        timings.append((block, seconds))
    print("\n".join(f"{b.where}: {s:.1f} s" for b, s in timings))
    return timings


@pytest.mark.integration
@pytest.mark.timeout(1200)  # 389 s in the whole suite on four workers (2026-12-03); days run up to 2× slower here
def test_the_runbook_commands_run(tmp_path):
    timings = run_page("runbook", tmp_path)
    assert len(timings) == len(runnable_blocks("runbook"))


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_the_scaling_guide_commands_run(tmp_path):
    timings = run_page("scaling", tmp_path)
    assert len(timings) == len(runnable_blocks("scaling"))
