from __future__ import annotations

import math

import numpy as np
import pytest

import hopscreen.hops.percolation as percolation
from hopscreen.hops.network import (
    MigrationNetwork,
    NetworkEdge,
    enumerate_hops_and_network,
    migration_network,
)
from hopscreen.hops.percolation import (
    Percolation,
    network_dimension,
    percolation_barrier_samples,
    percolation_barriers,
)

X, Y, Z = (1, 0, 0), (0, 1, 0), (0, 0, 1)
ORIGIN = (0, 0, 0)


def edge(u: int, v: int, image: tuple[int, int, int] = ORIGIN, hop_id: str = "h") -> NetworkEdge:
    return NetworkEdge(u=u, v=v, image=image, hop_id=hop_id)


def network(n_sites: int, edges: list[NetworkEdge]) -> MigrationNetwork:
    return MigrationNetwork(
        n_sites=n_sites, edges=tuple(edges), hop_ids=tuple(sorted({e.hop_id for e in edges}))
    )


CUBIC = network(1, [edge(0, 0, X, "x"), edge(0, 0, Y, "y"), edge(0, 0, Z, "z")])


@pytest.mark.parametrize(
    ("n_sites", "edges", "expected"),
    [
        (1, [edge(0, 0, X), edge(0, 0, Y), edge(0, 0, Z)], 3),  # simple cubic
        (1, [edge(0, 0, X)], 1),  # a self-loop to the next cell is a chain
        (2, [edge(0, 1), edge(1, 0, X)], 1),  # a two-site chain
        (2, [edge(0, 1), edge(0, 1, X)], 1),  # the same chain written from site 0
        (3, [edge(0, 1), edge(1, 2), edge(2, 0)], 0),  # a finite triangle
        (3, [edge(0, 1), edge(1, 2, Y)], 0),  # a finite cluster reaching into the next cell
        (2, [], 0),
        (0, [], 0),
        (1, [edge(0, 0, X), edge(0, 0, (2, 0, 0))], 1),  # parallel translations: rank 1
        (1, [edge(0, 0, (1, 1, 0)), edge(0, 0, (1, -1, 0))], 2),
        (2, [edge(0, 1), edge(0, 1, (-1, 0, 0)), edge(0, 1, (0, -1, 0))], 2),  # honeycomb
        (2, [edge(0, 0, X), edge(1, 1, Y)], 1),  # two crossing chains, not connected: 1
        (2, [edge(0, 0, X), edge(1, 1, Y), edge(0, 1)], 2),  # ... joined: a layer
        (4, [edge(0, 1), edge(1, 2), edge(2, 3), edge(3, 0, Z), edge(1, 1, X)], 2),
    ],
)
def test_network_dimension(n_sites, edges, expected):
    assert network_dimension(n_sites, edges) == expected
    # either direction of every edge describes the same crystal
    flipped = [edge(e.v, e.u, tuple(-i for i in e.image)) for e in edges]
    assert network_dimension(n_sites, flipped) == expected
    assert network_dimension(n_sites, edges + flipped) == expected


def test_edge_outside_the_cell_is_refused():
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        network_dimension(2, [edge(0, 2)])


def test_classes_switch_on_in_barrier_order():
    result = percolation_barriers(CUBIC, {"x": 0.3, "y": 0.1, "z": 0.2, "unused": 0.0})
    assert result == {
        1: Percolation(dimension=1, barrier_ev=0.1, bottleneck_hop_id="y"),
        2: Percolation(dimension=2, barrier_ev=0.2, bottleneck_hop_id="z"),
        3: Percolation(dimension=3, barrier_ev=0.3, bottleneck_hop_id="x"),
    }


def test_tied_classes_are_switched_on_together():
    result = percolation_barriers(CUBIC, {"x": 0.2, "y": 0.2, "z": 0.5})
    assert result[1] == Percolation(1, 0.2, "x")  # x alone already percolates
    assert result[2] == Percolation(2, 0.2, "x")  # the tie together makes the layer
    assert result[3] == Percolation(3, 0.5, "z")
    # a tie whose first class is a finite cluster: the chain is the bottleneck
    mixed = network(2, [edge(0, 1, ORIGIN, "a"), edge(0, 0, X, "b")])
    assert percolation_barriers(mixed, {"a": 0.4, "b": 0.4})[1] == Percolation(1, 0.4, "b")


