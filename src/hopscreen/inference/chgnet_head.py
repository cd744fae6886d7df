"""Barrier prediction with a chgnet-head model folder (:mod:`hopscreen.models.chgnet_bundle`).

A :class:`~hopscreen.inference.base.BarrierModel`: :meth:`ChgnetHeadModel.predict` yields one
:class:`~hopscreen.inference.base.Prediction` per band (mean of the members' barriers, their
spread σ, both eV, and, when the card carries a conformal calibration, the half-widths of the
calibrated 68 % and 90 % intervals, q·(σ + γ)). CHGNet runs on the CPU and is loaded on the first
prediction, not at load time.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.inference.base import Prediction
from hopscreen.models.calibration import INTERVAL_LEVELS
from hopscreen.models.chgnet_backbone import load_chgnet
from hopscreen.models.chgnet_bundle import ChgnetHeadCard, load_chgnet_head
from hopscreen.models.head_config import inverse_target
from hopscreen.models.hop_features import extract_hop_features
from hopscreen.models.trees import TreeEnsemble
from hopscreen.schemas.structure import Crystal

log = logging.getLogger(__name__)


@dataclass
class ChgnetHeadModel:
    """A loaded chgnet-head model: its card, its tree members and (lazily) CHGNet.

    Attributes
    ----------
    card : ChgnetHeadCard
        The model card.
    members : list of TreeEnsemble
        One per seed, reading ``card.feature_columns``.
    feature_cache_dir : Path, optional
        Cache root of the CHGNet hop vectors (see
        :func:`~hopscreen.models.hop_features.extract_hop_features`); None computes every
        band.
    device : str, optional
        Device of CHGNet (``cpu``, ``cuda``); None: CUDA when available, else the CPU.
    """

    card: ChgnetHeadCard
    members: list[TreeEnsemble]
    feature_cache_dir: Path | None = None
    device: str | None = None
    _backbone: Any = field(default=None, init=False, repr=False)

    @classmethod
    def load(
        cls,
        model_dir: Path | str,
        *,
        feature_cache_dir: Path | str | None = None,
        device: str | None = None,
    ) -> ChgnetHeadModel:
        """Load and verify a chgnet-head folder (CHGNet itself is loaded on first use)."""
        card, members = load_chgnet_head(model_dir)
        try:
            installed = importlib.metadata.version("chgnet")
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is not None and installed != card.chgnet_version:
            log.warning(
                "model %s was trained on chgnet %s features; chgnet %s is installed",
                card.model_version,
                card.chgnet_version,
                installed,
            )
        cache = Path(feature_cache_dir) if feature_cache_dir is not None else None
        return cls(card=card, members=members, feature_cache_dir=cache, device=device)

    @property
    def model_version(self) -> str:
        """The card's content-derived version id."""
        return self.card.model_version

    def predict_features(self, X: np.ndarray, names: list[str]) -> np.ndarray:
        """Members' barriers for CHGNet hop vectors.

        Parameters
        ----------
        X : numpy.ndarray
            (n, F) hop vectors from :func:`~hopscreen.models.hop_features.extract_hop_features`.
        names : list of str
            Their F column names; must equal the card's ``feature_names``.

        Returns
        -------
        numpy.ndarray
            (n_members, n) barriers, eV.
        """
        if list(names) != self.card.feature_names:
            raise ValueError(
                "the CHGNet hop vector's columns differ from the ones this model was trained on"
            )
        index = {name: i for i, name in enumerate(names)}
        cols = [index[c] for c in self.card.feature_columns]
        x = np.asarray(X, dtype=np.float64)[:, cols]
        x = np.where(np.isfinite(x), x, np.asarray(self.card.fill_values))
        raw = np.vstack([m.predict(x) for m in self.members])
        return inverse_target(raw, self.card.target_transform)

    def predict(
        self, bands: Iterable[Crystal], *, batch_size: int = 32, chunk_size: int = 256
    ) -> Iterator[Prediction]:
        """Predict E_m for any number of bands, streaming in chunks (bounded memory).

        Parameters
        ----------
        bands : iterable of Crystal
            Model-3 bands (five ion copies first).
        batch_size : int
            Unused: CHGNet reads one structure at a time (faster than batches on a CPU).
        chunk_size : int
            Bands whose hop vectors are held in memory at once.

        Yields
        ------
        Prediction
            One per band, in input order; σ is the members' sample standard deviation, and
            ``interval_68_ev`` / ``interval_90_ev`` are the calibrated half-widths (None
            without a calibration in the card).
        """
        iterator = iter(bands)
        while True:
            chunk = list(itertools.islice(iterator, chunk_size))
            if not chunk:
                return
            if self._backbone is None and self.card.feature_config.chgnet:
                self._backbone = load_chgnet(self.card.feature_config.model_name, self.device)
            table = extract_hop_features(
                chunk,
                config=self.card.feature_config,
                cache_dir=self.feature_cache_dir,
                model=self._backbone,
            )
            values = self.predict_features(table.X, table.names)
            yield from self.predictions_of(values)

    def predictions_of(self, values: np.ndarray) -> Iterator[Prediction]:
        """One :class:`Prediction` per hop from the members' barriers.

        Parameters
        ----------
        values : numpy.ndarray
            (n_members, n) barriers, eV (:meth:`predict_features`).

        Returns
        -------
        iterator of Prediction
            Mean, spread σ_ens and, with a calibration in the card, the half-widths
            ``q_level · (σ_ens + γ)`` of the 68 % and 90 % intervals, eV.
        """
        spread = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
        calibration = self.card.calibration
        widths: dict[str, np.ndarray | None] = {}
        for key, level in INTERVAL_LEVELS.items():
            widths[key] = None
            if calibration is not None and calibration.has_level(level):
                widths[key] = calibration.half_width(spread, level)
        for j, col in enumerate(values.T):
            w68, w90 = widths["68"], widths["90"]
            yield Prediction.from_members(
                col,
                interval_68_ev=None if w68 is None else float(w68[j]),
                interval_90_ev=None if w90 is None else float(w90[j]),
            )
