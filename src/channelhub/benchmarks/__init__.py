"""Benchmarks runnable as commands (`channelhub bench ...`)."""
