from __future__ import annotations

import pytest

from hopscreen.hops import (
    SupercellError,
    SupercellOptions,
    check_endpoint_counts,
    enumerate_hops,
    supercell_endpoints,
)


def test_olivine_supercell_counts(olivine):
    hop = enumerate_hops(olivine, "Li")[0]
    ends = supercell_endpoints(hop)
    assert len(ends.base) == 168
    assert len(ends.initial) == len(ends.final) == 167
    assert ends.initial.composition["Li"] == ends.base.composition["Li"] - 1 == 23
    assert min(ends.base.lattice.abc) >= SupercellOptions().min_length_angstrom


def test_small_supercell_option(layered):
    hop = enumerate_hops(layered, "Li")[0]
    ends = supercell_endpoints(
        hop, SupercellOptions(min_atoms=10, max_atoms=40, min_length_angstrom=5.0)
    )
    assert len(ends.base) == 72  # max_atoms is a soft limit in pymatgen: raised until a cell fits
    assert len(ends.initial) == len(ends.base) - 1


def test_extra_atom_is_caught(olivine):
    hop = enumerate_hops(olivine, "Li")[0]
    ends = supercell_endpoints(hop)
    # the known failure: the ion at the other endpoint is not removed
    with pytest.raises(SupercellError, match="initial endpoint has 168 atoms"):
        check_endpoint_counts(ends.base, ends.base, ends.final, "Li")
    wrong = ends.final.copy()
    wrong.replace(0, "Na")
    with pytest.raises(SupercellError, match="final"):
        check_endpoint_counts(ends.base, ends.initial, wrong, "Li")


def test_options_forbid_unknown_fields():
    with pytest.raises(ValueError):
        SupercellOptions(min_length=12.0)
