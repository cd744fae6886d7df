"""Every shipped model on the authors' test split, side by side: the ``shipped-models`` section.

``hopscreen bench`` (or ``hopscreen bench --only-models``) evaluates each folder under
``hopscreen/models/weights`` with :func:`hopscreen.evaluation.evaluate.evaluate_model`, so the
rows are computed by the same code as ``hopscreen evaluate``; it adds the paper's own Model-3
predictions and the MACE NEB barriers, paired bootstrap differences, prediction time per hop
on this machine, the size of each folder, and host-grouped CV for the models whose CV is cheap
(chgnet-head: trees refitted on cached CHGNet features; ALIGNN CV re-trains networks and is
left to ``hopscreen evaluate --split cv``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hopscreen.benchmarks.streaming import bench_chgnet_throughput
from hopscreen.evaluation.evaluate import evaluate_model
from hopscreen.models.bundle import model_kind
from hopscreen.models.shipped import DEFAULT_MODEL, SHIPPED_DIR

SECTION = "shipped-models"


def _folder_kib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1024.0


def run_shipped_models(
    *,
    data_dir: Path | str | None = None,
    names: list[str] | None = None,
    n_boot: int = 2000,
    cv: bool = True,
    limit: int | None = None,
    throughput_hops: int | None = 1000,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Evaluate shipped models on the 60 test hops (and cheap grouped CV); JSON-ready figures.

    Parameters
    ----------
    data_dir
        Data folder (see :func:`hopscreen.data.paths.resolve_data_dir`).
    names
        Shipped model names; None: every folder under the shipped weights.
    n_boot
        Bootstrap resamples of every CI.
    cv
        Also run host-grouped 5-fold CV of the chgnet-head recipes on the 559 training hops.
    limit
        Only the first ``limit`` hops of each split (quick checks and tests).
    throughput_hops
        Hops streamed through each chgnet-head model in a fresh process for its throughput
        and peak memory (:func:`hopscreen.benchmarks.streaming.bench_chgnet_throughput`); None
        skips it (the ALIGNN throughput is a section of ``hopscreen bench`` itself).
    progress
        Called with a short message before each step.

    Returns
    -------
    dict
        ``{"default", "models": [{"name", "kind", "model_version", "size_kib",
        "seconds_per_hop", "load_seconds", "test": evaluate_model output, "cv": ... or None,
        "throughput": ... or None}],
        "seconds"}``.
    """
    t0 = time.perf_counter()
    names = names or sorted(p.name for p in SHIPPED_DIR.iterdir() if p.is_dir())
    models = []
    for name in names:
        folder = SHIPPED_DIR / name
        kind = model_kind(folder)
        progress(f"{name}: the authors' 60 test hops")
        test = evaluate_model(
            name, split="paper-test", data_dir=data_dir, device="cpu", n_boot=n_boot, limit=limit
        )
        cv_result = throughput = None
        if throughput_hops and kind == "chgnet-head":
            progress(f"{name}: throughput and peak memory over {throughput_hops} hops")
            throughput = bench_chgnet_throughput(name, throughput_hops, data_dir=data_dir)
        if cv and kind == "chgnet-head":
            progress(f"{name}: host-grouped 5-fold CV of its recipe on the training hops")
            cv_result = evaluate_model(
                name, split="cv", data_dir=data_dir, n_boot=n_boot, limit=limit
            )
            cv_result.pop("predictions", None)
        models.append(
            {
                "name": name,
                "kind": kind,
                "model_version": test["model"]["model_version"] if test.get("model") else None,
                "size_kib": _folder_kib(folder),
                "seconds_per_hop": test["seconds"]["per_hop"],
                "load_seconds": test["seconds"]["load"],
                "test": test,
                "cv": cv_result,
                "throughput": throughput,
            }
        )
    return {"default": DEFAULT_MODEL, "models": models, "seconds": time.perf_counter() - t0}


def _ci(m: dict[str, Any], digits: int = 3) -> str:
    return f"{m['value']:.{digits}f} ({m['ci_low']:.{digits}f}–{m['ci_high']:.{digits}f})"


def render_shipped_models(results: dict[str, Any], machine: str) -> str:
    """Markdown of the ``shipped-models`` section for :func:`run_shipped_models` output."""
    out = [
        "## Shipped models on the authors' test split",
        "",
        f"{machine} Measured by `hopscreen bench` in {results['seconds'] / 60:.1f} min; every "
        "row by `hopscreen evaluate --model NAME --split paper-test` code on the same 60 hops, "
        "bootstrap 95 % CIs. The default model (used when `--model` is not given) is "
        f"**`{results['default']}`**.",
        "",
        "| model (60 test hops) | kind | MAE eV (95 % CI) | R² | accuracy @0.65 eV "
        "| s/hop (CPU, after loading) | folder size |",
        "|---|---|---|---|---|---|---|",
    ]
    published: list[dict[str, Any]] = []
    comparisons = []
    for m in results["models"]:
        rows = m["test"]["rows"]
        reg = rows[0]["metrics"]["regression"]
        cls = {c["threshold_ev"]: c for c in rows[0]["metrics"]["classification"]}[0.65]
        tag = " (default)" if m["name"] == results["default"] else ""
        out.append(
            f"| `{m['name']}`{tag} `{m['model_version']}` | {m['kind']} | {_ci(reg['mae_ev'])} "
            f"| {reg['r2']['value']:.3f} | {_ci(cls['accuracy'])} | {m['seconds_per_hop']:.3f} "
            f"| {m['size_kib'] / 1024:.1f} MB |"
        )
        published = rows[1:] or published
        comparisons += [(m["name"], c) for c in m["test"].get("comparisons", [])]
    for row in published:
        reg = row["metrics"]["regression"]
        cls = {c["threshold_ev"]: c for c in row["metrics"]["classification"]}[0.65]
        out.append(
            f"| {row['label']} | published | {_ci(reg['mae_ev'])} | {reg['r2']['value']:.3f} "
            f"| {_ci(cls['accuracy'])} | | |"
        )
    out.append("")
    for name, comp in comparisons:
        d = comp["difference"]
        out.append(
            f"- `{name}`: paired bootstrap MAE(model) − MAE({comp['b']}) {d['value']:+.3f} eV "
            f"(95 % CI {d['ci_low']:+.3f}…{d['ci_high']:+.3f})."
        )
    for m in results["models"]:
        t = m.get("throughput")
        if t:
            out += [
                "",
                f"`{m['name']}` over {t['n_hops']} published bands (mean "
                f"{t['mean_band_atoms']:.0f} atoms) in a fresh process, features computed fresh: "
                f"hop vectors (CHGNet passes, and physics where the model reads it) "
                f"{t['feature_seconds']:.0f} s ({t['feature_hops_per_s']:.2f} "
                f"hops/s), trees {t['tree_seconds']:.2f} s, total "
                f"{t['total_hops_per_s']:.2f} hops/s; loading {t['load_seconds']:.1f} s; peak "
                f"resident memory {t['peak_rss_mib']:.0f} MiB "
                f"({t['peak_rss_before_stream_mib']:.0f} MiB before the first chunk).",
            ]
    cv_rows = [m for m in results["models"] if m["cv"]]
    if cv_rows:
        out += [
            "",
            "Host-grouped 5-fold CV of the recipe on the 559 training hops (out-of-fold):",
            "",
        ]
        for m in cv_rows:
            reg = m["cv"]["rows"][0]["metrics"]["regression"]
            out.append(
                f"- `{m['name']}`: MAE {_ci(reg['mae_ev'])} eV, R² {reg['r2']['value']:.3f}."
            )
    return "\n".join(out) + "\n"
