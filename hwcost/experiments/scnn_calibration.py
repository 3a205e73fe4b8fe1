"""The fit of :data:`hwcost.scnn_energy.ARITHMETIC_CALIBRATION` to SCNN Fig. 11, and its checks.

Method (the rule itself: :mod:`hwcost.scnn_energy`):

* Every conv layer of AlexNet, GoogLeNet and VGG-16 at the Fig. 1 densities (:mod:`models.conv_specs`) on
  the hard models of SCNN, DCNN and DCNN-opt (all filter groups). Energy is linear in the factor ``a`` on
  the arithmetic energies, ``E(a) = E(0) + a (E(1) - E(0))``, so two pricings per design give every ``a``.
* Fitted: the 27 rows of Fig. 11 (AlexNet and VGG-16 layers, GoogLeNet inception modules summed over their
  six convolutions), DCNN-opt / DCNN and SCNN / DCNN each. ``a`` minimises the sum of squared log ratios of
  model to paper, found on a log grid from 0.1 to 100 (:data:`GRID_POINTS` points, 0.17% apart).
* Not fitted, reported as checks: the network totals of Fig. 11 and their means (the headline 2.3x and
  2.0x), SCNN / DCNN with every density 1 over GoogLeNet (Sec. 6.1: 1.33), and SCNN-SparseW / SCNN and
  SCNN-SparseA / SCNN with every density 0.4 over GoogLeNet (Table 6: 1.6 and 2.1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hwcost import dcnn, scnn
from hwcost.cost import sum_over_layers
from hwcost.scnn_energy import ARITHMETIC_CALIBRATION, dcnn_energies, scnn_energies
from models import conv_specs

NETWORKS = ("alexnet", "googlenet", "vgg16")
GRID_POINTS = 4001
DENSE_SCNN_OVER_DCNN = 1.33  # SCNN Sec. 6.1 (V-P): at density 1.0 / 1.0 SCNN uses 33% more energy
SPARSE_W_OVER_SCNN = 1.6  # Table 6 / Fig. 12 (V-S): SCNN 1.6x more energy-efficient than SparseW at 0.4 / 0.4
SPARSE_A_OVER_SCNN = 2.1  # Table 6 / Fig. 12 (V-S): and 2.1x than SparseA

_DESIGNS: dict[str, tuple[Any, Any, Any]] = {
    "scnn": (scnn.COST_MODEL, scnn.SCNN_16NM, scnn_energies),
    "sparse_w": (scnn.COST_MODEL, scnn.SCNN_SPARSE_W, scnn_energies),
    "sparse_a": (scnn.COST_MODEL, scnn.SCNN_SPARSE_A, scnn_energies),
    "dcnn": (dcnn.COST_MODEL, dcnn.DCNN_16NM, dcnn_energies),
    "dcnn_opt": (dcnn.OPT_COST_MODEL, dcnn.DCNN_OPT_16NM, dcnn_energies),
}


@dataclasses.dataclass(frozen=True)
class LinearEnergy:
    """Energy of a set of layers as a function of the arithmetic factor: ``fixed + a * arithmetic``, pJ."""

    fixed: float
    arithmetic: float

    def at(self, a: float | np.ndarray) -> float | np.ndarray:
        """Energy at factor ``a``, pJ."""
        return self.fixed + a * self.arithmetic

    def __add__(self, other: LinearEnergy) -> LinearEnergy:
        return LinearEnergy(self.fixed + other.fixed, self.arithmetic + other.arithmetic)


def layer_energies(design: str, specs: Sequence[conv_specs.ConvSpec], **densities: float) -> list[LinearEnergy]:
    """:class:`LinearEnergy` of each layer of ``specs`` on ``design`` (a key of ``_DESIGNS``), all groups."""
    model, hw, energies = _DESIGNS[design]
    runs = [conv_specs.to_layer_run(spec, **densities) for spec in specs]
    totals = []
    for a in (0.0, 1.0):
        hard = model.hard(dataclasses.replace(hw, **energies(a)))
        totals.append([float(layer.total_energy_pj) for layer in sum_over_layers(model, hard, runs).layers])
    return [LinearEnergy(e0, e1 - e0) for e0, e1 in zip(*totals, strict=True)]


def _sum(energies: Sequence[LinearEnergy]) -> LinearEnergy:
    return sum(energies[1:], start=energies[0])


def fig11_rows() -> list[dict[str, Any]]:
    """The 27 rows of Fig. 11 with their :class:`LinearEnergy` per design and the paper's ratios."""
    rows = []
    for network in NETWORKS:
        specs = conv_specs.network_specs(network)
        per_design = {d: layer_energies(d, specs) for d in ("scnn", "dcnn", "dcnn_opt")}
        for module in dict.fromkeys(spec.module for spec in specs):
            members = [i for i, spec in enumerate(specs) if spec.module == module]
            paper = conv_specs.scnn_result(f"{network}/{module}")
            row = {"name": f"{network}/{module}", "network": network}
            row.update({d: _sum([per_design[d][i] for i in members]) for d in per_design})
            row.update(paper_dcnn_opt=paper.dcnn_opt_energy, paper_scnn=paper.scnn_energy)
            rows.append(row)
    return rows


