"""``hwcost simulate eie``: run the archsim EIE simulator and the EIE cost model on the user's own layer.

Usage::

    hwcost simulate eie --weights W.npy --activations a.npy [--pes 64] [--fifo 8] [--json]

``W.npy`` holds the weight matrix, shape ``(out_features, in_features)`` (rows are outputs, ``y = W a``);
``a.npy`` the input activation vector, shape ``(in_features,)``. Zeros are pruned weights / zero
activations. archsim (:mod:`archsim.eie`) runs the exact matrix; the model (:mod:`hwcost.eie`) sees only
its shape and densities (an :class:`~hwcost.types.FcLayer`). Both are reported side by side: cycles, time
(us at the model's clock), energy (uJ) and the per-action breakdown. archsim counts accesses but has no
energy table, so its energy prices each exact count with the model's per-action energy (model energy of
the action divided by the model's count): the energy gap then comes only from the counts.

``--json`` prints ``{"layer": {...}, "summary": [...], "breakdown": [...]}``: ``summary`` has one object per
quantity (``cycles``, ``time_us``, ``energy_uj``) with ``archsim``, ``model`` and ``model_over_archsim``;
``breakdown`` one object per action key with counts and energies (uJ) of both.
"""

from __future__ import annotations

import argparse
import dataclasses
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from archsim import eie as archsim_eie
from hwcost import eie as eie_model
from hwcost.cli.output import format_table, print_json
from hwcost.cost import price_action_counts
from hwcost.types import FcLayer

HELP = "Simulate one layer on an accelerator (reference simulator and cost model side by side)."

HARDWARE: tuple[str, ...] = ("eie",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost simulate``."""
    parser.add_argument("hardware", choices=HARDWARE, help="which accelerator to simulate")
    parser.add_argument("--weights", required=True, help="weight matrix (.npy), shape (out_features, in_features)")
    parser.add_argument("--activations", required=True, help="input activations (.npy), shape (in_features,)")
    parser.add_argument(
        "--pes", type=int, default=archsim_eie.DEFAULT_PES, help="number of PEs (default 64, EIE Table V)"
    )
    parser.add_argument(
        "--fifo",
        type=int,
        default=archsim_eie.DEFAULT_FIFO_DEPTH,
        help="activation FIFO depth per PE (default 8, EIE Sec. VI-C)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def load_array(path: str, name: str) -> np.ndarray:
    """Load a numeric ``.npy`` array; ``ValueError`` naming ``name`` and the path if it cannot be read."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{name} file {path!r} not found")
    try:
        array = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{name} file {path!r} is not a readable .npy array ({err})") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise ValueError(f"{name} file {path!r} holds several arrays (.npz); allowed: one array in a .npy file")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{name} dtype={array.dtype} in {path!r}; allowed: numeric arrays")
    return array


def _model_hardware(pes: int, fifo: int) -> Any:
    """The paper-default EIE hardware with the user's PE count and FIFO depth."""
    hw = eie_model.COST_MODEL.default_hardware
    return dataclasses.replace(hw, num_pes=float(pes), fifo_depth=float(fifo))


