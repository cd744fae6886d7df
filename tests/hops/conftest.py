"""Fixtures of the hops tests."""

from __future__ import annotations

import pytest
from hops_structures import layered_licoo2, olivine_lifepo4
from pymatgen.core import Structure


@pytest.fixture(scope="session")
def olivine() -> Structure:
    return olivine_lifepo4()


@pytest.fixture(scope="session")
def layered() -> Structure:
    return layered_licoo2()
