"""The Dagster UI as `make ui` serves it, opened in a real headless browser (Debian's chromium
driven by Playwright) after a demo run for one ZIP (`phoenix-estate run --zip 85031`, the session's
shared one, tests/shared_demo.py, copied), then `dagster dev -w workspace.yaml` over the copy's
DAGSTER_HOME on a free port. The code location
loads without an error, the global asset lineage shows every asset group, marts/properties
shows the build's materialization, and raw_assessor_payloads' Checks tab shows each check's
latest evaluation with search_complete's metadata. Skips, saying why, where no chromium is installed (.ci/run
installs it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from shared_demo import BIN, DAY, copy_of
from test_asset_graph import GROUPS

from phoenix_dagster.cli.workspace_runs import LOCATION_NAME
from phoenix_dagster.graph.partitions import day_of_key
from phoenix_dagster.settings import DEFAULT_ZIP_CODES, PROJECT_ROOT

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's package)"),
]

READY_TIMEOUT_S = 120  # dagster dev answers after ~15 s
RENDER_TIMEOUT_MS = 60_000
# Words the UI uses when a code location, a query or a page fails (lower case).
ERROR_TEXT = [
    "error loading",
    "code location error",
    "failed to load",
    "could not load",
    "unable to load",
    "an error occurred",
    "something went wrong",
    "pythonerror",
    "unexpected error",
    "this graph is empty",
]  # what the lineage says when the location failed to load
LOCATION = """{ workspaceOrError { __typename ... on PythonError { message } ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message stack } } } } } }"""
LATEST_MATERIALIZATION = """{ assetOrError(assetKey: {path: ["marts", "properties"]}) { __typename ... on Asset {
  assetMaterializations(limit: 1) { runId } } } }"""


@dataclass
class DagsterUI:
    url: str
    run_output: str  # what `phoenix-estate run` printed
    log: Path  # dagster dev's output
    locations: dict  # the workspace's location entries as its GraphQL API reports them, by name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def wait_until_loaded(url: str, process: subprocess.Popen, log: Path) -> dict:
    """server_info answers, then the workspace's one location has finished loading (or failed)."""
    deadline, last = time.monotonic() + READY_TIMEOUT_S, "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode} before answering:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                pass
            workspace = graphql(url, LOCATION)["workspaceOrError"]
            entries = workspace.get("locationEntries") or []
            if workspace["__typename"] == "Workspace" and entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return workspace
            last = json.dumps(workspace)[:500]
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = repr(exc)
        time.sleep(1)
    pytest.fail(f"dagster dev at {url} not loaded within {READY_TIMEOUT_S} s ({last}):\n{tail(log)}")


def stop(process: subprocess.Popen) -> None:
    """dagster dev ignores SIGTERM: SIGKILL its whole process group (webserver, daemon, code
    servers, any run they launched), then check that none of them survived."""
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for member in family:  # one that left the group (a new session) is killed by its pid
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait(timeout=30)
    _, alive = psutil.wait_procs(family, timeout=30)
    survivors = []
    for member in alive:
        try:
            if member.status() != psutil.STATUS_ZOMBIE:
                survivors.append(f"{member.pid} {' '.join(member.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    assert not survivors, f"dagster dev's processes survived SIGKILL: {survivors}"


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory, shared_demo):
    root = tmp_path_factory.mktemp("dagster_ui")
    demo = copy_of(shared_demo, root)
    env = demo.env
    url, log = f"http://127.0.0.1:{free_port()}", root / "dagster_dev.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", url.rsplit(":", 1)[1]],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        workspace = wait_until_loaded(url, process, log)
        yield DagsterUI(url, demo.run_output, log, {e["name"]: e for e in workspace["locationEntries"]})
    finally:
        stop(process)


