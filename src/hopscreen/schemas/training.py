"""Documents of the training feedback loop: training records, label policies, model versions.

Level keys
----------
Every barrier label carries a *level key*, a short string naming how it was computed, so that
labels of different levels of theory are never mixed silently:

* uMLIP verifications: ``"<code>-<code_version>/<method>"``, e.g. ``"CHGNet-0.3.0/NEB"``
  (``"<code>/<method>"`` when the version is unknown);
* DFT (VASP verifications and published labels): ``"DFT-<functional>"`` with the functional
  written as the published dataset writes it: ``"DFT-GGA"`` (PBE), ``"DFT-GGA+U"``,
  ``"DFT-SCAN"``, ``"DFT-LDA"``; other functionals keep their name in upper case, e.g.
  ``"DFT-R2SCAN"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from hopscreen.schemas.base import Config, Document
from hopscreen.schemas.hop import HopFailure
from hopscreen.schemas.structure import Crystal

if TYPE_CHECKING:
    from hopscreen.schemas.structure import Crystal


class BandArrays(Document):
    """A Model-3 band as plain arrays (JSON friendly): the fields of :class:`Crystal`."""

    lattice: list[list[float]] = Field(description="(3, 3) lattice vectors as rows, in Å.")
    frac_coords: list[list[float]] = Field(description="(n, 3) fractional coordinates.")
    numbers: list[int] = Field(description="(n,) atomic numbers; atoms 0-4 are the ion copies.")

    @classmethod
    def from_atoms(cls, atoms: Crystal) -> BandArrays:
        """Arrays of an :class:`~hopscreen.schemas.structure.Crystal` band."""
        return cls(
            lattice=atoms.lattice.tolist(),
            frac_coords=atoms.frac_coords.tolist(),
            numbers=[int(z) for z in atoms.numbers],
        )

    def to_atoms(self) -> Crystal:
        """The band as :class:`~hopscreen.schemas.structure.Crystal`."""
        return Crystal(self.lattice, self.frac_coords, self.numbers)


class TrainingRecord(Document):
    """One labelled band for fine-tuning: a verified hop or a published dataset record."""

    record_id: str = Field(
        description="hop_id for a verified hop, the dataset record_id (e.g. 'train-0042') "
        "for a published record."
    )
    source: Literal["dataset", "verification"] = Field(description="Where the label is from.")
    band: BandArrays | None = Field(
        None, description="The band arrays; None when only ``band_ref`` is given."
    )
    band_ref: str | None = Field(
        None,
        description="Where the band can be found again when it is not stored inline, e.g. "
        "'em_dataset:train-0042' or 'hop:<hop_id>'.",
    )
    barrier_ev: float = Field(
        description="Training label E_m in eV, after any level offset (see offset_ev)."
    )
    raw_barrier_ev: float = Field(description="Barrier as computed at its own level, in eV.")
    level_of_theory: str = Field(description="Level key of the raw label (module docstring).")
    offset_ev: float = Field(
        0.0, description="Correction added to raw_barrier_ev by the level policy, in eV."
    )
    working_ion: str | None = Field(None, description="Element of the migrating ion.")
    candidate_id: str | None = Field(None, description="Host candidate id (verifications).")
    verification_id: str | None = Field(None, description="Verification the label comes from.")
    model_version: str | None = Field(
        None,
        description="Model whose latest prediction of this hop is stored (the model the "
        "verification was selected with), if known.",
    )

    def atoms(self) -> Crystal:
        """The band as a :class:`~hopscreen.schemas.structure.Crystal` (raises if a reference)."""
        if self.band is None:
            raise ValueError(f"record {self.record_id} has no inline band ({self.band_ref})")
        return self.band.to_atoms()


class LevelPolicy(Config):
    """Which labels may be used for training together, and how others are corrected.

    A label whose level key is in ``accept`` is used as is. A label of another level with a
    declared offset is used as ``raw + offsets_ev[level]`` (declare offsets only for levels
    with a measured systematic difference, e.g. from :func:`learn_level_offset` on hops
    computed at both levels). Any other label is excluded and counted (``unknown="exclude"``)
    or stops the run (``unknown="error"``): labels are never mixed silently.
    """

    accept: list[str] = Field(
        default_factory=lambda: ["DFT-GGA", "DFT-GGA+U"],
        description="Level keys used as they are (the first is preferred when a hop has "
        "several labels).",
    )
    offsets_ev: dict[str, float] = Field(
        default_factory=dict,
        description="Per-level correction in eV added to labels of that level to bring them "
        "to the accepted level, e.g. {'CHGNet-0.3.0/NEB': 0.12}.",
    )
    unknown: Literal["exclude", "error"] = Field(
        "exclude", description="What to do with a label of a level neither accepted nor offset."
    )


class FeedbackReport(Document):
    """What :func:`~hopscreen.training.feedback.records_from_verifications` did with the store."""

    n_verifications: int = Field(0, ge=0, description="Verification documents read.")
    n_not_usable: int = Field(
        0, ge=0, description="Skipped: status not 'ok', not converged or no finite barrier."
    )
    n_band_failures: int = Field(0, ge=0, description="Skipped: hop, host or band not rebuilt.")
    n_superseded: int = Field(
        0, ge=0, description="Skipped: a hop's other label of a preferred or more recent level."
    )
    n_records: int = Field(0, ge=0, description="Training records produced.")
    accepted_by_level: dict[str, int] = Field(default_factory=dict)
    corrected_by_level: dict[str, int] = Field(default_factory=dict)
    excluded_by_level: dict[str, int] = Field(default_factory=dict)
    band_failures: list[HopFailure] = Field(
        default_factory=list, description="Each verified hop whose band could not be rebuilt."
    )


class ModelVersionDoc(Document):
    """One entry of the local model registry (see :class:`hopscreen.registry.ModelRegistry`)."""

    model_version: str = Field(description="Version from the model card, e.g. 'm3-…'.")
    name: str
    preset: str | None = None
    parent_version: str | None = Field(
        None, description="Parent version(s), comma-separated for a combined model."
    )
    created_utc: str = Field(description="When the model was saved (from its card).")
    registered_utc: str | None = Field(None, description="When it entered the registry.")
    path: str = Field(description="Absolute path of the model folder.")
    weights_sha256: list[str] = Field(description="sha256 of each weights file (card order).")
    n_train_records: int = Field(ge=0, description="Number of training data ids on the card.")
    train_ids_sha256: str = Field(
        description="sha256 over the sorted training data ids joined by newlines."
    )
    metrics: dict[str, Any] = Field(
        default_factory=dict, description="Test-split metrics from the card."
    )
    promoted: bool = False
    promoted_utc: str | None = None
    shipped: bool = Field(False, description="The shipped default (not a registry entry).")

    @property
    def parents(self) -> list[str]:
        """Parent versions (combined models list several; '#memberN' suffixes dropped)."""
        if not self.parent_version:
            return []
        out = [p.strip().split("#", 1)[0] for p in self.parent_version.split(",")]
        return list(dict.fromkeys(p for p in out if p))


class FinetuneResult(Document):
    """What one fine-tuning on verification feedback did (see ``screening.finetune``)."""

    status: Literal["finetuned", "skipped", "failed"] = Field(
        description="'skipped': too few new accepted labels; 'failed': see reason."
    )
    reason: str = Field("", description="Why it was skipped or failed, or the promotion verdict.")
    parent_version: str | None = Field(None, description="Model the fine-tuning started from.")
    parent_dir: str | None = Field(None, description="Folder of the parent model.")
    model_version: str | None = Field(None, description="The new model version, if any.")
    model_dir: str | None = Field(None, description="Folder of the new version in the registry.")
    registry: str | None = Field(None, description="Registry folder the version was written to.")
    promoted: bool = Field(False, description="Whether the new version is now the current one.")
    promotion_rule: str = Field("", description="The promotion rule that was applied.")
    n_new_records: int = Field(0, ge=0, description="Verified hops used as training records.")
    n_replay_records: int = Field(0, ge=0, description="Published training hops replayed.")
    new_record_ids: list[str] = Field(default_factory=list, description="hop_ids of new records.")
    feedback: FeedbackReport | None = Field(None, description="How the store's labels were used.")
    replay_by_level: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Published records accepted/corrected/excluded by level."
    )
    test_metrics: dict[str, Any] = Field(
        default_factory=dict, description="New version on the authors' test split."
    )
    parent_test_metrics: dict[str, Any] = Field(
        default_factory=dict, description="Parent on the same test hops, same code."
    )
    test_mae_difference: dict[str, Any] = Field(
        default_factory=dict,
        description="Paired bootstrap MAE(new) − MAE(parent) on the test hops, eV.",
    )
    seconds: float = Field(0.0, ge=0, description="Wall time of the fine-tuning step, s.")
