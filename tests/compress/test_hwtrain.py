"""Hardware-aware training as pure functions: determinism, resume, frozen masks, the multiplier, TTQ."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress import hwtrain
from compress.hwaware import MaskConfig
from compress.hwtrain import Budget, HwTrainConfig, Penalty, check_budget, check_train_config, cost_floor
from models.datasets import Dataset
from models.lenet import apply_with_layer_inputs, init_params


@pytest.fixture(scope="module")
def data() -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.random((640, 28, 28, 1)).astype(np.float32)
    images[images < 0.7] = 0.0
    labels = (images.reshape(640, -1)[:, :392].sum(1) > images.reshape(640, -1)[:, 392:].sum(1)).astype(np.int32)
    return Dataset(images[:512], labels[:512], images[512:], labels[512:])


@pytest.fixture(scope="module")
def training() -> hwtrain.HwAwareTraining:
    return hwtrain.hwaware_training(HwTrainConfig(epochs=2, finetune_epochs=1, batch_size=128), 4)


def _leaves(tree) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_interrupted_run_resumes_to_the_same_result(training, data, tmp_path):
    params = init_params("lenet300", 0)
    full, hist_full = hwtrain.train_hwaware(training, params, data, Penalty(0.5), progress=False)

    class Stop(Exception):
        pass

    def stop_after_joint_epoch(epochs_done, state):
        if epochs_done == 1:
            raise Stop

    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(Stop):
        hwtrain.train_hwaware(training, params, data, Penalty(0.5), checkpoint=ckpt, progress=False,
                              callback=stop_after_joint_epoch)  # fmt: skip
    resumed, hist = hwtrain.train_hwaware(training, params, data, Penalty(0.5), checkpoint=ckpt, progress=False)
    assert [h["phase"] for h in hist] == ["joint", "joint", "finetune"]
    for a, b in zip(_leaves(full), _leaves(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert hist == hist_full


def test_a_step_is_a_pure_function_of_its_state(training, data):
    state = training.init(init_params("lenet300", 0), 1.0e5, Penalty(0.5))
    images, labels, idx = jnp.asarray(data.train_images), jnp.asarray(data.train_labels), jnp.arange(128)
    step = jax.jit(training.joint_step)
    before = _leaves(state)
    first, m1 = step(state, images, labels, idx)
    second, m2 = step(state, images, labels, idx)
    for a, b in zip(_leaves((first, m1)), _leaves((second, m2)), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(before, _leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)  # the input state is not changed


def test_finetune_keeps_the_frozen_masks_in_the_weight_optimizer(training, data):
    state, _ = hwtrain.train_hwaware(training, init_params("lenet300", 0), data, Penalty(2.0), progress=False)
    masks, weights = hwtrain.final_weights(training, state)
    for layer in weights:
        kernel, mask = np.asarray(weights[layer]["kernel"]), np.asarray(masks[layer]["kernel"])
        assert set(np.unique(mask)) <= {0.0, 1.0}
        assert np.all(kernel[mask == 0] == 0.0)  # pruned weights stayed exactly zero through the finetune phase
        assert np.all(np.asarray(state.params[layer]["kernel"])[mask == 0] == 0.0)
    assert float(np.mean(np.asarray(weights["ip1"]["kernel"]) != 0)) < 1.0


def test_budget_mode_moves_the_multiplier_the_right_way(training, data):
    params = init_params("lenet300", 0)
    tight, _ = hwtrain.train_hwaware(training, params, data, Budget(0.01), progress=False)
    assert float(tight.lam) > 0.0  # over budget the whole run: λ grew
    loose, _ = hwtrain.train_hwaware(training, params, data, Budget(1.0), progress=False)
    assert float(loose.lam) < 0.1 * float(tight.lam)  # at the dense cost λ only moves when a batch runs over it
    # relative to the dense network on the data, the floor is higher than with every activation nonzero
    floor = cost_floor("lenet300", "eie", "energy")
    with pytest.raises(ValueError, match="relative to the dense network on the training data"):
        reference = hwtrain.reference_cost(training.setup, params, jnp.asarray(data.train_images))
        training.init(params, reference, Budget(floor * 1.05))


def test_relative_cost_is_one_for_the_dense_network_on_its_data(training, data):
    params = init_params("lenet300", 0)
    images = jnp.asarray(data.train_images[:256])
    reference = hwtrain.reference_cost(training.setup, params, images)
    whole = hwtrain.relaxed_masks(training.setup, params, {}, 1.0, "exact")
    _, inputs = apply_with_layer_inputs(training.setup.network, params, images)
    assert float(hwtrain.relative_cost(training.setup, whole, inputs, reference)) == pytest.approx(1.0, rel=1e-5)


def test_penalty_makes_the_network_cheaper_on_the_hard_model(training, data):
    params = init_params("lenet300", 0)
    state, hist = hwtrain.train_hwaware(training, params, data, Penalty(2.0), progress=False)
    assert len(hist) == 3
    _, weights = hwtrain.final_weights(training, state)
    setup = training.setup
    images = jnp.asarray(data.train_images[:128])
    hard = setup.cost_model.hard(setup.hw)
    frozen = hwtrain.frozen_masks(state)
    _, inputs = apply_with_layer_inputs(setup.network, weights, images)
    exact = hwtrain.relative_cost(setup, frozen, inputs, 1.0, indicator="exact", hw=hard)
    whole = hwtrain.relaxed_masks(setup, params, {}, 1.0, "exact")
    _, dense_inputs = apply_with_layer_inputs(setup.network, params, images)
    dense = hwtrain.relative_cost(setup, whole, dense_inputs, 1.0, indicator="exact", hw=hard)
    assert float(exact) < 0.9 * float(dense)  # measured 0.81 after 12 steps at λ = 2


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="model"):
        check_train_config(HwTrainConfig(model="alexnet"))
    with pytest.raises(ValueError, match="hardware"):
        check_train_config(HwTrainConfig(hardware="tpu"))
    with pytest.raises(ValueError, match="objective"):
        check_train_config(HwTrainConfig(objective="area"))
    with pytest.raises(ValueError, match="lambda"):
        check_train_config(HwTrainConfig(target=Penalty(-1.0)))
    with pytest.raises(ValueError, match="target"):
        check_train_config(HwTrainConfig(target=0.5))
    with pytest.raises(ValueError, match="mode"):
        check_train_config(HwTrainConfig(masks=MaskConfig(groups=None, mode="hard")))
    floor = cost_floor("lenet300", "eie", "energy")
    assert 0.0 < floor < 0.01
    for bad in (0.0, -0.1, floor * 0.5, 1.5):
        with pytest.raises(ValueError, match="budget"):
            check_budget("lenet300", "eie", "energy", bad)
    check_budget("lenet300", "eie", "energy", 0.5)


@pytest.mark.parametrize("ttq", [False, True])
def test_cost_gradient_reaches_every_threshold(data, ttq):
    """Raising a layer's threshold (TTQ's t with ``ttq``) prunes weights and lowers the cost."""
    config = HwTrainConfig(masks=MaskConfig(groups=None, ttq=ttq, init_threshold=0.05 if ttq else 0.5))
    setup = hwtrain.make_setup(config, 4)
    params = init_params("lenet300", 0)
    decisions = hwtrain.hwaware.init_decisions(params, setup.masks)
    images = jnp.asarray(data.train_images[:128])

    def cost(decisions):
        masks = hwtrain.relaxed_masks(setup, params, decisions, hwtrain.temperature(setup, 0), "soft")
        weights = hwtrain.hwaware.masked_weights(params, decisions, masks, ttq=ttq)
        _, inputs = apply_with_layer_inputs(setup.network, weights, images)
        return hwtrain.relative_cost(setup, masks, inputs, 1.0)

    grads = jax.grad(cost)(decisions)
    for layer in params:
        assert float(grads[layer].threshold) < 0.0, layer


def test_ttq_training_ends_with_ternary_kernels_and_keeps_learning(data):
    config = HwTrainConfig(epochs=2, finetune_epochs=1, masks=MaskConfig(groups=None, ttq=True, init_threshold=0.05))
    training = hwtrain.hwaware_training(config, 4)
    state, hist = hwtrain.train_hwaware(training, init_params("lenet300", 0), data, Penalty(0.1), progress=False)
    assert hist[-1]["task"] < hist[0]["task"]  # the gates stay in the task loss's reach
    _, weights = hwtrain.final_weights(training, state)
    for layer, leaves in weights.items():
        levels = np.unique(np.asarray(leaves["kernel"]))
        assert len(levels) <= 3 and 0.0 in levels, layer  # {-W_n, 0, W_p}
