"""``hwcost validate eie``: the EIE cost model and the archsim reference simulator against EIE Table IV.

For each of the nine benchmark layers of EIE Table III (Han et al., ISCA'16) it reports the paper's
"EIE theoretical" and "EIE actual" times (Table IV, batch 1, us at 800 MHz), the time archsim measures
on random inputs of the layer's shape and densities (fixed seed, :func:`archsim.eie.simulate_benchmark`),
the time and energy of the differentiable model (:mod:`hwcost.eie`; its time also with the relaxations
off, ``model_hard_us``), their ratios, and the geometric-mean
speedup over the paper's CPU dense time (Table IV, Core i7-5930k, batch 1) for the paper, archsim and
the model.

``--json`` prints ``{"layers": [...], "summary": {...}}``: one object per layer with the keys of
:data:`LAYER_KEYS` (times in us, energy in uJ, ratios dimensionless) and a summary with the keys of
:data:`SUMMARY_KEYS`.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from tqdm import tqdm

from archsim import eie as archsim_eie
from hwcost.cli.output import format_table, print_json
from hwcost.eie import COST_MODEL
from hwcost.types import FcLayer, total
from models.specs import EIE_TABLE_III, EieBenchmarkLayer

HELP = "Compare a cost model and its reference simulator with the paper's published tables."

HARDWARE: tuple[str, ...] = ("eie",)

LAYER_KEYS: tuple[str, ...] = (
    "layer",
    "in_features",
    "out_features",
    "weight_density",
    "activation_density",
    "cpu_dense_us",
    "paper_theoretical_us",
    "paper_actual_us",
    "archsim_us",
    "model_us",
    "model_hard_us",
    "archsim_over_paper",
    "model_over_paper",
    "model_over_archsim",
    "archsim_cycles",
    "model_cycles",
    "model_energy_uj",
)
"""Keys of each ``layers`` entry of the JSON report."""

SUMMARY_KEYS: tuple[str, ...] = (
    "geomean_archsim_over_paper",
    "geomean_model_over_paper",
    "geomean_model_over_archsim",
    "geomean_speedup_paper_over_cpu_dense",
    "geomean_speedup_archsim_over_cpu_dense",
    "geomean_speedup_model_over_cpu_dense",
    "total_model_energy_uj",
)
"""Keys of the ``summary`` object of the JSON report (geometric means over the nine layers)."""

_TABLE_COLUMNS: tuple[str, ...] = (
    "layer",
    "paper_theoretical_us",
    "paper_actual_us",
    "archsim_us",
    "model_us",
    "archsim_over_paper",
    "model_over_paper",
    "model_over_archsim",
    "model_energy_uj",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost validate``."""
    parser.add_argument("hardware", choices=HARDWARE, help="which accelerator to validate")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar on stderr")


def fc_workload(layer: EieBenchmarkLayer) -> FcLayer:
    """The :class:`~hwcost.types.FcLayer` workload of one EIE Table III row."""
    return FcLayer(
        in_features=float(layer.in_features),
        out_features=float(layer.out_features),
        weight_density=float(layer.weight_density),
        activation_density=float(layer.activation_density),
        name=layer.name,
    )


def eie_table_iv_report(progress: bool = False) -> dict[str, Any]:
    """The EIE Table IV comparison as ``{"layers": [...], "summary": {...}}`` (see the module docstring).

    Args:
        progress: show a progress bar on stderr while the nine layers are simulated.
    """
    hw = COST_MODEL.default_hardware
    hw_hard = COST_MODEL.hard(hw)
    clock_mhz = float(COST_MODEL.clock_mhz(hw))
    rows: list[dict[str, Any]] = []
    for layer in tqdm(EIE_TABLE_III, desc="EIE Table III", unit="layer", disable=not progress):
        sim = archsim_eie.simulate_benchmark(layer)
        workload = fc_workload(layer)
        model_cycles = float(COST_MODEL.latency_cycles(hw, workload))
        energy_pj = float(total(COST_MODEL.energy_pj(hw, workload)))
        archsim_us = sim.time_us(archsim_eie.CLOCK_MHZ)
        model_us = model_cycles / clock_mhz
        rows.append(
            {
                "layer": layer.name,
                "in_features": layer.in_features,
                "out_features": layer.out_features,
                "weight_density": layer.weight_density,
                "activation_density": layer.activation_density,
                "cpu_dense_us": layer.cpu_dense_us,
                "paper_theoretical_us": layer.eie_theoretical_us,
                "paper_actual_us": layer.eie_actual_us,
                "archsim_us": archsim_us,
                "model_us": model_us,
                "model_hard_us": float(COST_MODEL.latency_cycles(hw_hard, workload)) / clock_mhz,
                "archsim_over_paper": archsim_us / layer.eie_actual_us,
                "model_over_paper": model_us / layer.eie_actual_us,
                "model_over_archsim": model_us / archsim_us,
                "archsim_cycles": sim.cycles,
                "model_cycles": model_cycles,
                "model_energy_uj": energy_pj * 1e-6,
            }
        )
    gm = archsim_eie.geometric_mean

    def column(key: str) -> np.ndarray:
        return np.array([row[key] for row in rows], dtype=np.float64)

    cpu = column("cpu_dense_us")
    summary = {
        "geomean_archsim_over_paper": gm(column("archsim_over_paper")),
        "geomean_model_over_paper": gm(column("model_over_paper")),
        "geomean_model_over_archsim": gm(column("model_over_archsim")),
        "geomean_speedup_paper_over_cpu_dense": gm(cpu / column("paper_actual_us")),
        "geomean_speedup_archsim_over_cpu_dense": gm(cpu / column("archsim_us")),
        "geomean_speedup_model_over_cpu_dense": gm(cpu / column("model_us")),
        "total_model_energy_uj": float(column("model_energy_uj").sum()),
    }
    return {"layers": rows, "summary": summary}


def run(args: argparse.Namespace) -> int:
    """Print the comparison (a table, or JSON with ``--json``)."""
    report = eie_table_iv_report(progress=not args.no_progress)
    if args.json:
        print_json(report)
        return 0
    print("EIE Table IV (batch 1, us at 800 MHz): paper vs archsim (random inputs, Table III densities) vs model")
    print(format_table(report["layers"], _TABLE_COLUMNS))
    s = report["summary"]
    print()
    print(
        "geometric mean over the nine layers: "
        f"archsim/paper {s['geomean_archsim_over_paper']:.3f}, model/paper {s['geomean_model_over_paper']:.3f}, "
        f"model/archsim {s['geomean_model_over_archsim']:.3f}"
    )
    print(
        "geometric-mean speedup over CPU dense (Table IV, i7-5930k, batch 1): "
        f"paper {s['geomean_speedup_paper_over_cpu_dense']:.0f}x, "
        f"archsim {s['geomean_speedup_archsim_over_cpu_dense']:.0f}x, "
        f"model {s['geomean_speedup_model_over_cpu_dense']:.0f}x"
    )
    print(f"model energy, nine layers: {s['total_model_energy_uj']:.4g} uJ")
    return 0
