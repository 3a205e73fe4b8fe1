"""The convolution verbs of the command line: ``hwcost simulate scnn|dcnn|dcnn-opt`` and ``hwcost validate scnn``
(on a few layers; the full validation is ``benchmarks/scnn_validation.py``)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from archsim import dcnn as archsim_dcnn
from archsim import scnn as archsim_scnn
from hwcost.cli import main
from hwcost.cost import price_action_counts
from hwcost.experiments import scnn_validation
from hwcost.experiments.simulators import simulate_network
from hwcost.registry import cost_model
from hwcost.types import LayerSpec
from models import conv_specs


@pytest.fixture(scope="module")
def conv_files(tmp_path_factory):
    """A small random layer saved as .npy: W (12, 6, 3, 3) at 40 % density, A (6, 11, 11) at 60 %."""
    weights, activations = archsim_scnn.random_layer((12, 6, 3, 3), (6, 11, 11), 0.4, 0.6, seed=5)
    folder = tmp_path_factory.mktemp("conv")
    np.save(folder / "W.npy", weights)
    np.save(folder / "A.npy", activations)
    return folder, weights, activations


def _simulate(hardware, folder, *extra, weights="W.npy", activations="A.npy"):
    return main(
        ["simulate", hardware, "--weights", str(folder / weights), "--activations", str(folder / activations), *extra]
    )


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_simulate_scnn_json_matches_archsim_and_reports_the_hard_model(conv_files, capsys):
    folder, weights, activations = conv_files
    assert _simulate("scnn", folder, "--stride", "2", "--padding", "1", "--output-density", "0.5", "--json") == 0
    report = _json(capsys)
    assert set(report) == {"layer", "workload", "summary", "breakdown"}
    expected = archsim_scnn.simulate(weights, activations, 2, 1, archsim_scnn.SCNN, 0.5)
    summary = {row["quantity"]: row for row in report["summary"]}
    assert {"cycles", "time_us", "energy_uj", "stall_cycles", "barrier_idle_cycles", "multiplier_utilisation"} <= set(
        summary
    )
    assert summary["cycles"]["archsim"] == expected.cycles
    assert summary["stall_cycles"]["archsim"] == expected.stall_cycles
    assert summary["barrier_idle_cycles"]["archsim"] == expected.barrier_idle_cycles
    assert summary["multiplier_utilisation"]["archsim"] == pytest.approx(expected.multiplier_utilisation)
    breakdown = {row["action"]: row for row in report["breakdown"]}
    assert {k: row["archsim_count"] for k, row in breakdown.items()} == expected.counts
    # archsim's energy: its exact counts priced with the model's energies per action
    model = cost_model("scnn")
    priced = price_action_counts(expected.counts, model.per_action_energy_pj(model.default_hardware))
    assert summary["energy_uj"]["archsim"] == pytest.approx(sum(priced.values()) * 1e-6)
    # the model column is the hard twin on the tensors' shape and densities
    layer = report["layer"]
    assert (layer["out_h"], layer["out_w"]) == (expected.geometry.out_h, expected.geometry.out_w)
    assert layer["weight_density"] == pytest.approx(np.count_nonzero(weights) / weights.size)
    workload = model.card.workloads[0](**{k: v for k, v in report["workload"].items()})
    hard = model.hard(model.default_hardware)
    assert summary["cycles"]["model"] == pytest.approx(float(model.latency_cycles(hard, workload)), rel=1e-6)
    for row in summary.values():
        if row["archsim"]:
            assert row["model_over_archsim"] == pytest.approx(row["model"] / row["archsim"])
        assert "model_relaxed" in row
    assert summary["energy_uj"]["model"] == pytest.approx(sum(r["model_energy_uj"] for r in breakdown.values()))


@pytest.mark.parametrize(("hardware", "config"), [("dcnn", archsim_dcnn.DCNN), ("dcnn-opt", archsim_dcnn.DCNN_OPT)])
def test_simulate_dcnn_matches_archsim_exactly(conv_files, capsys, hardware, config):
    folder, weights, activations = conv_files
    assert _simulate(hardware, folder, "--padding", "1", "--json") == 0
    report = _json(capsys)
    expected = archsim_dcnn.simulate(weights, activations, 1, 1, config)
    summary = {row["quantity"]: row for row in report["summary"]}
    assert summary["cycles"]["archsim"] == expected.cycles
    assert summary["cycles"]["model"] == pytest.approx(expected.cycles, rel=1e-6)  # deterministic: exact
    assert summary["pe_cycles"]["archsim"] == expected.pe_cycles
    breakdown = {row["action"]: row for row in report["breakdown"]}
    assert breakdown["multiplier.multiply"]["archsim_count"] == expected.counts["multiplier.multiply"]
    assert breakdown["adder.add"]["model_count"] == pytest.approx(expected.counts["adder.add"])


def test_simulate_a_published_grouped_layer_runs_one_group_twice(capsys):
    assert main(["simulate", "scnn", "--layer", "alexnet/conv5", "--weight-density", "0.3",
                 "--activation-density", "0.4", "--seed", "3", "--json"]) == 0  # fmt: skip
    report = _json(capsys)
    spec = conv_specs.conv_spec("alexnet/conv5")
    assert spec.groups == 2
    weights, activations = archsim_scnn.random_layer((128, 192, 3, 3), (192, 13, 13), 0.3, 0.4, seed=3)
    one = archsim_scnn.simulate(weights, activations, 1, 1, archsim_scnn.SCNN, spec.output_density)
    summary = {row["quantity"]: row for row in report["summary"]}
    assert summary["cycles"]["archsim"] == 2 * one.cycles
    assert summary["multiplier_utilisation"]["archsim"] == pytest.approx(one.multiplier_utilisation)
    breakdown = {row["action"]: row for row in report["breakdown"]}
    assert breakdown["iaram.read"]["archsim_count"] == 2 * one.counts["iaram.read"]
    layer = report["layer"]
    assert layer["groups"] == 2 and layer["seed"] == 3 and "x 2" in layer["note"]
    assert layer["output_density"] == spec.output_density
    assert abs(summary["cycles"]["model_over_archsim"] - 1.0) < 0.1


def test_simulate_a_published_layer_defaults_to_its_densities_and_prints_tables(capsys):
    assert main(["simulate", "dcnn-opt", "--layer", "googlenet/inception_5b/5x5"]) == 0
    out = capsys.readouterr().out
    spec = conv_specs.conv_spec("googlenet/inception_5b/5x5")
    assert f"weights {spec.weight_density:.4g}" in out
    for word in ("archsim", "model_over_archsim", "cycles", "energy_uj", "pe_cycles", "multiplier.gated"):
        assert word in out


def test_list_layers_prints_every_published_name(capsys):
    assert main(["simulate", "scnn", "--list-layers"]) == 0
    names = capsys.readouterr().out.split()
    assert names == list(conv_specs.layer_names())
    assert "googlenet/inception_3a/3x3" in names


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scnn", "--weights", "W3.npy", "--activations", "A.npy"], r"weights ndim=3 .* must be 4 \(K, C, R, S\)"),
        (["scnn", "--weights", "W.npy", "--activations", "A2.npy"], r"activations ndim=2 .* must be 3 \(C, H, W\)"),
        (
            ["scnn", "--weights", "W.npy", "--activations", "A7.npy"],
            r"activations channels C=7 .* must equal the weights input channels C=6",
        ),
        (["dcnn", "--weights", "W.npy", "--activations", "A.npy", "--stride", "0"], "stride=0 is outside"),
        (
            ["scnn", "--weights", "W9.npy", "--activations", "A.npy"],
            r"stride=1, padding=0 leave no output.*padding >= 1",
        ),
        (["scnn", "--weights", "W.npy", "--activations", "Anan.npy"], "activations contains nan"),
        (["scnn", "--weights", "Wc.npy", "--activations", "A.npy"], r"weights dtype=complex128 .* not a real number"),
        (["scnn", "--layer", "alexnet/conv2", "--weight-density", "1.5"], r"weight_density=1.5 is outside \[0, 1\]"),
        (["scnn", "--layer", "alexnet/conv2", "--activation-density", "nan"], "activation_density=nan is not finite"),
        (
            ["scnn", "--weights", "W.npy", "--activations", "A.npy", "--output-density", "-0.1"],
            r"output_density=-0.1 is outside \[0, 1\]",
        ),
        (["scnn", "--layer", "alexnet/conv9"], r"layer='alexnet/conv9' is unknown; allowed: alexnet/conv1, "),
        (["scnn", "--layer", "resnet/conv1"], r"network 'resnet' is unknown; allowed: alexnet, googlenet"),
        (["scnn", "--layer", "squeezenet/conv1"], "squeezenet/conv1 has no published weight_density; give --weight-"),
        (["scnn", "--layer", "alexnet/conv2", "--stride", "2"], "--stride goes with --weights"),
        (["scnn", "--weights", "W.npy", "--activations", "A.npy", "--seed", "1"], "--seed goes with --layer"),
        (["scnn", "--weights", "W.npy"], "--activations is missing"),
        (["scnn", "--layer", "alexnet/conv2", "--seed", "-1"], "seed=-1 is outside the allowed range"),
        (
            ["eie", "--weights", "W.npy", "--activations", "A.npy", "--padding", "1"],
            "--padding applies to the convolution accelerators",
        ),
        (["eie", "--list-layers"], "--list-layers applies to the convolution accelerators"),
        (
            ["scnn", "--weights", "W.npy", "--activations", "A.npy", "--hw", "pe_rows=6.5"],
            "pe_rows=6.5 of scnn is not a whole number",
        ),
    ],
)
def test_simulate_bad_input_exits_2_with_one_clear_line(conv_files, capsys, monkeypatch, argv, message):
    folder, weights, activations = conv_files
    np.save(folder / "W3.npy", weights[0])
    np.save(folder / "W9.npy", np.ones((2, 6, 12, 12)))
    np.save(folder / "Wc.npy", weights.astype(complex))
    np.save(folder / "A2.npy", activations[0])
    np.save(folder / "A7.npy", np.ones((7, 11, 11)))
    nan = activations.copy()
    nan[0, 1, 2] = np.nan
    np.save(folder / "Anan.npy", nan)
    monkeypatch.chdir(folder)
    assert main(["simulate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwcost simulate: error: ")
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_simulate_needs_one_input_and_only_one(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["simulate", "scnn"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("hwcost simulate: error: the following arguments are required: --weights, --activations")
    assert "--layer NETWORK/LAYER or --list-layers" in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as stop:
        main(["simulate", "scnn", "--layer", "alexnet/conv1", "--weights", "W.npy"])
    assert stop.value.code == 2
    assert "argument --weights: not allowed with argument --layer" in capsys.readouterr().err


# --- validate ---------------------------------------------------------------------------------------------------
FEW_LAYERS = ("alexnet/conv3", "alexnet/conv4", "googlenet/inception_5b/1x1", "googlenet/inception_5b/3x3")


@pytest.fixture(scope="module")
def small_report():
    return scnn_validation.scnn_validation_report(("alexnet", "googlenet"), (0.2, 1.0), layers=FEW_LAYERS)


def test_validation_report_per_layer_module_and_network(small_report):
    report = small_report
    assert {"layers", "networks", "summary", "density_sweep", "conv_layers", "model_vs_archsim", "assumptions"} <= set(
        report
    )
    assert [row["name"] for row in report["layers"]] == ["alexnet/conv3", "alexnet/conv4", "googlenet/inception_5b"]
    assert [row["name"] for row in report["networks"]] == ["alexnet", "googlenet"]
    module = report["layers"][2]
    assert module["conv_layers"] == 2  # the module sums the layers kept
    paper = conv_specs.SCNN_RESULTS["alexnet/conv3"]
    conv3 = report["layers"][0]
    assert conv3["paper_speedup"] == paper.speedup and conv3["paper_energy_vs_dcnn"] == paper.scnn_energy
    assert conv3["paper_dcnn_opt_energy_vs_dcnn"] == paper.dcnn_opt_energy
    # archsim's figures from the simulators on the layer's random tensors at the published densities
    spec = conv_specs.conv_spec("alexnet/conv3")
    w, a = archsim_scnn.random_layer((384, 256, 3, 3), (256, 13, 13), spec.weight_density, spec.activation_density)
    sparse = archsim_scnn.simulate(w, a, 1, 1, archsim_scnn.SCNN, spec.output_density)
    dense = archsim_dcnn.simulate(w, a, 1, 1, archsim_dcnn.DCNN, spec.output_density)
    assert conv3["archsim_speedup"] == pytest.approx(dense.cycles / sparse.cycles)
    assert conv3["archsim_speedup_over_paper"] == pytest.approx(conv3["archsim_speedup"] / paper.speedup)
    assert conv3["model_speedup_over_archsim"] == pytest.approx(conv3["model_speedup"] / conv3["archsim_speedup"])
    assert 0 < conv3["archsim_energy_vs_dcnn"] < 1 and 0 < conv3["archsim_dcnn_opt_energy_vs_dcnn"] < 1
    # a grouped layer counts both groups; a network sums cycles over its layers
    rows = {row["layer"]: row for row in report["conv_layers"]}
    assert rows["alexnet/conv4"]["groups"] == 2
    alexnet = report["networks"][0]
    cycles = rows["alexnet/conv3"]["archsim_dcnn_cycles"] + rows["alexnet/conv4"]["archsim_dcnn_cycles"]
    assert alexnet["archsim_dcnn_cycles"] == cycles
    s = report["summary"]
    assert s["mean_speedup_archsim"] == pytest.approx(np.mean([n["archsim_speedup"] for n in report["networks"]]))
    assert s["mean_energy_gain_paper"] == pytest.approx(np.mean([1 / 0.489, 1 / 0.389]))
    assert report["model_vs_archsim"]["scnn_cycles_max_abs_error_pct"] < 10


def test_density_sweep_points(small_report):
    sweep = small_report["density_sweep"]
    assert [p["density"] for p in sweep] == [0.2, 1.0]
    for point in sweep:
        assert {"density", "speedup_vs_dcnn", "energy_vs_dcnn", "energy_vs_dcnn_opt"} <= set(point)
    sparse, dense = sweep
    assert sparse["speedup_vs_dcnn"] > dense["speedup_vs_dcnn"]
    assert sparse["energy_vs_dcnn"] < dense["energy_vs_dcnn"]
    # at density 1 DCNN-opt gates nothing and pays the index bits of its compressed DRAM transfers
    assert sparse["dcnn_opt_energy_vs_dcnn"] < 1.0 < dense["dcnn_opt_energy_vs_dcnn"]


def test_validation_refuses_unknown_networks_and_layers():
    with pytest.raises(ValueError, match="network='squeezenet' is not in SCNN's evaluation"):
        scnn_validation.scnn_validation_report(("squeezenet",), ())
    with pytest.raises(ValueError, match="layer='alexnet/conv0' is unknown"):
        scnn_validation.scnn_validation_report(("alexnet",), (), layers=["alexnet/conv0"])


@pytest.fixture
def alexnet_only(monkeypatch):
    monkeypatch.setattr(scnn_validation, "NETWORKS", ("alexnet",))
    monkeypatch.setattr(scnn_validation, "SWEEP_DENSITIES", ())


def test_validate_scnn_json(alexnet_only, capsys):
    assert main(["validate", "scnn", "--json", "--no-progress"]) == 0
    report = _json(capsys)
    assert [row["name"] for row in report["layers"]] == [f"alexnet/conv{i}" for i in range(1, 6)]
    assert [row["name"] for row in report["networks"]] == ["alexnet"]
    assert report["networks"][0]["paper_speedup"] == conv_specs.SCNN_RESULTS["alexnet"].speedup
    assert report["density_sweep"] == []


def test_validate_scnn_table_and_progress_bar(alexnet_only, capsys):
    assert main(["validate", "scnn"]) == 0
    captured = capsys.readouterr()
    assert "alexnet/conv5" in captured.out and "mean speedup over DCNN" in captured.out
    assert "SCNN vs DCNN" in captured.err  # the progress bar, on stderr


def test_models_lists_the_convolution_simulators_and_validation(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in _json(capsys)}
    assert all(rows[name]["simulator"] == "yes" for name in ("scnn", "dcnn", "dcnn-opt"))
    assert rows["scnn"]["validation"] == "yes"


def test_a_network_runs_on_the_convolution_simulators():
    """In a network a conv kernel (kh, kw, c, k) runs at stride 1 without padding, an fc layer as a 1 x 1 conv."""
    rng = np.random.default_rng(0)
    conv = LayerSpec("c1", "conv", (3, 3, 2, 4), (6, 6), (4, 4))
    fc = LayerSpec("f1", "fc", (64, 5))
    kernel = np.where(rng.random((3, 3, 2, 4)) < 0.5, rng.normal(size=(3, 3, 2, 4)), 0.0)
    fc_kernel = np.where(rng.random((64, 5)) < 0.5, 1.0, 0.0)
    x = np.maximum(rng.normal(size=(2, 6, 6, 2)), 0)
    h = np.maximum(rng.normal(size=(2, 64)), 0)
    weights = {"c1": {"kernel": kernel}, "f1": {"kernel": fc_kernel}}
    cost = simulate_network("scnn", [conv, fc], weights, {"c1": x, "f1": h})
    cycles = [archsim_scnn.simulate(kernel.transpose(3, 2, 0, 1), xi.transpose(2, 0, 1)).cycles for xi in x]
    assert cost["layers"]["c1"]["latency_cycles"] == pytest.approx(np.mean(cycles))
    fc_cycles = [archsim_scnn.simulate(fc_kernel.T[:, :, None, None], hi[:, None, None]).cycles for hi in h]
    assert cost["layers"]["f1"]["latency_cycles"] == pytest.approx(np.mean(fc_cycles))
    assert cost["energy_pj"] > 0
