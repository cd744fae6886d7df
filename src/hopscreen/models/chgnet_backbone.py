"""A fixed-length hop descriptor read from the pretrained CHGNet universal potential.

Alternative backbone of issue #3: instead of fine-tuning ALIGNN on the band, embed physical
structures of the hop with the frozen, pretrained CHGNet (its weights ship inside the
``chgnet`` wheel, so this runs offline) and train a small head on the resulting vector
(:mod:`hopscreen.training.chgnet_head`). This is the only module that imports ``chgnet``, and
only inside functions.

Inputs
------
The Model-3 band puts five copies of the ion 0.6–1 Å apart, which a potential has never seen.
Three physical structures are built from it instead (:func:`hop_structures`), all with the
migrating ion first and the host atoms (band atoms 5 onward) after it:

* ``init``  — host + ion copy 0 (the initial endpoint, vacancy at the end site),
* ``mid``   — host + ion copy 2 (the ion at the straight-line midpoint),
* ``final`` — host + ion copy 4 (the ion on the end site, the start site empty).

None of them is relaxed: ``mid`` − ``init`` energies are a crude, unrelaxed barrier estimate.

What CHGNet gives per structure (``CHGNet.predict_graph``)
----------------------------------------------------------
* ``atom_fea``: the 64-dim atom embeddings after the third of four interaction blocks (the
  features CHGNet reads magnetic moments from; ``return_atom_feas=True``),
* site energies (eV; CHGNet 0.3.0 reads energy out per atom, ``mlp_first``), magnetic moments
  (μ_B) and the total energy (eV; per-atom energy × atoms).

The hop vector (:func:`feature_names` lists every column)
---------------------------------------------------------
With D = 64 (CHGNet 0.3.0):

==========================  =====  ===========================================================
block (name prefix)         width  meaning
==========================  =====  ===========================================================
``ion_init``/``mid``/``fin`` 3·D   the migrating ion's own embedding in each structure
``ion_dmid``/``ion_dfin``    2·D   mid − init and final − init of that embedding
``host_mean``                D     mean embedding of the host atoms in ``init``
``host_loc_init``/``_mid``   2·D   host embeddings around the ion, weighted by
                                   exp(−(d − d_min)/σ) (σ = ``local_width_angstrom``)
``e_*``                      8     ΔE_mid, ΔE_fin (total eV) and their asinh; ion site energy
                                   in each structure; its mid − init and final − init
``mag_*``                    6     ion magmom (init, mid); mean host magmom (init); mean and
                                   max |Δm| of host atoms mid − init; ‖ion_dmid‖, ‖ion_dfin‖,
                                   ‖host_loc_mid − host_loc_init‖ (embedding magnitudes)
``geo_*``                    4     hop length; nearest host distance of the ion at init, mid,
                                   final (Å) — no CHGNet, for ablation
==========================  =====  ===========================================================

When the straight-line midpoint lands on a host atom (nearest host distance ≈ 0, as in hops
that really curve around it), CHGNet returns NaN for the ``mid`` structure; the columns that
depend on it are then NaN (``geo_dmin_mid_angstrom`` ≈ 0 says why) and the heads of
:mod:`hopscreen.training.chgnet_head` fill them.

With ``ChgnetFeatureConfig(physics=True)`` the physics columns of
:mod:`hopscreen.features.physics` (descriptors and the BVSE profile, no CHGNet) follow; with
``chgnet=False`` they are the whole vector and CHGNet is never loaded.

Every pooled quantity is a sum or mean over host atoms, so the vector does not depend on the
order of the host atoms (up to float rounding). :func:`extract_hop_features` caches one vector
per band on disk, keyed by the band fingerprint, the chgnet version, the checkpoint and the
feature settings.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from hopscreen.schemas.base import Config
from hopscreen.schemas.structure import N_ION_COPIES, Crystal

if TYPE_CHECKING:
    # optional heavy dependency (engine extra): chgnet
    from chgnet.model import CHGNet

log = logging.getLogger(__name__)

FEATURE_VERSION = 1
STRUCTURES = ("init", "mid", "final")
_COPY_OF = {"init": 0, "mid": 2, "final": 4}


class ChgnetFeatureConfig(Config):
    """Settings of the CHGNet hop descriptor (part of the cache key)."""

    model_name: Literal["0.3.0", "0.2.0", "r2scan"] = Field(
        "0.3.0", description="Pretrained CHGNet checkpoint shipped with the chgnet wheel."
    )
    local_width_angstrom: float = Field(
        0.5, gt=0, description="Decay length σ of the local host weighting, Å."
    )
    batch_size: int = Field(3, ge=1, description="Structures per CHGNet forward pass.")
    chgnet: bool = Field(True, description="Include the CHGNet columns (feature_names).")
    physics: bool = Field(
        False,
        description="Append the physics columns (descriptors + BVSE profile, "
        "hopscreen.features.physics.PHYSICS_NAMES).",
    )

    def identity(self) -> dict[str, object]:
        """The settings that decide the vector's values (for cache keys and model versions).

        ``batch_size`` is left out; the column switches enter only when they differ from the
        CHGNet-only default, so the keys and versions of CHGNet-only models never change.
        """
        dump = self.model_dump(exclude={"batch_size", "chgnet", "physics"})
        if not self.chgnet or self.physics:
            dump.update(chgnet=self.chgnet, physics=self.physics)
        return dump

    @model_validator(mode="after")
    def _some_columns(self) -> ChgnetFeatureConfig:
        if not (self.chgnet or self.physics):
            raise ValueError("a hop vector needs the chgnet columns, the physics ones or both")
        return self


@dataclass(frozen=True)
class StructureEmbedding:
    """CHGNet's view of one structure (n atoms).

    Attributes
    ----------
    atom_fea : numpy.ndarray
        (n, D) atom embeddings after the penultimate interaction block.
    site_energy_ev : numpy.ndarray
        (n,) per-atom energies, eV.
    magmom : numpy.ndarray
        (n,) magnetic moments, μ_B.
    energy_ev : float
        Total energy, eV.
    """

    atom_fea: np.ndarray
    site_energy_ev: np.ndarray
    magmom: np.ndarray
    energy_ev: float


def hop_structures(band: Crystal) -> dict[str, Crystal]:
    """The initial, midpoint and final structures of a band, ion first.

    Parameters
    ----------
    band : Crystal
        A Model-3 band: n atoms, the five ion copies (0–4) first, then n − 5 host atoms.

    Returns
    -------
    dict
        ``{"init", "mid", "final"}`` -> Crystal of n − 4 atoms: ion copy 0, 2 or 4, then the
        host atoms in band order.
    """
    if len(band) <= N_ION_COPIES:
        raise ValueError(f"a band needs more than {N_ION_COPIES} atoms, got {len(band)}")
    if len(set(band.numbers[:N_ION_COPIES].tolist())) != 1:
        raise ValueError("atoms 0-4 of a band must be copies of one ion")
    host = np.arange(N_ION_COPIES, len(band))
    out = {}
    for name, copy in _COPY_OF.items():
        idx = np.r_[copy, host]
        out[name] = Crystal(band.lattice, band.frac_coords[idx], band.numbers[idx])
    return out


def _min_image_distances(
    lattice: np.ndarray, frac_from: np.ndarray, frac_to: np.ndarray
) -> np.ndarray:
    """Shortest periodic distances (Å) from one fractional point to each of (m, 3) points."""
    delta = np.mod(frac_to - frac_from + 0.5, 1.0) - 0.5
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    cart = (delta[:, None, :] + shifts[None, :, :]) @ lattice
    return np.sqrt((cart**2).sum(-1)).min(axis=1)


def _local_weights(dist: np.ndarray, width: float) -> np.ndarray:
    w = np.exp(-(dist - dist.min()) / width)
    return w / w.sum()


def feature_names(dim: int = 64) -> list[str]:
    """Column names of the hop vector for embeddings of width ``dim`` (see module docstring)."""
    names: list[str] = []
    for block in (
        "ion_init",
        "ion_mid",
        "ion_fin",
        "ion_dmid",
        "ion_dfin",
        "host_mean",
        "host_loc_init",
        "host_loc_mid",
    ):
        names += [f"{block}_{i}" for i in range(dim)]
    names += [
        "e_dmid_ev",
        "e_dfin_ev",
        "e_dmid_asinh",
        "e_dfin_asinh",
        "e_ion_site_init_ev",
        "e_ion_site_mid_ev",
        "e_ion_site_dmid_ev",
        "e_ion_site_dfin_ev",
        "mag_ion_init",
        "mag_ion_mid",
        "mag_host_mean_init",
        "mag_host_dmid_mean_abs",
        "mag_host_dmid_max_abs",
        "mag_norm_ion_dmid",
        "mag_norm_ion_dfin",
        "mag_norm_host_loc_dmid",
        "geo_hop_length_angstrom",
        "geo_dmin_init_angstrom",
        "geo_dmin_mid_angstrom",
        "geo_dmin_final_angstrom",
    ]
    return names


def hop_vector(
    structures: dict[str, Crystal],
    embeddings: dict[str, StructureEmbedding],
    *,
    local_width_angstrom: float = 0.5,
) -> np.ndarray:
    """Assemble the fixed-length hop vector from the three structures and their embeddings.

    Parameters
    ----------
    structures : dict
        Output of :func:`hop_structures`.
    embeddings : dict
        ``{"init", "mid", "final"}`` -> :class:`StructureEmbedding` of the same structures.
    local_width_angstrom : float
        Decay length of the local host weighting, Å.

    Returns
    -------
    numpy.ndarray
        (8·D + 20,) float64 vector, columns as :func:`feature_names`.
    """
    e = embeddings
    lattice = structures["init"].lattice
    ion_frac = {k: structures[k].frac_coords[0] for k in STRUCTURES}
    host_frac = structures["init"].frac_coords[1:]
    dist = {k: _min_image_distances(lattice, ion_frac[k], host_frac) for k in STRUCTURES}
    ion = {k: e[k].atom_fea[0] for k in STRUCTURES}
    w_init = _local_weights(dist["init"], local_width_angstrom)
    w_mid = _local_weights(dist["mid"], local_width_angstrom)
    loc_init = w_init @ e["init"].atom_fea[1:]
    loc_mid = w_mid @ e["mid"].atom_fea[1:]
    de_mid = e["mid"].energy_ev - e["init"].energy_ev
    de_fin = e["final"].energy_ev - e["init"].energy_ev
    site = {k: float(e[k].site_energy_ev[0]) for k in STRUCTURES}
    dmag = np.abs(e["mid"].magmom[1:] - e["init"].magmom[1:])
    hop = _min_image_distances(lattice, ion_frac["init"], ion_frac["final"][None, :])[0]
    scalars = [
        de_mid,
        de_fin,
        np.arcsinh(de_mid),
        np.arcsinh(de_fin),
        site["init"],
        site["mid"],
        site["mid"] - site["init"],
        site["final"] - site["init"],
        float(e["init"].magmom[0]),
        float(e["mid"].magmom[0]),
        float(e["init"].magmom[1:].mean()),
        float(dmag.mean()),
        float(dmag.max()),
        float(np.linalg.norm(ion["mid"] - ion["init"])),
        float(np.linalg.norm(ion["final"] - ion["init"])),
        float(np.linalg.norm(loc_mid - loc_init)),
        float(hop),
        float(dist["init"].min()),
        float(dist["mid"].min()),
        float(dist["final"].min()),
    ]
    return np.concatenate(
        [
            ion["init"],
            ion["mid"],
            ion["final"],
            ion["mid"] - ion["init"],
            ion["final"] - ion["init"],
            e["init"].atom_fea[1:].mean(axis=0),
            loc_init,
            loc_mid,
            np.asarray(scalars, dtype=np.float64),
        ]
    ).astype(np.float64)


def load_chgnet(model_name: str = "0.3.0", device: str | None = "cpu") -> CHGNet:
    """The pretrained CHGNet in eval mode (weights ship with the wheel).

    ``device``: ``cpu`` (the default: training and the feature caches were made there),
    ``cuda``, or None for CUDA when available. Graphs are always built on the CPU; CHGNet
    moves them to its device.
    """
    # optional heavy dependency (engine extra): chgnet
    from chgnet.model import CHGNet

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    # CHGNet prints a banner even with verbose=False; keep stdout clean for --json output
    with contextlib.redirect_stdout(sys.stderr):
        model = CHGNet.load(model_name=model_name, use_device=device, verbose=False)
    model.eval()
    return model


def embed_structures(
    model: CHGNet, structures: Sequence[Crystal], *, batch_size: int = 3
) -> list[StructureEmbedding]:
    """Run CHGNet (energy and magmoms, no forces) on structures and keep its per-atom outputs.

    Parameters
    ----------
    model : chgnet.model.CHGNet
        From :func:`load_chgnet`.
    structures : sequence of Crystal
        Any ordered periodic structures.
    batch_size : int
        Structures per forward pass.

    Returns
    -------
    list of StructureEmbedding
        One per structure, same order.
    """
    graphs = [model.graph_converter(a.to_structure()) for a in structures]
    with torch.no_grad():
        preds = model.predict_graph(
            graphs,
            task="em",
            return_site_energies=True,
            return_atom_feas=True,
            batch_size=batch_size,
        )
    if isinstance(preds, dict):
        preds = [preds]
    return [
        StructureEmbedding(
            atom_fea=np.asarray(p["atom_fea"], dtype=np.float64),
            site_energy_ev=np.asarray(p["site_energies"], dtype=np.float64).reshape(-1),
            magmom=np.asarray(p["m"], dtype=np.float64).reshape(-1),
            energy_ev=float(p["e"]) * len(a),
        )
        for p, a in zip(preds, structures, strict=True)
    ]
