"""Every run starts a process that loads the code location (a partition run, the build, the code
server, the command itself), so what loading imports is paid many times a day. The libraries only
some steps need are imported where they are used: pymongo (~0.5 s) when MongoDB is written or
probed, the ollama client when a model is asked, Altair and its renderer when a report is written."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

LOADED_ONLY_WHERE_USED = ("pymongo", "bson", "ollama", "altair", "vl_convert", "mongomock")


def test_loading_the_code_location_leaves_the_libraries_of_single_steps_unimported():
    probe = (
        "import json, sys; import phoenix_dagster.code_location; "
        f"print(json.dumps([m for m in {LOADED_ONLY_WHERE_USED!r} if m in sys.modules]))"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert loaded == [], f"imported while loading the code location: {loaded}"
