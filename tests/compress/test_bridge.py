"""The bridge params + masks + layer inputs -> workloads, and the relative cost term."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress import bridge, hwaware
from compress.hwtrain import lowering_for
from hwcost.registry import cost_model
from models.lenet import apply_with_layer_inputs, init_params, layer_specs, make_model


def _batch(n: int = 8, seed: int = 0) -> jax.Array:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1)).astype(np.float32)
    x[x < 0.6] = 0.0  # MNIST-like sparsity
    return jnp.asarray(x)


def _masked_setup(name: str, groups: dict, seed: int = 0):
    params = init_params(name, seed)
    mp = hwaware.init_mask_params(params, hwaware.MaskConfig(groups=groups, init_threshold=0.6))
    return params, mp


def test_fc_densities_equal_the_hard_ones_for_hard_masks():
    params, mp = _masked_setup("lenet300", {"ip1": ("channel", "filter"), "ip2": ("filter",)})
    mp["ip1"]["channel"] = mp["ip1"]["channel"].at[:200].set(-1.0)
    mp["ip1"]["filter"] = mp["ip1"]["filter"].at[0, :100].set(-1.0)
    masks = hwaware.network_masks(params, mp, 0.2, exact=True)
    weights = hwaware.masked_weights(params, mp, masks)
    _, inputs = apply_with_layer_inputs(make_model("lenet300"), weights, _batch())
    gates = {"ip1": {"channel": (mp["ip1"]["channel"] > 0).astype(jnp.float32)}}
    specs = layer_specs("lenet300")
    stored = {"weight_density": "stored", "gates": gates}
    full = bridge.lower_network(specs, masks, inputs, exact=True, effective_shape=False, **stored)
    live = bridge.lower_network(specs, masks, inputs, exact=True, **stored)
    ste = bridge.lower_network(specs, masks, inputs, ste=True, **stored)
    for spec, w, e, s in zip(specs, full.layers, live.layers, ste.layers, strict=True):
        k = np.asarray(weights[spec.name]["kernel"])
        x = np.asarray(inputs[spec.name]).reshape(8, -1)
        alive_in = np.any(k != 0, axis=1)
        assert float(w.weight_density) == pytest.approx(np.mean(k != 0), abs=1e-6)
        assert float(w.activation_density) == pytest.approx(np.mean((x != 0) & alive_in[None]), abs=1e-6)
        # live part: pruned inputs and neurons removed; same broadcasts and nonzeros
        assert float(e.in_features) == alive_in.sum() and float(e.out_features) == k.shape[1]
        assert float(e.weight_density) == pytest.approx(np.count_nonzero(k) / (alive_in.sum() * k.shape[1]))
        broadcasts = np.sum((x != 0) & alive_in[None]) / 8
        assert float(e.in_features * e.activation_density) == pytest.approx(broadcasts, rel=1e-5)
        # straight-through: the exact values up to the documented affine density map
        lo, hi = bridge.DENSITY_FLOOR, bridge.DENSITY_CEILING
        assert float(s.weight_density) == pytest.approx(lo + (hi - lo) * float(e.weight_density), rel=1e-5)
        assert float(s.activation_density) == pytest.approx(lo + (hi - lo) * float(e.activation_density), rel=1e-5)
    assert float(live.layers[0].in_features) == 784 - 200
    # pruned hidden neurons give exact zeros downstream
    assert float(jnp.max(jnp.abs(inputs["ip2"][:, :100]))) == 0.0


def patches_of(x: jax.Array, size: int = 5) -> np.ndarray:
    """im2col of a (B, H, W, C) map: (B, Ho, Wo, size, size, C)."""
    win = np.lib.stride_tricks.sliding_window_view(np.asarray(x), (size, size), axis=(1, 2))  # (B, Ho, Wo, C, k, k)
    return win.transpose(0, 1, 2, 4, 5, 3)


def test_fc_broadcast_density_counts_the_real_multiplies():
    params, mp = _masked_setup("lenet300", {"ip1": ("filter",)})
    masks = hwaware.network_masks(params, mp, 0.2, exact=True)
    weights = hwaware.masked_weights(params, mp, masks)
    _, inputs = apply_with_layer_inputs(make_model("lenet300"), weights, _batch())
    specs = layer_specs("lenet300")
    for effective_shape in (True, False):
        lowered = bridge.lower_network(specs, masks, inputs, exact=True, effective_shape=effective_shape)
        for spec, layer in zip(specs, lowered.layers, strict=True):
            k = np.asarray(weights[spec.name]["kernel"])
            x = np.asarray(inputs[spec.name]).reshape(8, -1)
            multiplies = np.mean(np.sum((x != 0)[:, :, None] & (k != 0)[None], axis=(1, 2)))
            m = float(layer.in_features * layer.activation_density)
            assert m * float(layer.out_features * layer.weight_density) == pytest.approx(multiplies, rel=1e-5)
    # relaxed: finite value and gradient with nothing broadcast (the stored density)
    zero = {name: jnp.zeros_like(x) for name, x in inputs.items()}
    relaxed = bridge.lower_network(specs, masks, zero, ste=False)
    assert np.isfinite(float(relaxed.layers[0].weight_density))


def test_conv_lowering_density_matches_an_explicit_im2col():
    params = init_params("lenet5", 0)
    masks = {k: {"kernel": (jnp.abs(v["kernel"]) > 0.05).astype(jnp.float32)} for k, v in params.items()}
    masks["conv2"]["kernel"] = masks["conv2"]["kernel"].at[:, :, 3, :].set(0.0)  # input channel 3 unused
    _, inputs = apply_with_layer_inputs(make_model("lenet5"), params, _batch(2))
    lowered = bridge.lower_network(layer_specs("lenet5"), masks, inputs, exact=True, effective_shape=False)
    live = bridge.lower_network(layer_specs("lenet5"), masks, inputs, exact=True)
    # broadcast weight density: the model's multiplies M * out * d are the mean of the real ones
    kernel = np.asarray(masks["conv2"]["kernel"])  # (5, 5, 20, 50)
    multiplies = np.mean(np.sum((patches_of(inputs["conv2"]) != 0) * kernel.sum(-1), axis=(-3, -2, -1)))
    layer = live.layers[1]
    model_multiplies = float(layer.in_features * layer.activation_density * layer.out_features * layer.weight_density)
    assert model_multiplies == pytest.approx(multiplies, rel=1e-5)
    spec = layer_specs("lenet5")[1]
    alive = np.any(np.asarray(masks["conv2"]["kernel"]) != 0, axis=-1)  # (5, 5, 20)
    expected = np.mean((patches_of(inputs["conv2"]) != 0) & alive)
    assert float(lowered.layers[1].activation_density) == pytest.approx(expected, rel=1e-5)
    assert lowered.repeats[1] == spec.out_hw[0] * spec.out_hw[1]
    assert float(lowered.layers[1].in_features) == 5 * 5 * 20
    assert float(live.layers[1].in_features) == alive.sum() == 5 * 5 * 19
    broadcasts = float(live.layers[1].in_features * live.layers[1].activation_density)
    assert broadcasts == pytest.approx(expected * 500, rel=1e-5)


def test_activation_indicator_converges_to_the_nonzero_indicator():
    x = jnp.asarray(np.abs(np.random.default_rng(1).normal(size=(4, 50))) * (np.arange(50) % 3 > 0))
    hard = bridge.activation_indicator(x, 1.0, exact=True)
    errs = [float(jnp.mean(jnp.abs(bridge.activation_indicator(x, t, ste=False) - hard))) for t in (1.0, 0.1, 1e-4)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-2
    np.testing.assert_array_equal(np.asarray(bridge.activation_indicator(x, 0.5, ste=True)), np.asarray(hard))


@pytest.mark.parametrize("hardware", ["eie", "memory"])
def test_dense_network_costs_one_and_the_floor_less(hardware):
    cm = cost_model(hardware)
    lowering = lowering_for(hardware)
    for name in ("lenet300", "lenet5"):
        dense = bridge.dense_network(layer_specs(name), **lowering)
        floor = bridge.floor_network(layer_specs(name), **lowering)
        for objective in bridge.OBJECTIVES:
            assert float(bridge.relative_cost(cm, cm.default_hardware, dense, objective, dense)) == pytest.approx(1.0)
            assert float(bridge.relative_cost(cm, cm.default_hardware, floor, objective, dense)) < 1.0


def test_cost_gradient_reaches_mask_scores_and_activations():
    groups = {"ip1": ("channel", "filter"), "ip2": ("filter",), "ip3": ()}
    params, mp = _masked_setup("lenet300", groups)
    model = make_model("lenet300")
    cm = cost_model("eie")
    specs = layer_specs("lenet300")
    dense = bridge.dense_network(specs)
    images = _batch()

    def cost(params, mp):
        masks = hwaware.network_masks(params, mp, 0.3, ste=True)
        weights = hwaware.masked_weights(params, mp, masks)
        _, inputs = apply_with_layer_inputs(model, weights, images)
        hard, soft = hwaware.group_gate(mp["ip1"]["channel"], jnp.asarray(0.3))
        gates = {"ip1": {"channel": soft + jax.lax.stop_gradient(hard - soft)}}
        lowered = bridge.lower_network(specs, masks, inputs, gates=gates)
        return bridge.relative_cost(cm, cm.default_hardware, lowered, "energy", dense)

    g_params, g_mp = jax.grad(cost, argnums=(0, 1))(params, mp)
    for leaf in jax.tree.leaves((g_params, g_mp)):
        assert np.all(np.isfinite(np.asarray(leaf)))  # a model singularity never poisons the gradients
    for layer in ("ip1", "ip2"):
        assert float(g_mp[layer]["threshold"]) < 0  # higher threshold -> sparser -> cheaper
    assert float(jnp.sum(g_mp["ip1"]["channel"])) > 0  # keeping more inputs costs more
    assert float(jnp.sum(g_mp["ip1"]["filter"])) > 0  # keeping hidden neurons costs more (broadcasts)
    # activations: the cost pushes the hidden pre-activations down through the biases
    assert float(jnp.sum(g_params["ip1"]["bias"])) > 0
    assert float(jnp.sum(jnp.abs(g_params["ip2"]["bias"]))) > 0