def open_page(playwright, url: str, path: str):
    """A page that records console errors, uncaught exceptions and failed requests to the server.
    Nothing is dismissed first: the managed dagster.yaml turns Dagster's one-time "Join the Dagster
    community" dialog off (`nux: enabled: false`), so a person's first visit sees none either."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400 and response.url.startswith(url)
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda request: (
            problems.append(f"failed: {request.url} {request.failure}") if request.url.startswith(url) else None
        ),
    )
    page.goto(url + path)
    return browser, page, problems


def error_text(page) -> list[str]:
    body = page.inner_text("body").lower()
    return [phrase for phrase in ERROR_TEXT if phrase in body]


def check_the_code_location_loads_without_an_error(dagster_ui):
    assert list(dagster_ui.locations) == [LOCATION_NAME], dagster_ui.locations
    location = dagster_ui.locations[LOCATION_NAME]
    assert location["loadStatus"] == "LOADED", location
    assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location  # not a PythonError


def check_the_asset_lineage_shows_every_group_and_no_error(dagster_ui, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    screenshot = tmp_path / "asset_lineage.png"
    with sync_playwright() as playwright:
        browser, page, problems = open_page(playwright, dagster_ui.url, "/asset-groups")  # "Global asset lineage"
        # One collapsed box per group; its data-tooltip holds the whole name (the label may be cut short).
        boxes = page.locator("svg foreignObject.group [data-tooltip]")
        try:
            page.wait_for_function(
                f"() => document.querySelectorAll('svg foreignObject.group [data-tooltip]').length"
                f" >= {len(GROUPS)} || document.body.innerText.includes('This graph is empty')",
                timeout=RENDER_TIMEOUT_MS,
            )
        except PlaywrightTimeout:
            page.screenshot(path=str(screenshot), full_page=True)
            pytest.fail(
                f"the lineage drew {boxes.count()} of {len(GROUPS)} group boxes in {RENDER_TIMEOUT_MS} ms "
                f"(screenshot {screenshot}); page says: {page.inner_text('body')[:1500]}"
            )
        page.wait_for_load_state("networkidle")
        title = page.title()
        drawn = boxes.evaluate_all("nodes => nodes.map(n => n.getAttribute('data-tooltip'))")
        visible = [box.get_attribute("data-tooltip") for box in boxes.all() if box.is_visible()]
        listed = page.locator("text=/^(lake|warehouse)_\\w+$|^serving$|^operations$/").all_inner_texts()
        edges = page.locator("svg path").count()
        errors = error_text(page)
        community_dialog = page.get_by_text("Join the Dagster community").count()
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert title == "Global asset lineage", title
    assert sorted(drawn) == sorted(GROUPS), drawn  # each group once, no other
    assert sorted(visible) == sorted(GROUPS), visible  # zoomed to fit: all on screen
    assert set(listed) >= GROUPS, listed  # and each in the sidebar's group tree
    assert edges >= len(GROUPS) - 1, f"{edges} lineage edges drawn"
    assert errors == [], errors
    assert problems == [], problems
    assert community_dialog == 0
    assert screenshot.stat().st_size > 50_000


def check_the_properties_mart_shows_the_builds_materialization(dagster_ui):
    from playwright.sync_api import sync_playwright

    build_run = re.search(r"^\[warehouse\].*\n\s+ok in [\d.]+s: ([0-9a-f]{8})", dagster_ui.run_output, re.M)
    rows = re.search(r"marts\.properties ([\d,]+) rows", dagster_ui.run_output)
    assert build_run and rows, dagster_ui.run_output[-2000:]
    asset = graphql(dagster_ui.url, LATEST_MATERIALIZATION)["assetOrError"]
    assert asset["__typename"] == "Asset" and asset["assetMaterializations"], asset
    run_id = asset["assetMaterializations"][0]["runId"]
    assert run_id.startswith(build_run.group(1)), (run_id, build_run.group(1))  # the CLI's build made it
    with sync_playwright() as playwright:
        browser, page, problems = open_page(playwright, dagster_ui.url, "/assets/marts/properties")
        page.get_by_text("Latest materialization").wait_for(timeout=RENDER_TIMEOUT_MS)
        latest = page.locator(f'a[href^="/runs/{run_id}"]')  # the status badge ("… minutes ago") links the run
        latest.first.wait_for(timeout=RENDER_TIMEOUT_MS)
        latest_text = latest.first.inner_text()
        row_count = page.get_by_text("Row count", exact=True).locator("xpath=..").inner_text()
        overview_errors = error_text(page)
        # The tab, clicked as a person does: loading ?view=events anew would abort the overview's queries.
        page.get_by_role("tab", name="Events").click()
        event = page.get_by_text(f"Materialized in run {run_id[:8]}")
        event.first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        events_errors = error_text(page)
        browser.close()
    assert re.search(r"ago|\d:\d\d", latest_text), latest_text
    assert rows.group(1) in row_count, row_count
    assert overview_errors == [] and events_errors == [], (overview_errors, events_errors)
    assert problems == [], problems


def test_the_dagster_ui_after_a_demo_run(dagster_ui, tmp_path):
    """One test over one demo run and one `dagster dev` (pytest-xdist would give each worker that
    ran one of several tests its own ~85 s setup): the code location, the lineage, a mart, then an
    operator's first hour — a backfill launched from the job page, the build that follows, a
    check executed from its button."""
    check_the_code_location_loads_without_an_error(dagster_ui)
    check_the_asset_lineage_shows_every_group_and_no_error(dagster_ui, tmp_path)
    check_the_properties_mart_shows_the_builds_materialization(dagster_ui)
    check_the_county_collections_checks_show_their_latest_evaluation(dagster_ui)
    keys, backfill = launch_a_backfill_from_the_job_page(dagster_ui, tmp_path)
    check_a_service_check_executes_from_its_button(dagster_ui, keys, backfill)  # while the build sensor ticks
    check_the_backfill_reaches_the_mart_and_the_report(dagster_ui, keys, backfill)


def check_the_county_collections_checks_show_their_latest_evaluation(dagster_ui):
    """raw_assessor_payloads' Checks tab lists its checks, each with its latest evaluation, and
    search_complete's detail shows what it compared: the county's TOTAL against the rows read
    (the sample's 85031: 300 search rows on 12 pages, every one read), naming the ZIPs it checked."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page, problems = open_page(playwright, dagster_ui.url, "/assets/raw_assessor_payloads?view=checks")
        page.get_by_text("search_complete").first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        listed = dict(
            re.findall(r"^(\w+)\n\1\n(Succeeded|Failed|Warning|Not evaluated|Skipped)$", page.inner_text("body"), re.M)
        )
        page.get_by_text("search_complete").first.click()  # as a person does: the detail pane opens
        page.get_by_text("search_total", exact=True).first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        detail = page.inner_text("body")
        errors = error_text(page)
        browser.close()
    assert listed == {
        "matches_schema": "Succeeded",
        "quarantine_rate": "Succeeded",
        "search_complete": "Succeeded",
        "zips_collected": "Succeeded",
    }, listed
    assert "This is a non-blocking asset check." in detail and "Passed" in detail, detail[:2000]
    table = detail.split("\nMetadata\n", 1)[-1].split("\nPlots\n", 1)[0]  # the metadata table, not the plots' titles
    metadata = dict(re.findall(r"^(search_total|rows_read|pages_unread|zips_checked|day)\n(.+)$", table, re.M))
    assert metadata == {
        "search_total": "300",
        "rows_read": "300",
        "pages_unread": "0",
        "zips_checked": "85031",  # the county's partition, for the ZIP the run worked on
        "day": DAY,
    }, metadata
    assert errors == [] and problems == [], (errors, problems)


PARTITION_KEYS = """query Keys($selector: PipelineSelector!) { pipelineOrError(params: $selector) { ... on Pipeline {
  partitionKeysOrError(limit: 2) { ... on PartitionKeys { partitionKeys } } } } }"""
BACKFILLS = """{ partitionBackfillsOrError(limit: 5) { ... on PartitionBackfills { results {
  id status numPartitions partitionNames } } } }"""
RUNS = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter, limit: 20) { ... on Runs { results {
  runId jobName status tags { key value } assetCheckSelection { name } } } } }"""
RUN_TAGS = """query Run($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }"""
JOURNEY_TIMEOUT_S = 420  # the backfill's runs (~15 s each), the build sensor's tick (10 s here), the build


def graphql_vars(url: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


def wait_for(what: str, probe, timeout_s: float = JOURNEY_TIMEOUT_S, log: Path | None = None):
    """Poll `probe` until it returns something truthy; fail naming `what` (and dagster dev's log)."""
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(2)
    pytest.fail(f"{what}: not within {timeout_s:.0f} s (last seen: {last!r})\n{tail(log) if log else ''}")


def first_partition_keys(url: str) -> list[str]:
    """The first two keys of daily_refresh's partitions, whatever its partitioning is."""
    selector = {
        "pipelineName": "daily_refresh",
        "repositoryName": "__repository__",
        "repositoryLocationName": LOCATION_NAME,
    }
    keys = graphql_vars(url, PARTITION_KEYS, {"selector": selector})["pipelineOrError"]["partitionKeysOrError"]
    return keys["partitionKeys"][:2]


def choose_partitions(dialog, keys: list[str]) -> None:
    """In the launch dialog, select `keys` (multi-partition keys: one part per dimension, in the
    dialog's order): a time dimension takes the days typed, a static one its values ticked."""
    parts = [sorted(set(values)) for values in zip(*(key.split("|") for key in keys))]
    days = [values for values in parts if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values)]
    statics = [values for values in parts if values not in days]
    typed = dialog.get_by_placeholder("ex: ", exact=False)  # a time dimension: a range text field
    pickers = dialog.get_by_text("Select a partition or create one")  # a static one: a multi-select
    for values in days:
        typed.first.wait_for(timeout=RENDER_TIMEOUT_MS)  # (drawn once the partitions have loaded)
        typed.first.fill(", ".join(values))
        typed.first.press("Enter")
    assert typed.count() == len(days) and pickers.count() == len(statics), (typed.count(), pickers.count(), parts)
    for index, values in enumerate(statics):
        pickers.nth(index).click()
        for value in values:
            dialog.page.get_by_role("checkbox", name=value).or_(
                dialog.page.locator(f"label:has-text('{value}')")
            ).first.click()
        dialog.page.keyboard.press("Escape")


