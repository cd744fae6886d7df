"""Schemas stage of hopscreen."""
