"""``hopscreen models``: list, show, promote, register."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hopscreen.cli.main import app
from hopscreen.models.bundle import load_card

runner = CliRunner()


def test_register_list_show_promote(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = str(tmp_path / "reg")
    for key in ("base", "child"):
        result = runner.invoke(app, ["models", "register", str(models[key]), "--registry", reg])
        assert result.exit_code == 0, result.output
        assert "registered m3-" in result.output
    child = load_card(models["child"]).model_version

    result = runner.invoke(app, ["models", "list", "--registry", reg, "--json"])
    assert result.exit_code == 0, result.output
    assert {e["name"] for e in json.loads(result.output)} == {"base", "child"}

    result = runner.invoke(app, ["models", "promote", child, "--registry", reg])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["models", "list", "--registry", reg])
    assert f"* {child}" in result.output
    assert "test MAE 0.250 eV" in result.output

    result = runner.invoke(app, ["models", "show", "child", "--registry", reg])
    assert result.exit_code == 0, result.output
    assert "lineage:" in result.output
    assert load_card(models["base"]).model_version in result.output.split("lineage:")[1]


def test_unknown_version_exits_2(tmp_path: Path) -> None:
    reg = str(tmp_path / "reg")
    for command in (["show", "m3-nope"], ["promote", "m3-nope"]):
        result = runner.invoke(app, ["models", *command, "--registry", reg])
        assert result.exit_code == 2
        assert "no model 'm3-nope'" in result.output
        assert "Traceback" not in result.output


def test_register_bad_folder_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "register", str(tmp_path), "--registry", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a hopscreen model folder" in result.output


def test_show_names_shipped_and_unregistered_parents(
    tmp_path: Path, models: dict[str, Path], monkeypatch
) -> None:
    import shutil

    import hopscreen.models.shipped as shipped

    reg = str(tmp_path / "reg")
    runner.invoke(app, ["models", "register", str(models["child"]), "--registry", reg])
    base = load_card(models["base"]).model_version
    result = runner.invoke(app, ["models", "show", "child", "--registry", reg])
    assert f"{base}  (not registered)" in result.output

    weights = tmp_path / "weights"
    shutil.copytree(models["base"], weights / "base")
    monkeypatch.setattr(shipped, "SHIPPED_DIR", weights)
    result = runner.invoke(app, ["models", "show", "child", "--registry", reg])
    assert f"{base}  base  (shipped with hopscreen)" in result.output
