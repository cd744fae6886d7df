"""Evaluation stage of hopscreen."""
