"""Hops stage of hopscreen."""
