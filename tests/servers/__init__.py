"""Servers on 127.0.0.1 that speak real API contracts, for the tests and benchmarks."""
