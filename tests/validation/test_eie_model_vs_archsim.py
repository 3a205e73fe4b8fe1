"""The differentiable EIE model against the cycle-level simulator (archsim/eie.py).

The random layers, their seeds and the averaging over realisations are those of
:func:`hwcost.experiments.validation.eie_random_layers_report` (its module docstring); the committed
figures are in ``benchmarks/results/eie_validation.json`` (``python benchmarks/eie_validation.py``).
Tolerances are the errors measured on these layers plus a stated margin (the constants below). The counts
that are fixed by the number of broadcast columns (pointer reads, FIFO pushes, the source scan of the
activations) must equal the simulator's on every layer; the counts that depend on where the nonzeros fall
(entries, MACs, fillers, Spmat words) must lie within the sampling noise of one realisation on every layer
and close to the simulator's in aggregate. The module runs in about a minute on 2 busy CPU cores; results
are cached in module fixtures.
"""

import numpy as np
import pytest

from archsim import eie as sim
from hwcost import eie
from hwcost.experiments import validation
from models.specs import EIE_TABLE_III

TABLE_III_LATENCY_RTOL = 0.02  # measured: 0.87 % at worst (VGG-6), margin 1.1 points
RANDOM_LATENCY_MEAN_ABS_ERROR_PCT = 1.6  # measured: 1.19 %, margin 0.4 points
RANDOM_LATENCY_MAX_ABS_ERROR_PCT = 7.0  # measured: 5.23 % (rand16, 21 columns at 2.4 % density), margin 1.8 points
FEW_COLUMNS_LATENCY_MEAN_ABS_ERROR_PCT = 2.0  # M < 16, measured: 1.48 %, margin 0.5 points
COUNT_NOISE_Z = 4.0  # |model - archsim| / sqrt(model) on every layer, measured: 1.67 at worst (MACs)
COUNT_AGGREGATE_RTOL = 0.003  # summed over all layers, measured: 0.03 % at worst (Spmat reads)
EXACT_COUNTS = ("ptr_sram.read", "fifo.push")
RANDOM_COUNTS = ("act_sram.read", "act_sram.write", "pe.mac", "pe.filler", "spmat_sram.read")


def _model(layer, hard=False):
    """Model latency and counts of a Table III layer, with the activation density archsim realises."""
    hw = eie.COST_MODEL.hard(eie.EIE_64PE_45NM) if hard else eie.EIE_64PE_45NM
    columns = validation.broadcast_columns(layer)
    workload = eie.FcLayer(float(layer.in_features), float(layer.out_features), float(layer.weight_density),
                           columns / layer.in_features)  # fmt: skip
    counts = {k: float(v) for k, v in eie.action_counts(hw, workload).items()}
    return float(eie.latency_cycles(hw, workload)), counts


@pytest.fixture(scope="module")
def table_iii_results():
    return [(row, sim.simulate_benchmark(row)) for row in EIE_TABLE_III]


@pytest.fixture(scope="module")
def random_report():
    return validation.eie_random_layers_report()


def _all_counts(table_iii_results, random_report):
    """``(name, model counts, archsim counts, in_features)`` of every layer."""
    rows = [(row.name, _model(row)[1], result.action_counts(), row.in_features) for row, result in table_iii_results]
    rows += [(r["layer"], r["model_counts"], r["archsim_counts"], r["in_features"]) for r in random_report["layers"]]
    return rows


def test_random_layers_cover_the_whole_range():
    layers = validation.eie_random_layers()
    columns = [validation.broadcast_columns(layer) for layer in layers]
    assert len(layers) >= 50
    assert min(columns) == 1 and sum(c < validation.FEW_COLUMNS for c in columns) >= 10
    assert all(64 <= layer.in_features <= 8192 and 64 <= layer.out_features <= 8192 for layer in layers)
    assert all(0.02 <= layer.weight_density <= 1 and 0 < layer.activation_density <= 1 for layer in layers)


def test_latency_matches_archsim_on_every_table_iii_layer(table_iii_results):
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
    assert max(abs(e) for e in errors) < TABLE_III_LATENCY_RTOL


def test_latency_matches_archsim_on_random_layers(random_report):
    for r in random_report["layers"]:
        print(f"{r['layer']:7s} {r['in_features']:5d} x {r['out_features']:5d} wd {r['weight_density']:.4f} "
              f"M {r['columns']:5d} archsim {r['archsim_cycles']:9.2f} model {r['model_cycles']:9.2f} "
              f"({r['error_pct']:+.2f}%)")  # fmt: skip
    few = random_report["few_columns"]
    print(f"mean |err| {random_report['mean_abs_error_pct']:.2f}%, max {random_report['max_abs_error_pct']:.2f}%; "
          f"M < {few['below_columns']}: n={few['layers']} mean {few['mean_abs_error_pct']:.2f}%")  # fmt: skip
    errors = np.abs([r["error_pct"] for r in random_report["layers"]])
    assert errors.mean() == pytest.approx(random_report["mean_abs_error_pct"])
    assert random_report["mean_abs_error_pct"] <= RANDOM_LATENCY_MEAN_ABS_ERROR_PCT
    assert random_report["max_abs_error_pct"] <= RANDOM_LATENCY_MAX_ABS_ERROR_PCT
    assert few["layers"] >= 10 and few["mean_abs_error_pct"] <= FEW_COLUMNS_LATENCY_MEAN_ABS_ERROR_PCT


def test_counts_fixed_by_the_broadcasts_equal_archsim_on_every_layer(table_iii_results, random_report):
    for name, counts, expected, in_features in _all_counts(table_iii_results, random_report):
        for key in EXACT_COUNTS:
            assert round(counts[key]) == expected[key], (name, key, counts[key], expected[key])
            assert abs(counts[key] - expected[key]) <= 1e-6 * expected[key]
        # the activation reads: one source read per input (the LNZD scan) besides one per entry
        source_reads = counts["act_sram.read"] - counts["act_sram.write"]
        assert round(source_reads) == in_features, name


@pytest.mark.parametrize("key", RANDOM_COUNTS)
def test_counts_within_sampling_noise_on_every_layer(table_iii_results, random_report, key):
    z = [abs(counts[key] - expected[key]) / np.sqrt(max(counts[key], 1.0))
         for _, counts, expected, _ in _all_counts(table_iii_results, random_report)]  # fmt: skip
    assert max(z) <= COUNT_NOISE_Z


@pytest.mark.parametrize("key", RANDOM_COUNTS)
def test_counts_match_archsim_in_aggregate(table_iii_results, random_report, key):
    rows = _all_counts(table_iii_results, random_report)
    model_total = sum(counts[key] for _, counts, _, _ in rows)
    sim_total = sum(expected[key] for _, _, expected, _ in rows)
    assert model_total == pytest.approx(sim_total, rel=COUNT_AGGREGATE_RTOL)


def test_the_committed_figures_are_this_model(random_report):
    """``benchmarks/results/eie_validation.json`` holds the figures this model measures today."""
    import json
    from pathlib import Path

    committed = json.loads((Path(__file__).resolve().parents[2] / "benchmarks/results/eie_validation.json").read_text())
    rows = committed["random_layers"]["layers"]
    assert [r["layer"] for r in rows] == [r["layer"] for r in random_report["layers"]]
    for mine, theirs in zip(random_report["layers"], rows, strict=True):
        assert mine["model_cycles"] == pytest.approx(theirs["model_cycles"], rel=1e-5), mine["layer"]
        assert mine["archsim_cycles"] == pytest.approx(theirs["archsim_cycles"], rel=1e-12), mine["layer"]
