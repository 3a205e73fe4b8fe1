"""The ESE verbs of the command line: ``hwcost simulate ese`` on small LSTMP matrices and ``hwcost validate ese``
on a tiny network (the full validation is ``benchmarks/ese_validation.py``)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from archsim import ese as archsim_ese
from hwcost.cli import main
from hwcost.experiments import ese_validation
from models import ese_specs

LAYER = ese_specs.LstmpLayerSpec("small", 12, 32, 16)
"""A small LSTMP: 12 inputs, 32 cells, 16 projection (8 PEs divide both)."""
TINY = ese_specs.EseLstmSpec(
    (ese_specs.LstmpLayerSpec("tiny1", 10, 64, 32), ese_specs.LstmpLayerSpec("tiny2", 32, 64, 32)), 0.2, 1
)
"""A two-layer LSTMP that 32 PEs divide, at 20 % density: the validation's structure in a second."""


def _matrices(rng: np.random.Generator, density: float = 0.3) -> dict[str, np.ndarray]:
    gates, projection = ese_specs.random_weights(LAYER, density, rng)
    return {**{f"gate_{k}": w for k, w in gates.items()}, "projection": projection}


@pytest.fixture(scope="module")
def lstm_files(tmp_path_factory):
    """The small LSTMP as one .npz and as a folder of .npy files."""
    matrices = _matrices(np.random.default_rng(21))
    folder = tmp_path_factory.mktemp("lstm")
    np.savez(folder / "lstm.npz", **matrices)
    (folder / "npy").mkdir()
    for name, m in matrices.items():
        np.save(folder / "npy" / f"{name}.npy", m)
    return folder, matrices


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_simulate_ese_json_matches_archsim_and_reports_the_model(lstm_files, capsys):
    folder, matrices = lstm_files
    argv = ["simulate", "ese", "--weights", str(folder / "lstm.npz"), "--hw", "num_pes=8", "--frames", "3"]
    assert main([*argv, "--seed", "4", "--json"]) == 0
    report = _json(capsys)
    assert set(report) == {"layer", "workload", "summary", "breakdown"}
    # the same utterance on archsim directly: x_t then y_{-1} standard normal from the seed
    rng = np.random.default_rng(4)
    inputs = rng.normal(size=(3, LAYER.input_size))
    weights = archsim_ese.LstmWeights({g: matrices[f"gate_{g}"] for g in archsim_ese.GATES}, matrices["projection"])
    expected = archsim_ese.simulate(weights, inputs, pes=8, initial_projection=rng.normal(size=LAYER.projection_size))
    summary = {row["quantity"]: row for row in report["summary"]}
    assert {
        "cycles",
        "time_us",
        "energy_uj",
        "latency_us_per_frame",
        "pe_utilisation",
        "sparse_gops",
        "dense_equivalent_tops",
    } <= set(summary)
    assert summary["cycles"]["archsim"] == expected.cycles
    assert summary["latency_us_per_frame"]["archsim"] == pytest.approx(expected.cycles / 3 / 200.0)
    assert summary["pe_utilisation"]["archsim"] == pytest.approx(expected.pe_utilisation)
    assert summary["stall_cycles"]["archsim"] == expected.stall_cycles
    for quantity in ("cycles", "energy_uj", "latency_us_per_frame", "pe_utilisation"):
        row = summary[quantity]
        assert row["model_over_archsim"] == pytest.approx(row["model"] / row["archsim"])
        assert abs(row["model_over_archsim"] - 1.0) < 0.10, quantity
    breakdown = {row["action"]: row for row in report["breakdown"]}
    assert breakdown["pe.mac"]["archsim_count"] == expected.macs
    assert breakdown["pe.mac"]["model_count"] == expected.macs  # dense inputs: the MACs are the kept weights
    # energy: the utterance's share of 41 W for its cycles
    assert summary["energy_uj"]["archsim"] == pytest.approx(41.0 * expected.cycles / 200e6 / 32 * 1e6)
    layer = report["layer"]
    assert (layer["inputs"], layer["cells"], layer["projection"], layer["frames"]) == (12, 32, 16, 3)
    assert layer["densities"]["projection"] == pytest.approx(np.count_nonzero(matrices["projection"]) / 512)


def test_simulate_ese_reads_a_folder_and_prints_tables(lstm_files, capsys):
    folder, _ = lstm_files
    assert main(["simulate", "ese", "--weights", str(folder / "npy"), "--hw", "num_pes=8", "--frames", "1"]) == 0
    out = capsys.readouterr().out
    for word in ("archsim", "model_over_archsim", "latency_us_per_frame", "pe_utilisation", "energy_uj", "pe.mac"):
        assert word in out