def launch_a_backfill_from_the_job_page(dagster_ui, tmp_path) -> tuple[list[str], str]:
    """The job page's "Materialize all…" as a backfill of the job's first two partitions; returns
    the keys and the backfill's id once both partition runs have finished."""
    from playwright.sync_api import sync_playwright

    keys = first_partition_keys(dagster_ui.url)
    assert len(keys) == 2, keys
    before = {b["id"] for b in graphql(dagster_ui.url, BACKFILLS)["partitionBackfillsOrError"]["results"]}
    with sync_playwright() as playwright:
        browser, page, problems = open_page(
            playwright, dagster_ui.url, f"/locations/{LOCATION_NAME}/jobs/daily_refresh"
        )
        page.get_by_role("button", name="Materialize all…").click()
        dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")  # not a popover
        dialog.wait_for(timeout=RENDER_TIMEOUT_MS)
        choose_partitions(dialog, keys)
        dialog.get_by_text("2 partitions").wait_for(timeout=RENDER_TIMEOUT_MS)
        dialog.get_by_role("button", name="Launch backfill").click()
        dialog.wait_for(state="hidden", timeout=RENDER_TIMEOUT_MS)
        errors = error_text(page)
        page.screenshot(path=str(tmp_path / "backfill_launched.png"))
        browser.close()
    assert errors == [] and problems == [], (errors, problems)
    backfill = wait_for(
        "the backfill's id",
        lambda: [
            b["id"]
            for b in graphql(dagster_ui.url, BACKFILLS)["partitionBackfillsOrError"]["results"]
            if b["id"] not in before
        ],
    )[0]

    def partition_runs():
        runs = graphql_vars(
            dagster_ui.url, RUNS, {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill}]}}
        )
        done = [r for r in runs["runsOrError"]["results"] if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
        return done if len(done) == len(keys) else None

    runs = wait_for("the backfill's partition runs", partition_runs, log=dagster_ui.log)
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], runs
    return keys, backfill


