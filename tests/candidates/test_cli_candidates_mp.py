"""``hopscreen candidates --mp … --save DIR`` and ``--candidates-file``, with a fake MP client."""

from __future__ import annotations

import json

import pytest
from tests.mp_fakes import KEY, forbid_network, install_fake
from typer.testing import CliRunner

import hopscreen.candidates.mp as mp_module
from hopscreen.candidates.mp_query import ELECTRODE_FIELDS
from hopscreen.cli import app

runner = CliRunner()


@pytest.fixture
def fake(licoo2, licl, nacl, monkeypatch):
    fake = install_fake(licoo2, licl, nacl)
    monkeypatch.setattr(mp_module, "_default_rester_factory", fake)
    monkeypatch.setenv("MP_API_KEY", KEY)
    return fake


SAVE_ARGS = ["candidates", "--mp", "--ion", "li", "--mp-chemsys", "Co-O", "--e-hull-max", "0.1"]
SAVE_ARGS += ["--voltage-min", "3", "--voltage-max", "4.5"]


def test_save_sends_the_filters_and_prints_the_path(fake, tmp_path):
    result = runner.invoke(app, [*SAVE_ARGS, "--save", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "mp-22526\tLiCoO2\tLi\t12 sites" in result.stdout
    (path,) = tmp_path.glob("mp-Li-*.json.gz")
    assert result.stdout.splitlines()[-1].startswith(f"saved {path} (MP database ")
    electrodes = fake.calls()[0]
    assert electrodes == (
        "electrodes",
        {
            "working_ion": "Li",
            "stability_discharge": (0.0, 0.1),
            "fields": ELECTRODE_FIELDS,
            "average_voltage": (3.0, 4.5),
            "elements": ["Co", "O"],
            "num_elements": (2, 2),
        },
    )

    # the same query again: the file is reused, no client is created, no network is used
    with pytest.MonkeyPatch.context() as mp:
        forbid_network(mp)
        again = runner.invoke(app, [*SAVE_ARGS, "--save", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1].startswith(f"reused {path} (fetched ")
    assert len(fake.instances) == 1

    listed = runner.invoke(app, ["candidates", "--candidates-file", str(path), "--json"])
    assert listed.exit_code == 0, listed.output
    assert [c["source_ref"] for c in json.loads(listed.stdout)["candidates"]] == ["mp-22526"]


def test_refresh_queries_again(fake, tmp_path):
    assert runner.invoke(app, [*SAVE_ARGS, "--save", str(tmp_path)]).exit_code == 0
    result = runner.invoke(app, [*SAVE_ARGS, "--save", str(tmp_path), "--refresh", "--json"])
    assert result.exit_code == 0, result.output
    assert len(fake.instances) == 2 and result.stderr.startswith("saved ")
    assert json.loads(result.stdout)["candidates"][0]["formula"] == "LiCoO2"


def test_damaged_candidates_file_is_one_line_and_exit_1(fake, tmp_path):
    runner.invoke(app, [*SAVE_ARGS, "--save", str(tmp_path)])
    (path,) = tmp_path.glob("mp-Li-*.json.gz")
    path.write_bytes(path.read_bytes()[:100])
    listed = runner.invoke(app, ["candidates", "--candidates-file", str(path)])
    assert listed.exit_code == 1
    assert listed.stderr.count("\n") == 1 and "damaged or truncated" in listed.stderr
    saved = runner.invoke(app, [*SAVE_ARGS, "--save", str(tmp_path)])
    assert saved.exit_code == 1 and "--refresh" in saved.stderr
    assert saved.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--save", "x"], "error: --save needs --mp"),
        (["--mp", "--demo"], "error: --mp is not combined"),
        (["--mp", "--refresh"], "error: --refresh needs --save"),
        (["--mp", "--mp-source", "summary", "--voltage-min", "3"], "error: --mp: a voltage"),
        (["--mp", "--mp-chemsys", "Xx-O"], "error: --mp-chemsys: chemical system 'Xx-O'"),
        (["--mp", "--e-hull-max", "-1"], "error: --e-hull-max: "),
    ],
)
def test_bad_mp_options_exit_2(fake, args, needle):
    result = runner.invoke(app, ["candidates", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(needle) and result.stderr.count("\n") == 1
    assert fake.instances == []


def test_missing_key_exits_1(fake, monkeypatch, tmp_path):
    monkeypatch.delenv("MP_API_KEY")
    result = runner.invoke(app, ["candidates", "--mp", "--save", str(tmp_path)])
    assert result.exit_code == 1 and "MP_API_KEY" in result.stderr
    assert list(tmp_path.iterdir()) == []
