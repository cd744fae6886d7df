"""A finished round run again unchanged is answered from its record; any change runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.store import jobflow_store, open_results_store
from hopscreen.store.folder import ROUND_RECORDS_FOLDER
from hopscreen.store.progress import read_progress
from hopscreen.workflow.campaign import CampaignConfig, build_round, run_round_locally
from hopscreen.workflow.round_key import ROUND_KEY_METADATA

LIC6 = Path(__file__).parents[2] / "src/hopscreen/candidates/demo/LiC6_graphite.cif"


def file_config(results_dir: Path, structure: Path, model: str) -> CampaignConfig:
    return CampaignConfig.from_dict(
        {
            "sources": {"files": [str(structure)]},
            "ion": "Li",
            "results_dir": str(results_dir),
            "model": model,
            "verifier": "none",
        }
    )


def jobs_run(results_dir: Path) -> int:
    with jobflow_store(results_dir) as store:
        return store.count({})


def prediction_stamps(results_dir: Path) -> dict[str, str]:
    with open_results_store(results_dir, create=False) as store:
        return {r["prediction_id"]: str(r["last_updated"]) for r in store.read("predictions")}


@pytest.fixture
def finished(tiny_model: str, tmp_path: Path) -> dict:
    structure = tmp_path / "LiC6.cif"
    structure.write_bytes(LIC6.read_bytes())
    results = tmp_path / "results"
    config = file_config(results, structure, tiny_model)
    summary = run_round_locally(build_round(config), results)
    return {"config": config, "summary": summary, "results": results, "structure": structure}


def test_unchanged_rerun_is_answered_from_the_record(finished: dict) -> None:
    results, first = finished["results"], finished["summary"]
    assert first.reused_from is None and first.n_predictions >= 1
    (record,) = (results / ROUND_RECORDS_FOLDER).glob("*.json")
    jobs, stamps = jobs_run(results), prediction_stamps(results)

    again = run_round_locally(build_round(finished["config"]), results)

    assert again.reused_from == str(record)
    assert again.model_dump(exclude={"reused_from"}) == first.model_dump(exclude={"reused_from"})
    assert jobs_run(results) == jobs  # no job ran
    assert prediction_stamps(results) == stamps
    assert read_progress(results).rounds_recorded == 1  # hopscreen status shows it


def test_force_runs_the_jobs_again(finished: dict) -> None:
    results = finished["results"]
    jobs = jobs_run(results)
    again = run_round_locally(build_round(finished["config"]), results, force=True)
    assert again.reused_from is None
    assert jobs_run(results) > jobs
    assert again.n_predictions == finished["summary"].n_predictions


def test_a_store_written_since_runs_the_round(finished: dict) -> None:
    results = finished["results"]
    with open_results_store(results) as store:
        (hop,) = store.read("hops")[:1]
        store.write(
            "verifications",
            [
                VerificationDoc(
                    verification_id="v-test",
                    hop_id=hop["hop_id"],
                    tier="umlip",
                    status="failed",
                    reason="written by another round",
                    level_of_theory=LevelOfTheory(method="CI-NEB", code="CHGNet"),
                )
            ],
        )
    again = run_round_locally(build_round(finished["config"]), results)
    assert again.reused_from is None
    # and that run is recorded in turn: a second re-run is answered from its record
    third = run_round_locally(build_round(finished["config"]), results)
    assert third.reused_from is not None


def test_an_edited_input_file_changes_the_key(finished: dict) -> None:
    flow = build_round(finished["config"])
    before = flow.metadata[ROUND_KEY_METADATA]
    text = finished["structure"].read_text()
    finished["structure"].write_text(text + "\n# edited\n")
    after = build_round(finished["config"]).metadata[ROUND_KEY_METADATA]
    assert after != before
    again = run_round_locally(build_round(finished["config"]), finished["results"])
    assert again.reused_from is None


def test_other_settings_or_model_change_the_key(finished: dict, tmp_path: Path) -> None:
    config: CampaignConfig = finished["config"]
    key = build_round(config).metadata[ROUND_KEY_METADATA]
    moved = config.model_copy(update={"results_dir": str(tmp_path / "elsewhere")})
    workers = config.model_copy(
        update={"prediction": config.prediction.model_copy(update={"workers": 1})}
    )
    assert build_round(moved).metadata[ROUND_KEY_METADATA] == key  # where, not what
    assert build_round(workers).metadata[ROUND_KEY_METADATA] == key
    longer = config.model_copy(
        update={"hops": config.hops.model_copy(update={"max_hop_length_angstrom": 4.5})}
    )
    assert build_round(longer).metadata[ROUND_KEY_METADATA] != key


def test_a_model_file_changed_in_place_changes_the_key(finished: dict, tmp_path: Path) -> None:
    copy = tmp_path / "model-copy"
    copy.mkdir()
    for path in Path(str(finished["config"].model)).iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    config = finished["config"].model_copy(update={"model": str(copy)})
    key = build_round(config).metadata[ROUND_KEY_METADATA]
    card = copy / "model_card.json"
    card.write_text(card.read_text() + " ")
    assert build_round(config).metadata[ROUND_KEY_METADATA] != key


def test_a_round_with_a_failed_job_is_not_recorded(
    tiny_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hopscreen.workflow.jobs as jobs

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("selection exploded")

    monkeypatch.setattr(jobs, "select_hops", broken)
    results = tmp_path / "results"
    config = file_config(results, LIC6, tiny_model)
    assert build_round(config).metadata[ROUND_KEY_METADATA]
    summary = run_round_locally(build_round(config), results)
    assert [e.job_name for e in summary.job_errors] == ["select"]
    assert not (results / ROUND_RECORDS_FOLDER).exists()
    monkeypatch.undo()
    again = run_round_locally(build_round(config), results)  # runs, and is recorded
    assert again.reused_from is None and not again.job_errors
    assert len(list((results / ROUND_RECORDS_FOLDER).glob("*.json"))) == 1
