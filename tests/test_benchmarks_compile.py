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
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    target = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert BENCHMARKS and all(f"tests/benchmarks/{path.name}" in target for path in BENCHMARKS)
