"""Candidates stage of hopscreen: host structures from files, the Materials Project or a demo set.

Every source returns a :class:`~hopscreen.schemas.candidate.CandidateBatch`: valid
:class:`~hopscreen.schemas.candidate.CandidateDoc` s plus one
:class:`~hopscreen.schemas.candidate.CandidateFailure` per rejected input, with its reason.
Every structure passes the input gate :func:`gate_structure` (caps in :class:`InputLimits`),
which the hops stage applies again to whatever it is given.
"""

from hopscreen.candidates.demo import DemoEntry, list_demo, load_demo_candidates
from hopscreen.candidates.local import load_local_candidates, read_structures
from hopscreen.candidates.mp import MPKeyError, MPQueryError, fetch_mp_candidates
from hopscreen.candidates.validate import (
    InputLimits,
    InvalidInputError,
    StructureProblem,
    check_working_ion,
    gate_structure,
    validate_structure,
)

__all__ = [
    "DemoEntry",
    "InputLimits",
    "InvalidInputError",
    "MPKeyError",
    "MPQueryError",
    "StructureProblem",
    "check_working_ion",
    "fetch_mp_candidates",
    "gate_structure",
    "list_demo",
    "load_demo_candidates",
    "load_local_candidates",
    "read_structures",
    "validate_structure",
]
