"""Common base of every hopscreen document."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Document(BaseModel):
    """Base class of the pydantic documents that cross stage boundaries.

    Unknown fields are rejected so that a typo in a producer is caught at once.
    """

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)


class Config(BaseModel):
    """Base class of explicit, environment-independent configuration objects."""

    model_config = ConfigDict(extra="forbid", frozen=True)
