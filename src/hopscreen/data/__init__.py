"""Data stage of hopscreen."""
