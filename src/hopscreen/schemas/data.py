"""Documents of the data layer: published barrier records, file checks and join reports."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, computed_field, field_serializer

from hopscreen.schemas.base import Document
from hopscreen.schemas.structure import Crystal


class EmRecord(Document):
    """One published migration-barrier hop (a Model-3 band record joined to its spreadsheet row).

    The band is the initial supercell (vacancy at the end site) with five copies of the
    migrating ion at t = 0, ¼, ½, ¾, 1 as atoms 0–4.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, validate_assignment=False)

    record_id: str = Field(description="Stable id from split and index, e.g. 'train-0042'.")
    split: Literal["train", "val", "test"] = Field(
        description="The authors' split: train/test (Em dataset); LiTraj sets also have val."
    )
    index: int = Field(ge=0, description="Position in the split's JSON file (equals its jid).")
    sys_name: str = Field(description="The authors' unique hop label, e.g. 'CaMnP2O7_1'.")
    structure_class: str = Field(description="Structural class ('class'), e.g. 'OLIVINE'.")
    formula: str = Field(description="Formula of the band as stored, e.g. 'Ho16 Mg11 S32'.")
    working_ion: str = Field(description="Element of the migrating ion (atoms 0–4).")
    barrier_ev: float = Field(description="DFT-NEB migration barrier E_m, eV (the target).")
    band_hash: str = Field(description="sha256 fingerprint of the band arrays (Crystal).")
    band: Crystal | None = Field(
        default=None, description="The band; None when loaded with with_structures=False."
    )
    n_atoms_band: int = Field(ge=6, description="Crystal in the band (host + 5 ion copies).")
    composition: str | None = Field(default=None, description="Host label of the spreadsheet.")
    path_info: str | None = Field(default=None, description="Pathway label of the spreadsheet.")
    space_group: str | None = Field(default=None, description="Space group as tabulated.")
    crystal_system: str | None = Field(default=None, description="Crystal system, e.g. 'Cubic'.")
    xc_functional: str | None = Field(
        default=None, description="Level of theory of the NEB: 'GGA', 'GGA+U', 'SCAN' or 'LDA'."
    )
    source: str = Field(description="Citation / dataset id of the record.")

    @field_serializer("band", when_used="json")
    def _band_to_json(self, band: Crystal | None) -> dict[str, Any] | None:
        if band is None:
            return None
        return {
            "lattice": band.lattice.tolist(),
            "frac_coords": band.frac_coords.tolist(),
            "numbers": band.numbers.tolist(),
        }


class FileStatus(Document):
    """The check of one registered data file."""

    model_config = ConfigDict(frozen=True)

    dataset: str = Field(description="Registry dataset name.")
    path: str = Field(description="Path relative to the data directory.")
    expected_sha256: str
    actual_sha256: str | None = Field(default=None, description="None when the file is absent.")
    present: bool
    required: bool = True
    size: int | None = Field(default=None, description="Size in bytes, None when absent.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when the file is present and its checksum matches."""
        return self.present and self.actual_sha256 == self.expected_sha256


class UnmatchedItem(Document):
    """A record or spreadsheet row that could not be joined, and why."""

    id: str = Field(description="record_id of a JSON record, or 'row-<n>' of a sheet row.")
    sys_name: str | None = None
    reason: str


class JoinReport(Document):
    """Outcome of joining the band records to the COMPLETE-TABUATION rows."""

    n_records: int
    n_rows: int
    n_matched: int
    unmatched_records: list[UnmatchedItem] = Field(default_factory=list)
    unmatched_rows: list[UnmatchedItem] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when every record and every row was joined exactly once."""
        return not self.unmatched_records and not self.unmatched_rows
