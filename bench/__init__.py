"""Benchmarks and the synthetic record generator (synthetic data only; nothing here is historical)."""
