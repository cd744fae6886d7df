"""Per-host verdicts in the results store: the table, ``query --per-host`` and the report."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hopscreen.cli.main import app
from hopscreen.hops.network import MigrationNetwork, NetworkEdge
from hopscreen.report.html import load_report_data, render_report
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.selection.verdict import host_verdict
from hopscreen.store import HOST_COLUMNS, open_results_store, query_hosts

runner = CliRunner()

CHAIN = MigrationNetwork(
    n_sites=1,
    edges=(NetworkEdge(0, 0, (0, 1, 0), "a"), NetworkEdge(0, 0, (1, 0, 0), "b")),
    hop_ids=("a", "b"),
)


def _verdict(name: str, cid: str, barrier_a: float, version: str = "v1") -> object:
    preds = [
        PredictionDoc(
            hop_id=h,
            candidate_id=cid,
            candidate_name=name,
            working_ion="Li",
            model_version=version,
            barrier_ev=e,
            sigma_ev=0.02,
            interval_68_ev=0.1,
            interval_90_ev=0.2,
            member_barriers_ev=[e],
        )
        for h, e in (("a", barrier_a), ("b", 1.5))
    ]
    return host_verdict(CHAIN, preds, candidate_name=name, working_ion="Li", candidate_id=cid)


def test_hosts_table_ranks_by_p_good_and_keeps_the_latest(results_dir: Path) -> None:
    with open_results_store(results_dir) as store:
        store.write(
            "verdicts",
            [_verdict("LiFePO4", "c-lfp", 0.8), _verdict("LiCoO2", "c-lco", 0.3)],
        )
        time.sleep(0.01)
        store.write("verdicts", [_verdict("LiFePO4", "c-lfp", 0.2, version="v2")])
        assert store.count("verdicts") == 3  # one per host and model version
    frame = query_hosts(results_dir)
    assert list(frame.columns) == HOST_COLUMNS
    assert list(frame["candidate_name"]) == ["LiFePO4", "LiCoO2"]  # v2 verdict is latest
    first = frame.iloc[0]
    assert first["model_version"] == "v2"
    assert first["percolation_1d_ev"] == pytest.approx(0.2)
    assert first["bottleneck_1d_hop_id"] == "a"
    assert first["formula"] == "LiFePO4"  # joined from the candidates collection
    assert first["n_hops"] == 2
    assert pd.isna(first["percolation_3d_ev"])
    only_v1 = query_hosts(results_dir, model_version="v1")
    assert list(only_v1["candidate_name"]) == ["LiCoO2", "LiFePO4"]


def test_query_per_host_cli(results_dir: Path) -> None:
    with open_results_store(results_dir) as store:
        store.write(
            "verdicts", [_verdict("LiFePO4", "c-lfp", 0.8), _verdict("LiCoO2", "c-lco", 0.3)]
        )
    out = runner.invoke(app, ["query", "--results", str(results_dir), "--per-host"])
    assert out.exit_code == 0, out.output
    assert "2 hosts, most likely good conductor first" in out.stdout
    assert out.stdout.index("LiCoO2") < out.stdout.index("LiFePO4")
    as_json = runner.invoke(
        app, ["query", "--results", str(results_dir), "--per-host", "--format", "json"]
    )
    rows = json.loads(as_json.stdout)
    assert [r["candidate_name"] for r in rows] == ["LiCoO2", "LiFePO4"]
    assert rows[0]["p_good"] > 0.99 and rows[1]["p_good"] < 0.2
    as_csv = runner.invoke(
        app, ["query", "--results", str(results_dir), "--per-host", "--format", "csv"]
    )
    assert list(pd.read_csv(io.StringIO(as_csv.stdout)).columns) == HOST_COLUMNS


def test_query_per_host_refuses_hop_filters(results_dir: Path) -> None:
    out = runner.invoke(
        app, ["query", "--results", str(results_dir), "--per-host", "--max-barrier", "1"]
    )
    assert out.exit_code == 2
    assert "apply to hops" in out.stderr


def test_query_per_host_of_a_store_without_verdicts(results_dir: Path) -> None:
    assert query_hosts(results_dir).empty
    out = runner.invoke(app, ["query", "--results", str(results_dir), "--per-host"])
    assert out.exit_code == 0
    assert "0 hosts" in out.stdout


def test_report_ranks_materials(results_dir: Path) -> None:
    page = render_report(load_report_data(results_dir))
    assert "No per-host verdict stored" in page
    with open_results_store(results_dir) as store:
        store.write(
            "verdicts", [_verdict("LiFePO4", "c-lfp", 0.8), _verdict("LiCoO2", "c-lco", 0.3)]
        )
    page = render_report(load_report_data(results_dir))
    section = page[page.index("Materials, most likely") : page.index("Ranked hops")]
    assert section.index("LiCoO2") < section.index("LiFePO4")
    assert "<td>1.00</td>" in section  # p_good of LiCoO2
