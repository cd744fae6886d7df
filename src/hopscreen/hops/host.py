"""The hops stage for one host: hops, bands and migration network as documents, never raising.

:func:`hops_for_structure` is what the CLI and the screening round call: it runs the input
gate, enumerates the distinct hops and the periodic migration network from one migration
graph (:func:`~hopscreen.hops.network.enumerate_hops_and_network`), checks the hop cap, and
builds each hop's band. Every problem becomes a :class:`~hopscreen.schemas.hop.HopFailure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hopscreen.candidates.validate import InvalidInputError, check_working_ion
from hopscreen.hops.band import band_from_hop
from hopscreen.hops.enumerate import HopOptions
from hopscreen.hops.hop import Hop
from hopscreen.hops.network import enumerate_hops_and_network, network_doc
from hopscreen.schemas.hop import HopDoc, HopFailure, HostNetworkDoc
from hopscreen.schemas.structure import N_ION_COPIES, Crystal

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass
class HopsResult:
    """What :func:`hops_for_structure` found for one host.

    Attributes
    ----------
    docs : list of HopDoc
        One document per distinct hop that succeeded.
    hops : list of Hop
        The hops of ``docs``, in the same order.
    bands : list of Crystal or None
        The band of each hop (``None`` when bands were not requested).
    failures : list of HopFailure
        The host's failure, or one per hop whose band failed.
    rejected : bool
        True when the input gate or a cap (``max_hops_per_host``) refused the host; its one
        failure says why.
    network : HostNetworkDoc or None
        The host's periodic migration network (every hop of the cell, by class); None when
        enumeration failed.

    """

    docs: list[HopDoc] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    bands: list[Crystal | None] = field(default_factory=list)
    failures: list[HopFailure] = field(default_factory=list)
    rejected: bool = False
    network: HostNetworkDoc | None = None


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _gate_reason(exc: InvalidInputError) -> str:
    return f"[{exc.code}] {exc.reason}"


def _check_hop_count(n_hops: int, options: HopOptions) -> None:
    """Refuse a host with more distinct hops than ``options.limits.max_hops_per_host``."""
    cap = options.limits.max_hops_per_host
    if n_hops > cap:
        raise InvalidInputError(
            "too_many_hops",
            f"{n_hops} distinct hops within {options.max_hop_length_angstrom:g} Å, more than "
            f"the cap of {cap} (InputLimits.max_hops_per_host); lower the hop cut-off",
        )


def hops_for_structure(
    structure: Structure,
    working_ion: str,
    name: str,
    *,
    candidate_id: str | None = None,
    options: HopOptions | None = None,
    build_bands: bool = True,
) -> HopsResult:
    """Enumerate, identify and (optionally) build the bands of the hops of one host.

    Never raises for a bad structure: problems are returned as :class:`HopFailure` documents
    (one for the host when the input gate refuses it, when it has more distinct hops than
    ``options.limits.max_hops_per_host`` — both before any band is built, and flagged by
    ``HopsResult.rejected`` — or when enumeration fails or finds no hop; one per hop whose
    supercell or band fails, the other hops being kept).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Ordered host with every working-ion site occupied (oxidation states allowed).
    working_ion : str
        Element symbol of the migrating ion.
    name : str
        Name of the host, copied into the documents.
    candidate_id : str, optional
        Id of the candidate document, copied into the documents.
    options : HopOptions, optional
        Hop length cut-off, symmetry precision, supercell size, caps of the input gate.
    build_bands : bool
        Build each hop's supercell endpoints and band (which checks them too).

    Returns
    -------
    HopsResult
        Documents, hops, bands and failures.

    """
    options = options or HopOptions()
    result = HopsResult()
    try:
        ion = check_working_ion(working_ion)
        hops, network = enumerate_hops_and_network(
            structure,
            ion,
            max_hop_length_angstrom=options.max_hop_length_angstrom,
            symprec=options.symprec,
            limits=options.limits,
        )
        if not hops:
            raise ValueError(f"no two {ion} sites within {options.max_hop_length_angstrom} Å")
        _check_hop_count(len(hops), options)
    except InvalidInputError as exc:  # refused by the gate or a cap
        result.failures.append(HopFailure(candidate_name=name, reason=_gate_reason(exc)))
        result.rejected = True
        return result
    except Exception as exc:  # one bad host must not stop a batch
        result.failures.append(HopFailure(candidate_name=name, reason=_reason(exc)))
        return result
    result.network = network_doc(
        network, candidate_name=name, working_ion=ion, candidate_id=candidate_id
    )
    for hop in hops:
        this_id = hop.hop_id
        band = None
        n_supercell = None
        if build_bands:
            try:
                band = band_from_hop(hop, options.supercell)
            except Exception as exc:
                result.failures.append(
                    HopFailure(candidate_name=name, reason=_reason(exc), hop_id=this_id)
                )
                continue
            n_supercell = len(band) - N_ION_COPIES + 2
        result.docs.append(_hop_doc(hop, band, n_supercell, name, candidate_id))
        result.hops.append(hop)
        result.bands.append(band)
    return result


def _hop_doc(
    hop: Hop,
    band: Crystal | None,
    n_supercell: int | None,
    name: str,
    candidate_id: str | None,
) -> HopDoc:
    """The document of one enumerated hop (its band's size when one was built)."""
    return HopDoc(
        hop_id=hop.hop_id,
        candidate_id=candidate_id,
        candidate_name=name,
        working_ion=hop.working_ion,
        length_angstrom=hop.length_angstrom,
        isite_frac=[float(x) for x in hop.isite_frac],
        esite_frac=[float(x) for x in hop.esite_frac],
        multiplicity=hop.multiplicity,
        band_n_atoms=None if band is None else len(band),
        supercell_n_atoms=n_supercell,
        host_formula=hop.structure.composition.reduced_formula,
    )
