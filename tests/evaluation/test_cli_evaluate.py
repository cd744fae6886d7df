"""``hopscreen evaluate``: table, JSON, files, and clear errors without a traceback."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from hopscreen.cli import app

runner = CliRunner()


def test_evaluate_json_and_out(tiny_model_dir, data_dir, tmp_path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--data-dir",
            str(data_dir),
            "--device",
            "cpu",
            "--limit",
            "4",
            "--n-boot",
            "100",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["n"] == 4
    assert [r["label"] for r in doc["rows"]] == [
        "this model",
        "paper Model-3 (published predictions)",
        "MACE NEB relaxed (published)",
    ]
    assert json.loads((out / "metrics.json").read_text())["n"] == 4
    assert (out / "predictions.csv").read_text().startswith("record_id,")
    header = (out / "predictions.csv").read_text().splitlines()[0].split(",")
    assert "hop_length_angstrom" in header
    assert [(s["row"], s["key"]) for s in doc["slices"][:3]] == [
        ("model", "em_ge_1ev"),
        ("model", "hop_gt_4p5a"),
        ("model", "all"),
    ]
    assert "spread_ratio" in doc["rows"][0]["metrics"]["regression"]


def test_evaluate_table(tiny_model_dir, data_dir) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--data-dir",
            str(data_dir),
            "--device",
            "cpu",
            "--limit",
            "3",
            "--n-boot",
            "50",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for text in ("this model", "paper Model-3", "MACE NEB", "MAE", "95 % CI", "accuracy"):
        assert text in result.output
    for text in ("spread σ_pred / σ_DFT", "slices where screening", "σ_pred/σ_DFT", "acc @ 0.65"):
        assert text in result.output
    for text in ("DFT E_m ≥ 1 eV", "hop > 4.5 Å", "all hops"):
        assert text in result.output


def test_help_lists_cv_chemsys() -> None:
    result = runner.invoke(app, ["evaluate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "cv-chemsys" in result.output and "chemical" in result.output


def test_missing_dataset_exit_2(tiny_model_dir, tmp_path) -> None:
    result = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model_dir), "--data-dir", str(tmp_path / "nothing")]
    )
    assert result.exit_code == 2
    assert "hopscreen data download" in result.output
    assert "Traceback" not in result.output


def test_missing_or_corrupt_model_exit_2(tiny_model_dir, data_dir, tmp_path) -> None:
    result = runner.invoke(
        app, ["evaluate", "--model", str(tmp_path / "no-such-model"), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 2
    assert "cannot load the model" in result.output and "Traceback" not in result.output
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model_dir, bad)
    weights = sorted(bad.glob("*.safetensors"))
    assert weights
    with open(weights[0], "r+b") as fh:  # the checksum in the card no longer matches
        fh.seek(200)
        fh.write(b"\x00garbage\x00")
    result = runner.invoke(app, ["evaluate", "--model", str(bad), "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "corrupt" in result.output and "Traceback" not in result.output


def test_bad_device_exit_1(tiny_model_dir) -> None:
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--device", "tpu"])
    assert result.exit_code == 1
    assert "--device" in result.output


def test_cv_chemsys_split_is_passed_and_printed(monkeypatch, tmp_path) -> None:
    import hopscreen.cli.evaluate as cli_evaluate
    from hopscreen.evaluation.crossval import cross_validate

    from .test_slices import _chemsys_records, _fit_mean

    seen: dict = {}

    def fake_evaluate_model(model, **options):
        seen.update(options)
        return cross_validate(
            records=_chemsys_records(), k=2, fit_fold=_fit_mean, n_boot=50, groups="chemsys"
        )

    monkeypatch.setattr(cli_evaluate, "evaluate_model", fake_evaluate_model)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["evaluate", "--split", "cv-chemsys", "--folds", "2", "--out", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert seen["split"] == "cv-chemsys" and seen["k"] == 2
    assert seen["out_dir"] == out / "cv-chemsys"  # fold models never mix with host-CV ones
    assert "cv-chemsys, 16 hops" in result.output
    assert "2 folds over 4 chemsys groups" in result.output
    assert "chemical-system-grouped 2-fold CV" in result.output
    assert "8 hops in 4 hosts (2 groups)" in result.output
    header = (out / "predictions.csv").read_text().splitlines()[0].split(",")
    assert {"host", "group", "fold", "hop_length_angstrom"} <= set(header)
