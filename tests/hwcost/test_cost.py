"""Generic network pricing: the stacked (vmapped) evaluation gives each layer's own cost."""

import jax
import numpy as np
import pytest

from hwcost.cost import layer_cost, network_cost
from hwcost.registry import cost_model
from hwcost.types import FcLayer

LAYERS = (
    FcLayer(784.0, 300.0, 0.08, 0.19, name="ip1"),
    FcLayer(300.0, 100.0, 0.09, 0.6, name="ip2"),
    FcLayer(100.0, 10.0, 0.26, 0.8, name="ip3"),
    FcLayer(4096.0, 4096.0, 0.09, 0.353, name="Alex-7"),
)


@pytest.mark.parametrize("hard", [False, True])
def test_stacked_network_cost_equals_layer_by_layer(hard):
    model = cost_model("eie")
    hw = model.hard(model.default_hardware) if hard else model.default_hardware
    network = network_cost(model, hw, LAYERS)
    for layer, cost in zip(LAYERS, network.layers, strict=True):
        expected = layer_cost(model, hw, layer)
        np.testing.assert_allclose(float(cost.latency_cycles), float(expected.latency_cycles), rtol=1e-5)
        assert set(cost.energy_pj) == set(expected.energy_pj)
        for key, value in expected.energy_pj.items():
            np.testing.assert_allclose(float(cost.energy_pj[key]), float(value), rtol=1e-5, err_msg=key)


def test_stacked_network_cost_gradient_equals_layer_by_layer():
    model = cost_model("eie")
    hw = model.default_hardware

    def total(densities, stacked):
        layers = [
            FcLayer(layer.in_features, layer.out_features, d, layer.activation_density)
            for layer, d in zip(LAYERS, densities, strict=True)
        ]
        if stacked:
            return network_cost(model, hw, layers).energy_pj
        return sum(layer_cost(model, hw, layer).total_energy_pj for layer in layers)

    d = np.array([layer.weight_density for layer in LAYERS], np.float32)
    gradient = jax.jit(jax.grad(total), static_argnums=1)  # op by op, the two gradients took 2.5x longer
    np.testing.assert_allclose(gradient(d, True), gradient(d, False), rtol=1e-4)


def test_mixed_shapes_fall_back_to_layer_by_layer():
    model = cost_model("eie")
    hw = model.default_hardware
    batched = FcLayer(np.array([784.0, 300.0], np.float32), 300.0, 0.1, 0.2)
    network = network_cost(model, hw, (batched, LAYERS[2]))
    np.testing.assert_allclose(
        np.asarray(network.layers[0].latency_cycles), np.asarray(layer_cost(model, hw, batched).latency_cycles)
    )
