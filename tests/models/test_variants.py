"""Models 1, 2 and 4: shapes, endpoint extraction, the local subgraph and permutation checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.model_fixtures import TINY, tiny_band

from hopscreen.graphs.build import build_graph
from hopscreen.models.variants import (
    VARIANTS,
    LocalAttentionALIGNN,
    PairedALIGNN,
    build_variant,
    endpoints_from_band,
    local_subgraph,
    reads_endpoints,
)


def _samples(name, bands):
    if reads_endpoints(name):
        return [tuple(build_graph(s) for s in endpoints_from_band(b)) for b in bands]
    return [build_graph(b) for b in bands]


def test_endpoints_keep_host_and_one_copy():
    band = tiny_band(0)
    initial, final = endpoints_from_band(band)
    assert len(initial) == len(final) == len(band) - 4
    np.testing.assert_allclose(initial.frac_coords[0], band.frac_coords[0])
    np.testing.assert_allclose(final.frac_coords[0], band.frac_coords[4])
    np.testing.assert_array_equal(initial.frac_coords[1:], band.frac_coords[5:])


def test_endpoints_reject_a_structure_without_host():
    band = tiny_band(0)
    from hopscreen.schemas.structure import Crystal

    with pytest.raises(ValueError, match="5 ion copies"):
        endpoints_from_band(Crystal(band.lattice, band.frac_coords[:5], band.numbers[:5]))


def test_local_subgraph_is_copies_plus_close_host_atoms():
    band = tiny_band(1)
    graph = build_graph(band)
    local = local_subgraph(graph)
    assert set(range(5)) <= set(local.tolist())
    cart = band.cart_coords
    for i in set(local.tolist()) - set(range(5)):
        # every added host atom is within 3 Å of some copy (minimum image through the graph)
        lengths = np.linalg.norm(graph.vec[(graph.dst == i) & (graph.src < 5)], axis=1)
        assert lengths.min() <= 3.0
    assert len(local) <= 5 + 5 * 6
    # a 0 Å cutoff leaves only the copies
    np.testing.assert_array_equal(local_subgraph(graph, cutoff_angstrom=0.0), np.arange(5))
    assert cart.shape[0] == len(band)


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_gives_one_value_per_hop(name):
    torch.manual_seed(0)
    model = build_variant(name, TINY).eval()
    samples = _samples(name, [tiny_band(0), tiny_band(1), tiny_band(2)])
    from hopscreen.training.batching import collate_for

    out = model(collate_for(model, samples, mark_ion_copies=False, device="cpu"))
    assert out.shape == (3, 1)
    assert torch.isfinite(out).all()


def test_paired_combinations_differ_and_subtract_is_antisymmetric():
    torch.manual_seed(0)
    model = PairedALIGNN(TINY.model_copy(update={"norm": "layer"}), "subtract").eval()
    a, b = _samples("model1-subtract", [tiny_band(0)])[0]
    pooled_ab = model.backbone(model.collate([(a, b)], mark_ion_copies=False, device="cpu").initial)
    batch_ab = model.collate([(a, b)], mark_ion_copies=False, device="cpu")
    batch_ba = model.collate([(b, a)], mark_ion_copies=False, device="cpu")
    with torch.no_grad():
        ha = model.backbone(batch_ab.initial) - model.backbone(batch_ab.final)
        hb = model.backbone(batch_ba.initial) - model.backbone(batch_ba.final)
    torch.testing.assert_close(ha, -hb)
    assert pooled_ab.shape == (1, TINY.hidden_features)
    with pytest.raises(ValueError, match="no ion copies"):
        model.collate([(a, b)], mark_ion_copies=True, device="cpu")
    with pytest.raises(ValueError, match="unknown combination"):
        PairedALIGNN(TINY, "multiply")  # type: ignore[arg-type]


def test_local_attention_ignores_host_atom_order():
    torch.manual_seed(0)
    model = LocalAttentionALIGNN(
        TINY.model_copy(update={"norm": "layer", "mark_ion_copies": True})
    ).eval()
    band = tiny_band(3)
    rng = np.random.default_rng(0)
    perm = np.concatenate([np.arange(5), 5 + rng.permutation(len(band) - 5)])
    from hopscreen.schemas.structure import Crystal

    shuffled = Crystal(band.lattice, band.frac_coords[perm], band.numbers[perm])
    with torch.no_grad():
        y1 = model(model.collate([build_graph(band)], mark_ion_copies=True, device="cpu"))
        y2 = model(model.collate([build_graph(shuffled)], mark_ion_copies=True, device="cpu"))
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-5)


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown model variant"):
        build_variant("model5", TINY)  # type: ignore[arg-type]


def test_pretrained_backbone_loads_into_every_variant(tmp_path):
    from safetensors.torch import save_file

    from hopscreen.models.alignn import ALIGNN
    from hopscreen.training.pretrain import load_backbone_into

    source = ALIGNN(TINY)
    path = tmp_path / "backbone.safetensors"
    save_file(source.backbone.state_dict(), str(path))
    for name in VARIANTS:
        model = build_variant(name, TINY)
        load_backbone_into(model, path)  # type: ignore[arg-type]
        for key, value in source.backbone.state_dict().items():
            torch.testing.assert_close(model.backbone.state_dict()[key], value)
