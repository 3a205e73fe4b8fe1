"""Concrete calls of a cost model's bundle check their inputs; traced calls are left to the caller."""

import dataclasses

import jax
import pytest

from hwcost.cost import network_cost
from hwcost.registry import cost_model
from hwcost.types import FcLayer, LayerRun

GOOD = FcLayer(4096.0, 1000.0, 0.1, 0.4)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_density", -0.1, "weight_density=-0.1 is outside [0, 1]"),
        ("weight_density", 1.5, "weight_density=1.5 is outside [0, 1]"),
        ("in_features", 0.0, "in_features=0 must be > 0"),
        ("activation_density", float("nan"), "activation_density=nan is not finite"),
    ],
)
def test_eie_refuses_a_bad_workload_in_every_call(field, value, message):
    eie = cost_model("eie")
    bad = dataclasses.replace(GOOD, **{field: value})
    for call in (eie.latency_cycles, eie.action_counts, eie.energy_pj):
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            call(eie.default_hardware, bad)


def test_eie_refuses_bad_hardware():
    eie = cost_model("eie")
    with pytest.raises(ValueError, match="num_pes=0 must be >= 1"):
        eie.latency_cycles(dataclasses.replace(eie.default_hardware, num_pes=0.0), GOOD)


def test_network_cost_refuses_a_bad_layer_instead_of_adding_it():
    eie = cost_model("eie")
    runs = [LayerRun(GOOD, 1.0), LayerRun(dataclasses.replace(GOOD, weight_density=-0.1), 1.0)]
    with pytest.raises(ValueError, match="weight_density"):
        network_cost(eie, eie.default_hardware, runs)


def test_a_workload_of_the_wrong_kind_is_a_type_error():
    eie, memory = cost_model("eie"), cost_model("memory")
    conv = next(w for w in memory.sample_workloads().values() if type(w).__name__ == "ConvLayer")
    with pytest.raises(TypeError, match="workload=ConvLayer is not priced by eie; allowed: FcLayer"):
        eie.energy_pj(eie.default_hardware, conv)
    with pytest.raises(TypeError, match="is not eie's"):
        eie.latency_cycles(memory.default_hardware, GOOD)


def test_traced_calls_are_not_checked_and_give_the_concrete_value():
    eie = cost_model("eie")
    hw = eie.default_hardware
    assert float(jax.jit(eie.latency_cycles)(hw, GOOD)) == pytest.approx(float(eie.latency_cycles(hw, GOOD)), rel=1e-6)
    sweep = jax.vmap(lambda d: eie.latency_cycles(hw, dataclasses.replace(GOOD, weight_density=d)))
    assert sweep(jax.numpy.asarray([0.05, 0.1])).shape == (2,)


def test_a_concrete_call_compiles_once_whatever_the_layer_is_named_or_its_numbers_are_typed():
    """A workload's ``name`` is static and a Python float is weakly typed to JAX: both used to be part of the
    compiled call's key, so pricing the layers of a network (each named) or a sweep mixing ``0.5`` and
    ``np.float64(0.5)`` compiled the model again for every one."""
    import numpy as np

    from hwcost import eie
    from hwcost.types import CostModel

    traces = []

    def latency(hw, layer):
        traces.append(layer.name)
        return eie.COST_MODEL.latency_cycles.unchecked(hw, layer)

    model = dataclasses.replace(eie.COST_MODEL, latency_cycles=latency)
    assert isinstance(model, CostModel)
    layers = [
        dataclasses.replace(GOOD, name="fc6"),
        dataclasses.replace(GOOD, name="fc7", weight_density=np.float64(0.2)),
        dataclasses.replace(GOOD, weight_density=jax.numpy.float32(0.3), in_features=np.float32(512.0)),
    ]
    values = [float(model.latency_cycles(model.default_hardware, layer)) for layer in layers]
    assert len(traces) == 1
    assert values == [float(eie.COST_MODEL.latency_cycles(eie.EIE_64PE_45NM, layer)) for layer in layers]
