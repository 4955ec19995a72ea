"""Benchmarks found by ``python -m coursekit.tools.bench``: one module per name."""
