"""Self-tuning: run metrics in, batch size and concurrency out."""
