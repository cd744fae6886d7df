"""Candidates stage of hopscreen."""
