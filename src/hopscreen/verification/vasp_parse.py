"""Read atomate2's VASP NEB output into a :class:`VerificationDoc` (see :mod:`.vasp`).

The band's energies come from emmet's ``NebTaskDoc``; its level of theory and per-image
failures from the NEB folder when it is readable here
(:mod:`hopscreen.verification.vasp_outputs`), else from the settings the flow was built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.verification.result import barrier_from_energies, verification_id
from hopscreen.verification.vasp import VaspNebConfig, vasp_level_of_theory
from hopscreen.verification.vasp_outputs import level_of_theory_from_neb_dir, neb_image_problems
from hopscreen.verification.vasp_settings import MP_HUBBARD_U


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
    level = _configured_level(config, None)
    doc: dict[str, Any] = {
        "hop_id": hop_id,
        "candidate_id": candidate_id,
        "tier": "vasp",
        "status": "failed",
        "endpoints_relaxed": not config.approx_neb,
        "neb_tangent": _neb_tangent(config),
        "climbing_image": None if config.approx_neb else config.climbing_image,
        "wall_seconds": wall_seconds,
    }
    try:
        result = _neb_result(task_doc, NebResult)
        level = _configured_level(config, result.images)
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


def _neb_tangent(config: VaspNebConfig) -> str | None:
    if config.approx_neb:
        return None
    if config.vtst:
        return "VTST optimiser (IOPT 1), improved tangent, SPRING -5"
    return "VASP built-in NEB (IBRION 1), SPRING -5"


def _configured_level(config: VaspNebConfig, images: Any) -> LevelOfTheory:
    """Level of theory from ``config``; a ``hubbard_u`` of ``"mp"`` is resolved on image 0.

    Flows from :func:`make_vasp_neb_flow` pass a resolved config; with ``"mp"`` and no image
    (no output) the U cannot be known here and none is recorded.
    """
    if config.hubbard_u == MP_HUBBARD_U:
        if not images:
            return vasp_level_of_theory(config.model_copy(update={"hubbard_u": None}))
        return vasp_level_of_theory(config, images[0])
    return vasp_level_of_theory(config)


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
