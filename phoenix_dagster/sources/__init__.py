"""External systems, one module a source: its client knows the system's contract and returns raw
payloads (no Dagster in it); beside it the source's settings, its Dagster resource (which opens the
client and probes the service) and its `DESCRIPTORS` for the registry (registry.py)."""