def check_the_backfill_reaches_the_mart_and_the_report(dagster_ui, keys: list[str], backfill: str):
    """The backfill completes, the warehouse_after_partitions sensor (on by default) requests the
    build, which puts the day in the mart and writes that day's report."""
    day = day_of_key(keys[0])  # keys are `<county>|<day>`: the first two days of the sample's county

    def completed():
        return next(
            (
                b
                for b in graphql(dagster_ui.url, BACKFILLS)["partitionBackfillsOrError"]["results"]
                if b["id"] == backfill and b["status"] != "REQUESTED"
            ),
            None,
        )

    done = wait_for("the backfill", completed, log=dagster_ui.log)
    assert done["status"] == "COMPLETED_SUCCESS" and sorted(done["partitionNames"]) == sorted(keys), done

    def build():
        runs = graphql_vars(dagster_ui.url, RUNS, {"filter": {"pipelineName": "build_warehouse"}})
        for run in runs["runsOrError"]["results"]:
            tags = {t["key"]: t["value"] for t in run["tags"]}
            if day in tags.get("phoenix/report_days", "").split(",") and run["status"] in ("SUCCESS", "FAILURE"):
                return run
        return None

    built = wait_for(f"a build naming {day} after the backfill", build, log=dagster_ui.log)
    assert built["status"] == "SUCCESS", built
    data_dir = Path(dagster_ui.log).parent / "data"
    import duckdb

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        zips = sorted(
            row[0]
            for row in conn.execute("select PostalCode from marts.zip_market_stats where date = ?", [day]).fetchall()
        )
    assert zips == list(DEFAULT_ZIP_CODES), zips  # the day is in the mart, every ZIP of the county's partition
    report = data_dir / "reports" / f"{day}.html"
    assert report.exists() and f"daily report for {day}" in report.read_text()


