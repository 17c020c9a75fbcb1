"""The DuckDB warehouse: the SQL project under sql/, the table metadata shown in the UI, and the
analyst's read-only queries and their output."""
