"""Inference stage of hopscreen."""
