"""Benchmarks found by ``python -m coursekit.bench``: one module per name."""
