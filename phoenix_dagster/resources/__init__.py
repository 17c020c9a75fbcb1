"""Dagster resources: each owns one connection or store and its configuration."""
