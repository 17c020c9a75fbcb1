"""The benchmarks are not run by the suite (they measure, they do not assert), but they must
at least stay valid Python: an import broken by a refactor went unnoticed once."""

import py_compile
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BENCHMARKS = sorted((Path(__file__).parent / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_compiles(path):
    py_compile.compile(str(path), doraise=True)


def test_make_bench_runs_every_benchmark():
    """`make bench` runs each one, but bench_scale (minutes at 100k), which `make bench-scale` runs,
    and bench_build_memory, which needs the data directory bench-scale keeps (`make
    bench-build-memory DATA=…`)."""
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    bench = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    scale = makefile.split("\nbench-scale:", 1)[1].split("\n\n", 1)[0]
    memory = makefile.split("\nbench-build-memory:", 1)[1].split("\n\n", 1)[0]
    assert "tests/benchmarks/bench_scale.py" in scale and "--keep $(KEEP)" in scale
    assert "tests/benchmarks/bench_build_memory.py $(DATA)" in memory
    own_targets = {"bench_scale.py", "bench_build_memory.py"}
    assert BENCHMARKS and all(
        f"tests/benchmarks/{path.name}" in bench for path in BENCHMARKS if path.name not in own_targets
    )
