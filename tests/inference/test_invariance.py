import numpy as np
import pytest
import torch
from tests.model_fixtures import TINY

from hopscreen.candidates import load_demo_candidates
from hopscreen.graphs.build import GraphConfig
from hopscreen.hops import hops_for_structure
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.models.alignn import ALIGNN
from hopscreen.models.bundle import save_bundle
from hopscreen.models.scaling import TargetScaler


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.manual_seed(7)
    folder = tmp_path_factory.mktemp("tiny-model")
    save_bundle(
        [ALIGNN(TINY.model_copy(update={"mark_ion_copies": True})) for _ in range(2)],
        folder,
        name="tiny",
        preset="test",
        graph=GraphConfig(),
        scaler=TargetScaler(minimum=0.0, maximum=3.0),
    )
    return load_model(folder, device="cpu")


def _predictions_by_hop(structure, model):
    result = hops_for_structure(structure, "Li", "LiCoO2")
    assert not result.failures
    docs = predict_hops(result.docs, result.bands, model=model, batch_size=4)
    return {d.hop_id: (d.barrier_ev, d.sigma_ev) for d in docs}


def test_predictions_invariant_to_order_origin_and_supercell(tiny_model):
    demo = {c.name: c for c in load_demo_candidates().candidates}
    structure = demo["LiCoO2-O3"].get_structure()
    reference = _predictions_by_hop(structure, tiny_model)
    assert len(reference) >= 2

    shuffled = structure.copy()
    order = np.random.default_rng(0).permutation(len(shuffled))
    shuffled = type(structure).from_sites([shuffled[i] for i in order])
    shuffled.translate_sites(list(range(len(shuffled))), [0.21, 0.37, 0.05])
    supercell = structure * (2, 1, 1)
    for variant in (shuffled, supercell):
        got = _predictions_by_hop(variant, tiny_model)
        assert set(got) == set(reference)
        for hop_id, (barrier, sigma) in reference.items():
            assert got[hop_id][0] == pytest.approx(barrier, abs=2e-3)
            assert got[hop_id][1] == pytest.approx(sigma, abs=2e-3)
