"""Benchmarks and the paper's reproduction: ``hopscreen bench``, ``reproduce``, ``al replay``.

This package sits beside the engine, on top of it: it imports the engine, and nothing in the
engine imports it.
"""
