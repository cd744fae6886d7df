"""The Materials Project query: canonical, checked, and the search calls it makes."""

from __future__ import annotations

import pytest

from hopscreen.candidates.mp_query import MPQuery, electrode_search_kwargs, summary_search_kwargs


def test_query_is_canonical_and_checked():
    a = MPQuery(working_ion="li", chemsys=["O-Co", "Cl"])
    b = MPQuery(working_ion="Li", chemsys=["Cl-Li", "Li-Co-O", "Co-O"])
    assert a == b and a.key() == b.key() and a.chemsys == ["Cl-Li", "Co-Li-O"]
    assert MPQuery(working_ion="Li", elements=["li", "fe"]).elements == ["Fe"]
    assert MPQuery(working_ion="Li", voltage_max_v=4.0).key() != a.key()
    for bad, needle in [
        ({"chemsys": ["Co-O"], "elements": ["Co"]}, "not both"),
        ({"chemsys": ["Xx-O"]}, "not an element"),
        ({"chemsys": ["Li"]}, "no element besides"),
        ({"source": "summary", "voltage_min_v": 3.0}, "electrodes"),
        ({"voltage_min_v": 4.0, "voltage_max_v": 3.0}, "empty"),
        ({"max_energy_above_hull_ev": -0.1}, "greater than or equal"),
    ]:
        with pytest.raises(ValueError, match=needle):
            MPQuery(working_ion="Li", **bad)


def test_elements_query_without_chemsys():
    query = MPQuery(working_ion="Na", elements=["Fe"], source="both", limit=3)
    (electrodes,) = electrode_search_kwargs(query)
    assert electrodes["elements"] == ["Fe"] and "num_elements" not in electrodes
    assert (electrodes["num_chunks"], electrodes["chunk_size"]) == (1, 3)
    assert "average_voltage" not in electrodes
    summary = summary_search_kwargs(query)
    assert summary["elements"] == ["Fe", "Na"] and "chemsys" not in summary
