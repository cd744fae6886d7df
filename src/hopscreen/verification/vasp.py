"""Tier ``vasp``: DFT NEB on HPC through atomate2's VASP makers (built here, run elsewhere).

VASP is not available on the machines this project develops on: the flows are built and
their inputs checked offline (``potcar_spec``); :func:`write_vasp_neb_folder` writes the
same inputs for a run by hand, and :func:`hopscreen.verification.vasp_parse.parse_vasp_neb_output`
turns atomate2's NEB task document into a :class:`VerificationDoc`.

Settings (:class:`VaspNebConfig`): PBE (or r2SCAN) with the Materials Project's +U on the
transition metals of oxides and fluorides by default
(:mod:`hopscreen.verification.vasp_settings`); VASP's built-in NEB unless the cluster's VASP
has the VTST patches (``vtst``), which the climbing image needs.

Quirks of the installed atomate2 / emmet that shape this module:

* ``NebFromEndpointsMaker`` without an ``endpoint_relax_maker`` collects its output with
  ``NebTaskDoc.from_directory``, which the installed emmet does not define; the endpoints are
  therefore always relaxed (DESIGN asks for that anyway: relax endpoints at the same level).
* ``num_images`` counts the *intermediate* images in the installed atomate2 (the band has
  ``num_images + 2`` structures and INCAR ``IMAGES = num_images``); older versions counted
  differently, so tests assert the counts.
* atomate2 interpolates the images atom by atom (``Structure.interpolate`` without
  re-sorting): the endpoints must list the same atoms in the same order
  (:func:`hopscreen.verification.endpoints.ordered_endpoints`).
* ``NebSetGenerator`` sends the VTST tags ``IOPT``/``LCLIMB`` whenever ``climbing_image`` is
  on (its default); a VASP without VTST stops on them, so they are sent only with ``vtst``.
* emmet's ``NebTaskDoc.from_directories`` marks every band with relaxed endpoints as
  ``failed`` (it reads a ``state`` the endpoint ``Calculation`` lacks), and atomate2's NEB job
  raises on an unconverged image by default. The NEB job is therefore told not to raise, and
  the parser judges the band from its image folders
  (:mod:`hopscreen.verification.vasp_outputs`), reading functional and U from its INCAR.

Tests run the whole flow with atomate2's fake VASP (``atomate2.utils.testing.vasp``) on a
recorded output set (``tests/verification/vasp_outputs``) and on enumerated demo hops.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator
from pymatgen.core import Structure

from hopscreen.schemas.base import Config
from hopscreen.schemas.verification import LevelOfTheory
from hopscreen.verification.endpoints import check_single_mover
from hopscreen.verification.vasp_settings import (
    MP_HUBBARD_U,
    applied_hubbard_u,
    check_images_against_tasks,
)

if TYPE_CHECKING:
    from jobflow import Flow

# INCAR keys the NEB driver owns; users may not override them through incar_updates.
_RESERVED_INCAR_KEYS = frozenset({"IMAGES", "LCLIMB", "IOPT"})


class VaspNebConfig(Config):
    """Settings of a VASP NEB (or ApproxNEB) verification."""

    functional: Literal["PBE", "r2SCAN"] = Field("PBE", description="XC functional.")
    hubbard_u: Literal["mp"] | dict[str, float] | None = Field(
        MP_HUBBARD_U,
        description="Hubbard U (eV) per element (Dudarev, LDAUTYPE 2, d electrons). 'mp' "
        "(default): the Materials Project's values, read from pymatgen's MPRelaxSet, applied "
        "when the structure contains O or F and an element of that table (Co, Cr, Fe, Mn, Mo, "
        "Ni, V, W); a mapping: these values for the elements present; None: no +U (LDAU = "
        "False even where atomate2's base set would add U). The U actually applied is "
        "recorded in each barrier's level of theory.",
    )
    n_images: int = Field(
        5, ge=1, description="Number of INTERMEDIATE images: INCAR IMAGES; n_images + 2 folders."
    )
    vtst: bool = Field(
        False,
        description="The cluster's VASP has the VTST patches (Henkelman group). True: VTST "
        "optimiser (IOPT = 1, IBRION = 3, POTIM = 0) and, by default, a climbing image "
        "(LCLIMB); False: VASP's built-in NEB (IBRION = 1, POTIM = 0.5, SPRING = -5, no "
        "IOPT/LCLIMB, which a VASP without VTST does not know), method 'NEB'.",
    )
    climbing_image: bool | None = Field(
        None,
        description="Climbing-image NEB (VTST LCLIMB); None: True with vtst, False without. "
        "True needs vtst: true.",
    )
    approx_neb: bool = Field(
        False, description="Use atomate2's ApproxNEB (host + inserted ion) instead of NEB."
    )
    ntasks_per_neb: int | None = Field(
        None,
        ge=1,
        description="MPI ranks of each VASP NEB job (the queue adapter's ntasks). When set, "
        "it is checked against n_images when the campaign is read: VASP needs the ranks to be "
        "a multiple of IMAGES. None: not checked.",
    )
    incar_updates: dict[str, Any] = Field(
        default_factory=dict, description="Extra INCAR settings (applied last)."
    )

    @field_validator("incar_updates")
    @classmethod
    def _no_reserved_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = _RESERVED_INCAR_KEYS & {key.upper() for key in value}
        if clash:
            raise ValueError(f"{sorted(clash)} are set from n_images / climbing_image / vtst")
        return value

    @model_validator(mode="before")
    @classmethod
    def _climbing_image_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("climbing_image") is None:
            try:  # as pydantic reads the field ("yes", 1 …)
                vtst = TypeAdapter(bool).validate_python(data.get("vtst", False))
            except ValidationError:  # reported against the field itself
                return data
            data = {**data, "climbing_image": vtst}
        return data

    @model_validator(mode="after")
    def _optimiser_and_ranks(self) -> VaspNebConfig:
        if self.climbing_image and not self.vtst:
            raise ValueError(
                "climbing_image needs the VTST patches of VASP (LCLIMB is a VTST tag): set "
                "vtst: true if the cluster's VASP has them, or climbing_image: false"
            )
        if self.ntasks_per_neb is not None and not self.approx_neb:
            check_images_against_tasks(self.n_images, self.ntasks_per_neb)
        return self

    def for_structure(self, structure: Structure) -> VaspNebConfig:
        """These settings with ``hubbard_u`` replaced by the U applied to ``structure``.

        Parameters
        ----------
        structure : pymatgen.core.Structure
            The structure of the calculation (an endpoint).

        Returns
        -------
        VaspNebConfig
            A copy whose ``hubbard_u`` is a mapping (the values applied) or None.

        """
        return self.model_copy(update={"hubbard_u": applied_hubbard_u(self.hubbard_u, structure)})


def _explicit_u(config: VaspNebConfig, structure: Structure | None) -> dict[str, float] | None:
    """The U of ``config`` for ``structure`` (required when ``hubbard_u`` is ``"mp"``)."""
    if structure is not None:
        return applied_hubbard_u(config.hubbard_u, structure)
    if config.hubbard_u == MP_HUBBARD_U:
        raise ValueError(
            "hubbard_u='mp' depends on the structure: pass it, or use config.for_structure()"
        )
    return dict(config.hubbard_u) if isinstance(config.hubbard_u, dict) else None


def vasp_incar_settings(
    config: VaspNebConfig, structure: Structure | None = None
) -> dict[str, Any]:
    """User INCAR settings (functional, +U, extras) shared by every VASP job of a hop.

    Parameters
    ----------
    config : VaspNebConfig
        The settings.
    structure : pymatgen.core.Structure, optional
        The structure of the calculation; needed when ``config.hubbard_u`` is ``"mp"``.

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
    hubbard_u = _explicit_u(config, structure)
    if hubbard_u:
        settings.update(
            LDAU=True,
            LDAUTYPE=2,
            LDAUU=dict(hubbard_u),
            LDAUJ=dict.fromkeys(hubbard_u, 0.0),
            LDAUL=dict.fromkeys(hubbard_u, 2),
            LMAXMIX=4,
        )
    else:
        settings.update(LDAU=False, LDAUU=None, LDAUJ=None, LDAUL=None, LDAUTYPE=None)
    settings.update(config.incar_updates)
    return settings