def simulate_eie(weights: np.ndarray, activations: np.ndarray, pes: int, fifo: int) -> dict[str, Any]:
    """Run archsim and the EIE model on one layer; the report described in the module docstring.

    Args:
        weights: ``(out_features, in_features)`` matrix.
        activations: ``(in_features,)`` vector.
        pes: number of PEs (>= 1).
        fifo: activation FIFO depth per PE (>= 1).
    """
    sim = archsim_eie.simulate(weights, activations, pes=pes, fifo_depth=fifo)
    rows, cols = weights.shape
    layer = FcLayer(
        in_features=float(cols),
        out_features=float(rows),
        weight_density=float(np.count_nonzero(weights)) / (rows * cols),
        activation_density=float(np.count_nonzero(activations)) / cols,
        name="user",
    )
    hw = _model_hardware(pes, fifo)
    eie_model.check_layer(layer)
    eie_model.check_hardware(hw)
    model = eie_model.COST_MODEL
    clock_mhz = float(model.clock_mhz(hw))
    model_cycles = float(model.latency_cycles(hw, layer))
    model_counts = {k: float(v) for k, v in model.action_counts(hw, layer).items()}
    model_energy = {k: float(v) for k, v in model.energy_pj(hw, layer).items()}
    per_action_pj = {k: float(v) for k, v in eie_model.action_energies_pj(hw).items()}
    sim_counts = sim.action_counts()
    sim_energies = price_action_counts(sim_counts, per_action_pj)

    breakdown = []
    for key in model_counts:
        sim_count = sim_counts.get(key)
        sim_energy = sim_energies.get(key)
        breakdown.append(
            {
                "action": key,
                "archsim_count": sim_count,
                "model_count": model_counts[key],
                "count_model_over_archsim": _ratio(model_counts[key], sim_count),
                "archsim_energy_uj": None if sim_energy is None else sim_energy * 1e-6,
                "model_energy_uj": model_energy[key] * 1e-6,
                "energy_pj_per_action": per_action_pj[key],
            }
        )
    sim_energy_uj = sum(row["archsim_energy_uj"] or 0.0 for row in breakdown)
    model_energy_uj = sum(model_energy.values()) * 1e-6
    summary = [
        _side_by_side("cycles", sim.cycles, model_cycles),
        _side_by_side("time_us", sim.cycles / clock_mhz, model_cycles / clock_mhz),
        _side_by_side("energy_uj", sim_energy_uj, model_energy_uj),
    ]
    return {
        "layer": {
            "out_features": rows,
            "in_features": cols,
            "weight_density": layer.weight_density,
            "activation_density": layer.activation_density,
            "pes": pes,
            "fifo_depth": fifo,
            "clock_mhz": clock_mhz,
            "fillers": sim.fillers,
            "broadcast_stall_cycles": sim.broadcast_stall_cycles,
            "load_balance": sim.load_balance,
        },
        "summary": summary,
        "breakdown": breakdown,
    }


def _ratio(model: float, archsim: float | None) -> float | None:
    return None if not archsim else model / archsim


def _side_by_side(quantity: str, archsim: float, model: float) -> dict[str, Any]:
    return {"quantity": quantity, "archsim": archsim, "model": model, "model_over_archsim": _ratio(model, archsim)}


def run(args: argparse.Namespace) -> int:
    """Load the layer, run both, print tables (or JSON with ``--json``)."""
    if args.pes < 1:
        raise ValueError(f"pes={args.pes} is outside [1, inf)")
    if args.fifo < 1:
        raise ValueError(f"fifo={args.fifo} is outside [1, inf)")
    weights = load_array(args.weights, "weights")
    activations = load_array(args.activations, "activations")
    if weights.ndim != 2:
        raise ValueError(f"weights ndim={weights.ndim} (shape {weights.shape}) in {args.weights!r} must be 2")
    if activations.ndim != 1:
        raise ValueError(
            f"activations ndim={activations.ndim} (shape {activations.shape}) in {args.activations!r} must be 1"
        )
    if activations.shape[0] != weights.shape[1]:
        raise ValueError(
            f"activations length={activations.shape[0]} must equal the weights column count "
            f"{weights.shape[1]} (weights shape {weights.shape} is (out_features, in_features))"
        )
    report = simulate_eie(weights, activations, args.pes, args.fifo)
    if args.json:
        print_json(report)
        return 0
    info = report["layer"]
    print(
        f"EIE, {info['pes']} PEs, FIFO depth {info['fifo_depth']}, {info['clock_mhz']:g} MHz: "
        f"W {info['out_features']} x {info['in_features']}, weight density {info['weight_density']:.4g}, "
        f"activation density {info['activation_density']:.4g}"
    )
    print(format_table(report["summary"], ("quantity", "archsim", "model", "model_over_archsim")))
    print()
    print("breakdown (archsim energy = exact count x the model's energy per action):")
    columns = (
        "action",
        "archsim_count",
        "model_count",
        "count_model_over_archsim",
        "archsim_energy_uj",
        "model_energy_uj",
    )
    shown = [{k: ("-" if v is None else v) for k, v in row.items()} for row in report["breakdown"]]
    print(format_table(shown, columns))
    return 0
