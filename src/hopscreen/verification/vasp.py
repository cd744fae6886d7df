"""Tier ``vasp``: DFT NEB on HPC through atomate2's VASP makers (built here, run elsewhere).

VASP is not available on the machines this project develops on: the flows are built and
their inputs checked offline (``potcar_spec``), and :func:`parse_vasp_neb_output` turns
atomate2's NEB task document into a :class:`VerificationDoc`.

Two quirks of the installed atomate2 / emmet shape this module:

* ``NebFromEndpointsMaker`` without an ``endpoint_relax_maker`` collects its output with
  ``NebTaskDoc.from_directory``, which the installed emmet does not define; the endpoints are
  therefore always relaxed (DESIGN asks for that anyway: relax endpoints at the same level).
* ``num_images`` counts the *intermediate* images in the installed atomate2 (the band has
  ``num_images + 2`` structures and INCAR ``IMAGES = num_images``); older versions counted
  differently, so tests assert the counts.
* emmet's ``NebTaskDoc.from_directories`` marks every band with relaxed endpoints as
  ``failed`` (it reads a ``state`` the endpoint ``Calculation`` lacks), and atomate2's NEB job
  raises on an unconverged image by default. The NEB job is therefore told not to raise, and
  :func:`parse_vasp_neb_output` judges the band from its image folders
  (:mod:`hopscreen.verification.vasp_outputs`), reading functional and U from its INCAR.

Tests run the whole flow with atomate2's fake VASP (``atomate2.utils.testing.vasp``) on a
recorded output set (``tests/verification/vasp_outputs``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator
from pymatgen.core import Structure

from hopscreen.schemas.base import Config
from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.verification.result import barrier_from_energies, verification_id
from hopscreen.verification.vasp_outputs import level_of_theory_from_neb_dir, neb_image_problems

if TYPE_CHECKING:
    from jobflow import Flow

# INCAR keys the NEB driver owns; users may not override them through incar_updates.
_RESERVED_INCAR_KEYS = frozenset({"IMAGES", "LCLIMB"})


class VaspNebConfig(Config):
    """Settings of a VASP NEB (or ApproxNEB) verification."""

    functional: Literal["PBE", "r2SCAN"] = Field("PBE", description="XC functional.")
    hubbard_u: dict[str, float] | None = Field(
        None,
        description="Hubbard U (eV) per element (Dudarev, LDAUTYPE 2, d electrons); None: no +U "
        "(LDAU = False even where atomate2's base set would add U).",
    )
    n_images: int = Field(
        5, ge=1, description="Number of INTERMEDIATE images: INCAR IMAGES; n_images + 2 folders."
    )
    climbing_image: bool = Field(True, description="Climbing-image NEB (LCLIMB, VTST IOPT).")
    approx_neb: bool = Field(
        False, description="Use atomate2's ApproxNEB (host + inserted ion) instead of NEB."
    )
    incar_updates: dict[str, Any] = Field(
        default_factory=dict, description="Extra INCAR settings (applied last)."
    )

    @field_validator("incar_updates")
    @classmethod
    def _no_reserved_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = _RESERVED_INCAR_KEYS & {key.upper() for key in value}
        if clash:
            raise ValueError(f"{sorted(clash)} are set from n_images / climbing_image")
        return value


def vasp_incar_settings(config: VaspNebConfig) -> dict[str, Any]:
    """User INCAR settings (functional, +U, extras) shared by every VASP job of a hop.

    Parameters
    ----------
    config : VaspNebConfig
        The settings.

    Returns
    -------
    dict
        ``user_incar_settings`` for atomate2 input-set generators.

    """
    settings: dict[str, Any] = {}
    if config.functional == "r2SCAN":
        settings.update(METAGGA="R2SCAN", GGA=None, LASPH=True)
    else:
        settings.update(GGA="PE", METAGGA=None)
    if config.hubbard_u:
        settings.update(
            LDAU=True,
            LDAUTYPE=2,
            LDAUU=dict(config.hubbard_u),
            LDAUJ=dict.fromkeys(config.hubbard_u, 0.0),
            LDAUL=dict.fromkeys(config.hubbard_u, 2),
            LMAXMIX=4,
        )
    else:
        settings.update(LDAU=False, LDAUU=None, LDAUJ=None, LDAUL=None, LDAUTYPE=None)
    settings.update(config.incar_updates)
    return settings


def vasp_level_of_theory(config: VaspNebConfig) -> LevelOfTheory:
    """Level of theory of a VASP NEB with these settings.

    Parameters
    ----------
    config : VaspNebConfig
        The settings.

    Returns
    -------
    LevelOfTheory

    """
    if config.approx_neb:
        method: Literal["NEB", "ApproxNEB", "CI-NEB"] = "ApproxNEB"
    else:
        method = "CI-NEB" if config.climbing_image else "NEB"
    return LevelOfTheory(
        method=method,
        code="VASP",
        functional=config.functional,
        hubbard_u=dict(config.hubbard_u) if config.hubbard_u else None,
    )


def vasp_neb_makers(config: VaspNebConfig) -> tuple[Any, Any]:
    """The endpoint-relaxation and NEB-images makers of a hop, with INCAR settings applied.

    Parameters
    ----------
    config : VaspNebConfig
        The settings.

    Returns
    -------
    tuple
        ``(RelaxMaker, NebFromImagesMaker)`` of atomate2; endpoints are relaxed at fixed cell
        (ISIF 2) with the same functional and U as the band. The NEB job does not raise when
        an image is unconverged (its output is parsed and the failure recorded instead).

    """
    # optional heavy dependency (engine extra): atomate2
    from atomate2.vasp.jobs.core import RelaxMaker
    from atomate2.vasp.jobs.neb import NebFromImagesMaker
    from atomate2.vasp.sets.core import NebSetGenerator, RelaxSetGenerator

    settings = vasp_incar_settings(config)
    relax = RelaxMaker(
        name="NEB endpoint relax",
        input_set_generator=RelaxSetGenerator(user_incar_settings={**settings, "ISIF": 2}),
    )
    images = NebFromImagesMaker(
        input_set_generator=NebSetGenerator(
            user_incar_settings=settings, climbing_image=config.climbing_image
        ),
        # an unconverged image must not crash the job: the band is still collected and
        # parse_vasp_neb_output records which image failed and why
        stop_children_kwargs={"handle_unsuccessful": False},
    )
    return relax, images


def make_vasp_neb_flow(
    initial: Structure,
    final: Structure,
    *,
    hop_id: str,
    config: VaspNebConfig | None = None,
) -> Flow:
    """Build (not run) the atomate2 VASP flow that computes the barrier of one hop.

    Parameters
    ----------
    initial, final : pymatgen.core.Structure
        Endpoints in a common atom order with the migrating ion at index 0 (as returned by
        :func:`hopscreen.verification.umlip.hop_endpoints`).
    hop_id : str
        Id of the hop; recorded in the flow's name and job metadata.
    config : VaspNebConfig, optional
        Settings (default PBE, no +U, 5 intermediate images, CI-NEB).

    Returns
    -------
    jobflow.Flow
        NEB: relax both endpoints → interpolate ``n_images`` images → NEB → collect an emmet
        ``NebTaskDoc``. ApproxNEB: atomate2's ``ApproxNebMaker`` on the host without the
        migrating ion, inserting it at the two endpoint sites.

    Raises
    ------
    ValueError
        If the endpoints differ in anything but the position of the migrating ion's site.

    """
    from jobflow import Flow  # optional heavy dependency (engine extra): jobflow

    config = config or VaspNebConfig()
    if len(initial) != len(final) or [s.specie for s in initial] != [s.specie for s in final]:
        raise ValueError("endpoints must list the same species in the same order")
    if config.approx_neb:
        # optional heavy dependency (engine extra): atomate2
        from atomate2.vasp.flows.approx_neb import ApproxNebMaker

        host = initial.copy()
        host.remove_sites([0])
        maker = ApproxNebMaker()
        flow = maker.make(
            host_structure=host,
            working_ion=initial[0].specie.symbol,
            inserted_coords_dict={
                "0": [float(x) for x in initial[0].frac_coords],
                "1": [float(x) for x in final[0].frac_coords],
            },
            inserted_coords_combo=["0+1"],
            n_images=config.n_images,
        )
    else:
        # optional heavy dependency (engine extra): atomate2
        from atomate2.vasp.jobs.neb import NebFromEndpointsMaker

        relax, images = vasp_neb_makers(config)
        maker = NebFromEndpointsMaker(endpoint_relax_maker=relax, images_maker=images)
        flow = maker.make([initial, final], num_images=config.n_images)
    flow = flow if isinstance(flow, Flow) else Flow([flow], output=flow.output)
    flow.name = f"hopscreen VASP NEB {hop_id}"
    flow.update_metadata({"hop_id": hop_id, "hopscreen_tier": "vasp"})
    return flow


def parse_vasp_neb_output(
    task_doc: Any,
    *,
    hop_id: str,
    config: VaspNebConfig | None = None,
    candidate_id: str | None = None,
    wall_seconds: float | None = None,
) -> VerificationDoc:
    """Turn atomate2's NEB output document into a :class:`VerificationDoc`.

    Parameters
    ----------
    task_doc : emmet.core.neb.NebTaskDoc, NebResult, dict or None
        The output of the flow from :func:`make_vasp_neb_flow` (an emmet ``NebTaskDoc``, a
        ``NebResult``, or their ``model_dump``); None when that flow failed before collecting
        its output. Its ``energies`` must include both endpoints (absolute energies, eV).
        When its ``dir_name`` (the NEB folder) is readable here, the level of theory is read
        from that folder's INCAR (``GGA``/``METAGGA``, ``LDAUU``/``LDAUL``/``LDAUJ``) and the
        image folders are checked for failures (see
        :mod:`hopscreen.verification.vasp_outputs`); otherwise ``config`` gives the level of
        theory and the document's ``state`` the convergence.
    hop_id : str
        Id of the hop.
    config : VaspNebConfig, optional
        The settings the flow was built with.
    candidate_id : str, optional
        Id of the host candidate.
    wall_seconds : float, optional
        Wall time of the calculation, if known.

    Returns
    -------
    VerificationDoc
        Tier ``"vasp"``, barrier = max image energy − initial energy (on the computed images,
        no spline). Status ``"failed"`` with a reason when there is no output, energies are
        missing or an image did not run / did not converge electronically;
        ``"not_converged"`` when the band hit its ionic step limit.

    """
    # optional heavy dependency (engine extra): emmet; imported outside the `try` below so that
    # a missing emmet raises instead of becoming a failed verification
    from emmet.core.neb import NebResult

    config = config or VaspNebConfig()
    level = vasp_level_of_theory(config)
    doc: dict[str, Any] = {
        "hop_id": hop_id,
        "candidate_id": candidate_id,
        "tier": "vasp",
        "status": "failed",
        "endpoints_relaxed": not config.approx_neb,
        "neb_tangent": None if config.approx_neb else "VTST improved tangent (IOPT/SPRING -5)",
        "climbing_image": None if config.approx_neb else config.climbing_image,
        "wall_seconds": wall_seconds,
    }
    try:
        result = _neb_result(task_doc, NebResult)
        neb_dir = Path(result.dir_name) if result.dir_name else None
        problems: list[str] | None = None
        if neb_dir is not None and neb_dir.is_dir() and not config.approx_neb:
            level = level_of_theory_from_neb_dir(neb_dir) or level
            problems = neb_image_problems(neb_dir)
        _record_band(doc, result, problems)
    except Exception as exc:  # a bad document is a failed verification, not a crash
        doc.update(status="failed", reason=f"{type(exc).__name__}: {exc}", converged=False)
    doc.update(level_of_theory=level, verification_id=verification_id(hop_id, level))
    return VerificationDoc(**doc)


def _neb_result(task_doc: Any, neb_result_cls: type) -> Any:
    """The emmet ``NebResult`` of a NEB task document, NebResult or their ``model_dump``.

    ``neb_result_cls`` is ``emmet.core.neb.NebResult``. Raises ``LookupError`` when
    ``task_doc`` is None (the flow failed before collecting its output).
    """
    if task_doc is None:
        raise LookupError(
            "no NEB output: a VASP job of this hop (endpoint relaxation or NEB) failed "
            "before the band was collected; see that job's log"
        )
    data = task_doc.model_dump() if hasattr(task_doc, "model_dump") else dict(task_doc)
    if isinstance(data.get("hops"), dict) and len(data["hops"]) == 1:
        data = dict(next(iter(data["hops"].values())))  # ApproxNEB: one hop per flow
    data = {k: v for k, v in data.items() if k in neb_result_cls.model_fields}
    return task_doc if isinstance(task_doc, neb_result_cls) else neb_result_cls(**data)


def _record_band(doc: dict[str, Any], result: Any, problems: list[str] | None) -> None:
    """Write the band's size, energies, barriers and status into ``doc`` (in place).

    ``problems`` are the image-folder problems (None when the folders were not read); any
    but an ionic-step limit makes the band fail. Raises on a failed or incomplete band,
    after recording ``n_images`` / ``n_atoms``.
    """
    energies = list(result.energies or [])
    doc["n_images"] = max(len(energies) - 2, 0)
    if result.images:
        doc["n_atoms"] = len(result.images[0])
    fatal = [p for p in problems or [] if "ionic steps" not in p]
    if fatal:
        raise RuntimeError("; ".join(fatal))
    if len(energies) < 3 or any(e is None for e in energies):
        raise ValueError(f"band energies missing or incomplete: {energies}")
    profile = barrier_from_energies(energies)
    if problems is not None:
        converged = not problems
        reason = "; ".join(problems) or None
    else:
        converged = str(getattr(result.state, "value", result.state)).lower() == "successful"
        reason = None if converged else f"VASP NEB state: {result.state}"
    doc.update(
        energies_ev=profile.energies_ev,
        barrier_ev=profile.forward_ev,
        forward_barrier_ev=profile.forward_ev,
        backward_barrier_ev=profile.backward_ev,
        converged=converged,
        status="ok" if converged else "not_converged",
        reason=reason,
    )
