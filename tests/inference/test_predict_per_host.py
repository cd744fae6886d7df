"""``hopscreen predict --per-host``: olivine LiFePO4 is a 1D conductor set by its 3.0 Å hop."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymatgen.io.cif import CifWriter
from typer.testing import CliRunner

from hopscreen.cli.main import app
from hopscreen.schemas.prediction import PredictionDoc

sys.path.insert(0, str(Path(__file__).parents[1] / "hops"))
from hops_structures import olivine_lifepo4

runner = CliRunner()


@pytest.fixture
def length_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in model: E_m = length − 2.7 eV, calibrated ±0.05 / ±0.1 eV."""

    def predict_hops(docs, bands, *, model, batch_size):
        return [
            PredictionDoc(
                hop_id=d.hop_id,
                candidate_id=d.candidate_id,
                candidate_name=d.candidate_name,
                working_ion=d.working_ion,
                model_version="len-1",
                barrier_ev=d.length_angstrom - 2.7,
                sigma_ev=0.01,
                interval_68_ev=0.05,
                interval_90_ev=0.1,
                member_barriers_ev=[d.length_angstrom - 2.7],
                length_angstrom=d.length_angstrom,
            )
            for d in docs
        ]

    model = SimpleNamespace(card=SimpleNamespace(name="len"), model_version="len-1")
    monkeypatch.setattr("hopscreen.cli.predict.load_model", lambda name, device=None: model)
    monkeypatch.setattr("hopscreen.cli.predict.predict_hops", predict_hops)


@pytest.fixture
def olivine_cif(tmp_path: Path) -> Path:
    path = tmp_path / "LiFePO4.cif"
    CifWriter(olivine_lifepo4()).write_file(path)
    return path


def test_olivine_is_1d_through_its_b_hop(length_model: None, olivine_cif: Path) -> None:
    hops = runner.invoke(app, ["predict", str(olivine_cif), "--ion", "Li", "--json"])
    assert hops.exit_code == 0, hops.output
    preds = [json.loads(line) for line in hops.stdout.splitlines()]
    b_hop = min(preds, key=lambda p: p["length_angstrom"])
    assert b_hop["length_angstrom"] == pytest.approx(3.0, abs=0.05)

    out = runner.invoke(app, ["predict", str(olivine_cif), "--ion", "Li", "--per-host", "--json"])
    assert out.exit_code == 0, out.output
    (verdict,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert verdict["candidate_name"] == "LiFePO4"
    assert verdict["percolation_1d_ev"] == pytest.approx(b_hop["barrier_ev"])
    assert verdict["bottleneck_1d_hop_id"] == b_hop["hop_id"]
    assert verdict["percolation_2d_ev"] == pytest.approx(max(p["barrier_ev"] for p in preds))
    assert verdict["percolation_3d_ev"] is None  # no 3D network within 5 Å
    assert verdict["max_dimension"] == 2
    assert verdict["p_good"] == 1.0  # 0.3 eV ± 0.1 is surely below 0.65 eV
    strict = runner.invoke(
        app,
        ["predict", str(olivine_cif), "--per-host", "--json", "--threshold", "0.305"],
    )
    assert 0.3 < json.loads(strict.stdout)["p_good"] < 0.7  # the threshold sits on E_perc


def test_per_host_table(length_model: None, olivine_cif: Path) -> None:
    out = runner.invoke(app, ["predict", str(olivine_cif), "--ion", "Li", "--per-host"])
    assert out.exit_code == 0, out.output
    assert "Per-host verdicts" in out.stdout and "LiFePO4" in out.stdout
