"""Benchmarks of the local TaskRouter: `make bench` (or `python -m bench --help`).

Not tests: every run starts fresh servers, measures, and prints markdown tables.
"""
