"""Our per-host verdict beside bvlain's: rows, refusals as rows, and the markdown."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymatgen.core import Lattice, Structure

from hopscreen.benchmarks import verdicts
from hopscreen.benchmarks.verdicts import compare_verdicts, spearman_1d, verdicts_markdown
from hopscreen.schemas.prediction import PredictionDoc

sys.path.insert(0, str(Path(__file__).parents[1] / "hops"))
from hops_structures import layered_licoo2

MODEL = SimpleNamespace(card=SimpleNamespace(name="len"), model_version="len-1")


@pytest.fixture(autouse=True)
def length_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in model: E_m = length − 2.5 eV, calibrated ±0.05 / ±0.1 eV."""

    def predict_hops(docs, bands, *, model, batch_size):
        return [
            PredictionDoc(
                hop_id=d.hop_id,
                candidate_id=d.candidate_id,
                candidate_name=d.candidate_name,
                working_ion=d.working_ion,
                model_version=model.model_version,
                barrier_ev=d.length_angstrom - 2.5,
                sigma_ev=0.01,
                interval_68_ev=0.05,
                interval_90_ev=0.1,
                member_barriers_ev=[d.length_angstrom - 2.5],
                length_angstrom=d.length_angstrom,
            )
            for d in docs
        ]

    monkeypatch.setattr(verdicts, "predict_hops", predict_hops)


def rocksalt_mgse() -> Structure:
    """Rock-salt MgSe: bvlain 0.25.1's Mg–Se Morse alpha is negative."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.46), ["Mg", "Se"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    ).get_primitive_structure()


def test_rows_carry_both_verdicts_and_refusals() -> None:
    entries = [("LiCoO2", layered_licoo2(), "Li"), ("MgSe", rocksalt_mgse(), "Mg")]
    lines: list[str] = []
    rows = compare_verdicts(entries, MODEL, threshold_ev=0.65, progress=lines.append)
    assert [r["name"] for r in rows] == ["LiCoO2", "MgSe"] and len(lines) == 2

    lco = rows[0]
    assert lco["ours_reason"] == "" and lco["bvlain_reason"] == ""
    # in-plane Li–Li hop of 2.816 Å: E_m = 0.316 eV sets the 1D (and 2D) barrier
    assert lco["ours_e_1d_ev"] == pytest.approx(2.816 - 2.5, abs=0.01)
    assert lco["ours_bottleneck_angstrom"] == pytest.approx(2.816, abs=0.01)
    assert lco["ours_p_good"] == 1.0 and lco["ours_good_1d"] is True
    assert lco["ours_model"] == "len-1" and lco["ours_n_hops"] >= 1
    assert lco["bvlain_charges"] == "BVAnalyzer"
    assert lco["bvlain_e_1d_ev"] > 0 and lco["bvlain_e_2d_ev"] >= lco["bvlain_e_1d_ev"]
    assert lco["agree_1d"] == (lco["bvlain_good_1d"] is True)
    assert lco["ours_s"] > 0 and lco["bvlain_s"] > 0

    mgse = rows[1]
    assert "unphysical" in mgse["bvlain_reason"] and "Se" in mgse["bvlain_reason"]
    assert mgse["bvlain_e_1d_ev"] is None and mgse["bvlain_good_1d"] is None
    assert mgse["agree_1d"] is None and mgse["ours_reason"] == ""


def test_a_bvlain_error_becomes_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self, **kwargs):
        raise RuntimeError("grid too large")

    monkeypatch.setattr("bvlain.Lain.bvse_distribution", boom)
    (row,) = compare_verdicts([("LiCoO2", layered_licoo2(), "Li")], MODEL)
    assert row["bvlain_reason"] == "RuntimeError: grid too large"
    assert row["bvlain_e_1d_ev"] is None and row["agree_1d"] is None
    assert row["ours_e_1d_ev"] is not None


def _row(name: str, ours: float | None, bv: float | None, **extra) -> dict:
    good_o, good_b = (None if v is None else v < 0.65 for v in (ours, bv))
    return {
        "name": name,
        "working_ion": "Li",
        "ours_e_1d_ev": ours,
        "ours_e_2d_ev": None,
        "ours_e_3d_ev": None,
        "ours_bottleneck": "abcdef0123456789",
        "ours_bottleneck_angstrom": 3.0,
        "ours_p_good": 0.5,
        "ours_model": "len-1",
        "ours_reason": "",
        "ours_s": 1.0,
        "bvlain_e_1d_ev": bv,
        "bvlain_e_2d_ev": None,
        "bvlain_e_3d_ev": None,
        "bvlain_charges": "BVAnalyzer",
        "bvlain_reason": "",
        "bvlain_s": 0.5,
        "ours_good_1d": good_o,
        "bvlain_good_1d": good_b,
        "agree_1d": None if None in (good_o, good_b) else good_o == good_b,
        "threshold_ev": 0.65,
        **extra,
    }


def test_markdown_table_reasons_and_summary() -> None:
    rows = [
        _row("A", 0.2, 0.3),
        _row("B", 0.4, 0.9),
        _row("C", 0.8, 1.2),
        _row("D", 0.5, None, bvlain_reason="no BVSE parameters", bvlain_charges=None),
    ]
    assert spearman_1d(rows) == (pytest.approx(1.0), 3)
    md = verdicts_markdown(rows, "Machine: test.", seconds=90.0)
    assert md.startswith("## Per-host verdict beside bvlain")
    assert "Machine: test. Measured by `hopscreen bench --only-verdicts` in 1.5 min" in md
    assert md.count("\n| ") == 5  # header + four hosts
    assert "| A | Li | 0.20 |" in md and "`abcdef012345` (3.00 Å)" in md
    assert "- D, bvlain: no BVSE parameters" in md
    assert "4 hosts, 3 with both verdicts, 2 agree on good-in-1D" in md
    assert "Spearman of E_1D ours vs bvlain 1.00 over 3 hosts" in md


def test_nominal_charges_where_bvanalyzer_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoValences:
        def __init__(self, **kwargs):
            pass

        def get_oxi_state_decorated_structure(self, structure):
            raise ValueError("Valences cannot be assigned!")

    monkeypatch.setattr("bvlain.core.BVAnalyzer", NoValences)
    out = verdicts.bvlain_barriers(layered_licoo2(), "Li")
    assert out["bvlain_charges"] == "nominal" and out["bvlain_e_1d_ev"] > 0
