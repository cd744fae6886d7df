"""Training stage of hopscreen."""
