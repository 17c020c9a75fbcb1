"""`python -m phoenix_dagster.cli …`, as the console script `phoenix-estate …`."""

import sys

from phoenix_dagster.cli.commands import main

sys.exit(main())
