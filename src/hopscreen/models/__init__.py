"""Models stage of hopscreen."""
