"""The SCNN and DCNN models against their cycle-level simulators (archsim.scnn, archsim.dcnn): every AlexNet
convolution and 30 random layers (shapes, strides, padding, densities 0.05..1, PE arrays and vectors) within
10 % in cycles and energy, mean error at most 5 %, and the deterministic counts exactly equal."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from archsim import dcnn as dcnn_sim
from archsim import scnn as scnn_sim
from hwcost import dcnn, scnn
from hwcost.cost import price_action_counts
from hwcost.types import ConvLayer, total
from models import conv_specs
from tests.archsim.test_dcnn import ODD_GEOMETRIES

DETERMINISTIC = ("halo.transfer", "ppu.relu", "accumulator.read")


def _layer_tensors(layer: ConvLayer, seed: int) -> tuple[np.ndarray, np.ndarray]:
    shape_w = (int(layer.out_channels), int(layer.in_channels), int(layer.kernel_h), int(layer.kernel_w))
    shape_a = (int(layer.in_channels), int(layer.in_h), int(layer.in_w))
    return scnn_sim.random_layer(shape_w, shape_a, float(layer.weight_density), float(layer.activation_density), seed)


def _random_case(rng: np.random.Generator, k: int) -> tuple[ConvLayer, scnn.ScnnHardware, scnn_sim.ScnnConfig]:
    """A layer of the sizes of the papers' networks (C, K in 8..128, planes 7..56, kernels 1/3/5, strides 1-2,
    padding up to R // 2, densities 0.05..1) on a PE array of 2..8 x 2..8 with F, I in {2, 4} and the paper's
    A = 2 F I banks."""
    kernel = int(rng.choice([1, 3, 5]))
    stride = int(rng.choice([1, 1, 2]))
    padding = int(rng.integers(0, kernel // 2 + 1))
    size = int(rng.integers(7, 57))
    out = (size + 2 * padding - kernel) // stride + 1
    layer = ConvLayer(
        float(rng.integers(8, 129)), float(rng.integers(8, 129)), float(kernel), float(kernel), float(size),
        float(size), float(out), float(out), float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.05, 1.0)),
        stride=float(stride), padding=float(padding), output_density=float(rng.uniform(0.0, 1.0)), name=f"random{k}",
    )  # fmt: skip
    rows, cols = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    f, i = int(rng.choice([2, 4])), int(rng.choice([2, 4]))
    hw = dataclasses.replace(
        scnn.SCNN_16NM, pe_rows=float(rows), pe_cols=float(cols), weight_vector=float(f), activation_vector=float(i),
        banks=float(2 * f * i),
    )  # fmt: skip
    config = scnn_sim.SCNN._replace(pe_rows=rows, pe_cols=cols, F=f, I=i, banks=2 * f * i)
    return layer, hw, config


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x, jnp.float32) for x in xs]), *trees)


@jax.jit
def _model_values(hw, layer):
    model = scnn.COST_MODEL
    c = model.action_counts.unchecked(hw, layer)
    energy = total({k: v * model.per_action_energy_pj(hw)[k] for k, v in c.items()})
    return model.latency_cycles.unchecked(hw, layer), energy, c


def _compare(cases):
    """(cycle errors, energy errors, count mismatches, simulated cycles) of the hard model against archsim."""
    model = scnn.COST_MODEL
    layers, hws, sims = [], [], []
    for layer, hw, config, seed in cases:
        w, a = _layer_tensors(layer, seed)
        sims.append(scnn_sim.simulate(w, a, int(layer.stride), int(layer.padding), config, float(layer.output_density)))
        layers.append(layer)
        hws.append(model.hard(hw))
    same_name = [dataclasses.replace(layer, name="layer") for layer in layers]
    latency, energy, counts = jax.vmap(_model_values)(_stack(hws), _stack(same_name))
    cycle_err, energy_err, mismatches = [], [], []
    for j, (sim, hw) in enumerate(zip(sims, hws, strict=True)):
        sim_energy = sum(price_action_counts(sim.counts, model.per_action_energy_pj(hw)).values())
        cycle_err.append(float(latency[j]) / sim.cycles - 1.0)
        energy_err.append(float(energy[j]) / sim_energy - 1.0)
        for key in DETERMINISTIC:
            if round(float(counts[key][j])) != sim.counts[key]:
                mismatches.append((layers[j].name, key, float(counts[key][j]), sim.counts[key]))
    return np.array(cycle_err), np.array(energy_err), mismatches, np.array([sim.cycles for sim in sims])


def test_every_alexnet_layer_within_ten_percent():
    cases = []
    for name in conv_specs.layer_names("alexnet"):
        layer = conv_specs.to_layer_run(conv_specs.conv_spec(name)).workload
        cases.append((layer, scnn.SCNN_16NM, scnn_sim.SCNN, 17))
    cycles, energy, mismatches, _ = _compare(cases)
    assert np.max(np.abs(cycles)) < 0.10, cycles
    assert np.max(np.abs(energy)) < 0.10, energy
    assert mismatches == []


def test_thirty_random_layers_within_ten_percent_mean_five():
    """Within 10 % (mean 5 %) on every layer of at least 1,000 cycles; a layer of a few hundred cycles (a few
    dozen per output-channel group, where the Gaussian maximum over the PEs is coarse) within 20 %."""
    rng = np.random.default_rng(1708)
    cases = [(*_random_case(rng, k), k) for k in range(30)]
    cycles, energy, mismatches, simulated = _compare(cases)
    sized = simulated >= 1000
    assert np.sum(sized) >= 20
    assert np.max(np.abs(cycles[sized])) < 0.10, np.round(cycles, 3)
    assert np.max(np.abs(cycles)) < 0.20, np.round(cycles, 3)
    assert np.max(np.abs(energy)) < 0.10, np.round(energy, 3)
    assert np.mean(np.abs(cycles[sized])) <= 0.05 and np.mean(np.abs(energy)) <= 0.05
    assert mismatches == []


@pytest.mark.parametrize("optimized", [False, True])
def test_dcnn_counts_and_cycles_match_the_simulator(optimized):
    hw = dcnn.DCNN_OPT_16NM if optimized else dcnn.DCNN_16NM
    config = dcnn_sim.DCNN_OPT if optimized else dcnn_sim.DCNN
    model = dcnn.OPT_COST_MODEL if optimized else dcnn.COST_MODEL
    for name in ("alexnet/conv1", "alexnet/conv3", "vgg16/conv1_1", "googlenet/inception_4a/5x5"):
        layer = conv_specs.to_layer_run(conv_specs.conv_spec(name)).workload
        w, a = _layer_tensors(layer, 3)
        sim = dcnn_sim.simulate(w, a, int(layer.stride), int(layer.padding), config, float(layer.output_density))
        h = model.hard(hw)
        assert float(model.latency_cycles(h, layer)) == pytest.approx(sim.cycles, rel=1e-5)
        counts = model.action_counts(h, layer)
        for key in ("adder.add", "weight_buffer.read", "activation_sram.read", "accumulator.update", "sram.write"):
            assert float(counts[key]) == pytest.approx(sim.counts[key], rel=1e-5), (name, key)
        assert float(counts["multiplier.multiply"]) == pytest.approx(sim.counts["multiplier.multiply"], rel=0.03)


@pytest.mark.parametrize(("c", "h", "w", "r", "s", "u", "p"), ODD_GEOMETRIES)
def test_dcnn_input_stationary_reads_match_the_simulator_on_odd_geometries(c, h, w, r, s, u, p):
    sim = dcnn_sim.simulate(np.ones((2, c, r, s)), np.ones((c, h, w)), u, p)
    layer = ConvLayer(float(c), 2.0, float(r), float(s), float(h), float(w), float(sim.out_h), float(sim.out_w),
                      1.0, 1.0, stride=float(u), padding=float(p))  # fmt: skip
    reads = dcnn.window_vectors(dcnn.COST_MODEL.hard(dcnn.DCNN_16NM), layer)
    assert float(reads) == sim.counts["activation_sram.read"]


def test_sparse_variants_bracket_scnn():
    """At 0.4 / 0.4 (the paper's Table 6 comparison point) SCNN is faster than either one-operand variant."""
    layer = ConvLayer(64.0, 64.0, 3.0, 3.0, 28.0, 28.0, 28.0, 28.0, 0.4, 0.4, padding=1.0)
    cycles = {
        name: float(scnn.COST_MODEL.latency_cycles(hw, layer))
        for name, hw in (("scnn", scnn.SCNN_16NM), ("w", scnn.SCNN_SPARSE_W), ("a", scnn.SCNN_SPARSE_A))
    }
    assert cycles["scnn"] < cycles["w"] and cycles["scnn"] < cycles["a"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_density", 1.5, "weight_density"),
        ("activation_density", float("nan"), "activation_density"),
        ("stride", 0.5, "stride"),
        ("padding", -1.0, "padding"),
        ("out_h", 9.0, "out_h"),
        ("kernel_h", 40.0, "kernel_h"),
    ],
)
def test_bad_layers_name_the_field(field, value, message):
    layer = dataclasses.replace(scnn.sample_workloads()["vgg_like_3x3"], **{field: value})
    with pytest.raises(ValueError, match=message):
        scnn.COST_MODEL.latency_cycles(scnn.SCNN_16NM, layer)
