"""Helpers shared by the tests and benchmarks (no tests here)."""
