"""Candidates stage of hopscreen: host structures from files, the Materials Project or a demo set.

Materials Project candidates are fetched now (:func:`fetch_mp_candidates`) or saved once where
the network is and read offline later (:func:`save_mp_candidates`, :func:`read_candidates_file`).

Every source returns a :class:`~hopscreen.schemas.candidate.CandidateBatch`: valid
:class:`~hopscreen.schemas.candidate.CandidateDoc` s plus one
:class:`~hopscreen.schemas.candidate.CandidateFailure` per rejected input, with its reason.
Every structure passes the input gate :func:`gate_structure` (caps in :class:`InputLimits`),
which the hops stage applies again to whatever it is given.
"""

from hopscreen.candidates.demo import DemoEntry, list_demo, load_demo_candidates
from hopscreen.candidates.local import load_local_candidates, read_structures
from hopscreen.candidates.mp import MPKeyError, MPQuery, MPQueryError, fetch_mp_candidates
from hopscreen.candidates.saved import (
    CandidateFileError,
    SavedCandidates,
    read_candidates_file,
    save_mp_candidates,
)
from hopscreen.candidates.validate import (
    InputLimits,
    InvalidInputError,
    StructureProblem,
    check_working_ion,
    gate_structure,
    validate_structure,
)

__all__ = [
    "CandidateFileError",
    "DemoEntry",
    "InputLimits",
    "InvalidInputError",
    "MPKeyError",
    "MPQuery",
    "MPQueryError",
    "SavedCandidates",
    "StructureProblem",
    "check_working_ion",
    "fetch_mp_candidates",
    "gate_structure",
    "list_demo",
    "load_demo_candidates",
    "load_local_candidates",
    "read_candidates_file",
    "read_structures",
    "save_mp_candidates",
    "validate_structure",
]
