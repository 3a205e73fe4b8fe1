"""The Regularity memory-reference study (hwcost/experiments/regularity.py) on small random layers: equal density
at every granularity, merged references of contiguous coarse-grained sparsity below element's, totals and ratios
consistent with the per-layer rows, LeNet-5 cases from real layer inputs, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from archsim import scnn
from compress.ladder import LADDER_GRANULARITIES
from hwcost.experiments import regularity
from models.lenet import apply_with_layer_inputs, init_params, make_model

SMALL_PE = scnn.ScnnConfig(pe_rows=2, pe_cols=2)


def _cases(density: float = 0.5) -> dict[str, list[regularity.ConvCase]]:
    rng = np.random.default_rng(3)
    dense = [rng.standard_normal((8, 4, 3, 3)), rng.standard_normal((6, 8, 3, 3))]
    acts = [rng.integers(1, 5, size=(2, 4, 10, 10)).astype(float), rng.integers(1, 5, size=(1, 8, 6, 6)) * 1.0]
    acts[1][:, :, ::3] = 0.0  # some zero rows
    return {
        g: [
            regularity.ConvCase(f"l{i}", regularity.prune(w, density, g), a, 1, 1, 0.5)
            for i, (w, a) in enumerate(zip(dense, acts, strict=True))
        ]
        for g in LADDER_GRANULARITIES
    }


def test_every_granularity_prunes_to_the_same_density_and_only_whole_groups():
    cases = _cases(0.5)
    for g, layers in cases.items():
        for case in layers:
            assert np.count_nonzero(case.weights) / case.weights.size == 0.5, (g, case.name)
    kernel = cases["kernel"][0].weights != 0
    assert np.all(kernel.all(axis=(2, 3)) == kernel.any(axis=(2, 3)))  # whole R x S kernels kept or removed
    vector = cases["vector"][0].weights != 0
    assert np.all(vector.all(axis=3) == vector.any(axis=3))  # whole kernel rows
    filt = cases["filter"][0].weights != 0
    assert np.all(filt.all(axis=(1, 2, 3)) == filt.any(axis=(1, 2, 3)))


def test_contiguous_coarse_sparsity_needs_fewer_merged_references_than_element():
    study = regularity.granularity_study(_cases(0.5), SMALL_PE)
    by = {g["granularity"]: g for g in study["granularities"]}
    densities = {g: by[g]["total"]["weight_density"] for g in by}
    assert len(set(densities.values())) == 1
    for g in ("vector", "kernel", "filter"):
        assert by[g]["ratio_to_element"]["accumulator_refs_merged"] < 1.0, g
        assert by[g]["ratio_to_element"]["memory_refs_merged"] < 1.0, g
        assert by[g]["ratio_to_element"]["index_storage_bits"] < 1.0, g  # the index saving
    for entry in by.values():
        t = entry["total"]
        assert t["merged_product_updates"] <= t["products"]
        assert t["accumulator_refs_merged"] <= t["accumulator_refs"]


def test_totals_sum_the_rows_and_ratios_divide_the_totals():
    study = regularity.granularity_study(_cases(0.4), SMALL_PE)
    element = study["granularities"][0]["total"]
    assert study["granularities"][0]["granularity"] == "element"
    for entry in study["granularities"]:
        rows, total = entry["layers"], entry["total"]
        for key in (*regularity.COMPONENTS, "memory_refs", "memory_refs_merged", "storage_bits"):
            assert total[key] == sum(r[key] for r in rows)
        for r in rows:
            assert r["memory_refs"] == sum(r[k] for k in regularity.COMPONENTS)
            merged_acc = r["accumulator_refs"] - r["products"] + r["merged_product_updates"]
            assert r["accumulator_refs_merged"] == merged_acc
            assert r["memory_refs_merged"] == r["memory_refs"] - r["accumulator_refs"] + merged_acc
        for key, ratio in entry["ratio_to_element"].items():
            assert ratio == pytest.approx(total[key] / element[key])


def test_a_layer_counts_each_example_and_filter_group():
    case = _cases(0.5)["kernel"][0]
    one = regularity.layer_references(case._replace(activations=case.activations[:1]), "kernel", SMALL_PE)
    sim = scnn.simulate(case.weights, case.activations[0], 1, 1, SMALL_PE, output_density=0.5)
    assert one["weight_fifo_reads"] == sim.counts["weight_fifo.read"]
    assert one["accumulator_refs"] == sim.counts["accumulator.update"] + sim.counts["accumulator.read"]
    assert one["dram_words"] == (sim.counts["dram.read_bit"] + sim.counts["dram.write_bit"]) // 20
    twice = regularity.layer_references(case._replace(activations=case.activations[:1], repeats=2), "kernel", SMALL_PE)
    assert all(twice[k] == 2 * one[k] for k in (*regularity.COMPONENTS, "memory_refs_merged", "storage_bits"))


def test_lenet5_cases_take_the_real_layer_inputs():
    params = init_params("lenet5", seed=0)
    images = np.zeros((2, 28, 28, 1), dtype=np.float32)
    images[:, 10:18, 10:18] = 1.0
    model = make_model("lenet5")
    conv1, conv2 = regularity.lenet5_cases(params, images, lambda p, x: apply_with_layer_inputs(model, p, x)[1])
    assert conv1.weights.shape == (20, 1, 5, 5) and conv1.activations.shape == (2, 1, 28, 28)
    assert conv2.weights.shape == (50, 20, 5, 5) and conv2.activations.shape == (2, 20, 12, 12)
    assert np.count_nonzero(conv1.activations) == 2 * 64  # the image itself
    assert 0.0 < conv1.output_density <= 1.0 and (conv1.stride, conv1.padding) == (1, 0)


def test_bad_input_is_rejected_naming_the_field():
    w = np.ones((2, 1, 3, 3))
    with pytest.raises(ValueError, match="granularity='channel' is unknown"):
        regularity.prune(w, 0.5, "channel")
    with pytest.raises(ValueError, match="density"):
        regularity.prune(w, 0.0, "element")
    with pytest.raises(ValueError, match="must include 'element'"):
        regularity.granularity_study({"kernel": []})
    case = regularity.ConvCase("l", w, np.ones((1, 5, 5)), 1, 0, 1.0)
    with pytest.raises(ValueError, match="activations ndim=3"):
        regularity.layer_references(case, "element")
    with pytest.raises(ValueError, match="repeats=0"):
        regularity.layer_references(case._replace(activations=np.ones((1, 1, 5, 5)), repeats=0), "element")
