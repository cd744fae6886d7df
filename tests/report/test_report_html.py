from __future__ import annotations

from hopscreen.report import ReportData, ranked_rows, render_report, write_report
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.store import open_results_store


def _pred(hop_id, name, barrier):
    return PredictionDoc(
        hop_id=hop_id,
        candidate_name=name,
        working_ion="Li",
        model_version="m1",
        barrier_ev=barrier,
        sigma_ev=0.05,
        member_barriers_ev=[barrier],
        length_angstrom=3.0,
    )


def _ver(hop_id, barrier, status="ok"):
    return VerificationDoc(
        verification_id=f"ver-{hop_id}",
        hop_id=hop_id,
        tier="umlip",
        status=status,
        barrier_ev=barrier,
        energies_ev=None if barrier is None else [0.0, barrier, 0.0],
        reason=None if status == "ok" else "exploded",
        level_of_theory=LevelOfTheory(method="CI-NEB", code="CHGNet"),
    )


def test_rows_are_ranked_and_joined():
    data = ReportData(
        predictions=[_pred("h1", "A", 0.9), _pred("h2", "B", 0.2)],
        verifications=[_ver("h1", 0.8)],
        selected={"h1"},
    )
    rows = ranked_rows(data)
    assert [r["candidate"] for r in rows] == ["B", "A"]
    assert rows[1]["verified_ev"] == 0.8 and rows[1]["selected"] is True
    assert rows[0]["class"] == "good" and rows[1]["class"] == "bad"


def test_html_is_self_contained_with_figures():
    data = ReportData(
        predictions=[_pred("h1", "A", 0.9), _pred("h2", "B", 0.2)],
        verifications=[_ver("h1", 0.8), _ver("h2", None, status="failed")],
    )
    page = render_report(data)
    assert page.count("data:image/png;base64,") == 3  # distribution, parity, profiles
    assert "http" not in page  # nothing fetched from outside
    assert "Failed verifications" in page and "exploded" in page


def test_empty_store_gives_a_page(tmp_path):
    with open_results_store(tmp_path / "r"):
        pass
    out = write_report(tmp_path / "r", tmp_path / "report.html")
    assert "No predictions stored" in out.read_text()


def test_report_from_store(tmp_path):
    with open_results_store(tmp_path / "r") as store:
        store.write("predictions", [_pred("h1", "A", 0.9)])
        store.write("verifications", [_ver("h1", 0.7)])
    page = write_report(tmp_path / "r", tmp_path / "o.html").read_text()
    assert "A" in page and page.count("data:image/png") == 3