def check_a_service_check_executes_from_its_button(dagster_ui, keys: list[str], backfill: str):
    """A partition's warned check, opened: ollama_up's execution history (the asset's Checks tab)
    lists the WARN evaluated in each of the backfill's partition runs (a launch from the UI
    includes the `<service>_up` checks), linking those runs. Its "Latest execution" is not read
    for that: with two partition runs finishing together Dagster may pair the newest
    materialization with the other run's evaluation and show "Not evaluated" (see the runbook).
    Then its own Execute button launches a check-only run that succeeds, its evaluation a WARN (no
    Ollama here), listed as the latest."""
    from playwright.sync_api import sync_playwright

    def check_runs():
        runs = graphql_vars(dagster_ui.url, RUNS, {"filter": {}})["runsOrError"]["results"]
        return {r["runId"]: r for r in runs if [c["name"] for c in r["assetCheckSelection"] or []] == ["ollama_up"]}

    before = set(check_runs())
    with sync_playwright() as playwright:
        browser, page, problems = open_page(
            playwright, dagster_ui.url, "/assets/listing_text_facts?view=checks&checkDetail=ollama_up"
        )
        page.get_by_text("Execution history").first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.get_by_text("Execution history").first.click()
        page.get_by_text("ollama down:").first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        history = page.inner_text("body").split("Execution history", 1)[-1]
        evaluated_in = {
            href.split("/")[2].split("?")[0]
            for href in page.locator('a[href^="/runs/"]').evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
        }
        page.get_by_role("tab", name="Overview").last.click()
        page.get_by_role("button").filter(has_text=re.compile(r"^\s*Execute\s*$")).first.click()  # not "Execute all"

        def finished():
            new = [r for run_id, r in check_runs().items() if run_id not in before]
            return new[0] if new and new[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

        run = wait_for("the ollama_up check's run", finished, timeout_s=180, log=dagster_ui.log)
        page.reload()
        page.get_by_text("ollama_up").first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        listed = page.inner_text("body")
        errors = error_text(page)
        browser.close()
    problems = [p for p in problems if "net::ERR_ABORTED" not in p]  # queries the reload itself cut short
    assert history.count("ollama down: connection refused") >= len(keys), history[:1500]  # a row per run
    partitions = set()
    for run_id in evaluated_in:
        tags = {
            t["key"]: t["value"] for t in graphql_vars(dagster_ui.url, RUN_TAGS, {"id": run_id})["runOrError"]["tags"]
        }
        if tags.get("dagster/backfill") == backfill:
            partitions.add(tags.get("dagster/partition"))
    assert partitions == set(keys), (partitions, evaluated_in)  # a WARN in each of the backfill's partition runs
    assert run["status"] == "SUCCESS", run  # it failed with AttributeError: no run_id on a check's context
    assert re.search(r"^ollama_up\nFailed$", listed, re.M), listed[:1500]  # a WARN that did not pass
    assert errors == [] and problems == [], (errors, problems)
