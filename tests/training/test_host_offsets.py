"""Shrunken per-host offsets from held-out residuals."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.training.host_offsets import apply_offsets, host_offsets, log_residuals


def test_offsets_recover_host_shifts_and_shrink_small_hosts() -> None:
    rng = np.random.default_rng(0)
    shifts = {f"h{i}": s for i, s in enumerate(rng.normal(0, 0.3, 40))}
    groups, residuals = [], []
    for g, s in shifts.items():
        n = 1 if g == "h0" else 8
        groups += [g] * n
        residuals += list(s + rng.normal(0, 0.1, n))
    off = host_offsets(groups, np.array(residuals))
    big = [g for g in shifts if g != "h0"]
    err = np.mean([abs(off[g] - shifts[g]) for g in big])
    assert err < 0.06  # close to the true shift for hosts with 8 residuals
    assert abs(off["h0"]) < abs(residuals[0])  # one residual: shrunk towards zero
    assert np.sign(off["h0"]) == np.sign(residuals[0])


def test_pure_noise_gives_small_offsets() -> None:
    rng = np.random.default_rng(1)
    groups = [f"h{i // 4}" for i in range(200)]
    residuals = rng.normal(0, 0.2, 200)
    off = host_offsets(groups, residuals)
    raw = [residuals[i : i + 4].mean() for i in range(0, 200, 4)]
    assert np.mean(np.abs(list(off.values()))) < 0.5 * np.mean(np.abs(raw))


def test_fewer_than_two_hosts_or_nan_residuals() -> None:
    assert host_offsets(["a", "a"], np.array([0.1, 0.2])) == {}
    off = host_offsets(["a", "b", "b"], np.array([np.nan, 0.1, 0.3]))
    assert off == {}  # only one host has a finite residual


def test_apply_moves_only_hosts_with_an_offset() -> None:
    pred = np.array([[0.5, -0.1, 1.0], [0.7, -0.2, 1.2]])
    out = apply_offsets(pred, ["a", "b", "c"], {"a": np.log(2.0), "c": 0.0})
    assert out[:, 0] == pytest.approx(2.0 * (1 + pred[:, 0]) - 1)
    assert np.array_equal(out[:, 1:], pred[:, 1:])  # no offset or a zero one: unchanged


def test_log_residuals_clip_negative_predictions() -> None:
    r = log_residuals(np.array([1.0, 0.5]), np.array([1.0, -0.3]))
    assert r == pytest.approx([0.0, np.log1p(0.5)])
