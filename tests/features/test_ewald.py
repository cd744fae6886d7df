from __future__ import annotations

import numpy as np

from hopscreen.features.ewald import _reciprocal_vectors, _structure_factor


def test_structure_factor_equals_the_direct_sum_over_sources() -> None:
    rng = np.random.default_rng(3)
    lattice = np.array([[7.0, 0.0, 0.0], [1.2, 6.1, 0.0], [-0.8, 0.9, 8.3]])
    frac = rng.random((23, 3)) * 1.3 - 0.15  # some outside the cell
    q = rng.normal(size=23)
    m, k = _reciprocal_vectors(lattice, 2.3)
    assert len(m) > 30
    np.testing.assert_array_equal(m @ (2 * np.pi * np.linalg.inv(lattice).T), k)
    direct = np.exp(-1j * ((frac @ lattice) @ k.T)).T @ q
    np.testing.assert_allclose(_structure_factor(m, frac, q), direct, rtol=0, atol=1e-11)
