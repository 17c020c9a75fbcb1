# Two commands for a fresh machine: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test ui validate bench bench-scale bench-build-memory clean

install: $(STAMP)

# The project's own virtual environment, pinned by requirements.lock (pip freeze of a working install).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# Run the main job (daily_refresh) for today on the embedded sample: no network, no services.
demo: install
	$(BIN)/phoenix-estate run

# The whole test suite, on four workers for two cores (pytest-xdist; each test has its own data dir and
# ports): many tests wait on subprocesses, servers and a browser, so extra workers keep the cores
# busy (measured 2026-12-03: three workers 12:16–12:29, four 10:27 and 8:40 from a fresh clone, the cores
# 1% idle).
test: install
	$(BIN)/python -m pytest -q -n 4 --dist worksteal

# The Dagster UI over the same instance the demo records its runs in.
ui: install
	@home="$${DAGSTER_HOME:-$${PHOENIX_DATA_DIR:-$(CURDIR)/data}/dagster_home}"; \
	  DAGSTER_HOME="$$home" $(BIN)/phoenix-estate instance && DAGSTER_HOME="$$home" $(BIN)/dagster dev -w workspace.yaml

# Benchmarks (not tests): collector, enrichment and whole-graph throughput against local servers.
bench: install
	$(BIN)/python tests/benchmarks/bench_assessor_collect.py
	$(BIN)/python tests/benchmarks/bench_enrichment.py
	$(BIN)/python tests/benchmarks/bench_pipeline.py
	$(BIN)/python tests/benchmarks/bench_serving.py

# How cost grows with parcels (3 ZIPs × 33,334 = 100k by default; SCALES="3x33334 9x33334 30x33334"
# for more; CONCURRENT_RUNS=3 for a queue of three, default 2): full and incremental `phoenix-estate run`
# against a county server on loopback.
SCALES ?= 3x33334
bench-scale: install
	$(BIN)/python tests/benchmarks/bench_scale.py $(foreach s,$(SCALES),--scale $(s)) $(if $(KEEP),--keep $(KEEP)) \
	  $(if $(CONCURRENT_RUNS),--concurrent-runs $(CONCURRENT_RUNS))

# Where a build's memory goes, step by step, on a data directory bench-scale kept (KEEP=dir).
bench-build-memory: install
	$(BIN)/python tests/benchmarks/bench_build_memory.py $(DATA)

validate: install
	$(BIN)/dagster definitions validate -w workspace.yaml

clean:
	rm -rf data/lake data/warehouse.* data/.warehouse-* data/control data/dagster_home data/reports data/serving