def test_never_percolating_dimensions_are_none():
    chain = network(2, [edge(0, 1, ORIGIN, "a"), edge(1, 0, X, "b"), edge(0, 1, Y, "c")])
    result = percolation_barriers(chain, {"a": 0.5, "b": 0.1, "c": 0.3})
    # b alone is a finite pair; b and c make a chain along [110]; a adds the layer
    assert result[1] == Percolation(1, 0.3, "c")
    assert result[2] == Percolation(2, 0.5, "a")
    assert result[3] == Percolation(3, None, None)
    empty = network(3, [])
    assert all(p.barrier_ev is None for p in percolation_barriers(empty, {}).values())


def test_missing_or_bad_barriers_raise():
    with pytest.raises(ValueError, match="no barrier for 1 of the network's 3 hop classes: z"):
        percolation_barriers(CUBIC, {"x": 0.1, "y": 0.2})
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"barrier of hop y is .*must be finite"):
            percolation_barriers(CUBIC, {"x": 0.1, "y": bad, "z": 0.3})


def test_olivine_percolates_along_b_then_in_the_bc_plane(olivine):
    hops, net = enumerate_hops_and_network(olivine, "Li")
    short, long_ = (h.hop_id for h in hops)  # 3.0 Å along b, 4.7 Å along c
    result = percolation_barriers(net, {short: 0.3, long_: 0.8})
    assert result[1] == Percolation(1, 0.3, short)
    assert result[2] == Percolation(2, 0.8, long_)
    assert result[3] == Percolation(3, None, None)  # no hop joins the bc layers within 5 Å
    # the c channel is one-dimensional too: when it is cheaper it sets the 1D barrier
    swapped = percolation_barriers(net, {short: 0.9, long_: 0.2})
    assert swapped[1] == Percolation(1, 0.2, long_)
    assert swapped[2] == Percolation(2, 0.9, short)


def _scalar_barriers(net: MigrationNetwork, samples: dict[str, np.ndarray], draw: int) -> dict:
    result = percolation_barriers(net, {h: float(samples[h][draw]) for h in net.hop_ids})
    return {d: math.nan if p.barrier_ev is None else p.barrier_ev for d, p in result.items()}


@pytest.mark.parametrize("name", ["cubic", "chain", "olivine", "layered"])
def test_samples_agree_with_the_scalar_version_draw_by_draw(name, olivine, layered):
    nets = {
        "cubic": lambda: CUBIC,
        "chain": lambda: network(
            2, [edge(0, 1, ORIGIN, "a"), edge(1, 0, X, "b"), edge(0, 1, Y, "c")]
        ),
        "olivine": lambda: migration_network(olivine, "Li"),
        "layered": lambda: migration_network(layered, "Li"),
    }
    net = nets[name]()
    rng = np.random.default_rng(3)
    n_draws = 300
    # coarse values so that ties are common
    samples = {h: rng.integers(0, 4, n_draws) * 0.25 for h in net.hop_ids}
    result = percolation_barrier_samples(net, samples)
    assert set(result) == {1, 2, 3}
    assert all(a.shape == (n_draws,) for a in result.values())
    for draw in range(n_draws):
        expected = _scalar_barriers(net, samples, draw)
        got = {d: float(result[d][draw]) for d in (1, 2, 3)}
        assert got == pytest.approx(expected, nan_ok=True)


def test_samples_memoise_the_network_dimension(monkeypatch):
    calls = []
    dimension = percolation._dimension

    def counting(*args):
        calls.append(1)
        return dimension(*args)

    monkeypatch.setattr(percolation, "_dimension", counting)
    rng = np.random.default_rng(0)
    samples = {h: rng.normal(0.5, 0.2, 5000) for h in CUBIC.hop_ids}
    result = percolation_barrier_samples(CUBIC, samples)
    assert len(calls) <= 2**3 - 1  # one per non-empty set of classes at most
    stacked = np.stack([samples[h] for h in CUBIC.hop_ids])
    assert np.allclose(result[1], stacked.min(axis=0))
    assert np.allclose(result[3], stacked.max(axis=0))


def test_bad_samples_raise():
    good = {h: np.array([0.1, 0.2]) for h in CUBIC.hop_ids}
    with pytest.raises(ValueError, match="no barrier for 1 of"):
        percolation_barrier_samples(CUBIC, {"x": good["x"], "y": good["y"]})
    with pytest.raises(ValueError, match="one length"):
        percolation_barrier_samples(CUBIC, {**good, "z": np.array([0.1, 0.2, 0.3])})
    with pytest.raises(ValueError, match="samples of hop z are not all finite"):
        percolation_barrier_samples(CUBIC, {**good, "z": np.array([0.1, np.nan])})
    empty = percolation_barrier_samples(network(2, []), {"other": np.zeros(4)})
    assert all(np.isnan(a).all() and a.shape == (4,) for a in empty.values())