def neb_optimiser_settings(config: VaspNebConfig) -> dict[str, Any]:
    """INCAR settings of the band optimiser: VTST's or VASP's built-in NEB.

    Parameters
    ----------
    config : VaspNebConfig
        The settings (``vtst``, ``climbing_image``).

    Returns
    -------
    dict
        With ``vtst``: ``IBRION = 3, POTIM = 0, IOPT = 1`` (VTST's FIRE-type optimiser) and
        ``LCLIMB``; without: ``IBRION = 1, POTIM = 0.5`` and ``IOPT``/``LCLIMB`` unset.
        ``SPRING = -5`` (a nudged band) in both.

    """
    if config.vtst:
        return {
            "IBRION": 3,
            "POTIM": 0,
            "IOPT": 1,
            "LCLIMB": bool(config.climbing_image),
            "SPRING": -5,
        }
    return {"IBRION": 1, "POTIM": 0.5, "IOPT": None, "LCLIMB": None, "SPRING": -5}


def vasp_level_of_theory(
    config: VaspNebConfig, structure: Structure | None = None
) -> LevelOfTheory:
    """Level of theory of a VASP NEB with these settings.

    Parameters
    ----------
    config : VaspNebConfig
        The settings.
    structure : pymatgen.core.Structure, optional
        The structure of the calculation; needed when ``config.hubbard_u`` is ``"mp"``.

    Returns
    -------
    LevelOfTheory
        Method ``"CI-NEB"`` only with a (VTST) climbing image, else ``"NEB"`` or
        ``"ApproxNEB"``; ``hubbard_u`` the values applied.

    """
    if config.approx_neb:
        method: Literal["NEB", "ApproxNEB", "CI-NEB"] = "ApproxNEB"
    else:
        method = "CI-NEB" if config.climbing_image else "NEB"
    return LevelOfTheory(
        method=method,
        code="VASP",
        functional=config.functional,
        hubbard_u=_explicit_u(config, structure),
    )