def _write_case(folder, bad: str, matrices: dict[str, np.ndarray]) -> str:
    """A bad --weights of kind ``bad`` in ``folder``; returns its path."""
    m = dict(matrices)
    if bad == "missing_gate":
        del m["gate_f"]
    elif bad == "no_projection":
        del m["projection"]
    elif bad == "unknown":
        m["classifier"] = np.ones((10, 16))
    elif bad == "rows":
        m["gate_o"] = m["gate_o"][:24]
    elif bad == "gate_columns":
        m["gate_g"] = np.ones((32, 27))
    elif bad == "nan":
        m["gate_i"] = m["gate_i"].copy()
        m["gate_i"][0, 0] = np.nan
    elif bad == "vector":
        m["projection"] = np.ones(16)
    if bad in ("random_bytes", "npy", "missing_file", "empty_folder", "complex", "pickle"):
        path = folder / f"{bad}.npz"
        if bad == "random_bytes":
            path.write_bytes(b"PK\x03\x04 not really a zip archive")
        elif bad == "npy":
            path = folder / "one.npy"
            np.save(path, m["gate_i"])
        elif bad == "empty_folder":
            path = folder / "empty"
            path.mkdir(exist_ok=True)
        elif bad == "complex":
            np.savez(path, **{**m, "gate_i": m["gate_i"].astype(complex)})
        elif bad == "pickle":
            np.savez(path, **{**m, "gate_i": np.array([{"a": 1}], dtype=object)})
        return str(path)
    path = folder / f"{bad}.npz"
    np.savez(path, **m)
    return str(path)


