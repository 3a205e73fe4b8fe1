"""The hardware-aware training driver: determinism, resume, the multiplier, the exact evaluation."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from compress.hwexperiment import archsim_cost, dominance_ratios, pareto_front
from compress.hwtrain import HwTrainConfig, Trainer, check_budget, check_train_config, cost_floor
from models.datasets import Dataset
from models.lenet import init_params


@pytest.fixture(scope="module")
def data() -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.random((640, 28, 28, 1)).astype(np.float32)
    images[images < 0.7] = 0.0
    labels = (images.reshape(640, -1)[:, :392].sum(1) > images.reshape(640, -1)[:, 392:].sum(1)).astype(np.int32)
    return Dataset(images[:512], labels[:512], images[512:], labels[512:])


@pytest.fixture(scope="module")
def trainer(data) -> Trainer:
    return Trainer(HwTrainConfig(epochs=2, finetune_epochs=1, batch_size=128), data)


def _leaves(tree) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_interrupted_run_resumes_to_the_same_result(trainer, tmp_path):
    params = init_params("lenet300", 0)
    full, hist_full = trainer.train(params, lam=0.5, progress=False)

    class Stop(Exception):
        pass

    def stop_after_joint_epoch(epochs_done, state):
        if epochs_done == 1:
            raise Stop

    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(Stop):
        trainer.train(params, lam=0.5, checkpoint=ckpt, progress=False, callback=stop_after_joint_epoch)
    resumed, hist = trainer.train(params, lam=0.5, checkpoint=ckpt, progress=False)
    assert [h["phase"] for h in hist] == ["joint", "joint", "finetune"]
    for a, b in zip(_leaves((full.params, full.frozen)), _leaves((resumed.params, resumed.frozen)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert hist == hist_full


def test_budget_mode_moves_the_multiplier_the_right_way(trainer):
    params = init_params("lenet300", 0)
    tight, _ = trainer.train(params, budget=0.01, progress=False)
    assert float(tight.lam) > 0.0  # over budget the whole run: λ grew
    loose, _ = trainer.train(params, budget=1.0, progress=False)
    # at the dense network's own cost the multiplier only moves when a batch runs over it
    assert float(loose.lam) < 0.1 * float(tight.lam)
    # relative to the dense network on the data, the floor is higher than with every activation nonzero
    floor = cost_floor("lenet300", "eie", "energy")
    with pytest.raises(ValueError, match="relative to the dense network on the training data"):
        trainer.init_state(params, budget=floor * 1.05)


def test_relative_cost_is_one_for_the_dense_network_on_its_data(trainer, data):
    params = init_params("lenet300", 0)
    state = trainer.init_state(params, lam=0.0)
    ones = jax.tree.map(jax.numpy.ones_like, params)
    from models.lenet import apply_with_layer_inputs

    _, inputs = apply_with_layer_inputs(trainer.model, params, trainer.images[:1024])
    cost = trainer.cost_of(ones, inputs, {}, reference=state.reference)
    assert float(cost) == pytest.approx(1.0, rel=1e-5)


def test_penalty_makes_the_network_cheaper(trainer, data):
    params = init_params("lenet300", 0)
    state, hist = trainer.train(params, lam=2.0, progress=False)
    assert len(hist) == 3  # (the relaxed cost per epoch may rise as T anneals: soft values underestimate)
    masks, weights = trainer.final_weights(state)
    images = jax.numpy.asarray(data.train_images[:128])
    from models.lenet import apply_with_layer_inputs

    _, inputs = apply_with_layer_inputs(trainer.model, weights, images)
    exact = trainer.cost_of(masks, inputs, {}, exact=True, hw=trainer.cost_model.hard(trainer.hw))
    _, dense_inputs = apply_with_layer_inputs(trainer.model, params, images)
    ones = jax.tree.map(jax.numpy.ones_like, params)
    dense = trainer.cost_of(ones, dense_inputs, {}, exact=True, hw=trainer.cost_model.hard(trainer.hw))
    assert float(exact) < float(dense)
    assert float(np.mean(np.asarray(weights["ip1"]["kernel"]) != 0)) < 1.0
    for layer in weights:  # exact 0/1 masks, biases of pruned neurons zero
        assert set(np.unique(np.asarray(masks[layer]["kernel"]))) <= {0.0, 1.0}


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="model"):
        check_train_config(HwTrainConfig(model="alexnet"))
    with pytest.raises(ValueError, match="hardware"):
        check_train_config(HwTrainConfig(hardware="tpu"))
    with pytest.raises(ValueError, match="objective"):
        check_train_config(HwTrainConfig(objective="area"))
    with pytest.raises(ValueError, match="lambda"):
        check_train_config(HwTrainConfig(lam=-1.0))
    with pytest.raises(ValueError, match="exactly one"):
        check_train_config(HwTrainConfig(lam=0.1, budget=0.5))
    floor = cost_floor("lenet300", "eie", "energy")
    assert 0.0 < floor < 0.01
    for bad in (0.0, -0.1, floor * 0.5, 1.5):
        with pytest.raises(ValueError, match="budget"):
            check_budget("lenet300", "eie", "energy", bad)
    check_budget("lenet300", "eie", "energy", 0.5)


def test_archsim_cost_of_a_pruned_network_is_lower_and_counts_only_live_inputs(data):
    params = init_params("lenet300", 0)
    images = data.test_images[:2]
    dense = archsim_cost("lenet300", params, images)
    pruned = jax.tree.map(lambda x: x, params)
    pruned["ip1"] = dict(pruned["ip1"], kernel=pruned["ip1"]["kernel"].at[:400].set(0.0))
    sparse = archsim_cost("lenet300", pruned, images)
    nonzero_live = np.mean([np.count_nonzero(im.reshape(-1)[400:]) for im in images])
    assert sparse["layers"]["ip1"]["broadcasts"] == pytest.approx(nonzero_live)
    assert sparse["energy_pj"] < dense["energy_pj"]


def test_pareto_helpers():
    pts = [(2.0, 10.0), (1.5, 20.0), (1.8, 30.0), (1.0, 50.0)]
    assert pareto_front(pts) == [0, 1, 3]
    rows = dominance_ratios([(1.5, 5.0), (1.9, 2.0)], [(1.6, 10.0), (1.0, 30.0)])
    assert rows[0]["ratio"] == pytest.approx(2.0)
    assert rows[1]["ratio"] is None


def test_committed_lenet300_result_meets_the_pareto_claim():
    """The full-size experiment (``benchmarks/hwaware_lenet300.py``, minutes) is too long for the test suite;
    its committed result must show the claim: >= 1.3x lower archsim energy at equal or better test error."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "hwaware_lenet300.json"
    if not path.is_file():
        pytest.skip("benchmarks/results/hwaware_lenet300.json not produced yet")
    report = json.loads(path.read_text())
    assert report["exact_source"] == "archsim"
    best = report["best_ratio_vs_magnitude"]
    assert best["ratio"] >= 1.3
    assert best["joint_error_pct"] <= best["baseline_error_pct"]
    rows = {r["point"]: r for r in report["rows"]}
    assert rows["dense"]["exact_rel_dense"] == pytest.approx(1.0)


