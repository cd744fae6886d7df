"""Options of the prediction stage of a screening round."""

from __future__ import annotations

from pydantic import Field

from hopscreen.schemas.base import Config


class PredictionConfig(Config):
    """How a round predicts its hops (the model itself is chosen separately)."""

    batch_size: int = Field(32, ge=1, description="Bands per forward pass.")
    hops_per_job: int | None = Field(
        1000,
        ge=1,
        description="Most hops predicted by one job (bounds a job's memory: its bands are "
        "rebuilt in it); more hops give several jobs; None: one job however many hops.",
    )
    device: str | None = Field(None, description="cpu / cuda; None picks CUDA when available.")
