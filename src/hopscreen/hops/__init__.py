"""Hops stage: distinct migration hops of the working ion, their ids, supercells and bands.

* :func:`enumerate_hops` — symmetry-distinct hops (pymatgen-analysis-diffusion), after the
  input gate (:func:`gate_for_hops`; caps in ``HopOptions.limits``).
* :func:`hop_id` — a content id that does not depend on how the host is written down.
* :func:`canonical_cell` — the one cell of a host that hop classes and bands are built on, so
  that they do not depend on the cell the host was given in.
* :func:`supercell_endpoints` — vacancy-mode supercell endpoints with checked atom counts.
* :func:`build_band`, :func:`band_from_hop`, :func:`endpoints_from_band` — the Model-3 band.
* :func:`idpp_images` — IDPP images between endpoints (verification only).
* :func:`hops_for_structure` — all of the above for one host, as documents, never raising,
  with the host's periodic migration network (:mod:`hopscreen.hops.network`; its percolation
  barriers: :mod:`hopscreen.hops.percolation`).
"""

from hopscreen.hops.band import (
    BAND_FRACTIONS,
    N_ION_COPIES,
    BandError,
    band_from_hop,
    build_band,
    endpoints_from_band,
    find_moving_ion,
)
from hopscreen.hops.canonical import CanonicalCell, canonical_cell
from hopscreen.hops.enumerate import (
    DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    HopOptions,
    enumerate_hops,
    gate_for_hops,
)
from hopscreen.hops.hop import Hop
from hopscreen.hops.hop_id import compute_hop_id, hop_descriptor, hop_id, host_fingerprint
from hopscreen.hops.host import HopsResult, hops_for_structure
from hopscreen.hops.idpp import idpp_images
from hopscreen.hops.supercell import (
    SupercellEndpoints,
    SupercellError,
    SupercellOptions,
    check_endpoint_counts,
    supercell_endpoints,
)

__all__ = [
    "BAND_FRACTIONS",
    "DEFAULT_MAX_HOP_LENGTH_ANGSTROM",
    "N_ION_COPIES",
    "BandError",
    "CanonicalCell",
    "Hop",
    "HopOptions",
    "HopsResult",
    "SupercellEndpoints",
    "SupercellError",
    "SupercellOptions",
    "band_from_hop",
    "build_band",
    "canonical_cell",
    "check_endpoint_counts",
    "compute_hop_id",
    "endpoints_from_band",
    "enumerate_hops",
    "find_moving_ion",
    "gate_for_hops",
    "hop_descriptor",
    "hop_id",
    "hops_for_structure",
    "host_fingerprint",
    "idpp_images",
    "supercell_endpoints",
]
