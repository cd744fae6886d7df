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
    )
    assert result.exit_code == 0, result.output
    for text in ("this model", "paper Model-3", "MACE NEB", "MAE", "95 % CI", "accuracy"):
        assert text in result.output


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
