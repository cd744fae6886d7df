"""Classical baselines: physics descriptors of a hop and tree-ensemble regressors on them."""
