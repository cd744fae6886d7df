"""Physics features of a hop that transfer across chemistries (electrostatics, geometry)."""
