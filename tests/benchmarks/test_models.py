"""The shipped-models section: every shipped model through evaluate_model, rendered once."""

from __future__ import annotations

import pytest

from hopscreen.benchmarks.models import render_shipped_models, run_shipped_models
from hopscreen.models.shipped import DEFAULT_MODEL, SHIPPED_DIR


def test_shipped_models_section(data_dir) -> None:
    pytest.importorskip("chgnet")
    names = sorted(p.name for p in SHIPPED_DIR.iterdir() if p.is_dir())
    assert DEFAULT_MODEL in names and len(names) >= 2
    results = run_shipped_models(data_dir=data_dir, limit=4, cv=False, n_boot=50, throughput_hops=3)
    assert [m["name"] for m in results["models"]] == names
    assert {m["kind"] for m in results["models"]} == {"alignn", "chgnet-head"}
    assert all(m["test"]["n"] == 4 and m["seconds_per_hop"] > 0 for m in results["models"])
    text = render_shipped_models(results, "Machine: test.")
    assert f"`{DEFAULT_MODEL}` (default)" in text
    for m in results["models"]:
        assert m["model_version"] in text
    assert "paper Model-3" in text and "MACE" in text
    assert text.count("paired bootstrap") == 2 * len(names)  # vs paper and vs MACE each
    heads = [m for m in results["models"] if m["kind"] == "chgnet-head"]
    assert {h["name"] for h in heads} >= {"chgnet-gbr", DEFAULT_MODEL}
    for head in heads:
        t = head["throughput"]
        assert t["n_hops"] == 3 and t["feature_seconds"] > 0 and t["peak_rss_mib"] > 0
        assert f"`{head['name']}` over 3 published bands" in text
