"""The command line: `phoenix-estate` (run, backfill, report, sql, docs, instance) and the runs it
makes from the code location. The console script and `python -m phoenix_dagster.cli` both call
`main`."""

from phoenix_dagster.cli.commands import main

__all__ = ["main"]
