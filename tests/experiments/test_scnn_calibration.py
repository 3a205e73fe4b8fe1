"""Tests of the fit of SCNN's arithmetic energy factor (hwcost/experiments/scnn_calibration.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from hwcost import dcnn
from hwcost.cost import sum_over_layers
from hwcost.experiments import scnn_calibration
from hwcost.experiments.scnn_calibration import LinearEnergy, fit_factor, layer_energies
from hwcost.scnn_energy import ARITHMETIC_CALIBRATION, dcnn_energies
from models import conv_specs

RESULT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "scnn_energy_calibration.json"


def _row(fixed: dict[str, float], arithmetic: dict[str, float], true_a: float) -> dict:
    row = {d: LinearEnergy(fixed[d], arithmetic[d]) for d in ("scnn", "dcnn", "dcnn_opt")}
    dcnn_energy = row["dcnn"].at(true_a)
    return row | {
        "paper_dcnn_opt": row["dcnn_opt"].at(true_a) / dcnn_energy,
        "paper_scnn": row["scnn"].at(true_a) / dcnn_energy,
    }


def test_the_fit_recovers_the_factor_that_made_the_ratios():
    rows = [
        _row({"scnn": 5.0, "dcnn": 2.0, "dcnn_opt": 1.5}, {"scnn": 1.0, "dcnn": 3.0, "dcnn_opt": 0.5}, 3.7),
        _row({"scnn": 1.0, "dcnn": 4.0, "dcnn_opt": 3.0}, {"scnn": 2.0, "dcnn": 1.0, "dcnn_opt": 0.2}, 3.7),
    ]
    a, rms = fit_factor(rows)
    assert a == pytest.approx(3.7, rel=2e-3) and rms < 1e-3


def test_energy_is_linear_in_the_factor_as_the_fit_assumes():
    specs = conv_specs.network_specs("alexnet")[:2]
    linear = layer_energies("dcnn", specs)
    hard = dcnn.COST_MODEL.hard(dataclasses.replace(dcnn.DCNN_16NM, **dcnn_energies(2.5)))
    direct = sum_over_layers(dcnn.COST_MODEL, hard, [conv_specs.to_layer_run(s) for s in specs]).layers
    for line, layer in zip(linear, direct, strict=True):
        assert line.at(2.5) == pytest.approx(float(layer.total_energy_pj), rel=1e-6)


def test_the_default_factor_is_the_committed_fit():
    report = json.loads(RESULT.read_text())
    assert report["fitted_arithmetic_calibration"] == pytest.approx(ARITHMETIC_CALIBRATION, abs=0.005)
    assert len(report["rows"]) == 27 and set(report["networks"]) == set(scnn_calibration.NETWORKS)
