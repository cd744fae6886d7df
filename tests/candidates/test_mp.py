"""The Materials Project source, with ``MPRester`` faked at its boundary.

The fakes return real emmet-core documents; everything after the client call runs for real.
"""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import pytest
from emmet.core.electrode import InsertionElectrodeDoc
from emmet.core.summary import SummaryDoc

from hopscreen.candidates.mp import MPKeyError, MPQueryError, fetch_mp_candidates

KEY = "sEcReT-key-0123456789"


def _summary(material_id, structure, e_hull=0.0):
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


class _Endpoint:
    def __init__(self, log, name, respond):
        self.log, self.name, self.respond = log, name, respond

    def search(self, **kwargs):
        self.log.append((self.name, kwargs))
        return self.respond(**kwargs)


class FakeRester:
    """Stands in for ``mp_api.client.MPRester`` (same constructor keywords)."""

    instances: ClassVar[list[FakeRester]] = []
    summary_docs: ClassVar[list[SummaryDoc]] = []
    electrode_docs: ClassVar[list[InsertionElectrodeDoc]] = []

    def __init__(self, api_key=None, **kwargs):
        self.api_key = api_key
        self.log: list[tuple[str, dict]] = []
        FakeRester.instances.append(self)

        def summary(material_ids=None, **kw):
            docs = FakeRester.summary_docs
            if material_ids is not None:
                return [d for d in docs if str(d.material_id) in material_ids]
            return docs

        materials = type("Materials", (), {})()
        materials.summary = _Endpoint(self.log, "summary", summary)
        materials.insertion_electrodes = _Endpoint(
            self.log, "electrodes", lambda **kw: FakeRester.electrode_docs
        )
        self.materials = materials

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def fake(licoo2, licl, nacl):
    FakeRester.instances = []
    FakeRester.summary_docs = [
        _summary("mp-22526", licoo2),
        _summary("mp-22905", licl, e_hull=0.02),
        _summary("mp-22862", nacl),  # no Li: rejected
    ]
    FakeRester.electrode_docs = [
        InsertionElectrodeDoc(
            battery_formula="Li0-1CoO2",
            working_ion="Li",
            id_discharge="mp-22526",
            id_charge="mp-1234",
            average_voltage=3.9,
            capacity_grav=274.0,
            max_delta_volume=2.5,
            stability_discharge=0.0,
            material_ids=["mp-22526", "mp-1234"],
            host_structure=licoo2.copy().remove_species(["Li"]),
        )
    ]
    return FakeRester


def test_summary_search(fake):
    batch = fetch_mp_candidates(
        "Li", source="summary", elements=["Co"], api_key=KEY, rester_factory=fake
    )
    assert [c.source_ref for c in batch.candidates] == ["mp-22526", "mp-22905"]
    assert [f.code for f in batch.failures] == ["no_working_ion"]
    doc = batch.candidates[1]
    assert doc.source == "mp" and doc.mp_fields.endpoint == "summary"
    assert doc.mp_fields.energy_above_hull_ev_per_atom == pytest.approx(0.02)
    assert doc.mp_fields.band_gap_ev == 2.0 and doc.mp_fields.is_stable is False
    (rester,) = fake.instances
    assert rester.api_key == KEY
    ((name, kwargs),) = rester.log
    assert name == "summary"
    assert kwargs["elements"] == ["Co", "Li"]
    assert kwargs["energy_above_hull"] == (0.0, 0.05)
    assert "structure" in kwargs["fields"] and "is_stable" not in kwargs


def test_summary_stable_only_and_chemsys(fake):
    batch = fetch_mp_candidates(
        "Li",
        source="summary",
        chemsys="Co-O",
        stable_only=True,
        api_key=KEY,
        rester_factory=fake,
    )
    # the fake ignores the query; the chemsys filter (Li added) still applies client-side
    assert [c.formula for c in batch.candidates] == ["LiCoO2"]
    ((_, kwargs),) = fake.instances[0].log
    assert kwargs["chemsys"] == "Co-O" and kwargs["is_stable"] is True
    assert kwargs["energy_above_hull"] == (0.0, 0.0)


def test_electrodes_use_discharged_structure(fake):
    batch = fetch_mp_candidates("Li", source="electrodes", api_key=KEY, rester_factory=fake)
    (doc,) = batch.candidates
    assert doc.formula == "LiCoO2" and doc.source_ref == "mp-22526"
    f = doc.mp_fields
    assert f.endpoint == "electrodes" and f.id_charge == "mp-1234"
    assert f.average_voltage_v == 3.9 and f.battery_formula == "Li0-1CoO2"
    (name1, kw1), (name2, kw2) = fake.instances[0].log
    assert name1 == "electrodes" and kw1["working_ion"] == "Li"
    assert kw1["stability_discharge"] == (0.0, 0.05)
    assert name2 == "summary" and kw2["material_ids"] == ["mp-22526"]


def test_both_sources_deduplicate(fake):
    batch = fetch_mp_candidates("Li", source="both", api_key=KEY, rester_factory=fake, limit=5)
    refs = [c.source_ref for c in batch.candidates]
    assert refs == ["mp-22526", "mp-22905"]
    assert batch.candidates[0].mp_fields.endpoint == "electrodes"
    assert not [f for f in batch.failures if f.code == "duplicate"]


def test_key_from_environment_and_monkeypatched_mprester(fake, monkeypatch):
    import mp_api.client

    monkeypatch.setattr(mp_api.client, "MPRester", fake)
    monkeypatch.setenv("MP_API_KEY", KEY)
    batch = fetch_mp_candidates("Li", source="summary")
    assert len(batch.candidates) == 2
    assert fake.instances[0].api_key == KEY
    assert KEY not in batch.model_dump_json()


def test_missing_key_is_a_clear_error(monkeypatch, fake):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(MPKeyError, match="MP_API_KEY"):
        fetch_mp_candidates("Li", rester_factory=fake)
    assert fake.instances == []


def test_client_error_does_not_leak_the_key():
    def failing_factory(api_key):
        raise RuntimeError(f"401 Unauthorized: invalid API key {api_key}")

    with pytest.raises(MPQueryError) as info:
        fetch_mp_candidates("Li", api_key=KEY, rester_factory=failing_factory)
    assert KEY not in str(info.value) and "***" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_importing_the_package_does_not_import_mp_api():
    code = "import hopscreen.candidates, sys; sys.exit('mp_api' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
