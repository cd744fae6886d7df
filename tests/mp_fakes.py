"""A fake ``MPRester`` that records every search and refuses what the real client would.

Each fake ``search`` is checked against ``inspect.signature`` of the installed mp-api
``SummaryRester.search`` / ``ElectrodeRester.search``: an unknown keyword is a TypeError (the
real summary search turns unknown ``**kwargs`` into an MPRestError; the electrodes search has
no ``**kwargs``), and a list where the real one wants a ``(min, max)`` tuple is refused too
(the real electrodes search would send it as a plain value). Behind the check, the fake acts
as a small server: it filters its emmet documents by the filters it understands, so a filter
that is not sent is a filter that does not happen.
"""

from __future__ import annotations

import inspect
import socket
from typing import Any, ClassVar

import pytest
from emmet.core.electrode import InsertionElectrodeDoc
from emmet.core.summary import SummaryDoc
from pymatgen.core import Structure

DB_VERSION = "2025.09.25"
KEY = "sEcReT-key-0123456789"


def real_signature(endpoint: str) -> inspect.Signature:
    """Signature of the installed mp-api search method of ``endpoint``."""
    from mp_api.client.routes.materials.electrodes import ElectrodeRester
    from mp_api.client.routes.materials.summary import SummaryRester

    rester = {"summary": SummaryRester, "electrodes": ElectrodeRester}[endpoint]
    return inspect.signature(rester.search)


def check_call(signature: inspect.Signature, kwargs: dict[str, Any]) -> None:
    """Raise TypeError where the real search would refuse (or silently misread) ``kwargs``."""
    bound = signature.bind(None, **kwargs)  # None stands for self; unknown names fail here
    for name, param in signature.parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD and bound.arguments.get(name):
            raise TypeError(f"search() got unknown keyword(s) {sorted(bound.arguments[name])}")
    for name, value in kwargs.items():
        annotation = str(signature.parameters[name].annotation)
        if isinstance(value, list) and "tuple[" in annotation and "list[" not in annotation:
            raise TypeError(f"search({name}=...) wants a (min, max) tuple, not a list")


def _in(value: float | None, bounds: tuple[float, float] | None) -> bool:
    return bounds is None or (value is not None and bounds[0] <= value <= bounds[1])


def _elements(structure: Any) -> set[str]:
    if not isinstance(structure, Structure):
        structure = Structure.from_dict(structure)
    return {el.symbol for el in structure.composition.elements}


def _summary_hits(docs: list[SummaryDoc], kw: dict[str, Any]) -> list[SummaryDoc]:
    hits = []
    for doc in docs:
        have = _elements(doc.structure)
        if kw.get("material_ids") is not None and str(doc.material_id) not in kw["material_ids"]:
            continue
        if kw.get("chemsys") is not None and "-".join(sorted(have)) not in kw["chemsys"]:
            continue
        if kw.get("elements") is not None and not set(kw["elements"]) <= have:
            continue
        if kw.get("deprecated") is not None and doc.deprecated != kw["deprecated"]:
            continue
        if kw.get("is_stable") is not None and doc.is_stable != kw["is_stable"]:
            continue
        if _in(doc.energy_above_hull, kw.get("energy_above_hull")):
            hits.append(doc)
    return hits


def _electrode_hits(docs: list[InsertionElectrodeDoc], kw: dict[str, Any]) -> list[Any]:
    hits = []
    for doc in docs:
        framework = _elements(doc.host_structure)
        if kw.get("working_ion") is not None and str(doc.working_ion) != kw["working_ion"]:
            continue
        if kw.get("elements") is not None and not set(kw["elements"]) <= framework:
            continue
        if not _in(len(framework), kw.get("num_elements")):
            continue
        if not _in(doc.stability_discharge, kw.get("stability_discharge")):
            continue
        if _in(doc.average_voltage, kw.get("average_voltage")):
            hits.append(doc)
    return hits


class FakeEndpoint:
    """``mpr.materials.<endpoint>``: checks, records, then answers like a server."""

    def __init__(self, rester: FakeRester, name: str) -> None:
        self.rester, self.name = rester, name
        self.signature = real_signature(name)

    def search(self, **kwargs: Any) -> list[Any]:
        check_call(self.signature, kwargs)
        self.rester.log.append((self.name, kwargs))
        if self.name == "summary":
            return _summary_hits(FakeRester.summary_docs, kwargs)
        return _electrode_hits(FakeRester.electrode_docs, kwargs)


class FakeRester:
    """Stands in for ``mp_api.client.MPRester`` (same constructor keywords, ``db_version``)."""

    instances: ClassVar[list[FakeRester]] = []
    summary_docs: ClassVar[list[SummaryDoc]] = []
    electrode_docs: ClassVar[list[InsertionElectrodeDoc]] = []

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        self.api_key = api_key
        self.db_version = DB_VERSION
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.materials = type("Materials", (), {})()
        self.materials.summary = FakeEndpoint(self, "summary")
        self.materials.insertion_electrodes = FakeEndpoint(self, "electrodes")
        FakeRester.instances.append(self)

    def __enter__(self) -> FakeRester:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    @classmethod
    def calls(cls) -> list[tuple[str, dict[str, Any]]]:
        """Every search of every instance, in order."""
        return [call for rester in cls.instances for call in rester.log]


def summary_doc(material_id: str, structure: Structure, e_hull: float = 0.0) -> SummaryDoc:
    """A real emmet SummaryDoc of ``structure``."""
    return SummaryDoc(
        material_id=material_id,
        structure=structure,
        formula_pretty=structure.composition.reduced_formula,
        energy_above_hull=e_hull,
        is_stable=e_hull == 0.0,
        formation_energy_per_atom=-1.5,
        band_gap=2.0,
        theoretical=False,
        deprecated=False,
    )


def electrode_doc(discharged_id: str, discharged: Structure, voltage_v: float) -> Any:
    """A real emmet InsertionElectrodeDoc whose discharged material is ``discharged``."""
    return InsertionElectrodeDoc(
        battery_formula=f"Li0-1{discharged.composition.reduced_formula}",
        working_ion="Li",
        id_discharge=discharged_id,
        id_charge="mp-1234",
        average_voltage=voltage_v,
        capacity_grav=274.0,
        max_delta_volume=2.5,
        stability_discharge=0.0,
        material_ids=[discharged_id, "mp-1234"],
        host_structure=discharged.copy().remove_species(["Li"]),
    )


def install_fake(licoo2: Structure, licl: Structure, nacl: Structure) -> type[FakeRester]:
    """Reset the fake's database: LiCoO2 (electrode, 3.9 V), LiCl (e_hull 0.02), NaCl."""
    FakeRester.instances = []
    FakeRester.summary_docs = [
        summary_doc("mp-22526", licoo2),
        summary_doc("mp-22905", licl, e_hull=0.02),
        summary_doc("mp-22862", nacl),
    ]
    FakeRester.electrode_docs = [electrode_doc("mp-22526", licoo2, 3.9)]
    return FakeRester


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any Materials Project client or socket connection fail at once."""
    import mp_api.client

    import hopscreen.candidates.mp as mp_module

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network use in an offline test")

    monkeypatch.setattr(mp_module, "_default_rester_factory", refuse)
    monkeypatch.setattr(mp_api.client, "MPRester", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