@pytest.mark.parametrize("ttq", [False, True])
def test_cost_gradient_reaches_every_threshold(data, ttq):
    """Raising a layer's threshold (TTQ's t with ``ttq``) prunes weights and lowers the cost."""
    config = HwTrainConfig(batch_size=128, ttq=ttq, init_threshold=0.05 if ttq else 0.5)
    trainer = Trainer(config, data)
    params = init_params("lenet300", 0)
    state = trainer.init_state(params)
    images = jax.numpy.asarray(data.train_images[:128])
    from models.lenet import apply_with_layer_inputs

    def cost(mask_params):
        masks, weights, gates = trainer.masks_and_weights(params, mask_params, trainer.temperature(0))
        _, inputs = apply_with_layer_inputs(trainer.model, weights, images)
        return trainer.cost_of(masks, inputs, gates)

    grads = jax.grad(cost)(state.mask_params)
    for layer in params:
        assert float(grads[layer]["threshold"]) < 0.0, layer


def test_ttq_training_ends_with_ternary_kernels_and_keeps_learning(data):
    trainer = Trainer(HwTrainConfig(epochs=2, finetune_epochs=1, batch_size=128, ttq=True, init_threshold=0.05), data)
    state, hist = trainer.train(init_params("lenet300", 0), lam=0.1, progress=False)
    assert hist[-1]["task"] < hist[0]["task"]  # the gates stay in the task loss's reach
    _, weights = trainer.final_weights(state)
    for layer, leaves in weights.items():
        levels = np.unique(np.asarray(leaves["kernel"]))
        assert len(levels) <= 3 and 0.0 in levels, layer  # {-W_n, 0, W_p}
