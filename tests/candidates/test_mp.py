"""The Materials Project source, with ``MPRester`` faked at its boundary.

The fake (tests/mp_fakes.py) enforces the installed mp-api search signatures, records every
call and filters its real emmet documents like a server; everything after the client runs
for real.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.mp_fakes import DB_VERSION, KEY, check_call, install_fake, real_signature

from hopscreen.candidates.mp import (
    MPKeyError,
    MPQuery,
    MPQueryError,
    fetch_mp,
    fetch_mp_candidates,
)
from hopscreen.candidates.mp_query import ELECTRODE_FIELDS, SUMMARY_FIELDS


@pytest.fixture
def fake(licoo2, licl, nacl):
    return install_fake(licoo2, licl, nacl)


def test_the_fake_refuses_what_the_real_client_refuses():
    summary, electrodes = real_signature("summary"), real_signature("electrodes")
    check_call(summary, {"chemsys": ["Co-Li-O"], "deprecated": False})
    with pytest.raises(TypeError):
        check_call(electrodes, {"chemsys": "Co-Li-O"})  # no chemsys filter on electrodes
    with pytest.raises(TypeError):
        check_call(electrodes, {"deprecated": False})  # nor a deprecated one
    with pytest.raises(TypeError, match="unknown keyword"):
        check_call(summary, {"e_above_hull": (0, 0.1)})  # lands in **kwargs: MPRestError
    with pytest.raises(TypeError, match="tuple"):
        check_call(electrodes, {"average_voltage": [3.0, 4.0]})


def test_summary_sends_every_filter(fake):
    batch = fetch_mp_candidates(
        "Li", source="summary", elements=["Co"], api_key=KEY, rester_factory=fake
    )
    assert [c.source_ref for c in batch.candidates] == ["mp-22526"]
    (rester,) = fake.instances
    assert rester.api_key == KEY
    assert rester.log == [
        (
            "summary",
            {
                "deprecated": False,
                "energy_above_hull": (0.0, 0.05),
                "fields": SUMMARY_FIELDS,
                "elements": ["Co", "Li"],
            },
        )
    ]
    doc = batch.candidates[0]
    assert doc.source == "mp" and doc.mp_fields.endpoint == "summary"
    assert doc.mp_fields.band_gap_ev == 2.0 and doc.mp_fields.is_stable is True


def test_summary_chemsys_goes_to_the_server_with_the_ion(fake):
    batch = fetch_mp_candidates(
        "Li",
        source="summary",
        chemsys="Cl",
        max_energy_above_hull_ev=0.1,
        api_key=KEY,
        rester_factory=fake,
    )
    assert [c.formula for c in batch.candidates] == ["LiCl"]
    assert batch.candidates[0].mp_fields.energy_above_hull_ev_per_atom == pytest.approx(0.02)
    ((_, kwargs),) = fake.calls()
    assert kwargs["chemsys"] == ["Cl-Li"] and "elements" not in kwargs
    assert kwargs["energy_above_hull"] == (0.0, 0.1) and kwargs["deprecated"] is False


def test_summary_stable_only(fake):
    fetch_mp_candidates(
        "Li", source="summary", chemsys="Co-O", stable_only=True, api_key=KEY, rester_factory=fake
    )
    ((_, kwargs),) = fake.calls()
    assert kwargs["is_stable"] is True and kwargs["energy_above_hull"] == (0.0, 0.0)


def test_electrodes_send_chemsys_hull_and_voltage_window(fake):
    batch = fetch_mp_candidates(
        "Li",
        chemsys="Li-Co-O",
        max_energy_above_hull_ev=0.1,
        voltage_min_v=3.5,
        voltage_max_v=4.2,
        api_key=KEY,
        rester_factory=fake,
    )
    (doc,) = batch.candidates
    assert doc.formula == "LiCoO2" and doc.source_ref == "mp-22526"
    f = doc.mp_fields
    assert f.endpoint == "electrodes" and f.id_charge == "mp-1234"
    assert f.average_voltage_v == 3.9 and f.battery_formula == "Li0-1LiCoO2"
    assert fake.calls() == [
        (
            "electrodes",
            {
                "working_ion": "Li",
                "elements": ["Co", "O"],
                "num_elements": (2, 2),
                "stability_discharge": (0.0, 0.1),
                "average_voltage": (3.5, 4.2),
                "fields": ELECTRODE_FIELDS,
            },
        ),
        ("summary", {"material_ids": ["mp-22526"], "deprecated": False, "fields": SUMMARY_FIELDS}),
    ]


def test_voltage_window_outside_gives_nothing_and_no_second_call(fake):
    batch = fetch_mp_candidates("Li", voltage_min_v=4.0, api_key=KEY, rester_factory=fake)
    assert batch.candidates == []
    ((name, kwargs),) = fake.calls()
    assert name == "electrodes" and kwargs["average_voltage"] == (4.0, 1000.0)


def test_one_electrode_search_per_chemical_system(fake):
    fetch_mp_candidates("Li", chemsys=["Co-O", "Cl"], api_key=KEY, rester_factory=fake)
    searched = [
        (kw["elements"], kw["num_elements"]) for name, kw in fake.calls() if name == "electrodes"
    ]
    assert searched == [(["Cl"], (1, 1)), (["Co", "O"], (2, 2))]


def test_both_sources_deduplicate(fake):
    batch = fetch_mp_candidates("Li", source="both", api_key=KEY, rester_factory=fake, limit=5)
    refs = [c.source_ref for c in batch.candidates]
    assert refs == ["mp-22526", "mp-22905"]
    assert batch.candidates[0].mp_fields.endpoint == "electrodes"
    assert not [f for f in batch.failures if f.code == "duplicate"]
    assert {"num_chunks", "chunk_size"} <= set(fake.calls()[0][1])


def test_fetch_reports_the_database_version(fake):
    result = fetch_mp(MPQuery(working_ion="Li"), api_key=KEY, rester_factory=fake)
    assert result.database_version == DB_VERSION and len(result.batch.candidates) == 1


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
