from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hopscreen.schemas.candidate import (
    CandidateBatch,
    CandidateDoc,
    CandidateFailure,
    compute_candidate_id,
)


def _id(s: Structure) -> str:
    return compute_candidate_id(s)[0]


def test_id_is_sha256_with_space_group(licoo2):
    cid, number, symbol = compute_candidate_id(licoo2)
    assert len(cid) == 64 and int(cid, 16) >= 0
    assert (number, symbol) == (166, "R-3m")


def test_id_invariant_to_atom_order(licoo2):
    rng = np.random.default_rng(0)
    order = rng.permutation(len(licoo2))
    shuffled = Structure.from_sites([licoo2[int(i)] for i in order])
    assert _id(shuffled) == _id(licoo2)


def test_id_invariant_to_origin_shift(licoo2):
    shifted = licoo2.copy()
    shifted.translate_sites(range(len(shifted)), [0.137, 0.291, 0.043], to_unit_cell=True)
    assert _id(shifted) == _id(licoo2)


def test_id_invariant_to_supercell_and_primitive(licoo2):
    supercell = licoo2 * (2, 2, 1)
    primitive = SpacegroupAnalyzer(licoo2).get_primitive_standard_structure()
    assert len(primitive) == 4
    assert _id(supercell) == _id(licoo2) == _id(primitive)


def test_id_invariant_to_oxidation_states(licl):
    decorated = licl.copy()
    decorated.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    assert _id(decorated) == _id(licl)


def test_id_differs_between_structures(licl, licoo2):
    strained = licl.copy()
    strained.scale_lattice(licl.volume * 1.1)
    other = Structure(Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    ids = {_id(licl), _id(strained), _id(other), _id(licoo2)}
    assert len(ids) == 4


def test_doc_round_trip_and_extra_fields_forbidden(licoo2):
    doc = CandidateDoc.from_structure(
        licoo2, name="x", source="file", source_ref="x.cif", working_ion="Li"
    )
    assert doc.formula == "LiCoO2" and doc.n_sites == 12 and doc.space_group_number == 166
    assert doc.get_structure() == licoo2
    again = CandidateDoc.model_validate_json(doc.model_dump_json())
    assert again.candidate_id == doc.candidate_id and again.get_structure() == licoo2
    with pytest.raises(ValidationError):
        CandidateDoc.model_validate({**doc.model_dump(), "unknown": 1})
    with pytest.raises(ValidationError):
        CandidateFailure(name="x", source_ref="y", code="not-a-code", reason="r")


def test_batch_extend_reports_duplicates(licl):
    a = CandidateDoc.from_structure(licl, name="a", source="file", source_ref="a", working_ion="Li")
    b = a.model_copy(update={"name": "b", "source_ref": "b"})
    batch = CandidateBatch(candidates=[a])
    batch.extend(CandidateBatch(candidates=[b]))
    assert [c.name for c in batch.candidates] == ["a"]
    assert batch.failures[0].code == "duplicate" and "'a'" in batch.failures[0].reason
