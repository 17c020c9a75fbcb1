"""External systems. Each module knows one system's contract and returns raw payloads;
none of them knows about Dagster."""
