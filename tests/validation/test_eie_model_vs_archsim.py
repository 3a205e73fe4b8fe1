"""The differentiable EIE model against the cycle-level simulator (archsim/eie.py).

Tolerances: latency within 10 % on each EIE Table III layer and on each random layer, mean absolute
latency error at most 5 % over the random layers; entries, MACs and Spmat reads within 3 % in aggregate.

Random layers: 60 draws, shapes 64..8192 (in and out, log-uniform), densities 0.02..1 (weight and
activation, log-uniform), fixed seed, the paper's hardware (64 PEs, FIFO depth 8, 4-bit indices), no
exclusion: they include layers with a single broadcast column. Each layer carries the activation
density the simulator realises, ``M / in`` with ``M = round(in * density)`` nonzero activations
(``archsim.eie.random_activations`` draws exactly that many), so model and simulator see the same
integer ``M >= 1``. A single realisation of a few-column layer scatters by 5 % and more (the maximum
over 64 PEs of a handful of discrete column works: a one-column layer of two-row slices takes 1 or 2
cycles), so the simulator's latency is averaged over ``ceil(64 / M)`` independently seeded
realisations, at most 64 and, for layers with many nonzeros (whose latencies scatter less), at most
``2e6 / nnz``: the model predicts the expectation.
The seed, 1613, is the first from the benchmark seed (1602) on whose 60 draws the smallest layer has a
single broadcast column, no layer stores more than 8 M nonzeros and all realisations together simulate
at most 40 M nonzeros (the simulator's cost), so the module runs in about a minute on 2 busy CPU
cores; it was chosen by these criteria alone, before the model was compared. Results are cached in
module fixtures.
"""

import math

import numpy as np
import pytest

from archsim import eie as sim
from hwcost import eie
from hwcost.types import FcLayer
from models.specs import EIE_TABLE_III

LATENCY_RTOL_PER_LAYER = 0.10
LATENCY_MEAN_ABS_ERROR = 0.05
COUNT_RTOL = 0.03
N_RANDOM = 60
RANDOM_SEED = 1613  # module docstring
MAX_REALIZATIONS = 64
REALIZATION_NONZEROS = 2_000_000  # cap on the nonzeros simulated for the extra realisations of one layer
FEW_COLUMNS = 16  # reported separately: the regime of the no-stall form (module docstring of hwcost.eie)


def _model(layer_like, hard=False):
    hw = eie.COST_MODEL.hard(eie.EIE_64PE_45NM) if hard else eie.EIE_64PE_45NM
    layer = FcLayer(
        float(layer_like.in_features),
        float(layer_like.out_features),
        float(layer_like.weight_density),
        float(layer_like.activation_density),
    )
    return float(eie.latency_cycles(hw, layer)), {k: float(v) for k, v in eie.action_counts(hw, layer).items()}


def _random_layers():
    rng = np.random.default_rng(RANDOM_SEED)
    layers = []
    for i in range(N_RANDOM):
        inn, out = (round(float(np.exp(rng.uniform(np.log(64), np.log(8192))))) for _ in range(2))
        wd, ad = (float(np.exp(rng.uniform(np.log(0.02), 0.0))) for _ in range(2))
        columns = round(ad * inn)  # >= round(0.02 * 64) = 1
        layers.append(FcLayer(inn, out, round(wd, 4), columns / inn, name=f"rand{i}"))
    return layers


def _realizations(layer):
    """``ceil(64 / M)`` realisations, at most 64 and at most ``REALIZATION_NONZEROS / nnz`` (at least 1)."""
    columns = round(layer.in_features * layer.activation_density)
    nonzeros = round(layer.in_features * layer.out_features * layer.weight_density)
    return max(1, min(MAX_REALIZATIONS, math.ceil(64 / columns), REALIZATION_NONZEROS // nonzeros))


def _mean_cycles(layer):
    """Simulated cycles averaged over :func:`_realizations` seeds (the first is the benchmark seed)."""
    cycles = [sim.simulate_benchmark(layer).cycles]
    for k in range(1, _realizations(layer)):
        weights, activations = sim.benchmark_inputs(
            layer.in_features,
            layer.out_features,
            layer.weight_density,
            layer.activation_density,
            seed=sim.BENCHMARK_SEED + k,
        )
        cycles.append(sim.simulate(weights, activations).cycles)
    return float(np.mean(cycles))


@pytest.fixture(scope="module")
def table_iii_results():
    return [(row, sim.simulate_benchmark(row)) for row in EIE_TABLE_III]


@pytest.fixture(scope="module")
def random_results():
    return [(layer, sim.simulate_benchmark(layer), _mean_cycles(layer)) for layer in _random_layers()]


def test_random_layers_cover_the_whole_range():
    layers = _random_layers()
    columns = [round(layer.in_features * layer.activation_density) for layer in layers]
    assert len(layers) >= 50
    assert min(columns) == 1 and sum(c < FEW_COLUMNS for c in columns) >= 10
    assert all(64 <= layer.in_features <= 8192 and 64 <= layer.out_features <= 8192 for layer in layers)
    assert all(0.02 <= layer.weight_density <= 1 and 0 < layer.activation_density <= 1 for layer in layers)


def test_latency_within_10_percent_on_every_table_iii_layer(table_iii_results):
    lines, errors = [], []
    for row, result in table_iii_results:
        predicted, _ = _model(row)
        hard, _ = _model(row, hard=True)
        err = predicted / result.cycles - 1
        errors.append(err)
        lines.append(
            f"{row.name:8s} archsim {result.cycles:6d}  model {predicted:8.0f} ({err:+.2%})  hard {hard:8.0f}"
            f"  -> {predicted / 800:.1f} us (Table IV theoretical {row.eie_theoretical_us}, actual "
            f"{row.eie_actual_us})"
        )
    print("\n" + "\n".join(lines))
    assert max(abs(e) for e in errors) < LATENCY_RTOL_PER_LAYER


def test_latency_on_random_layers(random_results):
    errors, columns, lines = [], [], []
    for layer, _, cycles in random_results:
        predicted, _ = _model(layer)
        errors.append(predicted / cycles - 1)
        columns.append(round(layer.in_features * layer.activation_density))
        lines.append(
            f"{layer.name:7s} {layer.in_features:5d} x {layer.out_features:5d} wd {layer.weight_density:.4f} "
            f"M {columns[-1]:5d} archsim {cycles:9.2f} model {predicted:9.2f} ({errors[-1]:+.2%})"
        )
    errors, columns = np.abs(errors), np.asarray(columns)
    few = columns < FEW_COLUMNS
    print("\n" + "\n".join(lines))
    print(
        f"random layers: n={errors.size} mean |err| {errors.mean():.2%}, max {errors.max():.2%}; "
        f"M < {FEW_COLUMNS}: n={few.sum()} mean {errors[few].mean():.2%}, max {errors[few].max():.2%}"
    )
    assert errors.mean() <= LATENCY_MEAN_ABS_ERROR
    assert errors.max() < LATENCY_RTOL_PER_LAYER


@pytest.mark.parametrize("key", ["act_sram.write", "pe.mac", "pe.filler", "spmat_sram.read", "ptr_sram.read"])
def test_action_counts_match_in_aggregate(table_iii_results, random_results, key):
    model_total = sim_total = 0.0
    for layer, result, *_ in [*table_iii_results, *random_results]:
        model_total += _model(layer)[1][key]
        sim_total += result.action_counts()[key]
    assert model_total == pytest.approx(sim_total, rel=COUNT_RTOL)
