"""The LSTM through the common bridge: each gate matrix is a fully connected layer run at all 28 steps, its
statistics measured on the real ``[x_t; y_{t-1}]``; ESE (and EIE) price them per inference, equal to the
workload built by hand, and the hard ESE model stays close to the ESE layer simulator."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from compress import bridge
from compress.masks import prune_by_magnitude
from hwcost.cost import network_cost
from hwcost.registry import cost_model
from hwcost.types import FcLayer, LayerRun
from models import lstm, registry

STEPS = 28


@pytest.fixture(scope="module")
def pruned():
    """A pruned LSTM (gates at density 0.1, classifier 0.5), its masks and its layer inputs on 3 sparse images."""
    m = registry.trainable("lstm")
    params = m.init(0)
    masks = prune_by_magnitude(params, {**{g: 0.1 for g in lstm.GATES}, "classifier": 0.5})
    rows = np.arange(156)
    for g, dead in zip(lstm.GATES, (3, 0, 7, 12), strict=True):  # some dead columns per gate
        masks[g]["kernel"] = masks[g]["kernel"] * jnp.asarray(rows % 16 >= dead, jnp.float32)[:, None]
    weights = {k: {n: v * masks[k][n] for n, v in leaves.items()} for k, leaves in params.items()}
    rng = np.random.default_rng(0)
    images = jnp.asarray(rng.random((3, 28, 28, 1)) * (rng.random((3, 28, 28, 1)) < 0.2), jnp.float32)
    _, inputs = registry.apply_with_layer_inputs(m.make(), weights, images)
    return m.specs, masks, weights, inputs


def _by_hand(spec, kernel_mask, x):
    """The FcLayer and repeats of one layer from numpy: live columns, mean broadcasts and multiplies per product."""
    mask = np.asarray(kernel_mask)  # (in, out)
    live = mask.sum(axis=1) > 0
    vecs = np.asarray(x).reshape(-1, spec.fan_in) != 0  # one row per product: (B T, in)
    broadcasts = (vecs & live).sum(axis=1).mean()
    weights_read = (vecs * mask.sum(axis=1)).sum(axis=1).mean()
    rows = spec.fan_out
    return LayerRun(FcLayer(float(live.sum()), float(rows), weights_read / (broadcasts * rows),
                            broadcasts / live.sum(), name=spec.name), float(spec.positions))  # fmt: skip


def test_lstm_statistics_have_one_product_per_step(pruned):
    specs, masks, _, inputs = pruned
    assert inputs["gate_f"].shape == (3, STEPS, 156) and inputs["classifier"].shape == (3, 128)
    stats = bridge.layer_statistics(specs, masks, inputs, indicator="exact")
    assert [s.spec.name for s in stats] == [*lstm.GATES, "classifier"]
    for s in stats:
        hand = _by_hand(s.spec, masks[s.spec.name]["kernel"], inputs[s.spec.name]).workload
        assert float(s.live_inputs) == hand.in_features
        assert float(s.kept_weights) == float(np.sum(masks[s.spec.name]["kernel"]))
        np.testing.assert_allclose(float(s.broadcasts), hand.activation_density * hand.in_features, rtol=1e-6)
    assert [float(s.live_inputs) for s in stats[:4]] == [156 - 10 * d for d in (3, 0, 7, 12)]


@pytest.mark.parametrize("hardware", ["ese", "eie"])
def test_cost_of_the_lstm_statistics_equals_the_workload_built_by_hand(pruned, hardware):
    specs, masks, _, inputs = pruned
    cm = cost_model(hardware)
    hw = cm.hard(cm.default_hardware)
    stats = bridge.layer_statistics(specs, masks, inputs, indicator="exact")
    runs = bridge.lower(cm, stats)
    assert [r.repeats for r in runs] == [28.0] * 4 + [1.0]  # the sequence length is carried: cost per inference
    hand = [_by_hand(s, masks[s.name]["kernel"], inputs[s.name]) for s in specs]
    got = bridge.statistics_cost(cm, hw, stats)
    want = network_cost(cm, hw, hand)
    np.testing.assert_allclose(float(got.latency_cycles), float(want.latency_cycles), rtol=1e-5)
    np.testing.assert_allclose(float(got.energy_pj), float(want.energy_pj), rtol=1e-5)
    once = network_cost(cm, hw, [LayerRun(r.workload) for r in hand])  # each product once
    for layer, single, run in zip(got.layers, once.layers, hand, strict=True):
        np.testing.assert_allclose(float(layer.latency_cycles), run.repeats * float(single.latency_cycles), rtol=1e-5)


def test_hard_ese_model_is_close_to_the_ese_layer_simulator(pruned):
    from hwcost.experiments.simulators import has_simulator, simulate_network

    specs, masks, weights, inputs = pruned
    assert has_simulator("ese")
    cm = cost_model("ese")
    exact = simulate_network("ese", specs, weights, {k: v[:1] for k, v in inputs.items()})
    stats = bridge.layer_statistics(specs, masks, {k: v[:1] for k, v in inputs.items()}, indicator="exact")
    model = bridge.statistics_cost(cm, cm.hard(cm.default_hardware), stats)
    assert exact["layers"]["gate_i"]["counts"]["fifo.push"] == 32 * float(
        np.sum((np.asarray(inputs["gate_i"][0]) != 0) & (np.asarray(masks["gate_i"]["kernel"]).sum(1) > 0))
    )  # one push per PE per broadcast of a live column, summed over the 28 steps
    assert 0.85 < float(model.latency_cycles) / exact["latency_cycles"] < 1.15
