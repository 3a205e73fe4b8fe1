"""The bridge params + masks + layer inputs -> layer statistics, and the models' lowerings of them."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress import bridge, hwaware
from hwcost.registry import cost_model, names
from models.lenet import apply_with_layer_inputs, init_params, layer_specs, make_model


def _batch(n: int = 8, seed: int = 0) -> jax.Array:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1)).astype(np.float32)
    x[x < 0.6] = 0.0  # MNIST-like sparsity
    return jnp.asarray(x)


def _decisions(name: str, groups: dict, seed: int = 0):
    params = init_params(name, seed)
    return params, hwaware.init_decisions(params, hwaware.MaskConfig(groups=groups, init_threshold=0.6))


def _masked(name: str, params, decisions, mode: str = "exact", temperature: float = 0.2):
    masks = hwaware.network_masks(params, decisions, temperature, mode)
    weights = hwaware.masked_weights(params, decisions, masks)
    _, inputs = apply_with_layer_inputs(make_model(name), weights, _batch())
    return masks, weights, inputs


def test_fc_statistics_are_the_exact_counts_for_exact_masks_and_straight_through_ones():
    params, d = _decisions("lenet300", {"ip1": ("channel", "filter"), "ip2": ("filter",)})
    d["ip1"].gates["channel"] = d["ip1"].gates["channel"].at[:200].set(-1.0)
    d["ip1"].gates["filter"] = d["ip1"].gates["filter"].at[0, :100].set(-1.0)
    masks, weights, inputs = _masked("lenet300", params, d)
    specs = layer_specs("lenet300")
    plain = hwaware.kernel_and_bias_masks(masks)
    exact = bridge.layer_statistics(specs, plain, inputs, indicator="exact")
    ste = bridge.layer_statistics(specs, plain, inputs, indicator="ste")
    for spec, e, s in zip(specs, exact, ste, strict=True):
        k = np.asarray(weights[spec.name]["kernel"])
        x = np.asarray(inputs[spec.name]).reshape(8, -1) != 0
        alive = np.any(k != 0, axis=1)
        assert float(e.kept_weights) == np.count_nonzero(k)
        assert float(e.live_inputs) == alive.sum()
        assert float(e.broadcasts) == pytest.approx(np.sum(x & alive[None]) / 8, rel=1e-6)
        multiplies = np.mean(np.sum(x[:, :, None] & (k != 0)[None], axis=(1, 2)))
        assert float(e.weights_read) == pytest.approx(multiplies, rel=1e-6)
        assert float(e.input_density) == pytest.approx(np.mean(x), rel=1e-6)
        for field in ("kept_weights", "live_inputs", "broadcasts", "weights_read", "input_density"):
            assert float(getattr(s, field)) == float(getattr(e, field)), field  # straight-through: exact value
    assert float(exact[0].live_inputs) == 784 - 200
    assert float(jnp.max(jnp.abs(inputs["ip2"][:, :100]))) == 0.0  # pruned hidden neurons: exact zeros downstream


def test_eie_lowering_gives_the_real_multiplies_and_the_live_shape():
    params, d = _decisions("lenet300", {"ip1": ("filter",)})
    masks, _, inputs = _masked("lenet300", params, d)
    eie = cost_model("eie")
    stats = bridge.layer_statistics(layer_specs("lenet300"), hwaware.kernel_and_bias_masks(masks), inputs,
                                    indicator="exact")  # fmt: skip
    for s in stats:
        run = eie.lower(s)
        layer = run.workload
        assert run.repeats == 1.0
        assert float(layer.in_features) == float(s.live_inputs)
        m = float(layer.in_features * layer.activation_density)
        assert m == pytest.approx(float(s.broadcasts), rel=1e-6)
        assert m * float(layer.out_features * layer.weight_density) == pytest.approx(float(s.weights_read), rel=1e-5)


def patches_of(x: jax.Array, size: int = 5) -> np.ndarray:
    """im2col of a (B, H, W, C) map: (B, Ho, Wo, size, size, C)."""
    win = np.lib.stride_tricks.sliding_window_view(np.asarray(x), (size, size), axis=(1, 2))  # (B, Ho, Wo, C, k, k)
    return win.transpose(0, 1, 2, 4, 5, 3)


def test_conv_statistics_match_an_explicit_im2col():
    params = init_params("lenet5", 0)
    masks = {k: {"kernel": (jnp.abs(v["kernel"]) > 0.05).astype(jnp.float32)} for k, v in params.items()}
    masks["conv2"]["kernel"] = masks["conv2"]["kernel"].at[:, :, 3, :].set(0.0)  # input channel 3 unused
    _, inputs = apply_with_layer_inputs(make_model("lenet5"), params, _batch(2))
    stats = bridge.layer_statistics(layer_specs("lenet5"), masks, inputs, indicator="exact")[1]
    kernel = np.asarray(masks["conv2"]["kernel"])  # (5, 5, 20, 50)
    nonzero = patches_of(inputs["conv2"]) != 0
    alive = np.any(kernel != 0, axis=-1)  # (5, 5, 20)
    assert float(stats.live_inputs) == alive.sum() == 5 * 5 * 19
    assert float(stats.broadcasts) == pytest.approx(np.mean(np.sum(nonzero & alive, axis=(-3, -2, -1))), rel=1e-5)
    multiplies = np.mean(np.sum(nonzero * kernel.sum(-1), axis=(-3, -2, -1)))
    assert float(stats.weights_read) == pytest.approx(multiplies, rel=1e-5)
    run = cost_model("eie").lower(stats)
    assert run.repeats == 8 * 8  # one product per output position


def test_activation_indicator_converges_to_the_nonzero_indicator():
    x = jnp.asarray(np.abs(np.random.default_rng(1).normal(size=(4, 50))) * (np.arange(50) % 3 > 0))
    hard = bridge.activation_indicator(x, 1.0, "exact")
    errs = [float(jnp.mean(jnp.abs(bridge.activation_indicator(x, t, "soft") - hard))) for t in (1.0, 0.1, 1e-4)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-2
    np.testing.assert_array_equal(np.asarray(bridge.activation_indicator(x, 0.5, "ste")), np.asarray(hard))


@pytest.mark.parametrize("hardware", names())
def test_dense_network_costs_one_and_the_floor_less_where_sparsity_is_exploited(hardware):
    """The floor (everything pruned) costs less than the dense network in every objective the model
    declares monotone in a workload density, and never more in the others (a dense design such as
    DCNN prices both the same)."""
    cm = cost_model(hardware)
    exploited = {m.quantity for m in cm.monotone if m.path.startswith("workload.")}
    for name in ("lenet300", "lenet5"):
        specs = layer_specs(name)
        dense = bridge.statistics_cost(cm, cm.default_hardware, bridge.dense_statistics(specs))
        floor = bridge.floor_statistics(specs)
        for objective in ("energy", "latency"):
            ref = dense.objective(objective)
            relative = float(bridge.relative_cost(cm, cm.default_hardware, floor, objective, ref))
            if objective in exploited:
                assert relative < 1.0, (objective, relative)
            else:
                assert relative <= 1.0 + 1e-6, (objective, relative)


def test_nothing_broadcast_gives_finite_statistics_and_gradients():
    params, d = _decisions("lenet300", {"ip1": ("filter",)})
    zero = {s.name: jnp.zeros((8, s.kernel_shape[0])) for s in layer_specs("lenet300")}
    eie = cost_model("eie")

    def cost(d):
        masks = hwaware.network_masks(params, d, 0.3, "soft")
        stats = bridge.layer_statistics(layer_specs("lenet300"), hwaware.kernel_and_bias_masks(masks), zero)
        return bridge.statistics_cost(eie, eie.default_hardware, stats).energy_pj

    assert np.isfinite(float(cost(d)))
    assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree.leaves(jax.grad(cost)(d)))


def test_cost_gradient_reaches_mask_scores_and_activations():
    groups = {"ip1": ("channel", "filter"), "ip2": ("filter",), "ip3": ()}
    params, d = _decisions("lenet300", groups)
    model = make_model("lenet300")
    eie = cost_model("eie")
    specs = layer_specs("lenet300")
    images = _batch()

    def cost(params, d):
        masks = hwaware.network_masks(params, d, 0.3, "ste")
        weights = hwaware.masked_weights(params, d, masks)
        _, inputs = apply_with_layer_inputs(model, weights, images)
        gates = {layer: m.gates for layer, m in masks.items()}
        stats = bridge.layer_statistics(specs, hwaware.kernel_and_bias_masks(masks), inputs, gates=gates)
        return bridge.statistics_cost(eie, eie.default_hardware, stats).energy_pj

    g_params, g_d = jax.grad(cost, argnums=(0, 1))(params, d)
    for leaf in jax.tree.leaves((g_params, g_d)):
        assert np.all(np.isfinite(np.asarray(leaf)))
    for layer in ("ip1", "ip2"):
        assert float(g_d[layer].threshold) < 0  # higher threshold -> sparser -> cheaper
    assert float(jnp.sum(g_d["ip1"].gates["channel"])) > 0  # keeping more inputs costs more
    assert float(jnp.sum(g_d["ip1"].gates["filter"])) > 0  # keeping hidden neurons costs more (broadcasts)
    assert float(jnp.sum(g_params["ip1"]["bias"])) > 0  # the cost pushes hidden pre-activations down
    assert float(jnp.sum(jnp.abs(g_params["ip2"]["bias"]))) > 0
