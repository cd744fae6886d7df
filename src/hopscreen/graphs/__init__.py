"""Graphs stage of hopscreen."""