@pytest.mark.parametrize(
    ("bad", "extra", "message"),
    [
        ("missing_gate", [], r"gate_f is missing; given: gate_g, gate_i, gate_o, projection; required: gate_i"),
        ("no_projection", [], r"projection is missing; .* ESE runs an LSTMP"),
        ("unknown", [], r"matrix 'classifier' is unknown; allowed: gate_i, gate_f, gate_g, gate_o, projection"),
        ("rows", [], r"gate_o rows=24 \(shape \(24, 28\)\) must equal the cells C=32"),
        ("gate_columns", [], r"gate_g shape=\(32, 27\) must equal gate_i's \(32, 28\)"),
        ("nan", [], "gate_i contains nan or inf; allowed: finite numbers"),
        ("vector", [], r"projection ndim=1 \(shape \(16,\)\) must be 2"),
        ("ok", ["--hw", "num_pes=5"], r"num_pes=5 must divide the cells 32 .* allowed: a divisor of cells=32"),
        ("ok", ["--hw", "num_pes=8.5"], r"num_pes=8.5 of ese is not a whole number >= 1"),
        ("ok", ["--hw", "pes=8"], r"hardware field 'pes' is unknown for ese; allowed: num_pes, num_channels"),
        ("ok", ["--frames", "0"], r"frames=0 is outside the allowed range; allowed: an integer in \[1, 100000\]"),
        ("ok", ["--activations", "a.npy"], "--activations does not apply to hardware='ese'"),
        ("ok", ["--stride", "2"], "--stride does not apply to hardware='ese'"),
        ("random_bytes", [], r"random_bytes.npz' is not a readable .npz archive"),
        ("npy", [], r"one.npy' holds one array \(.npy\); ese needs gate_i"),
        ("missing_file", [], r"weights file or folder .*missing_file.npz' not found"),
        ("empty_folder", [], r"weights folder .*empty' holds no .npy file"),
        ("complex", [], r"gate_i dtype=complex128 .* is not a real number type"),
        ("pickle", [], r"is not a readable .npz archive \(object arrays are not accepted\)"),
    ],
)
def test_simulate_ese_bad_input_exits_2_with_one_clear_line(lstm_files, tmp_path, capsys, bad, extra, message):
    _, matrices = lstm_files
    path = _write_case(tmp_path, bad, matrices)
    hw = [] if any(e.startswith("num_pes") or e.startswith("pes") for e in extra) else ["--hw", "num_pes=8"]
    assert main(["simulate", "ese", "--weights", path, *hw, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwcost simulate: error: ")
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_frames_is_refused_on_other_hardware(tmp_path, capsys):
    np.save(tmp_path / "W.npy", np.eye(4))
    np.save(tmp_path / "a.npy", np.ones(4))
    argv = ["simulate", "eie", "--weights", str(tmp_path / "W.npy"), "--activations", str(tmp_path / "a.npy")]
    assert main([*argv, "--frames", "2"]) == 2
    assert "--frames applies to hardware 'ese'" in capsys.readouterr().err


# --- validate ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_report():
    return ese_validation.ese_validation_report((0.5, 0.2), frames=1, network=TINY)


def test_validation_report_structure_and_paper_figures(tiny_report):
    report = tiny_report
    assert {
        "layers",
        "networks",
        "paper_comparison",
        "energy_efficiency",
        "load_balance",
        "model_vs_archsim",
        "assumptions",
        "notes",
        "seed",
        "frames",
        "density",
    } <= set(report)
    assert [(r["name"], r["pruning"]) for r in report["layers"]] == [
        ("tiny1", "load_balanced"),
        ("tiny2", "load_balanced"),
        ("tiny1", "magnitude"),
        ("tiny2", "magnitude"),
    ]
    for row in report["layers"]:
        assert row["archsim_cycles_per_frame"] > 0 and row["weight_density"] == pytest.approx(0.2, abs=0.01)
        assert row["archsim_sparse_gops"] == pytest.approx(
            32 * 2 * row["archsim_ideal_us_per_frame"] * 32 * 200 / row["archsim_us_per_frame"] * 1e-3
        )
        assert abs(row["model_over_archsim_cycles"] - 1.0) < 0.10
    lb1 = report["layers"][0]
    assert lb1["balanced_density"] > 0.8 and report["layers"][2]["balanced_density"] < 0.5  # equal totals vs random
    paper = {row["quantity"]: row for row in report["paper_comparison"]}
    assert {q: r["paper"] for q, r in paper.items()} == {
        "sparse_gops": 282.0,
        "dense_equivalent_tops": 2.52,
        "ideal_us_per_frame": 57.0,
        "latency_us_per_frame": 82.7,
    }
    assert paper["latency_us_per_frame"]["archsim"] == lb1["archsim_us_per_frame"]
    network = report["networks"][0]
    assert network["archsim_us_per_frame"] == pytest.approx(
        sum(r["archsim_us_per_frame"] for r in report["layers"][:2])
    )
    # the efficiency ratios are computed from latency x power: at 82.7 us they are the paper's
    for row in report["energy_efficiency"]:
        assert row["efficiency_at_paper_latency"] == pytest.approx(row["paper_efficiency"], rel=0.005)
        assert row["efficiency_at_archsim_latency"] == pytest.approx(
            row["latency_us"] * row["power_w"] / (lb1["archsim_us_per_frame"] * 41.0)
        )
    sparse_cpu = report["energy_efficiency"][1]
    assert sparse_cpu["speedup_at_paper_latency"] == pytest.approx(sparse_cpu["paper_speedup"], rel=0.01)


def test_load_balance_sweep_has_the_requested_densities_and_balanced_runs_busier(tiny_report):
    points = tiny_report["load_balance"]
    assert [p["density"] for p in points] == [0.5, 0.2]
    for p in points:
        assert set(ese_validation.LOAD_BALANCE_COLUMNS) <= set(p)
        assert p["pe_utilisation_balanced"] >= p["pe_utilisation_unbalanced"]
        assert p["speedup_balanced"] >= p["speedup_unbalanced"] > 1.0
        for suffix in ("balanced", "unbalanced"):
            assert abs(p[f"model_over_archsim_speedup_{suffix}"] - 1.0) < 0.10
    assert points[1]["speedup_balanced"] > points[0]["speedup_balanced"]


def test_validation_refuses_bad_options():
    with pytest.raises(ValueError, match=r"density=0 is outside \(0, 1\]"):
        ese_validation.ese_validation_report((0.0,), network=TINY)
    with pytest.raises(ValueError, match=r"frames=0 is outside \[1, 1000000\]"):
        ese_validation.ese_validation_report((), frames=0, network=TINY)


@pytest.fixture
def tiny_network(monkeypatch):
    monkeypatch.setattr(ese_validation, "NETWORK", TINY)


def test_validate_ese_json_with_a_small_sweep(tiny_network, capsys):
    assert main(["validate", "ese", "--json", "--no-progress", "--densities", "0.3", "--frames", "1"]) == 0
    report = _json(capsys)
    assert [p["density"] for p in report["load_balance"]] == [0.3]
    assert report["frames"] == 1 and [layer["name"] for layer in report["network"]] == ["tiny1", "tiny2"]


def test_validate_ese_table_and_progress_bar(tiny_network, capsys):
    assert main(["validate", "ese", "--densities", "0.4", "--frames", "1"]) == 0
    captured = capsys.readouterr()
    for words in ("energy efficiency of ESE", "load balance", "sparse_gops", "model vs archsim cycles"):
        assert words in captured.out
    assert "ESE" in captured.err  # the progress bar, on stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ese", "--densities", "1.5"], r"density=1.5 in --densities is outside the allowed range; allowed: \(0, 1\]"),
        (["ese", "--densities", "nan"], "density=nan in --densities is outside the allowed range"),
        (["ese", "--frames", "0"], r"frames=0 is outside the allowed range; allowed: an integer in \[1, 100000\]"),
        (["eie", "--densities", "0.5"], "--densities applies to hardware 'ese' only, not to hardware='eie'"),
        (["scnn", "--frames", "2"], "--frames applies to hardware 'ese' only"),
    ],
)
def test_validate_bad_options_exit_2_before_any_work(capsys, argv, message):
    assert main(["validate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwcost validate: error: ") and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_models_lists_the_ese_validation(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in _json(capsys)}
    assert rows["ese"]["validation"] == "yes"
