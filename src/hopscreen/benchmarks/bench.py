"""Benchmarks written to ``BENCHMARKS.md``: accuracy, inference throughput, training speed.

Every figure is measured by this module on the machine it runs on (described in the output);
nothing is copied in by hand except the published reference numbers, which are labelled.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hopscreen.benchmarks import screening as bs
from hopscreen.benchmarks.machine import machine_description, peak_rss_mib
from hopscreen.benchmarks.streaming import bench_memory_scaling
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.evaluation.evaluate import evaluate_model
from hopscreen.graphs.batch import collate
from hopscreen.graphs.build import build_graph
from hopscreen.inference.alignn import predict_graphs
from hopscreen.inference.load import load_model
from hopscreen.models.alignn import ALIGNN, count_parameters
from hopscreen.models.shipped import alignn_model_dir
from hopscreen.training.config import get_preset


def bench_inference(
    n_hops: int,
    *,
    model_dir: Path | None = None,
    data_dir: Path | None = None,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Throughput of graph building and of the ensemble forward pass on ``n_hops`` real bands.

    Bands are the published dataset's, cycled to reach ``n_hops``; graphs are built fresh (no
    cache) and dropped after each chunk, so memory stays bounded. Peak resident memory is the
    process maximum (it includes the model and the dataset).
    """
    model = load_model(model_dir, device="cpu")
    bands = [r.band for r in load_em_dataset(data_dir)]
    rss_before = peak_rss_mib()
    t_graph = t_fwd = 0.0
    atoms = 0
    stream = itertools.islice(itertools.cycle(bands), n_hops)
    while True:
        chunk = list(itertools.islice(stream, 128))
        if not chunk:
            break
        t = time.perf_counter()
        graphs = [build_graph(b, model.card.graph) for b in chunk]
        t_graph += time.perf_counter() - t
        t = time.perf_counter()
        predict_graphs(graphs, model, batch_size=batch_size)
        t_fwd += time.perf_counter() - t
        atoms += sum(len(b) for b in chunk)
    return {
        "model_version": model.model_version,
        "ensemble_size": model.card.ensemble_size,
        "n_hops": n_hops,
        "mean_band_atoms": atoms / max(n_hops, 1),
        "graph_seconds": t_graph,
        "forward_seconds": t_fwd,
        "graph_hops_per_s": n_hops / t_graph,
        "forward_hops_per_s": n_hops / t_fwd,
        "total_hops_per_s": n_hops / (t_graph + t_fwd),
        "peak_rss_mib": peak_rss_mib(),
        "peak_rss_before_mib": rss_before,
    }


