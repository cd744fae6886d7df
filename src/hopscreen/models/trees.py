"""Fitted gradient-boosted regression trees as plain arrays, predicted with numpy.

A fitted sklearn ``GradientBoostingRegressor`` is exported (:func:`export_gbr`) to a
:class:`TreeEnsemble`: the constant initial prediction, the learning rate and the
``tree_`` arrays of every stage concatenated. Saving (:func:`save_trees`) writes one ``.npz``
with numeric arrays only and loading (:func:`load_trees`) reads it with
``allow_pickle=False``, so a model file can never execute code. Prediction needs numpy only.

Arrays (n_trees stages, n_nodes nodes over all trees)
-----------------------------------------------------
==================  ===============  ==========================================================
name                shape, dtype     meaning
==================  ===============  ==========================================================
``init``            (), float64      initial raw prediction (sklearn ``init_``)
``learning_rate``   (), float64      shrinkage of every tree
``n_features``      (), int64        columns the ensemble was fitted on
``tree_start``      (n_trees+1,)     first node of each tree; the last entry is n_nodes
``children_left``   (n_nodes,)       tree-local index of the left child, −1 at a leaf
``children_right``  (n_nodes,)       tree-local index of the right child, −1 at a leaf
``feature``         (n_nodes,)       column tested at the node (sklearn writes −2 at leaves)
``threshold``       (n_nodes,) f64   go left when ``x[feature] <= threshold``
``value``           (n_nodes,) f64   node output; only leaves are used
==================  ===============  ==========================================================

Like sklearn, inputs are rounded to float32 before they are compared with the (float64)
thresholds, so predictions agree with ``GradientBoostingRegressor.predict`` to rounding of
the final sum.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_FIELDS = (
    "init",
    "learning_rate",
    "n_features",
    "tree_start",
    "children_left",
    "children_right",
    "feature",
    "threshold",
    "value",
)


class TreeFileError(ValueError):
    """A tree-ensemble file or array set is missing fields, inconsistent or unreadable."""


def _small_int(values: np.ndarray) -> np.ndarray:
    """``values`` as int16 when they fit, else int32 (smaller files, same numbers)."""
    dtype = np.int16 if values.size == 0 or np.abs(values).max() < 2**15 else np.int32
    return values.astype(dtype)


@dataclass(frozen=True)
class TreeEnsemble:
    """A sum of regression trees: ``init + learning_rate · Σ_trees value[leaf(x)]``.

    Build one with :func:`export_gbr` or :meth:`from_arrays`; the attributes are the arrays
    of the module docstring.
    """

    init: float
    learning_rate: float
    n_features: int
    tree_start: np.ndarray
    children_left: np.ndarray
    children_right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray

    @property
    def n_trees(self) -> int:
        """Number of trees (boosting stages)."""
        return len(self.tree_start) - 1

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The ensemble as named numeric arrays (inverse of :meth:`from_arrays`)."""
        return {
            "init": np.asarray(self.init, dtype=np.float64),
            "learning_rate": np.asarray(self.learning_rate, dtype=np.float64),
            "n_features": np.asarray(self.n_features, dtype=np.int64),
            "tree_start": np.asarray(self.tree_start, dtype=np.int64),
            "children_left": _small_int(self.children_left),
            "children_right": _small_int(self.children_right),
            "feature": _small_int(self.feature),
            "threshold": np.asarray(self.threshold, dtype=np.float64),
            "value": np.asarray(self.value, dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TreeEnsemble:
        """Rebuild an ensemble from :meth:`to_arrays` output, checking it is consistent.

        Raises
        ------
        TreeFileError
            A field is missing, or the arrays do not describe valid trees.
        """
        missing = [k for k in _FIELDS if k not in arrays]
        if missing:
            raise TreeFileError(f"tree arrays lack {missing}")
        start = np.asarray(arrays["tree_start"], dtype=np.int64)
        left = np.asarray(arrays["children_left"], dtype=np.int64)
        right = np.asarray(arrays["children_right"], dtype=np.int64)
        feature = np.asarray(arrays["feature"], dtype=np.int64)
        threshold = np.asarray(arrays["threshold"], dtype=np.float64)
        value = np.asarray(arrays["value"], dtype=np.float64)
        n_features = int(arrays["n_features"])
        n_nodes = len(left)
        if start.ndim != 1 or len(start) < 2 or start[0] != 0 or start[-1] != n_nodes:
            raise TreeFileError("tree_start must run from 0 to the number of nodes")
        if np.any(np.diff(start) < 1):
            raise TreeFileError("every tree needs at least one node")
        if not all(len(a) == n_nodes for a in (right, feature, threshold, value)):
            raise TreeFileError("node arrays differ in length")
        size = np.repeat(np.diff(start), np.diff(start))
        leaf = left == -1
        if np.any((right == -1) != leaf):
            raise TreeFileError("a node has exactly one child")
        if np.any((left[~leaf] <= 0) | (left[~leaf] >= size[~leaf])):
            raise TreeFileError("a left child index points outside its tree")
        if np.any((right[~leaf] <= 0) | (right[~leaf] >= size[~leaf])):
            raise TreeFileError("a right child index points outside its tree")
        if np.any((feature[~leaf] < 0) | (feature[~leaf] >= n_features)):
            raise TreeFileError(f"a split tests a column outside 0..{n_features - 1}")
        if not np.all(np.isfinite(value[leaf])):
            raise TreeFileError("a leaf value is not finite")
        return cls(
            init=float(arrays["init"]),
            learning_rate=float(arrays["learning_rate"]),
            n_features=n_features,
            tree_start=start,
            children_left=left,
            children_right=right,
            feature=feature,
            threshold=threshold,
            value=value,
        )

    def predict(self, X: np.ndarray, *, chunk_rows: int = 1024) -> np.ndarray:
        """Raw predictions of the ensemble (what sklearn's ``predict`` returns).

        All trees are walked at once, one level per step, ``chunk_rows`` rows at a time
        (memory ~ ``chunk_rows · n_trees`` indices).

        Parameters
        ----------
        X : numpy.ndarray
            (n, n_features) inputs; NaN is not allowed (fill missing values first).
        chunk_rows : int
            Rows per vectorised pass.

        Returns
        -------
        numpy.ndarray
            (n,) float64 predictions.
        """
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected (n, {self.n_features}) inputs, got {X.shape}")
        # sklearn compares float32 inputs with float64 thresholds
        X = X.astype(np.float32).astype(np.float64)
        offset = np.repeat(self.tree_start[:-1], np.diff(self.tree_start))
        left = np.where(self.children_left >= 0, self.children_left + offset, -1)
        right = np.where(self.children_right >= 0, self.children_right + offset, -1)
        out = np.empty(len(X))
        for lo in range(0, len(X), chunk_rows):
            x = X[lo : lo + chunk_rows]
            rows = np.arange(len(x))[:, None]
            node = np.broadcast_to(self.tree_start[:-1], (len(x), self.n_trees)).copy()
            while True:
                inner = left[node] >= 0
                if not inner.any():
                    break
                go_left = x[rows, np.maximum(self.feature[node], 0)] <= self.threshold[node]
                node = np.where(inner, np.where(go_left, left[node], right[node]), node)
            out[lo : lo + len(x)] = self.init + self.learning_rate * self.value[node].sum(axis=1)
        return out


def export_gbr(model: Any) -> TreeEnsemble:
    """Export a fitted sklearn ``GradientBoostingRegressor`` to a :class:`TreeEnsemble`.

    Parameters
    ----------
    model : sklearn.ensemble.GradientBoostingRegressor
        Fitted, with a constant initial estimator (the default) or ``init="zero"``.

    Returns
    -------
    TreeEnsemble
    """
    # optional heavy dependency (ml extra): scikit-learn
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import GradientBoostingRegressor

    if not isinstance(model, GradientBoostingRegressor):
        raise TypeError(f"expected a GradientBoostingRegressor, got {type(model).__name__}")
    if not hasattr(model, "estimators_"):
        raise ValueError("the GradientBoostingRegressor is not fitted")
    if isinstance(model.init_, str) and model.init_ == "zero":
        init = 0.0
    elif isinstance(model.init_, DummyRegressor):
        init = float(np.ravel(model.init_.constant_)[0])
    else:
        raise ValueError(f"cannot export an init estimator of type {type(model.init_).__name__}")
    trees = [stage[0].tree_ for stage in model.estimators_]
    sizes = [t.node_count for t in trees]
    return TreeEnsemble(
        init=init,
        learning_rate=float(model.learning_rate),
        n_features=int(model.n_features_in_),
        tree_start=np.r_[0, np.cumsum(sizes)].astype(np.int64),
        children_left=np.concatenate([t.children_left for t in trees]).astype(np.int64),
        children_right=np.concatenate([t.children_right for t in trees]).astype(np.int64),
        feature=np.concatenate([t.feature for t in trees]).astype(np.int64),
        threshold=np.concatenate([t.threshold for t in trees]).astype(np.float64),
        value=np.concatenate([t.value[:, 0, 0] for t in trees]).astype(np.float64),
    )


def save_trees(ensemble: TreeEnsemble, path: Path | str) -> Path:
    """Write an ensemble to a compressed ``.npz`` of numeric arrays; returns the path."""
    path = Path(path)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **ensemble.to_arrays())
    path.write_bytes(buffer.getvalue())
    return path


def load_trees(path: Path | str) -> TreeEnsemble:
    """Read an ensemble written by :func:`save_trees` (no pickle).

    Raises
    ------
    TreeFileError
        The file is not a readable ``.npz`` of the expected arrays.
    """
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise TreeFileError(f"cannot read tree arrays from {path}: {exc}") from exc
    try:
        return TreeEnsemble.from_arrays(arrays)
    except TreeFileError as exc:
        raise TreeFileError(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise TreeFileError(f"{path}: malformed tree arrays: {exc}") from exc


def arrays_digest(ensemble: TreeEnsemble) -> str:
    """sha256 over the ensemble's array contents (names, dtypes, shapes, bytes).

    Unlike the checksum of the ``.npz`` file it does not depend on zip timestamps, so it can
    name the content.
    """
    h = hashlib.sha256()
    for name, arr in sorted(ensemble.to_arrays().items()):
        arr = np.ascontiguousarray(arr)
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()
