"""The physics hop vector: descriptors and the BVSE profile, in one fixed column order.

The columns are those of :mod:`hopscreen.features.descriptors` and
:mod:`hopscreen.features.bvse`.

Every column means the same thing in every chemistry (distances, electrostatic potentials,
bond-valence site energies, ion properties), which is what a model needs to rank hosts it
has never seen. Descriptor columns carry the prefix ``phys_``; the BVSE columns keep their
``bvse_`` names. Cost: about 20 ms per hop on one CPU core, no potential to load.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np

from hopscreen.features.bvse import BVSE_NAMES, bvse_descriptors
from hopscreen.features.descriptors import DESCRIPTOR_NAMES, hop_descriptors
from hopscreen.schemas.structure import Z_TO_SYMBOL, Crystal

PHYSICS_VERSION = 1
PHYSICS_NAMES: tuple[str, ...] = tuple(f"phys_{n}" for n in DESCRIPTOR_NAMES) + BVSE_NAMES


def physics_version_tag() -> str:
    """What the physics columns depend on, for cache keys: ``phys-v1-bvlain0.25.1``."""
    return f"phys-v{PHYSICS_VERSION}-bvlain{importlib.metadata.version('bvlain')}"


def physics_vector(band: Crystal, ion: str | None = None) -> np.ndarray:
    """The physics columns of one Model-3 band, in the order of :data:`PHYSICS_NAMES`.

    Parameters
    ----------
    band : Crystal
        Five copies of the migrating ion (atoms 0–4), then the host atoms.
    ion : str, optional
        Working ion; read from atom 0 when omitted.

    Returns
    -------
    numpy.ndarray
        (len(PHYSICS_NAMES),) float64; NaN where a value does not exist for this hop.
    """
    ion = ion or Z_TO_SYMBOL[int(band.numbers[0])]
    desc = hop_descriptors(band, ion)
    bvse = bvse_descriptors(band, ion)
    values = [desc[n] for n in DESCRIPTOR_NAMES] + [bvse[n] for n in BVSE_NAMES]
    return np.asarray(values, dtype=np.float64)
