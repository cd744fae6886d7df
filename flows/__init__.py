"""Composition of hopscreen flows (no jobs or Makers are defined here)."""
