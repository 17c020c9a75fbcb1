"""Phoenix real-estate data platform: the Dagster code location and the code it runs."""
