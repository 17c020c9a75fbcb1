"""Sources a deployment adds from its own package (PHOENIX_SOURCE_MODULES), as the tests do."""
