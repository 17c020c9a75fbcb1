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


def test_there_are_benchmarks():
    assert len(BENCHMARKS) == 2
