"""The code location Dagster loads (workspace.yaml, `dagster dev`): the definitions built from
this process's environment. Everything else builds its own from explicit settings."""

from phoenix_dagster.definitions import build_definitions
from phoenix_dagster.settings import Settings

defs = build_definitions(Settings.from_env())
