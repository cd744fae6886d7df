"""Candidates from the Materials Project, through ``mp-api``.

This is the only module of hopscreen that imports ``mp_api``, and only inside functions.

Every filter of an :class:`MPQuery` is sent to the server (names as in mp-api 0.46.5):

``electrodes``
    ``mpr.materials.insertion_electrodes.search(working_ion=ion, elements=framework,
    num_elements=(n, n), stability_discharge=(0, e_hull), average_voltage=(lo, hi))``, one
    search per chemical system. That endpoint has no ``chemsys`` or ``deprecated`` filter:
    its ``elements`` / ``num_elements`` are those of the ion-free framework, so the framework
    elements of a system with their exact count select that system. An
    ``InsertionElectrodeDoc`` holds the ion-free ``host_structure`` and the id of its fully
    discharged material (``id_discharge``); hops need the working ion, so the candidate is
    the *discharged* structure, fetched by ``material_ids`` from the summary endpoint with
    ``deprecated=False`` (an electrode whose discharged material is deprecated is dropped).
    Electrode data (voltage, capacity, battery formula, ``id_charge``) go into ``mp_fields``.
``summary``
    ``mpr.materials.summary.search(chemsys=[...] or elements=[ion, ...], deprecated=False,
    energy_above_hull=(0, e_hull), is_stable=...)``. Summary documents have no voltage, so
    a voltage window needs ``source="electrodes"``.

What stays client-side: the discharged structure must have exactly the elements of one of
the requested systems (a guard; the server already selects them) and every structure passes
the input gate.

The API key comes from the ``api_key`` argument, else the ``mp_api_key`` site setting
(``HOPSCREEN_MP_API_KEY``, else the ``MP_API_KEY`` environment variable, else the settings
file; see :mod:`hopscreen.settings`).
It is never written into documents, logs or error messages: errors from the client are
re-raised as :class:`MPQueryError` with the key masked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from pymatgen.core import Structure

from hopscreen.candidates.local import candidates_from_structures
from hopscreen.candidates.mp_query import (
    SUMMARY_FIELDS,
    MPQuery,
    MPSource,
    electrode_search_kwargs,
    summary_search_kwargs,
)
from hopscreen.schemas.candidate import CandidateBatch, MPFields
from hopscreen.settings import load_settings

logger = logging.getLogger(__name__)


class MPKeyError(RuntimeError):
    """No Materials Project API key was given."""


class MPQueryError(RuntimeError):
    """The Materials Project query failed (message free of the API key)."""


@dataclass(frozen=True)
class MPResult:
    """Candidates of one query and the MP database version that answered it."""

    batch: CandidateBatch
    database_version: str | None


def mp_api_version() -> str | None:
    """Installed mp-api version (read from its metadata, mp_api is not imported)."""
    try:
        return metadata.version("mp-api")
    except metadata.PackageNotFoundError:
        return None


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


def _elements_match(structure: Structure, chemsys: list[str]) -> bool:
    if not chemsys:
        return True
    have = {el.symbol for el in structure.composition.elements}
    return any(have == set(system.split("-")) for system in chemsys)


def _to_batch(rows: list[tuple[Any, MPFields]], query: MPQuery) -> CandidateBatch:
    named = []
    extra: dict[str, MPFields] = {}
    for doc, fields in rows:
        structure = _structure(_get(doc, "structure"))
        if not _elements_match(structure, query.chemsys):
            continue
        named.append((fields.material_id, fields.material_id, structure))
        extra[fields.material_id] = fields
    batch = candidates_from_structures(named, query.working_ion, source="mp")
    batch.candidates = [
        c.model_copy(update={"mp_fields": extra[c.source_ref]}) for c in batch.candidates
    ]
    return batch


def _search_summary(mpr: Any, query: MPQuery) -> list[tuple[Any, MPFields]]:
    docs = mpr.materials.summary.search(**summary_search_kwargs(query))
    return [(doc, _summary_fields(doc, "summary")) for doc in docs]


def _electrode_fields(doc: Any, electrode: Any) -> MPFields:
    return _summary_fields(doc, "electrodes").model_copy(
        update={
            "battery_formula": _as_str(_get(electrode, "battery_formula")),
            "average_voltage_v": _as_float(_get(electrode, "average_voltage")),
            "capacity_grav_mah_per_g": _as_float(_get(electrode, "capacity_grav")),
            "max_delta_volume_percent": _as_float(_get(electrode, "max_delta_volume")),
            "id_charge": _as_str(_get(electrode, "id_charge")),
        }
    )


def _search_electrodes(mpr: Any, query: MPQuery) -> list[tuple[Any, MPFields]]:
    by_id: dict[str, Any] = {}
    for kwargs in electrode_search_kwargs(query):
        for electrode in mpr.materials.insertion_electrodes.search(**kwargs):
            mid = _as_str(_get(electrode, "id_discharge"))
            if mid is not None and mid not in by_id:
                by_id[mid] = electrode
    if not by_id:
        return []
    docs = mpr.materials.summary.search(
        material_ids=sorted(by_id), deprecated=False, fields=SUMMARY_FIELDS
    )
    rows = []
    for doc in docs:
        electrode = by_id.get(str(_get(doc, "material_id")))
        if electrode is not None:
            rows.append((doc, _electrode_fields(doc, electrode)))
    return rows


def fetch_mp(
    query: MPQuery,
    *,
    api_key: str | None = None,
    rester_factory: Callable[[str], Any] | None = None,
) -> MPResult:
    """Run ``query`` against the Materials Project.

    Parameters
    ----------
    query : MPQuery
        What to fetch; every filter is sent to the server (see the module docstring).
    api_key : str, optional
        MP API key; defaults to the ``mp_api_key`` setting (``HOPSCREEN_MP_API_KEY``,
        ``MP_API_KEY`` or the settings file).
    rester_factory : callable, optional
        ``factory(api_key)`` returning an ``MPRester``-like context manager (tests inject a
        fake here); defaults to ``mp_api.client.MPRester``.

    Returns
    -------
    MPResult
        Candidates with ``source="mp"``, ``source_ref`` the material id and ``mp_fields``,
        and the database version the client reported (None if it reported none).

    Raises
    ------
    MPKeyError
        When no API key is given and none is configured.
    MPQueryError
        When the client fails (network, bad key, bad query); the key is masked.

    """
    key = _resolve_api_key(api_key)
    rows, version = _query_mp(rester_factory or _default_rester_factory, key, query)
    unique = _unique_by_material(rows)
    if query.limit is not None:
        unique = unique[: query.limit * (2 if query.source == "both" else 1)]
    logger.info("Materials Project returned %d structures for %s", len(unique), query.working_ion)
    return MPResult(batch=_to_batch(unique, query), database_version=version)


def fetch_mp_candidates(
    working_ion: str,
    *,
    chemsys: str | list[str] | None = None,
    elements: list[str] | None = None,
    source: MPSource = "electrodes",
    max_energy_above_hull_ev: float = 0.05,
    stable_only: bool = False,
    voltage_min_v: float | None = None,
    voltage_max_v: float | None = None,
    api_key: str | None = None,
    limit: int | None = None,
    rester_factory: Callable[[str], Any] | None = None,
) -> CandidateBatch:
    """Fetch host structures containing ``working_ion`` from the Materials Project.

    The keyword form of :func:`fetch_mp` (the arguments are the fields of :class:`MPQuery`).

    Parameters
    ----------
    working_ion : str
        Element symbol of the migrating ion.
    chemsys : str or list of str, optional
        Chemical system(s) such as ``"Li-Fe-P-O"``; candidates have exactly these elements
        (the working ion is added if missing). Sent to both endpoints.
    elements : list of str, optional
        Elements that must be present (besides the working ion); not with ``chemsys``.
    source : {"electrodes", "summary", "both"}
        Endpoint(s) to query. With "both", a material found by both is kept once, with its
        electrode data.
    max_energy_above_hull_ev : float
        Upper bound of the energy above hull, eV/atom (of the discharged material for
        electrodes).
    stable_only : bool
        Keep only materials on the hull (overrides ``max_energy_above_hull_ev``).
    voltage_min_v, voltage_max_v : float, optional
        Average-voltage window of the electrodes, V (``source="electrodes"`` only).
    api_key : str, optional
        MP API key; defaults to the ``mp_api_key`` setting (``HOPSCREEN_MP_API_KEY``,
        ``MP_API_KEY`` or the settings file).
    limit : int, optional
        Most documents to request per search.
    rester_factory : callable, optional
        See :func:`fetch_mp`.

    Returns
    -------
    CandidateBatch
        Candidates with ``source="mp"``, ``source_ref`` the material id and ``mp_fields``.

    Raises
    ------
    ValueError
        When the query is invalid (unknown element, chemsys with elements, empty window).
    MPKeyError, MPQueryError
        See :func:`fetch_mp`.

    """
    query = MPQuery(
        working_ion=working_ion,
        chemsys=[chemsys] if isinstance(chemsys, str) else list(chemsys or []),
        elements=list(elements or []),
        source=source,
        max_energy_above_hull_ev=max_energy_above_hull_ev,
        stable_only=stable_only,
        voltage_min_v=voltage_min_v,
        voltage_max_v=voltage_max_v,
        limit=limit,
    )
    return fetch_mp(query, api_key=api_key, rester_factory=rester_factory).batch


def _resolve_api_key(api_key: str | None) -> str:
    """``api_key`` if given, else the ``mp_api_key`` setting; :class:`MPKeyError` if neither.

    The setting comes from ``HOPSCREEN_MP_API_KEY``, else ``MP_API_KEY``, else the settings
    file (:mod:`hopscreen.settings`).
    """
    if api_key is None:
        secret = load_settings().mp_api_key
        api_key = secret.get_secret_value() if secret is not None else None
    if not api_key:
        raise MPKeyError(
            "no Materials Project API key: pass api_key, set the MP_API_KEY environment "
            "variable or put mp_api_key in the hopscreen settings file (get a key at "
            "https://next-gen.materialsproject.org/api)"
        )
    return api_key


def _query_mp(
    factory: Callable[[str], Any], key: str, query: MPQuery
) -> tuple[list[tuple[Any, MPFields]], str | None]:
    """Rows of the searches of ``query`` in one client session, and the database version.

    Errors come back free of the key.
    """
    rows: list[tuple[Any, MPFields]] = []
    try:
        with factory(key) as mpr:
            if query.source in ("electrodes", "both"):
                rows.extend(_search_electrodes(mpr, query))
            if query.source in ("summary", "both"):
                rows.extend(_search_summary(mpr, query))
            version = _as_str(getattr(mpr, "db_version", None))
    except ImportError as exc:
        raise ImportError(
            "fetching from the Materials Project needs mp-api: pip install 'hopscreen[mp]'"
        ) from exc
    except Exception as exc:
        # `from None`: the original exception (and its traceback) may quote the key.
        raise MPQueryError(
            f"Materials Project query failed: {type(exc).__name__}: {_mask(str(exc), key)}"
        ) from None
    return rows, version


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
