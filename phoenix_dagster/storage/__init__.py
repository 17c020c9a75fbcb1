"""Files and where they live: whole-file atomic replaces, and the lake's location (a local
directory or S3)."""
