"""Every registered cost model passes every property of :mod:`hwcost.testing`, and the suite catches
deliberately broken models (a straight-through gradient, a negative energy, a hard twin that relaxes)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import pytest

from hwcost import registry, testing
from hwcost.smooth import Smoothing, smooth_relu, soft_step
from hwcost.types import CostModel, FcLayer, LayerRun, LayerStatistics, ModelCard, Monotone, pytree_dataclass


@pytest.mark.parametrize("prop", sorted(testing.PROPERTIES))
@pytest.mark.parametrize("name", registry.names())
def test_registered_model_has_property(name, prop):
    testing.PROPERTIES[prop](registry.cost_model(name))


# --- a small, correct model and broken variants of it ---------------------------------------------------
@pytree_dataclass
class TinyHardware:
    """One MAC unit reading weights from a buffer: ``mac_pj`` per MAC, ``read_pj`` per weight read,
    ``macs_per_cycle`` throughput; ``smoothing`` relaxes the one-cycle minimum of a layer."""

    mac_pj: float
    read_pj: float
    macs_per_cycle: float
    smoothing: Smoothing


TINY = TinyHardware(1.0, 2.0, 4.0, Smoothing(0.5))


def _counts(hw, layer):
    macs = layer.in_features * layer.out_features * layer.weight_density * layer.activation_density
    return {"pe.mac": macs, "buffer.read": layer.in_features * layer.out_features * layer.weight_density}


def _latency(hw, layer):
    macs = _counts(hw, layer)["pe.mac"] / hw.macs_per_cycle
    # at least one cycle per nonzero input column: max(macs, columns), relaxed
    columns = layer.in_features * layer.activation_density
    return columns + smooth_relu(macs - columns, hw.smoothing.temperature * (columns + 1.0), hard=hw.smoothing.hard)


def _check(layer):
    for field in ("weight_density", "activation_density"):
        value = float(getattr(layer, field))
        if not 0.0 <= value <= 1.0:  # also rejects NaN
            raise ValueError(f"{field}={value} is outside [0, 1]")


def _check_hw(hw):
    for field in ("mac_pj", "read_pj", "macs_per_cycle", "temperature"):
        value = float(hw.smoothing.temperature if field == "temperature" else getattr(hw, field))
        if not value > 0:
            raise ValueError(f"{field}={value} must be > 0")


def _lower(stats: LayerStatistics) -> LayerRun:
    live = jnp.asarray(stats.live_inputs)
    rows = float(stats.spec.fan_out)
    return LayerRun(FcLayer(live, rows, stats.kept_weights / (live * rows), stats.broadcasts / live),
                    float(stats.spec.positions))  # fmt: skip


TINY_MODEL = CostModel(
    card=ModelCard("tiny", "one MAC unit", "a test model", (FcLayer,)),
    per_action_energy_pj=lambda hw: {"pe.mac": hw.mac_pj, "buffer.read": hw.read_pj},
    action_counts=_counts,
    latency_cycles=_latency,
    default_hardware=TINY,
    sample_workloads=lambda: {"fc": FcLayer(300.0, 100.0, 0.3, 0.5), "one_column": FcLayer(1.0, 10.0, 0.5, 1.0)},
    lower=_lower,
    check_hardware=_check_hw,
    check_workload=_check,
    clock_mhz=lambda hw: 100.0,
    monotone=(Monotone("energy", "workload.weight_density"), Monotone("latency", "workload.activation_density")),
    dense_limit=lambda hw, layer: {"pe.mac": layer.in_features * layer.out_features},
)


def test_the_suite_passes_a_correct_model():
    testing.check_all(TINY_MODEL)


@jax.custom_jvp
def _straight_through_ceil(x):
    return jnp.ceil(x)


@_straight_through_ceil.defjvp
def _straight_through_ceil_jvp(primals, tangents):
    return _straight_through_ceil(primals[0]), tangents[0]


def _broken(**changes) -> CostModel:
    return dataclasses.replace(TINY_MODEL, **changes)


def test_the_suite_catches_a_straight_through_gradient():
    model = _broken(latency_cycles=lambda hw, layer: _straight_through_ceil(_latency(hw, layer)))
    with pytest.raises(AssertionError, match="d latency_cycles / d workload"):
        testing.check_gradients(model)


def test_finite_differences_stay_inside_the_density_range():
    # a model defined on densities in [0, 1] only, checked at activation density 1 (the "one_column" sample):
    # a central difference there would step outside and see NaN
    def counts(hw, layer):
        inside = jnp.where(layer.activation_density <= 1.0, 1.0, jnp.nan)
        return {k: v * inside for k, v in _counts(hw, layer).items()}

    testing.check_gradients(_broken(action_counts=counts))


def test_the_suite_catches_a_negative_energy():
    model = _broken(per_action_energy_pj=lambda hw: {"pe.mac": -hw.mac_pj, "buffer.read": hw.read_pj})
    with pytest.raises(AssertionError, match=r"energy of one pe\.mac"):
        testing.check_terms(model)


def test_the_suite_catches_an_unpriced_action():
    model = _broken(per_action_energy_pj=lambda hw: {"pe.mac": hw.mac_pj})
    with pytest.raises(AssertionError, match=r"buffer\.read"):
        testing.check_terms(model)


def test_the_suite_catches_a_hard_twin_that_relaxes():
    def latency(hw, layer):  # forgets to pass hard=... to its relaxation
        columns = layer.in_features * layer.activation_density
        return columns + smooth_relu(_counts(hw, layer)["pe.mac"] / hw.macs_per_cycle - columns, 0.5 * columns)

    with pytest.raises(AssertionError, match="not exact"):
        testing.check_hard_is_exact(_broken(latency_cycles=latency))


def test_the_suite_catches_a_relaxation_that_ignores_the_temperature():
    def latency(hw, layer):
        return _latency(hw, layer) * (1.0 + 0.1 * soft_step(layer.weight_density - 0.5, 0.1, hard=hw.smoothing.hard))

    with pytest.raises(AssertionError, match="relaxed at T/1e4"):
        testing.check_relaxed_converges_to_hard(_broken(latency_cycles=latency))


def test_the_suite_catches_a_broken_monotone_promise():
    model = _broken(monotone=(Monotone("latency", "workload.weight_density", increasing=False),))
    with pytest.raises(AssertionError, match="not decreasing"):
        testing.check_monotone(model)


def test_the_suite_catches_a_wrong_dense_limit():
    model = _broken(dense_limit=lambda hw, layer: {"pe.mac": 2.0 * layer.in_features * layer.out_features})
    with pytest.raises(AssertionError, match="dense limit"):
        testing.check_dense_limit(model)


def test_the_suite_catches_a_check_that_lets_nan_through():
    model = _broken(check_workload=lambda layer: None)
    with pytest.raises(AssertionError, match="accepted"):
        testing.check_input_checks(model)


def test_the_suite_catches_a_lowering_with_a_false_gradient():
    def lower(stats):
        run = _lower(stats)
        d = run.workload.weight_density
        coarse = _straight_through_ceil(d * 10) / 10
        return run._replace(workload=dataclasses.replace(run.workload, weight_density=coarse))

    with pytest.raises(AssertionError, match=r"statistics\.kept_weights"):
        testing.check_lowering(_broken(lower=lower))
