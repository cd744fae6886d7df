import numpy as np
import pytest
import torch
from tests.model_fixtures import TINY, tiny_band

from hopscreen.graphs.batch import collate
from hopscreen.graphs.build import GraphConfig, build_graph
from hopscreen.models.alignn import ALIGNN, EdgeGatedGraphConv, count_parameters
from hopscreen.models.bundle import ModelLoadError, combine_members, load_bundle, save_bundle
from hopscreen.models.scaling import TargetScaler
from hopscreen.schemas.structure import Crystal


def test_edge_gated_conv_matches_alignn_pure_layer():
    alignn_pure = pytest.importorskip("alignn.models.alignn_atomwise_pure")
    torch.manual_seed(0)
    theirs = alignn_pure.EdgeGatedGraphConvPure(16, 16, residual=True)
    ours = EdgeGatedGraphConv(16, norm="layer")
    mapping = {
        "src_gate": "src_gate",
        "dst_gate": "dst_gate",
        "edge_gate": "edge_gate",
        "src_update": "src_update",
        "dst_update": "dst_update",
        "norm_edges": "bn_edges",
        "norm_nodes": "bn_nodes",
    }
    for mine, their in mapping.items():
        getattr(ours, mine).load_state_dict(getattr(theirs, their).state_dict())
    src = torch.tensor([0, 1, 2, 2, 3, 0])
    dst = torch.tensor([1, 0, 3, 1, 2, 2])
    x, y = torch.randn(4, 16), torch.randn(6, 16)
    x_ours, y_ours = ours(src, dst, x, y)
    x_theirs, y_theirs = theirs.forward_tensors(src, dst, 4, x, y)
    torch.testing.assert_close(x_ours, x_theirs)
    torch.testing.assert_close(y_ours, y_theirs)


def test_paper_configuration_size():
    from hopscreen.models.alignn import ALIGNNConfig

    model = ALIGNN(ALIGNNConfig())
    assert len(model.backbone.alignn_layers) == 4 and len(model.backbone.gcn_layers) == 4
    assert model.backbone.edge_embedding[0].centers.numel() == 80
    assert model.backbone.angle_embedding[0].centers.numel() == 40
    assert 3_500_000 < count_parameters(model) < 4_500_000


def test_prediction_invariant_to_atom_order_and_batch_composition():
    torch.manual_seed(0)
    model = ALIGNN(TINY).eval()
    band = tiny_band(0)
    # permute the host atoms but keep the five ion copies first (they define the band)
    perm = np.concatenate([np.arange(5), 5 + np.random.default_rng(0).permutation(len(band) - 5)])
    shuffled = Crystal(band.lattice, band.frac_coords[perm] + 0.31, band.numbers[perm])
    with torch.no_grad():
        a = model(collate([build_graph(band)]))
        b = model(collate([build_graph(shuffled)]))
        c = model(collate([build_graph(tiny_band(5)), build_graph(band)]))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(a[0], c[1], atol=1e-5, rtol=1e-5)


def test_bundle_round_trip_and_clear_errors(tmp_path):
    torch.manual_seed(1)
    members = [ALIGNN(TINY).eval(), ALIGNN(TINY).eval()]
    scaler = TargetScaler(minimum=0.0, maximum=4.0)
    card = save_bundle(
        members, tmp_path / "m", name="tiny", preset="test", graph=GraphConfig(), scaler=scaler
    )
    assert card.model_version.startswith("m3-") and card.ensemble_size == 2
    loaded_card, loaded = load_bundle(tmp_path / "m")
    assert loaded_card == card
    batch = collate([build_graph(tiny_band(2))])
    with torch.no_grad():
        torch.testing.assert_close(loaded[1](batch), members[1](batch))

    combined = combine_members([(tmp_path / "m", 1)], tmp_path / "c", name="one")
    assert combined.ensemble_size == 1 and card.model_version in combined.parent_version
    assert combined.model_version != card.model_version

    weights = tmp_path / "m" / "member0.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_bundle(tmp_path / "m")
    with pytest.raises(ModelLoadError, match="not a hopscreen model"):
        load_bundle(tmp_path)


def test_mismatched_weights_are_reported(tmp_path):
    card = save_bundle(
        [ALIGNN(TINY)],
        tmp_path,
        name="tiny",
        preset="test",
        graph=GraphConfig(),
        scaler=TargetScaler(minimum=0.0, maximum=1.0),
    )
    text = (tmp_path / "model_card.json").read_text()
    (tmp_path / "model_card.json").write_text(
        text.replace('"hidden_features": 16', '"hidden_features": 32')
    )
    assert card.architecture.hidden_features == 16
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_bundle(tmp_path)