def bench_training(
    preset_names: tuple[str, ...] = ("fast", "paper"),
    *,
    n_bands: int = 32,
    data_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Seconds per fine-tuning epoch on the 559 training bands, per preset, on this CPU.

    Times optimisation steps on ``n_bands`` bands (graphs prebuilt) and scales to 559.
    """
    records = load_em_dataset(data_dir, splits=("train",))
    rng = np.random.default_rng(0)
    chosen = [records[i] for i in rng.choice(len(records), size=n_bands, replace=False)]
    graphs = [build_graph(r.band) for r in chosen]
    out = []
    for name in preset_names:
        preset = get_preset(name)
        model = ALIGNN(preset.model)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        micro = preset.finetune.micro_batch_size or preset.finetune.batch_size
        step = min(micro, n_bands)
        t = time.perf_counter()
        for i in range(0, n_bands, step):
            batch = collate(graphs[i : i + step], with_line_graph=preset.model.uses_line_graph)
            model(batch).sum().backward()
            opt.step()
            opt.zero_grad()
        seconds = time.perf_counter() - t
        out.append(
            {
                "preset": name,
                "parameters": count_parameters(model),
                "timed_bands": n_bands,
                "seconds_per_epoch_559": seconds / n_bands * 559,
            }
        )
    return out


def run_benchmarks(
    *,
    n_hops: int = 1000,
    accuracy: bool = True,
    screening: bool = True,
    memory_sizes: tuple[int, ...] = (100, 1000, 2000, 10000),
    memory_budget_s: float = 900.0,
    data_dir: Path | None = None,
    previous: dict[str, Any] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Run every benchmark section of the ALIGNN engine and return the figures.

    Accuracy, throughput and the screening sections use the shipped ALIGNN ensemble
    (``model3-default``), whatever the default model is; :mod:`hopscreen.benchmarks.models`
    compares all shipped models.

    Sections already present in ``previous`` (the JSON of an earlier run on this machine) are
    kept as they are and not run again; the machine description is that of the first run.
    The screening sections pin torch to one thread (two-thread jobs next to each other
    oversubscribe a two-core machine).
    """
    alignn = alignn_model_dir()
    results: dict[str, Any] = dict(previous or {})
    results.setdefault("machine", machine_description())
    t0 = time.perf_counter()
    if accuracy and "accuracy" not in results:
        progress("accuracy on the authors' 60 test hops")
        results["accuracy"] = evaluate_model(
            alignn, split="paper-test", data_dir=data_dir, device="cpu"
        )
    if "inference" not in results:
        progress(f"inference throughput on {n_hops} hops")
        results["inference"] = bench_inference(n_hops, model_dir=alignn, data_dir=data_dir)
    if "training" not in results:
        progress("training speed per preset")
        results["training"] = bench_training(data_dir=data_dir)
    if screening:
        if "surrogate_vs_neb" not in results:
            progress("Model-3 vs CHGNet NEB on the same hops")
            results["surrogate_vs_neb"] = bs.bench_surrogate_vs_neb(
                3, model_dir=alignn, threads=1, progress=progress
            )
        if "round" not in results:
            progress("end-to-end demo round without verification")
            results["round"] = bs.bench_round_throughput(model_dir=alignn, threads=1)
        if "memory" not in results:
            progress(f"memory scaling over {memory_sizes} hops")
            results["memory"] = bench_memory_scaling(
                memory_sizes, time_budget_s=memory_budget_s, threads=1, data_dir=data_dir
            )
    results["seconds"] = float(results.get("seconds", 0.0)) + time.perf_counter() - t0
    return results


def _screening_markdown(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    sv = results.get("surrogate_vs_neb")
    if sv:
        ratio = sv.get("ratio_neb_over_surrogate")
        out += [
            "## Model-3 prediction vs CHGNet NEB, same hops, one run",
            "",
            f"Surrogate: {sv['surrogate_stage']} (model `{sv['model_version']}`, "
            f"{sv['ensemble_size']} members). NEB: {sv['neb_stage']}; capped: {sv['neb_caps']}. "
            f"torch threads: {sv['torch_threads']}.",
            "",
            "| host | hop length Å | band atoms | NEB atoms | Model-3 s | E_m ± σ eV "
            "| NEB s | NEB barrier eV | converged |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sv["hops"]:
            nb = r["neb_barrier_ev"]
            out.append(
                f"| {r['host']} | {r['length_angstrom']:.2f} | {r['band_atoms']} "
                f"| {r['neb_atoms']} | {r['surrogate_seconds']:.2f} "
                f"| {r['predicted_barrier_ev']:.2f} ± {r['predicted_sigma_ev']:.2f} "
                f"| {r['neb_seconds']:.1f} | {'n/a' if nb is None else f'{nb:.2f}'} "
                f"| {'yes' if r['neb_converged'] else 'no'} |"
            )
        out += [
            "",
            f"Medians: Model-3 {sv['surrogate_median_s']:.2f} s per hop, CHGNet NEB "
            f"{sv['neb_median_s']:.1f} s per hop: the NEB costs "
            f"{'n/a' if ratio is None else f'{ratio:.0f}'}× more (one-time loading excluded: "
            f"model {sv['model_load_seconds']:.1f} s, CHGNet {sv['chgnet_load_seconds']:.1f} s). "
            "The NEB runs on small capped cells, so the ratio understates the cost of a "
            "converged production NEB.",
            "",
        ]
    rnd = results.get("round")
    if rnd:
        out += [
            "## End-to-end demo round without verification",
            "",
            f"{rnd['candidates']} candidates → {rnd['hops']} hops ({rnd['hop_failures']} failed) "
            f"→ {rnd['predictions']} predictions → selection → store in {rnd['seconds']:.1f} s: "
            f"**{rnd['hops_per_s']:.2f} hops/s** (includes {rnd['includes']}).",
            "",
        ]
    mem = results.get("memory")
    if mem:
        out += [
            "## Memory of streaming prediction (bounded)",
            "",
            f"`{mem['preset']}` architecture, {mem['weights']}; batch {mem['batch_size']}, chunks "
            f"of {mem['chunk_size']}; {mem['measurement']}.",
            "",
            "| hops | seconds | hops/s | peak RSS MiB | growth while streaming MiB |",
            "|---|---|---|---|---|",
        ]
        for row in mem["sizes"]:
            if row.get("skipped"):
                out.append(
                    f"| {row['n_hops']} | not run (estimated {row['estimated_seconds']:.0f} s > "
                    "budget) | | | |"
                )
            else:
                out.append(
                    f"| {row['n_hops']} | {row['seconds']:.1f} | {row['hops_per_s']:.2f} "
                    f"| {row.get('peak_rss_mib', float('nan')):.0f} "
                    f"| {row.get('stream_increase_mib', float('nan')):.0f} |"
                )
        verdict = {
            True: "yes: the largest run grows within 25 % (+64 MiB) of the smallest full one",
            False: "no: memory grew with the number of hops",
            None: "not determined (needs two sizes that each pass through every distinct band)",
        }[mem["bounded"]]
        out += ["", f"Bounded: {verdict}.", ""]
    return out


def _fmt_ci(m: dict[str, Any] | None, digits: int = 3) -> str:
    if not m or m.get("value") is None:
        return "n/a"
    return f"{m['value']:.{digits}f} ({m['ci_low']:.{digits}f}–{m['ci_high']:.{digits}f})"


def _accuracy_table(acc: dict[str, Any]) -> list[str]:
    lines = [
        "| model (60 test hops) | MAE eV (95 % CI) | RMSE eV | R² | median AE eV "
        "| accuracy @0.65 eV | precision good / bad @0.65 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in acc["rows"]:
        reg = row["metrics"]["regression"]
        cls = {c["threshold_ev"]: c for c in row["metrics"]["classification"]}.get(0.65)
        acc65 = _fmt_ci(cls["accuracy"]) if cls else "n/a"
        prec = (
            f"{cls['good']['precision']:.3f} / {cls['bad']['precision']:.3f}"
            if cls and cls["good"]["precision"] is not None
            else "n/a"
        )
        lines.append(
            f"| {row['label']} | {_fmt_ci(reg['mae_ev'])} | {_fmt_ci(reg['rmse_ev'])} "
            f"| {_fmt_ci(reg['r2'])} | {_fmt_ci(reg['median_ae_ev'])} | {acc65} | {prec} |"
        )
    return lines


def _header_markdown(results: dict[str, Any]) -> list[str]:
    """Title, provenance, machine line and the note of the person who ran it."""
    m = results["machine"]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = [
        "# Benchmarks",
        "",
        f"Written by `hopscreen bench` ({when}); every figure below was measured on this machine "
        "by `hopscreen bench` (sections kept from an earlier run with `--from-json` included) "
        "unless labelled otherwise. Regenerate with `make bench`.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
        f"torch {m['torch']} ({m['torch_threads']} threads), GPU: {m['cuda'] or 'none'}; "
        f"load average at start {m['load_average_at_start']:.2f}.",
        "",
    ]
    if results.get("note"):
        out += [f"Conditions noted by the person who ran it: {results['note']}", ""]
    return out


def _accuracy_markdown(acc: dict[str, Any]) -> list[str]:
    """The accuracy section: table and paired bootstrap differences."""
    out = [
        "## Accuracy on the authors' test split",
        "",
        "Shipped ALIGNN Model-3 ensemble "
        f"`{acc['model']['model_version'] if acc.get('model') else '?'}` (`model3-default`;"
        " every shipped model is compared in the shipped-models section) against the "
        "paper's own Model-3 test predictions and the MACE NEB (relaxed "
        "endpoints) barriers from the published spreadsheet, all scored by the same code "
        "(`hopscreen evaluate --split paper-test`), bootstrap 95 % CIs "
        f"({acc['bootstrap']['n_boot']} resamples).",
        "",
        *_accuracy_table(acc),
        "",
    ]
    for comp in acc.get("comparisons", []):
        d = comp["difference"]
        out.append(
            f"- Paired bootstrap, MAE({comp['a']}) − MAE({comp['b']}): {d['value']:+.3f} eV "
            f"(95 % CI {d['ci_low']:+.3f}…{d['ci_high']:+.3f})."
        )
    out.append("")
    return out


def _speed_markdown(inf: dict[str, Any], training: list[dict[str, Any]]) -> list[str]:
    """The inference throughput and fine-tuning speed sections."""
    out = [
        "## Inference throughput (CPU)",
        "",
        f"{inf['n_hops']} hop bands of the published dataset (mean {inf['mean_band_atoms']:.0f} "
        f"atoms), ALIGNN `model3-default` ({inf['ensemble_size']} members), batch 16, streamed "
        "in chunks "
        "of 128:",
        "",
        "| stage | seconds | hops/s |",
        "|---|---|---|",
        f"| graph building (numpy, 1 process) | {inf['graph_seconds']:.1f} "
        f"| {inf['graph_hops_per_s']:.2f} |",
        f"| forward pass, whole ensemble | {inf['forward_seconds']:.1f} "
        f"| {inf['forward_hops_per_s']:.2f} |",
        f"| total | {inf['graph_seconds'] + inf['forward_seconds']:.1f} "
        f"| {inf['total_hops_per_s']:.2f} |",
        "",
        f"Peak resident memory of the process: {inf['peak_rss_mib']:.0f} MiB "
        f"({inf['peak_rss_before_mib']:.0f} MiB before the first chunk).",
        "",
        "## Fine-tuning speed (CPU)",
        "",
        "| preset | parameters | seconds per epoch (559 bands, extrapolated) |",
        "|---|---|---|",
    ]
    for row in training:
        out.append(
            f"| {row['preset']} | {row['parameters']:,} | {row['seconds_per_epoch_559']:.0f} "
            f"(timed on {row['timed_bands']} bands) |"
        )
    out.append("")
    return out


def _card_markdown(card: Any) -> list[str]:
    """How the shipped ALIGNN model was trained, from its model card."""
    members = card.training.get("members", [])
    out = [
        "## How the shipped ALIGNN model was trained (recorded by the training run, not by bench)",
        "",
        f"`{card.model_version}` ({card.preset} preset, ion-copy marker "
        f"{'on' if card.architecture.mark_ion_copies else 'off'}, {card.ensemble_size} "
        f"members, weights {card.weights_dtype}). {card.notes}",
        "",
        "| member | source | epochs run | best epoch | validation MAE eV | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for i, mem in enumerate(members):
        out.append(
            f"| {i} | {mem.get('source', '')} | {mem.get('epochs_run')} "
            f"| {mem.get('best_epoch')} | {mem.get('best_val_l1_ev', float('nan')):.3f} "
            f"| {mem.get('seconds', 0):.0f} |"
        )
    out.append("")
    return out


def render_markdown(results: dict[str, Any], card: Any | None = None) -> str:
    """BENCHMARKS.md text for the output of :func:`run_benchmarks`.

    Parameters
    ----------
    results
        What :func:`run_benchmarks` returned (``machine``, ``inference`` and ``training``
        required; ``accuracy``, ``note`` and the screening sections optional).
    card
        Model card of the shipped ALIGNN model; None leaves out how it was trained.

    Returns
    -------
    str
        The markdown text, ending in a newline.
    """
    out = _header_markdown(results)
    if "accuracy" in results:
        out += _accuracy_markdown(results["accuracy"])
    out += _speed_markdown(results["inference"], results["training"])
    if card is not None:
        out += _card_markdown(card)
    out += _screening_markdown(results)
    out.append(f"Total bench time: {results['seconds'] / 60:.1f} min.")
    return "\n".join(out) + "\n"
