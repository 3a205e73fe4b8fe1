"""The EIE verbs of the command line: ``hwcost simulate eie`` and ``hwcost validate eie``."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from archsim import eie as archsim_eie
from hwcost.cli import main
from hwcost.experiments.validation import EIE_LAYER_KEYS, EIE_SUMMARY_KEYS
from models.specs import EIE_TABLE_III


@pytest.fixture(scope="module")
def layer_files(tmp_path_factory):
    """A small random layer saved as .npy: W (96, 120) at 15 % density, a (120,) at 40 %."""
    rng = np.random.default_rng(11)
    weights = archsim_eie.random_sparse_matrix(96, 120, 0.15, rng).to_dense()
    activations = archsim_eie.random_activations(120, 0.4, rng)
    folder = tmp_path_factory.mktemp("layer")
    np.save(folder / "W.npy", weights)
    np.save(folder / "a.npy", activations)
    return folder, weights, activations


def _simulate(folder, *extra, weights="W.npy", activations="a.npy"):
    return main(
        ["simulate", "eie", "--weights", str(folder / weights), "--activations", str(folder / activations), *extra]
    )


def test_simulate_json_matches_archsim_and_reports_the_model(layer_files, capsys):
    folder, weights, activations = layer_files
    assert _simulate(folder, "--hw", "num_pes=8", "--hw", "fifo_depth=2", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    expected = archsim_eie.simulate(weights, activations, pes=8, fifo_depth=2)
    summary = {row["quantity"]: row for row in report["summary"]}
    assert set(summary) == {"cycles", "time_us", "energy_uj"}
    assert summary["cycles"]["archsim"] == expected.cycles
    assert summary["time_us"]["archsim"] == pytest.approx(expected.cycles / 800.0)
    for row in summary.values():
        assert row["model"] > 0 and row["model_over_archsim"] == pytest.approx(row["model"] / row["archsim"])
    breakdown = {row["action"]: row for row in report["breakdown"]}
    assert breakdown["pe.mac"]["archsim_count"] == expected.macs
    assert breakdown["spmat_sram.read"]["archsim_count"] == expected.spmat_reads
    assert summary["energy_uj"]["model"] == pytest.approx(sum(r["model_energy_uj"] for r in breakdown.values()))
    assert report["layer"]["broadcasts"] == expected.broadcasts
    assert report["layer"]["broadcast_stall_cycles"] == expected.broadcast_stall_cycles
    assert report["layer"]["weight_density"] == pytest.approx(np.count_nonzero(weights) / weights.size)


def test_simulate_prints_tables_by_default(layer_files, capsys):
    folder, _, _ = layer_files
    assert _simulate(folder) == 0
    out = capsys.readouterr().out
    for word in ("archsim", "model", "model_over_archsim", "cycles", "time_us", "energy_uj", "spmat_sram.read"):
        assert word in out


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("missing", "weights file .*missing.npy' not found"),
        ("vector", r"weights ndim=1 .* must be 2"),
        ("shape", r"activations length=7 must equal the weights column count 120"),
        ("nan", "activations contains nan"),
        ("pes", r"num_pes=0 must be >= 1"),
        ("field", r"hardware field 'pes' is unknown for eie; allowed: num_pes, clock_mhz, fifo_depth"),
        ("npz", r"holds several arrays \(.npz\)"),
    ],
)
def test_simulate_bad_input_exits_2_with_a_clear_message(layer_files, capsys, bad, message):
    folder, _, activations = layer_files
    np.save(folder / "vector.npy", np.ones(5))
    np.save(folder / "short.npy", np.ones(7))
    nan = activations.copy()
    nan[3] = np.nan
    np.save(folder / "nan.npy", nan)
    np.savez(folder / "two.npz", a=np.ones(3), b=np.ones(3))
    args = {
        "missing": {"weights": "missing.npy"},
        "vector": {"weights": "vector.npy"},
        "shape": {"activations": "short.npy"},
        "nan": {"activations": "nan.npy"},
        "pes": {},
        "field": {},
        "npz": {"weights": "two.npz"},
    }[bad]
    extra = {"pes": ("--hw", "num_pes=0"), "field": ("--hw", "pes=8")}.get(bad, ())
    assert _simulate(folder, *extra, **args) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwcost simulate: error: ")
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_validate_json_has_one_entry_per_table_iii_layer(capsys):
    assert main(["validate", "eie", "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"layers", "summary"}
    assert [row["layer"] for row in report["layers"]] == [layer.name for layer in EIE_TABLE_III]
    for row, layer in zip(report["layers"], EIE_TABLE_III, strict=True):
        assert set(EIE_LAYER_KEYS) <= set(row)
        assert row["paper_actual_us"] == layer.eie_actual_us
        assert row["archsim_us"] == pytest.approx(archsim_eie.simulate_benchmark(layer).time_us())
        assert row["model_us"] > 0 and row["model_energy_uj"] > 0
    assert set(EIE_SUMMARY_KEYS) <= set(report["summary"])
    # The paper's own geometric-mean speedup over CPU dense, from Table IV (EIE actual vs CPU dense, b=1).
    paper = archsim_eie.geometric_mean([layer.cpu_dense_us / layer.eie_actual_us for layer in EIE_TABLE_III])
    assert report["summary"]["geomean_speedup_paper_over_cpu_dense"] == pytest.approx(paper)


def test_validate_table_and_progress_bar(capsys):
    assert main(["validate", "eie"]) == 0
    captured = capsys.readouterr()
    assert "VGG-6" in captured.out and "geometric-mean speedup over CPU dense" in captured.out
    assert "EIE Table III" in captured.err  # the progress bar, on stderr
