"""What the asset graph is declared with: partitions, job names, concurrency pools, the lake-asset
decorator and its bookkeeping, and the checks generated from the table schemas."""
