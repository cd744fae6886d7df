"""The parameters of a Materials Project query, and the exact search calls they make.

No ``mp_api`` here (see :mod:`hopscreen.candidates.mp`): the keyword arguments of each search
are built from an :class:`MPQuery` by plain functions, with the parameter names of
mp-api 0.46.5 (``SummaryRester.search`` and ``ElectrodeRester.search``).
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hopscreen.candidates.validate import check_working_ion
from hopscreen.schemas.base import Config

MPSource = Literal["electrodes", "summary", "both"]

#: Bound sent for an open side of the voltage window, V (no electrode lies beyond it).
OPEN_VOLTAGE_V = 1000.0

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


def _element_set(system: str) -> set[str]:
    parts = [p for p in system.replace(" ", "").split("-") if p]
    if not parts:
        raise ValueError(f"chemical system {system!r} names no element")
    try:
        return {check_working_ion(p) for p in parts}
    except ValueError:
        raise ValueError(f"chemical system {system!r} has a part that is not an element") from None


class MPQuery(Config):
    """The parameters of one Materials Project query (what a saved candidates file records).

    ``chemsys`` and ``elements`` are stored canonically (element symbols sorted, the working
    ion included in each system, not in ``elements``), so equal queries compare equal.
    """

    working_ion: str = Field(description="Element symbol of the migrating ion.")
    chemsys: list[str] = Field(
        default_factory=list,
        description="Chemical systems the candidates have exactly, e.g. Fe-Li-O-P "
        "(the working ion is added).",
    )
    elements: list[str] = Field(
        default_factory=list, description="Elements the candidates contain besides the ion."
    )
    source: MPSource = Field("electrodes", description="MP endpoint(s) to query.")
    max_energy_above_hull_ev: float = Field(
        0.05, ge=0.0, description="Upper bound of the energy above hull, eV/atom."
    )
    stable_only: bool = Field(False, description="Only materials on the hull.")
    voltage_min_v: float | None = Field(
        None, description="Lower bound of the average voltage, V (electrodes only)."
    )
    voltage_max_v: float | None = Field(
        None, description="Upper bound of the average voltage, V (electrodes only)."
    )
    limit: int | None = Field(None, ge=1, description="Most documents per search.")

    @field_validator("working_ion")
    @classmethod
    def _canonical_ion(cls, value: str) -> str:
        return check_working_ion(value)

    @field_validator("chemsys")
    @classmethod
    def _canonical_chemsys(cls, value: list[str], info: ValidationInfo) -> list[str]:
        ion = info.data.get("working_ion")
        if ion is None:  # the ion itself was refused; that error is reported
            return value
        systems = set()
        for system in value:
            elements = _element_set(system) | {ion}
            if len(elements) < 2:
                raise ValueError(f"chemical system {system!r} has no element besides {ion}")
            systems.add("-".join(sorted(elements)))
        return sorted(systems)

    @field_validator("elements")
    @classmethod
    def _canonical_elements(cls, value: list[str], info: ValidationInfo) -> list[str]:
        ion = info.data.get("working_ion")
        return sorted({check_working_ion(e) for e in value} - {ion})

    @model_validator(mode="after")
    def _consistent(self) -> MPQuery:
        if self.chemsys and self.elements:
            raise ValueError("give chemical systems or elements, not both")
        if self.has_voltage_window():
            if self.source != "electrodes":
                raise ValueError("a voltage window needs source 'electrodes' (summary has none)")
            low, high = self.voltage_window()
            if low > high:
                raise ValueError(f"voltage window is empty: minimum {low:g} V > maximum {high:g} V")
        return self

    def has_voltage_window(self) -> bool:
        """Whether a voltage bound is set."""
        return self.voltage_min_v is not None or self.voltage_max_v is not None

    def voltage_window(self) -> tuple[float, float]:
        """(min, max) average voltage in V sent to the server; an open side is ±1000 V."""
        low = -OPEN_VOLTAGE_V if self.voltage_min_v is None else float(self.voltage_min_v)
        high = OPEN_VOLTAGE_V if self.voltage_max_v is None else float(self.voltage_max_v)
        return low, high

    def max_e_hull(self) -> float:
        """Upper bound of the energy above hull, eV/atom (0 with ``stable_only``)."""
        return 0.0 if self.stable_only else float(self.max_energy_above_hull_ev)

    def key(self) -> str:
        """sha256 (hex) of the canonical query: equal queries, equal keys."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def _chunking(limit: int | None) -> dict[str, int]:
    if limit is None:
        return {}
    chunk = max(1, min(limit, 1000))
    return {"chunk_size": chunk, "num_chunks": -(-limit // chunk)}


def summary_search_kwargs(query: MPQuery) -> dict[str, Any]:
    """Keyword arguments of ``materials.summary.search`` for ``query`` (every filter)."""
    kwargs: dict[str, Any] = {
        "deprecated": False,
        "energy_above_hull": (0.0, query.max_e_hull()),
        "fields": SUMMARY_FIELDS,
        **_chunking(query.limit),
    }
    if query.chemsys:
        kwargs["chemsys"] = list(query.chemsys)
    else:
        kwargs["elements"] = sorted({query.working_ion, *query.elements})
    if query.stable_only:
        kwargs["is_stable"] = True
    return kwargs


def electrode_search_kwargs(query: MPQuery) -> list[dict[str, Any]]:
    """Keyword arguments of each ``materials.insertion_electrodes.search`` of ``query``.

    One search per chemical system (framework elements and their exact count), else one.
    """
    base: dict[str, Any] = {
        "working_ion": query.working_ion,
        "stability_discharge": (0.0, query.max_e_hull()),
        "fields": ELECTRODE_FIELDS,
        **_chunking(query.limit),
    }
    if query.has_voltage_window():
        base["average_voltage"] = query.voltage_window()
    if not query.chemsys:
        return [{**base, "elements": query.elements} if query.elements else base]
    searches = []
    for system in query.chemsys:
        framework = [e for e in system.split("-") if e != query.working_ion]
        searches.append({**base, "elements": framework, "num_elements": (len(framework),) * 2})
    return searches