def vasp_neb_makers(config: VaspNebConfig, structure: Structure | None = None) -> tuple[Any, Any]:
    """The endpoint-relaxation and NEB-images makers of a hop, with INCAR settings applied.

    Parameters
    ----------
    config : VaspNebConfig
        The settings.
    structure : pymatgen.core.Structure, optional
        An endpoint of the hop; needed when ``config.hubbard_u`` is ``"mp"``.

    Returns
    -------
    tuple
        ``(RelaxMaker, NebFromImagesMaker)`` of atomate2; endpoints are relaxed at fixed cell
        (ISIF 2) with the same functional and U as the band; the band's optimiser is VTST's
        or VASP's own (:func:`neb_optimiser_settings`). The NEB job does not raise when an
        image is unconverged (its output is parsed and the failure recorded instead).

    """
    # optional heavy dependency (engine extra): atomate2
    from atomate2.vasp.jobs.core import RelaxMaker
    from atomate2.vasp.jobs.neb import NebFromImagesMaker
    from atomate2.vasp.sets.core import NebSetGenerator, RelaxSetGenerator

    settings = vasp_incar_settings(config, structure)
    relax = RelaxMaker(
        name="NEB endpoint relax",
        input_set_generator=RelaxSetGenerator(user_incar_settings={**settings, "ISIF": 2}),
    )
    neb_settings = {**settings, **neb_optimiser_settings(config), **config.incar_updates}
    images = NebFromImagesMaker(
        input_set_generator=NebSetGenerator(
            user_incar_settings=neb_settings, climbing_image=bool(config.climbing_image)
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
        Endpoints in a common atom order with the migrating ion at index 0, as returned by
        :func:`hopscreen.verification.endpoints.ordered_endpoints` (atomate2 interpolates
        the images atom by atom).
    hop_id : str
        Id of the hop; recorded in the flow's name and job metadata.
    config : VaspNebConfig, optional
        Settings (default PBE with the MP +U, 5 intermediate images, VASP's built-in NEB).
        A ``hubbard_u`` of ``"mp"`` is resolved on ``initial``.

    Returns
    -------
    jobflow.Flow
        NEB: relax both endpoints → interpolate ``n_images`` images linearly → NEB → collect
        an emmet ``NebTaskDoc``. ApproxNEB: atomate2's ``ApproxNebMaker`` on the host without
        the migrating ion, inserting it at the two endpoint sites.

    Raises
    ------
    ValueError
        If the endpoints differ in anything but the position of atom 0.

    """
    from jobflow import Flow  # optional heavy dependency (engine extra): jobflow

    config = (config or VaspNebConfig()).for_structure(initial)
    check_single_mover(initial, final)
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
        from atomate2.common.jobs.neb import NebInterpolation
        from atomate2.vasp.jobs.neb import NebFromEndpointsMaker

        relax, images = vasp_neb_makers(config)
        maker = NebFromEndpointsMaker(endpoint_relax_maker=relax, images_maker=images)
        flow = maker.make(
            [initial, final],
            num_images=config.n_images,
            interpolation_method=NebInterpolation.LINEAR,  # atom by atom, no re-sorting
        )
    flow = flow if isinstance(flow, Flow) else Flow([flow], output=flow.output)
    flow.name = f"hopscreen VASP NEB {hop_id}"
    flow.update_metadata({"hop_id": hop_id, "hopscreen_tier": "vasp"})
    return flow


def write_vasp_neb_folder(
    images: list[Structure], directory: str | Path, config: VaspNebConfig | None = None
) -> Path:
    """Write the inputs of a VASP NEB of ``images`` into ``directory``, as atomate2 would.

    The INCAR, KPOINTS and POTCAR.spec are those of the NEB job of :func:`make_vasp_neb_flow`
    (atomate2's ``NebSetGenerator`` with :func:`vasp_incar_settings` and
    :func:`neb_optimiser_settings`, written with ``potcar_spec=True``: the POTCAR symbols,
    not the licensed files); each image goes to ``00/POSCAR`` … ``0N/POSCAR`` with a copy of
    the KPOINTS (atomate2's work-around for VASP 6 builds with HDF5).

    Parameters
    ----------
    images : list of pymatgen.core.Structure
        The band, endpoints included (``config.n_images + 2`` structures, one atom order).
    directory : str or Path
        Folder to write (created).
    config : VaspNebConfig, optional
        Settings; ``hubbard_u="mp"`` is resolved on ``images[0]``.

    Returns
    -------
    Path
        ``directory``.

    """
    # optional heavy dependency (engine extra): atomate2
    from atomate2.vasp.files import write_vasp_input_set
    from pymatgen.io.vasp import Kpoints

    config = (config or VaspNebConfig()).for_structure(images[0])
    if len(images) != config.n_images + 2:
        raise ValueError(f"{len(images)} structures for n_images = {config.n_images}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _, images_maker = vasp_neb_makers(config)
    generator = images_maker.input_set_generator
    generator.num_images = config.n_images
    write_vasp_input_set(images[0], generator, directory, potcar_spec=True, clean_prev=False)
    (directory / "POSCAR").unlink(missing_ok=True)  # VASP reads the images' POSCARs
    kpoints = directory / "KPOINTS"
    for index, image in enumerate(images):
        image_dir = directory / f"{index:02d}"
        image_dir.mkdir(exist_ok=True)
        image.to(filename=str(image_dir / "POSCAR"), fmt="poscar")
        if kpoints.exists():
            Kpoints.from_file(kpoints).write_file(image_dir / "KPOINTS")
    return directory
