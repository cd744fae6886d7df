"""Verdicts on the E_m dataset's hosts: hosts rebuilt from bands, rows and the markdown."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hopscreen.benchmarks import verdicts_em
from hopscreen.benchmarks.verdicts_em import (
    host_from_band,
    host_label,
    run_em_verdicts,
    verdicts_em_markdown,
)
from hopscreen.schemas.structure import Crystal

sys.path.insert(0, str(Path(__file__).parents[1] / "hops"))
from hops_structures import layered_licoo2


def band_of(host, a: int, b: int) -> Crystal:
    """A band of the hop a → b of ``host``: 5 ion copies on the line, then the host minus a, b."""
    start, end = host[a].frac_coords, host[b].frac_coords
    copies = [start + t * (end - start) for t in np.linspace(0.0, 1.0, 5)]
    rest = [i for i in range(len(host)) if i not in (a, b)]
    frac = np.vstack([*copies, host.frac_coords[rest]])
    numbers = np.r_[[host[a].specie.Z] * 5, [host[i].specie.Z for i in rest]]
    return Crystal(host.lattice.matrix, frac, numbers)


def test_a_vacancy_band_gives_back_the_primitive_host() -> None:
    primitive = layered_licoo2()
    supercell = primitive * (2, 2, 1)
    li = [i for i, s in enumerate(supercell) if s.specie.symbol == "Li"]
    host, mode = host_from_band(band_of(supercell, li[0], li[1]))
    assert mode == "vacancy"
    assert len(host) == len(primitive)
    assert host.composition.reduced_formula == primitive.composition.reduced_formula
    assert host.volume == pytest.approx(primitive.volume, rel=1e-6)


def test_a_dilute_band_keeps_two_ions_in_the_supercell() -> None:
    supercell = layered_licoo2() * (3, 1, 1)  # ions at 0 and a of 3a: no smaller period
    li = [i for i, s in enumerate(supercell) if s.specie.symbol == "Li"]
    framework = supercell.copy()
    framework.remove_sites(li[2:])  # only the two endpoint ions are left
    kept = [i for i, s in enumerate(framework) if s.specie.symbol == "Li"]
    host, mode = host_from_band(band_of(framework, kept[0], kept[1]))
    assert mode == "dilute"
    assert host.composition["Li"] == 2 and len(host) == len(framework)


def test_host_label() -> None:
    def record(sys_name: str, composition: str | None) -> SimpleNamespace:
        return SimpleNamespace(sys_name=sys_name, composition=composition)

    assert host_label(record("Li2MnO3_4", "Li2MnO3")) == "Li2MnO3"
    assert host_label(record("Na2MnSiO4_pc_1", None)) == "Na2MnSiO4_pc"
    assert host_label(record("Li4P2S7", None)) == "Li4P2S7"


def test_rows_of_real_hosts_carry_the_dataset_barriers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []

    def compare(entries, model, *, progress=None):  # both sides are tested in test_verdicts
        seen.extend((name, ion) for name, _, ion in entries)
        return [
            {"name": n, "agree_1d": None, "ours_reason": "x", "bvlain_reason": "y"}
            for n, _, _ in entries
        ]

    monkeypatch.setattr(verdicts_em, "compare_verdicts", compare)
    run = run_em_verdicts(limit=3)
    rows = run["rows"]
    assert [r["name"] for r in rows] == [name for name, _ in seen] and len(rows) == 3
    for row in rows:
        assert row["mode"] in ("vacancy", "dilute")
        assert 0 <= row["dft_min_ev"] <= row["dft_max_ev"]
        assert row["n_dataset_hops"] >= 1 and set(row["splits"]) <= {"train", "test"}


def _row(name: str, mode: str, ours: float | None, bv: float | None, dft: float) -> dict:
    good = (None if ours is None else ours < 0.65, None if bv is None else bv < 0.65)
    return {
        "name": name,
        "working_ion": "Li",
        "mode": mode,
        "ours_e_1d_ev": ours,
        "bvlain_e_1d_ev": bv,
        "ours_reason": "" if ours is not None else "no two Li sites within 5 Å",
        "bvlain_reason": "",
        "bvlain_charges": "BVAnalyzer",
        "ours_good_1d": good[0],
        "bvlain_good_1d": good[1],
        "agree_1d": None if None in good else good[0] == good[1],
        "threshold_ev": 0.65,
        "ours_model": "m-1",
        "dft_min_ev": dft,
        "dft_max_ev": dft + 0.1,
        "n_dataset_hops": 2,
    }


def test_markdown_splits_by_mode_and_lists_disagreements() -> None:
    rows = [
        _row("A", "vacancy", 0.3, 0.2, 0.25),
        _row("B", "vacancy", 0.9, 0.3, 0.8),
        _row("C", "vacancy", 1.2, 1.5, 1.1),
        _row("D", "dilute", None, 0.4, 0.5),
    ]
    text = verdicts_em_markdown(rows, "Machine: test.", seconds=60.0, note="idle")
    assert "## Per-host verdict beside bvlain's on the hosts of the E_m dataset" in text
    assert "- vacancy: 3 hosts; ours gave a verdict on 3, bvlain on 3; both on 3" in text
    assert "for 2 (67 %)" in text
    assert "- dilute: 1 hosts; ours gave a verdict on 0" in text
    assert "| B | Li | vacancy | 0.90 | 0.30 | BVAnalyzer | no / yes | 0.80–0.90 (2) |" in text
    assert "Hosts where the two verdicts disagree (1):" in text
    assert "  - 1 × no two Li sites within 5 Å" in text
    assert "Conditions: idle" in text and "in 1.0 min" in text