def _random_network(rng: np.random.Generator) -> MigrationNetwork:
    n_sites = int(rng.integers(1, 6))
    edges = [
        edge(
            int(rng.integers(n_sites)),
            int(rng.integers(n_sites)),
            tuple(int(i) for i in rng.integers(-1, 2, 3)),
            f"c{int(rng.integers(6))}",
        )
        for _ in range(int(rng.integers(1, 13)))
    ]
    return network(n_sites, edges)


def _prefix_scan(net: MigrationNetwork, values: dict[str, float]) -> dict[int, float]:
    """Barriers of one draw by walking the whole switched-on network after every tie group."""
    ordered = sorted(net.hop_ids, key=lambda h: (values[h], h))
    result = dict.fromkeys((1, 2, 3), math.nan)
    for end in range(1, len(ordered) + 1):
        if end < len(ordered) and values[ordered[end]] == values[ordered[end - 1]]:
            continue  # a tie group is switched on as a whole
        on = set(ordered[:end])
        reached = network_dimension(net.n_sites, [e for e in net.edges if e.hop_id in on])
        for dim in (1, 2, 3):
            if reached >= dim and math.isnan(result[dim]):
                result[dim] = values[ordered[end - 1]]
    return result


def test_samples_match_a_brute_force_scan_on_random_networks():
    rng = np.random.default_rng(7)
    n_draws, dimensions_seen = 25, set()
    for case in range(40):
        net = _random_network(rng)
        dimensions_seen.add(network_dimension(net.n_sites, net.edges))
        if case % 2:
            samples = {h: rng.normal(0.5, 0.3, n_draws) for h in net.hop_ids}
        else:  # coarse values: ties are common
            samples = {h: rng.integers(0, 4, n_draws) * 0.25 for h in net.hop_ids}
        got = percolation_barrier_samples(net, samples)
        for draw in range(n_draws):
            values = {h: float(samples[h][draw]) for h in net.hop_ids}
            expected = _prefix_scan(net, values)
            exact = percolation_barriers(net, values)
            for dim in (1, 2, 3):
                assert got[dim][draw] == pytest.approx(expected[dim], nan_ok=True)
                barrier = exact[dim].barrier_ev
                assert (math.nan if barrier is None else barrier) == pytest.approx(
                    expected[dim], nan_ok=True
                )
    assert dimensions_seen == {0, 1, 2, 3}  # the random networks exercise every dimension


@pytest.mark.parametrize("bond", [edge(0, 1, ORIGIN, "c"), edge(1, 0, ORIGIN, "c")])
def test_joining_two_periodic_trees_pools_their_translations(bond):
    # site 0 runs along x (a), site 1 spans the yz plane (b, d); bond c joins them
    net = network(2, [edge(0, 0, X, "a"), edge(1, 1, Y, "b"), edge(1, 1, Z, "d"), bond])
    samples = {
        "a": np.array([0.1, 0.1]),
        "b": np.array([0.2, 0.2]),
        "d": np.array([0.3, 0.4]),
        "c": np.array([0.4, 0.3]),
    }
    result = percolation_barrier_samples(net, samples)
    # draw 0: a chain, then the yz layer (2D at d), then the bond makes it 3D
    # draw 1: the bond joins the x chain to the y chain (2D at c), then d makes it 3D
    assert result[1].tolist() == [0.1, 0.1]
    assert result[2].tolist() == [0.3, 0.3]
    assert result[3].tolist() == [0.4, 0.4]


def test_draws_split_over_several_forests_give_the_same_barriers(monkeypatch, layered):
    net = migration_network(layered, "Li")
    rng = np.random.default_rng(5)
    samples = {h: rng.normal(0.5, 0.2, 50) for h in net.hop_ids}
    whole = percolation_barrier_samples(net, samples)
    # seven draws per forest: eight forests, the last one with a single draw
    monkeypatch.setattr(percolation, "_FOREST_CELLS", 7 * max(net.n_sites, len(net.edges)))
    split = percolation_barrier_samples(net, samples)
    for dim in (1, 2, 3):
        np.testing.assert_array_equal(split[dim], whole[dim])
    assert not np.isnan(whole[1]).all()
