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
    workers: int | None = Field(
        None,
        ge=1,
        description="Worker processes predicting a job's hops, each with the model loaded "
        "once and one torch thread (hopscreen.inference.workers), and enumerating the hosts "
        "of the hops job; None: one per CPU core (at most 8); 1: in the job's own process. "
        "Jobs with fewer than 200 hops (16 hosts) run in their own process.",
    )
