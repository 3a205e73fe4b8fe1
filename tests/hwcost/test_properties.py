"""Registry-driven properties every cost model must have (DESIGN.md sec. 4)."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from hwcost.registry import MODEL_MODULES, cost_model
from hwcost.types import FcLayer, total

NAMES = sorted(MODEL_MODULES)


def _evaluate(model, hw, workload):
    return model.action_counts(hw, workload), model.energy_pj(hw, workload), model.latency_cycles(hw, workload)


def _with_densities(workload, weight_density, activation_density):
    return dataclasses.replace(workload, weight_density=weight_density, activation_density=activation_density)


def _assert_trees_close(a, b, rtol=1e-5):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-6), a, b)


@pytest.fixture(params=NAMES)
def model(request):
    return cost_model(request.param)


def test_terms_are_finite_and_non_negative(model):
    counts, energy, latency = _evaluate(model, model.default_hardware, model.example_workload())
    assert set(counts) == set(energy)
    for value in [*counts.values(), *energy.values(), latency]:
        assert np.all(np.isfinite(value)) and np.all(np.asarray(value) >= 0)
    assert float(total(energy)) > 0 and float(latency) > 0


def test_jit_equals_eager(model):
    hw, workload = model.default_hardware, model.example_workload()
    eager = _evaluate(model, hw, workload)
    jitted = jax.jit(lambda h, w: _evaluate(model, h, w))(hw, workload)
    _assert_trees_close(eager, jitted)


def test_vmap_over_a_stacked_sweep_equals_a_python_loop(model):
    hw, base = model.default_hardware, model.example_workload()
    points = [_with_densities(base, wd, ad) for wd, ad in ((0.05, 0.2), (0.1, 0.5), (0.3, 0.35), (0.8, 0.9))]
    stacked = jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x, jnp.float32) for x in xs]), *points)
    swept = jax.jit(jax.vmap(lambda w: _evaluate(model, hw, w)))(stacked)
    for i, point in enumerate(points):
        looped = _evaluate(model, hw, point)
        _assert_trees_close(jax.tree.map(lambda x, i=i: x[i], swept), looped, rtol=1e-4)


def test_no_retrace_across_a_sweep(model):
    hw, base = model.default_hardware, model.example_workload()
    traces = []

    @jax.jit
    def energy(h, w):
        traces.append(1)
        return total(model.energy_pj(h, w))

    for wd in (0.05, 0.1, 0.2, 0.4, 0.8):
        energy(hw, _with_densities(base, jnp.float32(wd), jnp.float32(0.5))).block_until_ready()
    assert len(traces) == 1


@pytest.mark.parametrize(("weight_density", "activation_density"), [(0.09, 0.35), (0.3, 0.6)])
def test_gradients_wrt_densities_in_float64(model, weight_density, activation_density):
    with jax.enable_x64(True):
        hw = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), model.default_hardware)
        base = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), model.example_workload())
        scale_e = float(total(model.energy_pj(hw, base))) or 1.0
        scale_t = float(model.latency_cycles(hw, base)) or 1.0

        def energy(wd, ad):
            return total(model.energy_pj(hw, _with_densities(base, wd, ad))) / scale_e

        def latency(wd, ad):
            return model.latency_cycles(hw, _with_densities(base, wd, ad)) / scale_t

        args = (jnp.float64(weight_density), jnp.float64(activation_density))
        check_grads(energy, args, order=1, modes=["fwd", "rev"], eps=1e-5, rtol=2e-3)
        check_grads(latency, args, order=1, modes=["fwd", "rev"], eps=1e-5, rtol=2e-3)


def test_energy_is_monotone_in_weight_density(model):
    hw, base = model.default_hardware, model.example_workload()
    energies = [float(total(model.energy_pj(hw, _with_densities(base, wd, 0.5)))) for wd in (0.05, 0.2, 0.6, 1.0)]
    assert all(a <= b for a, b in itertools.pairwise(energies))


def _dense_macs(model, hw, workload):
    """The model's count of multiply-accumulates, where it names one."""
    counts = model.action_counts(hw, workload)
    if "pe.mac" in counts:
        return counts["pe.mac"] + counts.get("pe.filler", 0.0)
    if "register_file.write" in counts:  # memory: one partial-sum write per MAC per word
        return counts["register_file.write"] * hw.word_bits / hw.activation_bits
    return None


def test_density_one_gives_the_dense_figure(model):
    hw = model.default_hardware
    workload = _with_densities(model.example_workload(), 1.0, 1.0)
    if not isinstance(workload, FcLayer):
        pytest.skip("dense-figure check written for fully connected workloads")
    macs = _dense_macs(model, model.hard(hw), workload)
    if macs is None:
        pytest.skip(f"{model.name} counts no MACs")
    np.testing.assert_allclose(macs, workload.in_features * workload.out_features, rtol=1e-5)