def fit_factor(rows: Sequence[dict[str, Any]], grid_points: int = GRID_POINTS) -> tuple[float, float]:
    """``(a, rms)``: the factor minimising the squared log errors of both Fig. 11 ratios over ``rows``, and the
    root mean square of those log errors at it."""
    grid = np.geomspace(0.1, 100.0, grid_points)
    squared = np.zeros_like(grid)
    for row in rows:
        dcnn_energy = row["dcnn"].at(grid)
        squared += np.log(row["dcnn_opt"].at(grid) / dcnn_energy / row["paper_dcnn_opt"]) ** 2
        squared += np.log(row["scnn"].at(grid) / dcnn_energy / row["paper_scnn"]) ** 2
    best = int(np.argmin(squared))
    return float(grid[best]), math.sqrt(float(squared[best]) / (2 * len(rows)))


def _googlenet_ratios(density: float, a: float) -> dict[str, float]:
    specs = conv_specs.network_specs("googlenet")
    d = {"weight_density": density, "activation_density": density, "output_density": density}
    return {name: float(_sum(layer_energies(name, specs, **d)).at(a)) for name in _DESIGNS}


def calibration_report(a: float | None = None) -> dict[str, Any]:
    """The fit and its checks at the fitted factor, or at ``a`` when given (JSON-ready)."""
    rows = fig11_rows()
    fitted, rms = fit_factor(rows)
    a = fitted if a is None else a
    per_row = []
    for row in rows:
        dcnn_energy = row["dcnn"].at(a)
        per_row.append({
            "name": row["name"],
            "paper_dcnn_opt_energy_vs_dcnn": row["paper_dcnn_opt"],
            "model_dcnn_opt_energy_vs_dcnn": row["dcnn_opt"].at(a) / dcnn_energy,
            "paper_energy_vs_dcnn": row["paper_scnn"],
            "model_energy_vs_dcnn": row["scnn"].at(a) / dcnn_energy,
        })  # fmt: skip
    networks = {}
    for network in NETWORKS:
        members = [row for row in rows if row["network"] == network]
        total = {d: _sum([row[d] for row in members]).at(a) for d in ("scnn", "dcnn", "dcnn_opt")}
        paper = conv_specs.scnn_result(network)
        networks[network] = {
            "paper_dcnn_opt_energy_gain": 1.0 / paper.dcnn_opt_energy,
            "model_dcnn_opt_energy_gain": total["dcnn"] / total["dcnn_opt"],
            "paper_energy_gain": 1.0 / paper.scnn_energy,
            "model_energy_gain": total["dcnn"] / total["scnn"],
        }
    dense, sparse = _googlenet_ratios(1.0, a), _googlenet_ratios(0.4, a)
    mean = {key: float(np.mean([n[key] for n in networks.values()])) for key in next(iter(networks.values()))}
    return {
        "fitted_arithmetic_calibration": fitted,
        "rms_log_error_at_fit": rms,
        "arithmetic_calibration": a,
        "default_arithmetic_calibration": ARITHMETIC_CALIBRATION,
        "rows": per_row,
        "networks": networks,
        "mean": mean,
        "checks": {
            "dense_scnn_over_dcnn": {"paper": DENSE_SCNN_OVER_DCNN, "model": dense["scnn"] / dense["dcnn"]},
            "dense_scnn_over_dcnn_opt": {
                "paper": DENSE_SCNN_OVER_DCNN,
                "model": dense["scnn"] / dense["dcnn_opt"],
            },
            "sparse_w_over_scnn_at_0.4": {"paper": SPARSE_W_OVER_SCNN, "model": sparse["sparse_w"] / sparse["scnn"]},
            "sparse_a_over_scnn_at_0.4": {"paper": SPARSE_A_OVER_SCNN, "model": sparse["sparse_a"] / sparse["scnn"]},
        },
    }
