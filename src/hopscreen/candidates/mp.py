"""Candidates from the Materials Project, through ``mp-api``.

This is the only module of hopscreen that imports ``mp_api``, and only inside functions.

Two endpoints:

``electrodes``
    ``mpr.materials.insertion_electrodes.search(working_ion=..., elements=...,
    stability_discharge=(0, e_hull))``. An ``InsertionElectrodeDoc`` holds the ion-free
    ``host_structure`` and the id of its fully discharged material (``id_discharge``); hops
    need the working ion, so the candidate is the *discharged* structure, fetched from the
    summary endpoint by ``material_ids``. Electrode data (voltage, capacity, battery
    formula, ``id_charge``) go into ``mp_fields``.
``summary``
    ``mpr.materials.summary.search(elements=[ion, ...] or chemsys=...,
    energy_above_hull=(0, e_hull), is_stable=...)``.

The API key comes from the ``api_key`` argument or the ``MP_API_KEY`` environment variable.
It is never written into documents, logs or error messages: errors from the client are
re-raised as :class:`MPQueryError` with the key masked.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, Literal

from pymatgen.core import Structure

from hopscreen.candidates.local import candidates_from_structures
from hopscreen.candidates.validate import check_working_ion
from hopscreen.schemas.candidate import CandidateBatch, MPFields

logger = logging.getLogger(__name__)

MPSource = Literal["electrodes", "summary", "both"]

SUMMARY_FIELDS = [
    "material_id",
    "structure",
    "formula_pretty",
    "energy_above_hull",
    "is_stable",
    "formation_energy_per_atom",
    "band_gap",
    "theoretical",
]
ELECTRODE_FIELDS = [
    "id_discharge",
    "id_charge",
    "working_ion",
    "battery_formula",
    "average_voltage",
    "capacity_grav",
    "max_delta_volume",
    "stability_discharge",
]


class MPKeyError(RuntimeError):
    """No Materials Project API key was given."""


class MPQueryError(RuntimeError):
    """The Materials Project query failed (message free of the API key)."""


def _mask(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


def _default_rester_factory(api_key: str) -> Any:
    from mp_api.client import MPRester  # optional dependency (mp extra): mp_api

    return MPRester(api_key=api_key, mute_progress_bars=True)


def _get(doc: Any, name: str) -> Any:
    """A field of an emmet document or of a plain dict (``use_document_model=False``)."""
    if isinstance(doc, dict):
        return doc.get(name)
    return getattr(doc, name, None)


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _as_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _chunking(limit: int | None) -> dict[str, int]:
    if limit is None:
        return {}
    chunk = max(1, min(limit, 1000))
    return {"chunk_size": chunk, "num_chunks": -(-limit // chunk)}


def _structure(value: Any) -> Structure:
    if isinstance(value, Structure):
        return value
    return Structure.from_dict(value)


def _summary_fields(doc: Any, endpoint: Literal["electrodes", "summary"]) -> MPFields:
    return MPFields(
        material_id=str(_get(doc, "material_id")),
        endpoint=endpoint,
        energy_above_hull_ev_per_atom=_as_float(_get(doc, "energy_above_hull")),
        is_stable=_get(doc, "is_stable"),
        formation_energy_ev_per_atom=_as_float(_get(doc, "formation_energy_per_atom")),
        band_gap_ev=_as_float(_get(doc, "band_gap")),
        theoretical=_get(doc, "theoretical"),
    )


def _elements_match(structure: Structure, chemsys: list[set[str]] | None) -> bool:
    if chemsys is None:
        return True
    have = {el.symbol for el in structure.composition.elements}
    return any(have == wanted for wanted in chemsys)


def _to_batch(
    rows: list[tuple[Any, MPFields]], ion: str, chemsys_elements: list[set[str]] | None
) -> CandidateBatch:
    named = []
    extra: dict[str, MPFields] = {}
    for doc, fields in rows:
        structure = _structure(_get(doc, "structure"))
        if not _elements_match(structure, chemsys_elements):
            continue
        named.append((fields.material_id, fields.material_id, structure))
        extra[fields.material_id] = fields
    batch = candidates_from_structures(named, ion, source="mp")
    batch.candidates = [
        c.model_copy(update={"mp_fields": extra[c.source_ref]}) for c in batch.candidates
    ]
    return batch


def _search_summary(
    mpr: Any,
    ion: str,
    *,
    chemsys: str | list[str] | None,
    elements: list[str] | None,
    max_e_hull: float,
    stable_only: bool,
    limit: int | None,
) -> list[Any]:
    kwargs: dict[str, Any] = {
        "energy_above_hull": (0.0, max_e_hull),
        "fields": SUMMARY_FIELDS,
        **_chunking(limit),
    }
    if chemsys is not None:
        kwargs["chemsys"] = chemsys
    else:
        kwargs["elements"] = sorted({ion, *(elements or [])})
    if stable_only:
        kwargs["is_stable"] = True
    return list(mpr.materials.summary.search(**kwargs))


def _search_electrodes(
    mpr: Any,
    ion: str,
    *,
    elements: list[str] | None,
    max_e_hull: float,
    limit: int | None,
) -> list[tuple[Any, MPFields]]:
    kwargs: dict[str, Any] = {
        "working_ion": ion,
        "stability_discharge": (0.0, max_e_hull),
        "fields": ELECTRODE_FIELDS,
        **_chunking(limit),
    }
    framework = sorted(set(elements or []) - {ion})
    if framework:
        kwargs["elements"] = framework
    electrodes = list(mpr.materials.insertion_electrodes.search(**kwargs))
    by_id: dict[str, Any] = {}
    for electrode in electrodes:
        mid = _as_str(_get(electrode, "id_discharge"))
        if mid is not None and mid not in by_id:
            by_id[mid] = electrode
    if not by_id:
        return []
    docs = mpr.materials.summary.search(material_ids=sorted(by_id), fields=SUMMARY_FIELDS)
    rows = []
    for doc in docs:
        electrode = by_id.get(str(_get(doc, "material_id")))
        if electrode is None:
            continue
        fields = _summary_fields(doc, "electrodes").model_copy(
            update={
                "battery_formula": _as_str(_get(electrode, "battery_formula")),
                "average_voltage_v": _as_float(_get(electrode, "average_voltage")),
                "capacity_grav_mah_per_g": _as_float(_get(electrode, "capacity_grav")),
                "max_delta_volume_percent": _as_float(_get(electrode, "max_delta_volume")),
                "id_charge": _as_str(_get(electrode, "id_charge")),
            }
        )
        rows.append((doc, fields))
    return rows


def fetch_mp_candidates(
    working_ion: str,
    *,
    chemsys: str | list[str] | None = None,
    elements: list[str] | None = None,
    source: MPSource = "electrodes",
    max_energy_above_hull_ev: float = 0.05,
    stable_only: bool = False,
    api_key: str | None = None,
    limit: int | None = None,
    rester_factory: Callable[[str], Any] | None = None,
) -> CandidateBatch:
    """Fetch host structures containing ``working_ion`` from the Materials Project.

    Parameters
    ----------
    working_ion : str
        Element symbol of the migrating ion.
    chemsys : str or list of str, optional
        Chemical system(s) such as ``"Li-Fe-P-O"``; candidates must have exactly these
        elements (the working ion is added if missing). Passed to the summary search;
        applied to the electrodes results after fetching.
    elements : list of str, optional
        Elements that must be present (besides the working ion).
    source : {"electrodes", "summary", "both"}
        Endpoint(s) to query (see the module docstring). With "both", a material found by
        both is kept once, with its electrode data.
    max_energy_above_hull_ev : float
        Upper bound of the energy above hull, eV/atom (of the discharged material for
        electrodes).
    stable_only : bool
        Keep only materials on the hull (overrides ``max_energy_above_hull_ev``).
    api_key : str, optional
        MP API key; defaults to the ``MP_API_KEY`` environment variable.
    limit : int, optional
        Most documents to request per endpoint.
    rester_factory : callable, optional
        ``factory(api_key)`` returning an ``MPRester``-like context manager (tests inject a
        fake here); defaults to ``mp_api.client.MPRester``.

    Returns
    -------
    CandidateBatch
        Candidates with ``source="mp"``, ``source_ref`` the material id and ``mp_fields``.

    Raises
    ------
    MPKeyError
        When no API key is given and ``MP_API_KEY`` is not set.
    MPQueryError
        When the client fails (network, bad key, bad query); the key is masked.

    """
    ion = check_working_ion(working_ion)
    if source not in ("electrodes", "summary", "both"):
        raise ValueError(f"source must be 'electrodes', 'summary' or 'both', not {source!r}")
    key = _resolve_api_key(api_key)
    max_e_hull = 0.0 if stable_only else float(max_energy_above_hull_ev)
    chemsys_elements = _chemsys_element_sets(chemsys, ion)
    rows = _query_mp(
        rester_factory or _default_rester_factory,
        key,
        ion,
        source=source,
        chemsys=chemsys,
        elements=elements,
        max_e_hull=max_e_hull,
        stable_only=stable_only,
        limit=limit,
    )
    unique = _unique_by_material(rows)
    if limit is not None:
        unique = unique[: limit * (2 if source == "both" else 1)]
    logger.info("Materials Project returned %d structures for %s", len(unique), ion)
    return _to_batch(unique, ion, chemsys_elements)


def _resolve_api_key(api_key: str | None) -> str:
    """``api_key`` if given, else ``$MP_API_KEY``; :class:`MPKeyError` when neither is set."""
    key = api_key if api_key is not None else os.environ.get("MP_API_KEY")
    if not key:
        raise MPKeyError(
            "no Materials Project API key: pass api_key or set the MP_API_KEY environment "
            "variable (get a key at https://next-gen.materialsproject.org/api)"
        )
    return key


def _chemsys_element_sets(chemsys: str | list[str] | None, ion: str) -> list[set[str]] | None:
    """Element set of each chemical system, working ion included (None: no restriction)."""
    if chemsys is None:
        return None
    systems = [chemsys] if isinstance(chemsys, str) else list(chemsys)
    return [{check_working_ion(e) for e in system.split("-")} | {ion} for system in systems]


def _query_mp(
    factory: Callable[[str], Any],
    key: str,
    ion: str,
    *,
    source: MPSource,
    chemsys: str | list[str] | None,
    elements: list[str] | None,
    max_e_hull: float,
    stable_only: bool,
    limit: int | None,
) -> list[tuple[Any, MPFields]]:
    """Run the searches of ``source`` in one client session; errors come back key-free."""
    rows: list[tuple[Any, MPFields]] = []
    try:
        with factory(key) as mpr:
            if source in ("electrodes", "both"):
                rows.extend(
                    _search_electrodes(
                        mpr, ion, elements=elements, max_e_hull=max_e_hull, limit=limit
                    )
                )
            if source in ("summary", "both"):
                docs = _search_summary(
                    mpr,
                    ion,
                    chemsys=chemsys,
                    elements=elements,
                    max_e_hull=max_e_hull,
                    stable_only=stable_only,
                    limit=limit,
                )
                rows.extend((doc, _summary_fields(doc, "summary")) for doc in docs)
    except ImportError as exc:
        raise ImportError(
            "fetching from the Materials Project needs mp-api: pip install 'hopscreen[mp]'"
        ) from exc
    except Exception as exc:
        # `from None`: the original exception (and its traceback) may quote the key.
        raise MPQueryError(
            f"Materials Project query failed: {type(exc).__name__}: {_mask(str(exc), key)}"
        ) from None
    return rows


def _unique_by_material(rows: list[tuple[Any, MPFields]]) -> list[tuple[Any, MPFields]]:
    """First row of each material id, in order (electrode rows come before summary rows)."""
    seen: set[str] = set()
    unique = []
    for doc, fields in rows:
        if fields.material_id in seen:
            continue
        seen.add(fields.material_id)
        unique.append((doc, fields))
    return unique
