from __future__ import annotations

from pathlib import Path

import pytest
from tests.model_fixtures import TINY_ARCH
from typer.testing import CliRunner

from hopscreen.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    import torch

    from hopscreen.graphs.build import GraphConfig
    from hopscreen.models.alignn import ALIGNN, ALIGNNConfig
    from hopscreen.models.bundle import save_bundle
    from hopscreen.models.scaling import TargetScaler

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny")
    save_bundle(
        [ALIGNN(ALIGNNConfig(**TINY_ARCH)).eval() for _ in range(2)],
        out,
        name="tiny",
        preset="test",
        graph=GraphConfig(),
        scaler=TargetScaler(minimum=0.0, maximum=3.0),
    )
    return str(out)


def test_screen_then_report(tiny, tmp_path):
    results = tmp_path / "res"
    out = runner.invoke(  # a verifying round (budget 0: no NEB) ranks hosts before verifying
        app,
        ["screen", "--demo", "--ion", "Na", "--results", str(results)]
        + ["--verifier", "umlip", "--budget", "0", "--model", tiny],
    )
    assert out.exit_code == 0, out.output
    assert "candidates" in out.output and "predicted good" in out.output
    # the predicted ranking comes before the round's summary, verification timed on its own
    ranking = out.output.index("Lowest predicted barriers")
    assert out.output.index("Hosts by p_good") < ranking < out.output.index("Screening round")
    assert "time to the predicted ranking" in out.output and "verification (umlip)" in out.output
    assert "Library messages and warnings" in out.output and (results / "hopscreen.log").is_file()
    html = tmp_path / "r.html"
    out = runner.invoke(app, ["report", "--results", str(results), "--out", str(html)])
    assert out.exit_code == 0, out.output
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_screen_run_again_unchanged_says_up_to_date_and_force_runs_it(tiny, tmp_path):
    results = tmp_path / "res"
    args = ["screen", "--demo", "--ion", "Na", "--results", str(results), "--model", tiny]
    args += ["--verifier", "none"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Up to date" not in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    said = " ".join(again.output.split())  # rich wraps long lines
    assert "Up to date" in said and "(--force runs it again)" in said
    assert "predicted good" in again.output  # the recorded summary is shown
    assert "Hosts by p_good" in again.output  # and the ranking, read from the store
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Up to date" not in forced.output


def test_config_file_with_unknown_key_is_rejected(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sources: {demo: true}\nbudgett: 2\n")
    out = runner.invoke(app, ["screen", "--config", str(path)])
    assert out.exit_code == 1
    assert "unknown key 'budgett'" in out.output


def test_no_source_is_an_error(tmp_path):
    out = runner.invoke(app, ["screen", "--results", str(tmp_path)])
    assert out.exit_code == 1
    assert "no candidate source" in out.output


def test_options_override_the_config(tmp_path):
    from hopscreen.cli.screen import make_config

    path = tmp_path / "c.yaml"
    path.write_text("sources: {demo: true}\nselection: {budget: 7}\nverifier: umlip\n")
    config = make_config(
        config_file=path,
        demo=False,
        files=[],
        mp_chemsys=[],
        ion="Li",
        results=tmp_path,
        budget=1,
        verifier="none",
        model=None,
    )
    assert config.selection.budget == 1 and config.verifier == "none" and config.ion == "Li"


def test_report_missing_results(tmp_path):
    out = runner.invoke(app, ["report", "--results", str(tmp_path / "nope")])
    assert out.exit_code == 2


DEMO_DIR = Path(__file__).parents[1] / "src" / "hopscreen" / "candidates" / "demo"


def test_screen_fails_when_every_candidate_is_rejected(tmp_path):
    out = runner.invoke(
        app,
        ["screen", str(DEMO_DIR / "MgCr2O4_spinel.cif"), "--ion", "Li"]
        + ["--results", str(tmp_path / "res"), "--verifier", "none"],
    )
    assert out.exit_code == 2, out.output
    assert "no valid candidate: all 1 input(s) were rejected" in out.output
    assert "no_working_ion: no Li in MgCr2O4" in out.output


def test_screen_fails_when_a_stage_fails_and_names_it(tmp_path):
    out = runner.invoke(
        app,
        ["screen", "--demo", "--ion", "Xx", "--results", str(tmp_path / "res")]
        + ["--verifier", "none"],
    )
    assert out.exit_code == 2, out.output
    assert "job 'candidates' failed: ValueError: working ion 'Xx'" in out.output


def test_screen_refuses_a_results_path_that_is_a_file(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("not a store")
    out = runner.invoke(
        app, ["screen", "--demo", "--ion", "Li", "--results", str(target), "--verifier", "none"]
    )
    assert out.exit_code == 2, out.output
    assert "is a file, not a results folder" in out.output
    assert "Traceback" not in out.output
    assert target.read_text() == "not a store"


def test_screen_refuses_a_results_folder_it_cannot_create(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    out = runner.invoke(
        app,
        ["screen", "--demo", "--ion", "Li", "--results", str(blocker / "sub")]
        + ["--verifier", "none"],
    )
    assert out.exit_code == 2, out.output
    assert "cannot create the results folder" in out.output
    assert "Traceback" not in out.output


def test_screen_refuses_a_results_folder_without_write_permission(tmp_path, monkeypatch):
    import hopscreen.cli.screen as screen_cli

    folder = tmp_path / "ro"
    folder.mkdir()
    # tests may run as root, where chmod does not stop writes: ask os.access as a user would
    monkeypatch.setattr(screen_cli, "_writable", lambda path: Path(path) != folder)
    out = runner.invoke(
        app, ["screen", "--demo", "--ion", "Li", "--results", str(folder), "--verifier", "none"]
    )
    assert out.exit_code == 2, out.output
    assert "is not writable" in out.output
    assert list(folder.iterdir()) == []


def test_screen_with_an_unreachable_launchpad_says_so(tmp_path, monkeypatch):
    from fireworks import LaunchPad
    from pymongo.errors import ServerSelectionTimeoutError

    class Unreachable:
        host, port = "db.example", 27017

        def add_wf(self, workflow):
            raise ServerSelectionTimeoutError("db.example:27017: timed out\ndetails")

    monkeypatch.setattr(LaunchPad, "auto_load", classmethod(lambda cls: Unreachable()))
    out = runner.invoke(
        app,
        ["screen", "--demo", "--ion", "Li", "--results", str(tmp_path / "res")]
        + ["--verifier", "none", "--fireworks"],
    )
    assert out.exit_code == 2, out.output
    assert "cannot add the round to the FireWorks LaunchPad at db.example:27017" in out.output
    assert "timed out" in out.output and "details" not in out.output
    assert "Traceback" not in out.output


def test_screen_refuses_every_bad_file_and_screens_the_good_one(tiny, tmp_path):
    """The bad-input corpus through ``screen``: each file named with its reason, no traceback,
    the good host screened and stored, and the round reported as done (exit 0)."""
    from pymatgen.io.cif import CifWriter
    from tests.test_bad_inputs import BAD_FILES, LONG_NAME, licl

    from hopscreen.store import query_results

    inputs = []
    for name, write, _code, _words in BAD_FILES.values():
        write(tmp_path / name)
        inputs.append(str(tmp_path / name))
    inputs.append(str(tmp_path / LONG_NAME))
    CifWriter(licl()).write_file(tmp_path / "good.cif")
    inputs.append(str(tmp_path / "good.cif"))
    results = tmp_path / "res"
    out = runner.invoke(
        app,
        ["screen", *inputs, "--ion", "Li", "--results", str(results)]
        + ["--verifier", "none", "--model", tiny],
    )
    assert "Traceback" not in out.output
    assert out.exit_code == 0, out.output
    assert f"1 (+{len(BAD_FILES) + 1} rejected)" in out.output
    rejected = [line for line in out.stderr.splitlines() if line.startswith("rejected: ")]
    assert len(rejected) == len(BAD_FILES) + 1  # one line per bad file, with its reason
    for name, _write, code, _words in BAD_FILES.values():
        assert any(name in line and f"[{code}]" in line for line in rejected), name
    frame = query_results(results)
    assert list(frame["candidate_name"].unique()) == ["good"]
    from hopscreen.store import open_results_store

    with open_results_store(results, read_only=True) as store:
        failures = store.read("failures")
    reasons = " | ".join(f.get("reason", "") for f in failures)
    for _name, _write, _code, words in BAD_FILES.values():
        assert words in reasons, words
    assert "304 bytes long" in reasons


def test_screen_without_an_mp_key_fails_and_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    monkeypatch.delenv("PMG_MAPI_KEY", raising=False)
    out = runner.invoke(
        app,
        ["screen", "--mp-chemsys", "Li-Fe-P-O", "--ion", "Li", "--results", str(tmp_path / "r")]
        + ["--verifier", "none"],
    )
    # the query runs where the round is built (a login node), before any job: exit 1
    assert out.exit_code == 1, out.output
    assert out.output.startswith("Error: no Materials Project API key")
    assert "Traceback" not in out.output
