"""Candidates stage of hopscreen: host structures from files, the Materials Project or a demo set.

Every source returns a :class:`~hopscreen.schemas.candidate.CandidateBatch`: valid
:class:`~hopscreen.schemas.candidate.CandidateDoc` s plus one
:class:`~hopscreen.schemas.candidate.CandidateFailure` per rejected input, with its reason.
"""

from hopscreen.candidates.demo import DemoEntry, list_demo, load_demo_candidates
from hopscreen.candidates.local import load_local_candidates, read_structures
from hopscreen.candidates.mp import MPKeyError, MPQueryError, fetch_mp_candidates
from hopscreen.candidates.validate import StructureProblem, validate_structure

__all__ = [
    "DemoEntry",
    "MPKeyError",
    "MPQueryError",
    "StructureProblem",
    "fetch_mp_candidates",
    "list_demo",
    "load_demo_candidates",
    "load_local_candidates",
    "read_structures",
    "validate_structure",
]
