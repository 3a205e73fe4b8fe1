"""ESE's sparse LSTM engine as the paper reports it (Han et al., FPGA'17, arXiv 1612.00694), by the cycle-level
simulator (:mod:`archsim.ese`) and the differentiable model (:mod:`hwcost.ese`): throughput, latency, energy
efficiency against the CPU and GPU, and the effect of load-balance-aware pruning (``hwcost validate ese``);
and one user-given LSTMP on both (``hwcost simulate ese``, :func:`compare_lstm`).

Method (every assumption is also listed in the report's ``assumptions``):

* Network: the ESE LSTMP of :data:`models.ese_specs.ESE_LSTM` (two layers: 153 and 512 inputs, 1,024 cells,
  512 projection; [recalled]) on the paper's design point :data:`hwcost.ese.ESE_XCKU060` (32 PEs per
  channel, FIFO depth 8, 32 channels, 200 MHz). A network frame is both layers' frames one after the other.
* Weights: for every matrix of both layers one dense Gaussian matrix (standard deviation 0.1, seed
  :data:`SEED`), pruned to the density by load-balance-aware pruning
  (:func:`compress.load_balance.load_balanced_mask`, every PE's share keeps the same number of its
  largest-magnitude weights, as ESE prunes) or by ordinary magnitude pruning of the same matrix
  (:func:`compress.masks.magnitude_mask`, element granularity, per matrix). The headline figures are at the
  paper's density 0.112 (:data:`models.ese_specs.ESE_DENSITY`) with load-balance-aware pruning.
* Inputs: ``x_t`` standard normal (dense, as speech features are), ``y_{-1}`` standard normal (the steady
  state; :mod:`hwcost.ese` assumes it dense). With dense inputs every frame broadcasts every column, so every
  frame takes the same cycles and ``frames`` only multiplies them (default :data:`FRAMES`).
* Model: the hard twin of :mod:`hwcost.ese` on the :class:`~hwcost.ese.LstmLayer` of the realised densities,
  with ``balanced_density`` measured on the masks (:func:`hwcost.ese.balanced_density_of_counts`, mean over
  the five matrices).
* Throughput (:func:`hwcost.ese.throughput` and the same arithmetic on archsim's cycles):
  ``num_channels`` channels each run one utterance, so the board does ``32 x 2 x MACs`` per frame time:
  sparse GOPS with the kept MACs, dense-equivalent TOPS with the dense layer's. The ideal frame time is
  ``MACs / (N f)`` (every PE multiplying a nonzero every cycle). The paper's 282 GOPS, 2.52 TOPS, 57 us
  (ideal) and 82.7 us (press latency) fit the first layer at 11.2 % density (:mod:`hwcost.ese` docstring,
  "Throughput"), so they are compared with the first layer; the network figures stand beside them.
* Energy efficiency: energy per frame = latency x power; the ratio over a CPU or GPU is
  ``(t_baseline P_baseline) / (t_ESE 41 W)`` with the baselines' latency and power of papers.md
  (:data:`BASELINES`, [recalled]), once with the press latency 82.7 us (which reproduces the paper's ratios)
  and once with archsim's and the model's first-layer frame latency. The 41 W board runs 32 channels; like
  the paper's ratios, the figure charges one frame the whole board power.
* Load balance: the network pruned to each density of :data:`LOAD_BALANCE_DENSITIES` both ways; archsim's
  (and the model's) speedup over the dense network on the same hardware, and the PE utilisation
  ``MACs / (N cycles)``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

from archsim import ese as archsim_ese
from compress.load_balance import load_balanced_mask
from compress.masks import magnitude_mask
from hwcost import checks
from hwcost import ese as ese_model
from hwcost.cost import price_action_counts
from hwcost.experiments.validation import Validation, register_validation
from hwcost.formatting import format_table
from models import ese_specs

SEED = 1612
"""Seed of the dense weights and the inputs (the arXiv number of the paper)."""
FRAMES = ese_specs.FRAMES
"""Frames per utterance (an assumption; per-frame figures do not depend on it with dense inputs)."""
WEIGHT_SCALE = 0.1
"""Standard deviation of the dense Gaussian weights."""
LOAD_BALANCE_DENSITIES: tuple[float, ...] = (1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1)
"""Densities of the load-balance sweep (1.0 is the dense reference of the speedups)."""
PRUNINGS: tuple[str, ...] = ("load_balanced", "magnitude")
"""Load-balance-aware pruning (ESE's) and ordinary magnitude pruning of the same weights."""
GATE_NAMES: tuple[str, ...] = ("gate_i", "gate_f", "gate_g", "gate_o")
"""Names of the gate matrices (:func:`models.lstm.gate_matrices`), in archsim's gate order i, f, g, o."""
PROJECTION = "projection"
MATRIX_NAMES: tuple[str, ...] = (*GATE_NAMES, PROJECTION)

PAPER: dict[str, float] = {
    "sparse_gops": 282.0,  # ESE abstract (V-P): 282 GOPS on the sparse model
    "dense_equivalent_tops": 2.52,  # ESE abstract (V-P): 2.52 TOPS equivalent dense throughput
    "ideal_us_per_frame": 57.0,  # ESE (V-S, papers.md caution row): 57 us
    "latency_us_per_frame": 82.7,  # DeePhi press article (V-S): 82.7 us per LSTM frame
}
"""The paper's throughput and latency figures (papers.md sec. 3 and "ESE additions")."""
PAPER_NOTES: dict[str, str] = {
    "sparse_gops": "32 channels x 2 x kept MACs of one frame, per frame time (32 utterances at once)",
    "dense_equivalent_tops": "32 channels x 2 x dense MACs of one frame, per frame time",
    "ideal_us_per_frame": "kept MACs / (32 PEs x 200 MHz): every PE multiplying a nonzero every cycle",
    "latency_us_per_frame": "one frame on one channel (press latency; archsim and model: the modelled schedule)",
}
ESE_POWER_W = ese_model.BOARD_POWER_W  # ESE abstract (V-P): 41 W


class Baseline(NamedTuple):
    """A CPU or GPU of the paper's comparison: latency per frame (us), power (W), the paper's efficiency ratio
    and speedup of ESE over it (papers.md "ESE additions", [recalled]; the ratios V-S)."""

    name: str
    latency_us: float
    power_w: float
    paper_efficiency: float
    paper_speedup: float | None


BASELINES: tuple[Baseline, ...] = (
    Baseline("Core i7-5930K, dense (MKL BLAS)", 6017.3, 111.0, 197.0, None),
    Baseline("Core i7-5930K, sparse (MKL SPARSE)", 3569.9, 38.0, 40.0, 43.0),
    Baseline("Titan X, dense (cuBLAS)", 240.2, 202.0, 14.3, None),
    Baseline("Titan X, sparse (cuSPARSE)", 287.4, 136.0, 11.5, 3.0),
)
"""papers.md "ESE (additions to section 3)": latency and power [recalled, unverified]; efficiency ratios V-S
(40x and 11.5x V-P); speedups 43x and 3x (abstract, V-P) over the sparse CPU and GPU."""

ASSUMPTIONS: tuple[str, ...] = (
    "Network: models.ese_specs.ESE_LSTM (153 and 512 inputs, 1024 cells, 512 projection; [recalled]); a network "
    "frame runs both layers' frames one after the other.",
    f"Weights: one dense Gaussian matrix (std {WEIGHT_SCALE}) per matrix, seed {SEED}; pruned by load-balance-"
    "aware pruning (compress.load_balance, per PE share) or by magnitude pruning (per matrix) of the same matrix.",
    "Inputs: x_t and y_{-1} standard normal (dense): every frame broadcasts every column, so every frame takes "
    "the same cycles.",
    "Model: hwcost.ese's hard twin on the realised densities; balanced_density measured on the masks (mean of "
    "hwcost.ese.balanced_density_of_counts over the five matrices).",
    "Throughput: 32 channels each run one utterance (hwcost.ese docstring); the paper's 282 GOPS / 2.52 TOPS / "
    "57 us / 82.7 us are compared with the first layer at density 0.112, as the V-D derivation ties them.",
    "Energy efficiency: (baseline latency x baseline power) / (ESE latency x 41 W); baselines' latency and power "
    "as recalled in papers.md; the 41 W board (32 channels) is charged to one frame, as the paper's ratios do.",
    *ese_model.ASSUMPTIONS,
)


# --- hardware and one LSTMP layer on both sides ----------------------------------------------------------------
def simulator_options(hw: ese_model.EseHardware) -> dict[str, int]:
    """The keyword arguments of :func:`archsim.ese.simulate` for the model hardware ``hw``; ``ValueError``
    naming a field the simulator cannot count with (it needs whole numbers)."""
    out: dict[str, int] = {}
    fields = {
        "pes": ("num_pes", 1),
        "fifo_depth": ("fifo_depth", 1),
        "num_channels": ("num_channels", 1),
        "dram_bits_per_cycle": ("dram_bits_per_cycle", 1),
        "elementwise_latency_cycles": ("elementwise_latency_cycles", 0),
    }
    for option, (name, low) in fields.items():
        value = float(getattr(hw, name))
        if not value.is_integer() or value < low:
            raise ValueError(
                f"hardware field {name}={value:g} of ese is not a whole number >= {low}; the reference simulator "
                "needs whole numbers (the model alone accepts relaxed ones)"
            )
        out[option] = int(value)
    return {**out, "index_bits": hw.index_bits, "weight_bits": hw.weight_bits, "pointer_bits": hw.pointer_bits}


def check_lstm_matrices(matrices: Mapping[str, np.ndarray], pes: int | None = None) -> tuple[int, int, int]:
    """``(inputs, cells, projection)`` of the gate matrices and projection (:data:`MATRIX_NAMES`), in hardware
    orientation: ``gate_*`` ``(cells, inputs + projection)``, ``projection`` ``(projection, cells)``.
    ``ValueError`` naming the matrix, its value and what is allowed for a missing or unknown matrix, a
    shape that disagrees, a value that is not finite, or a PE count that does not divide the cells and the
    projection."""
    names = set(matrices)
    missing = [n for n in MATRIX_NAMES if n not in names]
    if missing:
        extra = (
            " (a plain LSTM without a projection is not an ESE workload: ESE runs an LSTMP)"
            if missing == [PROJECTION]
            else ""
        )
        raise ValueError(
            f"{missing[0]} is missing; given: {', '.join(sorted(names)) or 'nothing'}; required: "
            f"{', '.join(MATRIX_NAMES)}{extra}"
        )
    unknown = sorted(names - set(MATRIX_NAMES))
    if unknown:
        raise ValueError(f"matrix {unknown[0]!r} is unknown; allowed: {', '.join(MATRIX_NAMES)}")
    for name in MATRIX_NAMES:
        m = matrices[name]
        if np.ndim(m) != 2:
            raise ValueError(
                f"{name} ndim={np.ndim(m)} (shape {np.shape(m)}) must be 2 (rows = outputs, columns = inputs)"
            )
        if min(np.shape(m)) < 1:
            raise ValueError(f"{name} shape={np.shape(m)} has an empty dimension; allowed: sizes >= 1")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{name} contains nan or inf; allowed: finite numbers")
    p, c = np.shape(matrices[PROJECTION])
    first = np.shape(matrices[GATE_NAMES[0]])
    for name in GATE_NAMES:
        shape = np.shape(matrices[name])
        if shape[0] != c:
            raise ValueError(
                f"{name} rows={shape[0]} (shape {shape}) must equal the cells C={c}, the columns of "
                f"projection (shape {(p, c)}, (projection, cells))"
            )
        if shape != first:
            raise ValueError(f"{name} shape={shape} must equal {GATE_NAMES[0]}'s {first} (cells, inputs + projection)")
        if shape[1] <= p:
            raise ValueError(
                f"{name} columns={shape[1]} must exceed the projection size P={p}: the columns are "
                "[x_t; y_{t-1}], inputs + projection"
            )
    if pes is not None:
        for what, size in (("cells", c), ("projection", p)):
            if size % pes:
                raise ValueError(
                    f"num_pes={pes} must divide the {what} {size} (every PE holds the same rows of every "
                    f"matrix); allowed: a divisor of {what}={size}"
                )
    return first[1] - p, c, p


def _density(m: np.ndarray) -> float:
    return float(np.count_nonzero(m)) / m.size


def measured_balanced_density(matrices: Mapping[str, np.ndarray], pes: int) -> float:
    """Mean over the five matrices of :func:`hwcost.ese.balanced_density_of_counts` of their masks on ``pes``
    PEs (rows ``i mod pes``)."""
    values = []
    for name in MATRIX_NAMES:
        m = np.asarray(matrices[name])
        pe = np.arange(m.shape[0]) % pes
        nnz = np.bincount(pe, weights=np.count_nonzero(m, axis=1), minlength=pes)
        slots = np.bincount(pe, minlength=pes) * m.shape[1]
        values.append(ese_model.balanced_density_of_counts(nnz, slots))
    return float(np.mean(values))


def lstm_workload(
    matrices: Mapping[str, np.ndarray], inputs: np.ndarray, pes: int, name: str = "lstm"
) -> ese_model.LstmLayer:
    """The :class:`~hwcost.ese.LstmLayer` of real matrices and inputs ``(frames, X)``: shapes, realised
    densities, the inputs' nonzero fraction and the masks' measured ``balanced_density``."""
    x, c, p = check_lstm_matrices(matrices)
    frames = int(np.shape(inputs)[0])
    return ese_model.LstmLayer(
        float(x),
        float(c),
        float(p),
        float(frames),
        *[_density(matrices[n]) for n in GATE_NAMES],
        _density(matrices[PROJECTION]),
        float(np.count_nonzero(inputs)) / max(1, np.size(inputs)),
        measured_balanced_density(matrices, pes),
        name=name,
    )


class LayerRun(NamedTuple):
    """One LSTMP utterance on archsim and on the model (hard twin and relaxed)."""

    sim: archsim_ese.EseSimResult
    workload: ese_model.LstmLayer
    hw: ese_model.EseHardware
    model_cycles: float
    model_relaxed_cycles: float
    model_counts: dict[str, float]


def run_layer(
    matrices: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    hw: ese_model.EseHardware,
    initial_projection: np.ndarray | None = None,
    *,
    relaxed: bool = True,
) -> LayerRun:
    """archsim and the model on one layer (``inputs`` ``(frames, X)``, ``hw`` the model hardware)."""
    model = ese_model.COST_MODEL
    options = simulator_options(hw)
    check_lstm_matrices(matrices, options["pes"])
    weights = archsim_ese.LstmWeights(
        {g: np.asarray(matrices[f"gate_{g}"], np.float64) for g in archsim_ese.GATES},
        np.asarray(matrices[PROJECTION], np.float64),
    )
    sim = archsim_ese.simulate(weights, inputs, initial_projection=initial_projection, **options)
    workload = lstm_workload(matrices, inputs, options["pes"], name="lstm")
    hard = model.hard(hw)
    model.check(hard, workload)
    counts, cycles = model.counts_and_latency(hard, workload)
    relaxed_cycles = float(model.latency_cycles(hw, workload)) if relaxed else float("nan")
    return LayerRun(sim, workload, hard, float(cycles), relaxed_cycles, {k: float(v) for k, v in counts.items()})


def _throughput(
    macs_per_frame: float, dense_macs: float, frame_cycles: float, hw: ese_model.EseHardware
) -> dict[str, float]:
    """The throughput figures of one frame from its cycles (the arithmetic of :func:`hwcost.ese.throughput`)."""
    clock, channels, pes = float(hw.clock_mhz), float(hw.num_channels), float(hw.num_pes)
    frame_us = frame_cycles / clock
    return {
        "cycles_per_frame": frame_cycles,
        "us_per_frame": frame_us,
        "ideal_us_per_frame": macs_per_frame / (pes * clock),
        "sparse_gops": channels * 2.0 * macs_per_frame / frame_us * 1e-3,
        "dense_equivalent_tops": channels * 2.0 * dense_macs / frame_us * 1e-6,
        "pe_utilisation": macs_per_frame / (pes * frame_cycles),
    }


def _sides(
    name: str,
    sim_macs: float,
    sim_cycles: float,
    model_macs: float,
    model_cycles: float,
    dense_macs: float,
    frames: int,
    hw: ese_model.EseHardware,
) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name}
    for side, macs, cycles in (("archsim", sim_macs, sim_cycles), ("model", model_macs, model_cycles)):
        for key, value in _throughput(macs / frames, dense_macs, cycles / frames, hw).items():
            row[f"{side}_{key}"] = value
    row["model_over_archsim_cycles"] = model_cycles / sim_cycles
    return row


# --- hwcost simulate ese -------------------------------------------------------------------------------------
def compare_lstm(
    matrices: Mapping[str, np.ndarray],
    hw: ese_model.EseHardware | None = None,
    *,
    frames: int = 8,
    seed: int = 0,
    source: str = "",
) -> dict[str, Any]:
    """One LSTMP utterance of ``frames`` random frames on archsim and the model (``hwcost simulate ese``).

    Args:
        matrices: ``gate_i``, ``gate_f``, ``gate_g``, ``gate_o`` ``(cells, inputs + projection)`` and
            ``projection`` ``(projection, cells)``, hardware orientation (:func:`models.lstm.gate_matrices`);
            zeros are pruned weights.
        hw: the model hardware (default :data:`hwcost.ese.ESE_XCKU060`); archsim runs its whole numbers.
        frames: frames of the utterance (>= 1); inputs ``x_t`` and ``y_{-1}`` standard normal, ``seed``.
        source: where the matrices came from (reported).

    Returns:
        ``{"layer", "workload", "summary", "breakdown"}`` like :func:`hwcost.experiments.compare_layer`:
        ``summary`` rows ``quantity`` (``cycles``, ``time_us``, ``latency_us_per_frame``, ``energy_uj``,
        ``pe_utilisation``, ``sparse_gops``, ``dense_equivalent_tops``, ``stall_cycles``) with ``archsim``,
        ``model`` (the hard twin), ``model_over_archsim`` and ``model_relaxed``.
    """
    hw = ese_model.ESE_XCKU060 if hw is None else hw
    checks.check_int_range("frames", frames, 1, 10**6)
    checks.check_int_range("seed", seed, 0, 2**32 - 1)
    ese_model.COST_MODEL.check_hardware(hw)
    pes = simulator_options(hw)["pes"]
    x_size, c, p = check_lstm_matrices(matrices, pes)
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(frames, x_size))
    run = run_layer(matrices, inputs, hw, rng.normal(size=p))
    sim, model = run.sim, ese_model.COST_MODEL
    per_action = {k: float(v) for k, v in model.per_action_energy_pj(run.hw).items()}
    sim_energy = price_action_counts(sim.counts, per_action)
    relaxed_hw = hw
    relaxed_counts = {k: float(v) for k, v in model.action_counts(relaxed_hw, run.workload).items()}
    dense = float(ese_model.dense_macs_per_frame(run.workload))
    sim_fig = _throughput(sim.macs / frames, dense, sim.cycles / frames, run.hw)
    model_fig = _throughput(run.model_counts["pe.mac"] / frames, dense, run.model_cycles / frames, run.hw)
    relaxed_fig = _throughput(relaxed_counts["pe.mac"] / frames, dense, run.model_relaxed_cycles / frames, run.hw)
    clock = float(hw.clock_mhz)

    def energy(counts: Mapping[str, float]) -> float:
        return sum(float(v) * per_action[k] for k, v in counts.items()) * 1e-6

    def row(quantity: str, archsim: float, model_value: float, relaxed: float | None) -> dict[str, Any]:
        return {
            "quantity": quantity,
            "archsim": archsim,
            "model": model_value,
            "model_over_archsim": model_value / archsim if archsim else None,
            "model_relaxed": relaxed,
        }

    summary = [
        row("cycles", float(sim.cycles), run.model_cycles, run.model_relaxed_cycles),
        row("time_us", sim.cycles / clock, run.model_cycles / clock, run.model_relaxed_cycles / clock),
        row("latency_us_per_frame", sim_fig["us_per_frame"], model_fig["us_per_frame"], relaxed_fig["us_per_frame"]),
        row("energy_uj", sum(sim_energy.values()) * 1e-6, energy(run.model_counts), energy(relaxed_counts)),
        row("pe_utilisation", sim.pe_utilisation, model_fig["pe_utilisation"], relaxed_fig["pe_utilisation"]),
        row("sparse_gops", sim_fig["sparse_gops"], model_fig["sparse_gops"], relaxed_fig["sparse_gops"]),
        row(
            "dense_equivalent_tops",
            sim_fig["dense_equivalent_tops"],
            model_fig["dense_equivalent_tops"],
            relaxed_fig["dense_equivalent_tops"],
        ),
        {
            "quantity": "stall_cycles",
            "archsim": float(sim.stall_cycles),
            "model": None,
            "model_over_archsim": None,
            "model_relaxed": None,
        },
    ]
    breakdown = [
        {
            "action": key,
            "archsim_count": float(sim.counts[key]) if key in sim.counts else None,
            "model_count": run.model_counts[key],
            "count_model_over_archsim": run.model_counts[key] / sim.counts[key] if sim.counts.get(key) else None,
            "archsim_energy_uj": sim_energy[key] * 1e-6 if key in sim_energy else None,
            "model_energy_uj": run.model_counts[key] * per_action[key] * 1e-6,
            "energy_pj_per_action": per_action[key],
        }
        for key in run.model_counts
    ]
    workload = run.workload
    return {
        "layer": {
            "hardware": "ese",
            "source": source,
            "inputs": x_size,
            "cells": c,
            "projection": p,
            "frames": frames,
            "seed": seed,
            "densities": {n: _density(np.asarray(matrices[n])) for n in MATRIX_NAMES},
            "balanced_density": float(workload.balanced_density),
            "clock_mhz": clock,
            "num_pes": pes,
            "num_channels": float(hw.num_channels),
            "note": "inputs x_t and y_{-1} standard normal (dense); energy is the utterance's share of the board "
            "(board power x time / num_channels); throughput counts num_channels utterances at once",
        },
        "workload": {
            f.name: (getattr(workload, f.name) if f.name == "name" else float(getattr(workload, f.name)))
            for f in dataclasses.fields(workload)
        },
        "summary": summary,
        "breakdown": breakdown,
    }


# --- hwcost validate ese -------------------------------------------------------------------------------------
@functools.cache
def _dense_weights(network: ese_specs.EseLstmSpec, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """The dense Gaussian matrices of every layer of ``network``, by layer and matrix name."""
    rng = np.random.default_rng(seed)
    out = {}
    for layer in network.layers:
        cols = layer.input_size + layer.projection_size
        out[layer.name] = {
            **{n: rng.normal(0.0, WEIGHT_SCALE, (layer.cell_size, cols)) for n in GATE_NAMES},
            PROJECTION: rng.normal(0.0, WEIGHT_SCALE, (layer.projection_size, layer.cell_size)),
        }
    return out


def prune(matrix: np.ndarray, density: float, pruning: str, pes: int) -> np.ndarray:
    """``matrix`` pruned to ``density`` by ``pruning`` (:data:`PRUNINGS`) on ``pes`` PEs."""
    checks.check_choice("pruning", pruning, PRUNINGS)
    if density >= 1.0:
        return matrix
    single = np.asarray(matrix, np.float32)  # the masks rank magnitudes; jax computes in float32
    if pruning == "load_balanced":
        mask = np.asarray(load_balanced_mask(single, float(density), pes)) != 0
    else:
        mask = np.asarray(magnitude_mask(single, float(density))) != 0
    return np.where(mask, matrix, 0.0)


def _network_runs(
    network: ese_specs.EseLstmSpec,
    density: float,
    pruning: str,
    frames: int,
    seed: int,
    hw: ese_model.EseHardware,
    bar: tqdm,
) -> list[tuple[str, LayerRun]]:
    pes = int(hw.num_pes)
    rng = np.random.default_rng(seed + 1)
    runs = []
    for layer in network.layers:
        bar.set_postfix_str(f"{layer.name}, density {density:g}, {pruning}", refresh=False)
        dense = _dense_weights(network, seed)[layer.name]
        matrices = {n: prune(m, density, pruning, pes) for n, m in dense.items()}
        inputs = rng.normal(size=(frames, layer.input_size))
        runs.append(
            (layer.name, run_layer(matrices, inputs, hw, rng.normal(size=layer.projection_size), relaxed=False))
        )
        bar.update()
    return runs


def _totals(runs: Sequence[tuple[str, LayerRun]]) -> tuple[float, float, float, float]:
    """archsim MACs and cycles, model MACs and cycles, summed over layers."""
    return (
        float(sum(r.sim.macs for _, r in runs)),
        float(sum(r.sim.cycles for _, r in runs)),
        float(sum(r.model_counts["pe.mac"] for _, r in runs)),
        float(sum(r.model_cycles for _, r in runs)),
    )


def _paper_rows(first_layer: dict[str, Any], network: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for quantity, paper in PAPER.items():
        key = "us_per_frame" if quantity == "latency_us_per_frame" else quantity
        archsim, model = first_layer[f"archsim_{key}"], first_layer[f"model_{key}"]
        rows.append(
            {
                "quantity": quantity,
                "paper": paper,
                "archsim": archsim,
                "model": model,
                "archsim_over_paper": archsim / paper,
                "model_over_paper": model / paper,
                "network_archsim": network[f"archsim_{key}"],
                "network_model": network[f"model_{key}"],
                "note": PAPER_NOTES[quantity],
            }
        )
    return rows


def _efficiency_rows(latencies: Mapping[str, float]) -> list[dict[str, Any]]:
    """Energy-efficiency ratio and speedup of ESE over each baseline at each ESE latency (us per frame)."""
    rows = []
    for b in BASELINES:
        row: dict[str, Any] = {
            "baseline": b.name,
            "latency_us": b.latency_us,
            "power_w": b.power_w,
            "paper_efficiency": b.paper_efficiency,
            "paper_speedup": b.paper_speedup,
        }
        for label, t in latencies.items():
            row[f"efficiency_at_{label}_latency"] = (b.latency_us * b.power_w) / (t * ESE_POWER_W)
            row[f"speedup_at_{label}_latency"] = b.latency_us / t
        rows.append(row)
    return rows


def ese_validation_report(
    densities: Sequence[float] | None = None,
    *,
    frames: int = FRAMES,
    progress: bool = False,
    seed: int = SEED,
    hw: ese_model.EseHardware | None = None,
    network: ese_specs.EseLstmSpec | None = None,
) -> dict[str, Any]:
    """ESE's paper LSTM on archsim and the model against the paper (module docstring).

    Args:
        densities: densities of the load-balance sweep, each in (0, 1] (default :data:`LOAD_BALANCE_DENSITIES`;
            ``()`` skips the sweep); the dense reference (1.0) is run whether listed or not.
        frames: frames per utterance (>= 1).
        progress: a progress bar on stderr (one step per simulated layer).
        seed: seed of the weights and inputs.
        hw: the model hardware (default :data:`hwcost.ese.ESE_XCKU060`).
        network: the LSTMP and its density (default :data:`models.ese_specs.ESE_LSTM`; a smaller one for quick
            checks).

    Returns:
        ``{"layers", "networks", "paper_comparison", "energy_efficiency", "load_balance", "model_vs_archsim",
        "assumptions", "seed", "frames", "density", "notes"}``: ``layers`` one row per layer and pruning at the
        paper's density (archsim and model cycles, us per frame, ideal us, sparse GOPS, dense-equivalent TOPS,
        PE utilisation), ``networks`` the same summed over both layers; ``paper_comparison`` the paper's four
        figures against the first layer (load-balanced); ``energy_efficiency`` the ratios over each CPU/GPU
        at the paper's, archsim's and the model's latency; ``load_balance`` one entry per density.
    """
    hw = ese_model.ESE_XCKU060 if hw is None else hw
    densities = tuple(LOAD_BALANCE_DENSITIES if densities is None else densities)
    for d in densities:
        checks.check_fraction("density", d, open_low=True)
    checks.check_int_range("frames", frames, 1, 10**6)
    checks.check_int_range("seed", seed, 0, 2**32 - 1)
    ese_model.COST_MODEL.check_hardware(hw)
    simulator_options(hw)
    hw = ese_model.COST_MODEL.hard(hw)
    network = ese_specs.ESE_LSTM if network is None else network
    paper_density = network.weight_density
    sweep = list(dict.fromkeys([1.0, *densities])) if densities else []
    layers_per_net = len(network.layers)
    steps = layers_per_net * len(PRUNINGS) * (1 + len(sweep)) - (layers_per_net if sweep else 0)
    dense_by_layer = {layer.name: float(layer.num_weights) for layer in network.layers}
    dense_network = sum(dense_by_layer.values())
    layer_rows, network_rows = [], []
    errors: list[float] = []
    with tqdm(total=steps, desc="ESE", unit="layer", disable=not progress) as bar:
        for pruning in PRUNINGS:
            runs = _network_runs(network, paper_density, pruning, frames, seed, hw, bar)
            for name, run in runs:
                r = _sides(
                    name,
                    run.sim.macs,
                    run.sim.cycles,
                    run.model_counts["pe.mac"],
                    run.model_cycles,
                    dense_by_layer[name],
                    frames,
                    hw,
                )
                r["pruning"] = pruning
                r["weight_density"] = float(
                    np.mean(
                        [getattr(run.workload, f) for f in ese_model.GATE_DENSITY_FIELDS]
                        + [run.workload.projection_density]
                    )
                )
                r["balanced_density"] = float(run.workload.balanced_density)
                r["archsim_stall_cycles_per_frame"] = run.sim.stall_cycles / frames
                layer_rows.append(r)
                errors.append(r["model_over_archsim_cycles"] - 1.0)
            net = _sides("network", *_totals(runs), dense_network, frames, hw)
            net["pruning"] = pruning
            network_rows.append(net)
        first = next(r for r in layer_rows if r["pruning"] == "load_balanced")
        net_lb = next(r for r in network_rows if r["pruning"] == "load_balanced")
        paper_rows = _paper_rows(first, net_lb)
        efficiency = _efficiency_rows(
            {
                "paper": PAPER["latency_us_per_frame"],
                "archsim": first["archsim_us_per_frame"],
                "model": first["model_us_per_frame"],
            }
        )
        load_balance = []
        dense_totals = None
        for density in sweep:
            point: dict[str, Any] = {"density": float(density)}
            for pruning in PRUNINGS if density < 1.0 else PRUNINGS[:1]:
                runs = _network_runs(network, density, pruning, frames, seed, hw, bar)
                totals = _totals(runs)
                if density == 1.0:
                    dense_totals = totals
                errors += [r.model_cycles / r.sim.cycles - 1.0 for _, r in runs]
                beta = float(np.mean([r.workload.balanced_density for _, r in runs]))
                per = {pruning: (totals, beta)}
                if density == 1.0:
                    per = {p: (totals, beta) for p in PRUNINGS}
                for p, (t, b) in per.items():
                    suffix = "balanced" if p == "load_balanced" else "unbalanced"
                    sim_macs, sim_cycles, model_macs, model_cycles = t
                    point[f"speedup_{suffix}"] = dense_totals[1] / sim_cycles
                    point[f"model_speedup_{suffix}"] = dense_totals[3] / model_cycles
                    point[f"pe_utilisation_{suffix}"] = sim_macs / (float(hw.num_pes) * sim_cycles)
                    point[f"model_pe_utilisation_{suffix}"] = model_macs / (float(hw.num_pes) * model_cycles)
                    point[f"archsim_cycles_per_frame_{suffix}"] = sim_cycles / frames
                    point[f"model_cycles_per_frame_{suffix}"] = model_cycles / frames
                    point[f"balanced_density_{suffix}"] = b
            for suffix in ("balanced", "unbalanced"):
                point[f"model_over_archsim_speedup_{suffix}"] = (
                    point[f"model_speedup_{suffix}"] / point[f"speedup_{suffix}"]
                )
            point["utilisation_gain"] = point["pe_utilisation_balanced"] / point["pe_utilisation_unbalanced"]
            load_balance.append(point)
        requested = set(densities)
        load_balance = [p for p in load_balance if p["density"] in requested]
    abs_errors = np.abs(errors)
    return {
        "seed": seed,
        "frames": frames,
        "density": paper_density,
        "network": [layer._asdict() for layer in network.layers],
        "hardware": {
            "num_pes": float(hw.num_pes),
            "num_channels": float(hw.num_channels),
            "clock_mhz": float(hw.clock_mhz),
            "fifo_depth": float(hw.fifo_depth),
        },
        "layers": layer_rows,
        "networks": network_rows,
        "paper_comparison": paper_rows,
        "energy_efficiency": efficiency,
        "load_balance": load_balance,
        "model_vs_archsim": {
            "runs": len(errors),
            "cycles_mean_abs_error_pct": 100.0 * float(abs_errors.mean()),
            "cycles_max_abs_error_pct": 100.0 * float(abs_errors.max()),
            "tolerance_pct": 10.0,
        },
        "notes": {
            "throughput": "32 channels x 32 PEs: each channel runs one utterance, so GOPS and TOPS count 32 "
            "utterances at once; us per frame is one frame on one channel (hwcost.ese docstring, 'Throughput')",
            "paper_scope": "the paper's 282 GOPS / 2.52 TOPS / 57 us / 82.7 us are compared with the first layer "
            "(153 inputs) at density 0.112, which they fit (models.ese_specs docstring); network_* columns sum "
            "both layers",
            "energy_efficiency": "(baseline latency x power) / (ESE latency x 41 W), at the press latency 82.7 us "
            "(reproduces the paper's ratios) and at archsim's and the model's first-layer latency",
            "load_balance": "speedup = dense network cycles / pruned network cycles on the same hardware (archsim "
            "and model each against its own dense run); pe_utilisation = MACs / (32 PEs x cycles); balanced = "
            "load-balance-aware pruning, unbalanced = magnitude pruning of the same weights",
        },
        "assumptions": list(ASSUMPTIONS),
    }


TABLE_COLUMNS: tuple[str, ...] = (
    "name",
    "pruning",
    "archsim_cycles_per_frame",
    "model_cycles_per_frame",
    "model_over_archsim_cycles",
    "archsim_us_per_frame",
    "archsim_ideal_us_per_frame",
    "archsim_sparse_gops",
    "archsim_dense_equivalent_tops",
    "archsim_pe_utilisation",
    "model_pe_utilisation",
)
"""Columns of the per-layer text table of ``hwcost validate ese``."""
PAPER_COLUMNS = ("quantity", "paper", "archsim", "model", "archsim_over_paper", "network_archsim", "note")
EFFICIENCY_COLUMNS = (
    "baseline",
    "paper_efficiency",
    "efficiency_at_paper_latency",
    "efficiency_at_archsim_latency",
    "efficiency_at_model_latency",
    "paper_speedup",
    "speedup_at_archsim_latency",
)
LOAD_BALANCE_COLUMNS = (
    "density",
    "speedup_balanced",
    "speedup_unbalanced",
    "model_speedup_balanced",
    "model_speedup_unbalanced",
    "pe_utilisation_balanced",
    "pe_utilisation_unbalanced",
    "model_pe_utilisation_balanced",
    "model_pe_utilisation_unbalanced",
)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """Networks, the paper's figures, the efficiency ratios, the load-balance sweep and the model's error."""
    lines = [
        "per network (both layers, one frame each):",
        format_table(report["networks"], TABLE_COLUMNS),
        "",
        f"the paper's figures against the first layer (load-balance-aware pruning, density {report['density']:g}):",
        format_table(report["paper_comparison"], PAPER_COLUMNS),
        "",
        "energy efficiency of ESE (energy per frame = latency x power) and speedup:",
        format_table(report["energy_efficiency"], EFFICIENCY_COLUMNS),
    ]
    if report["load_balance"]:
        lines += [
            "",
            "load balance: speedup over the dense network and PE utilisation (balanced = load-balance-aware "
            "pruning, unbalanced = magnitude pruning):",
            format_table(report["load_balance"], LOAD_BALANCE_COLUMNS),
        ]
    e = report["model_vs_archsim"]
    lines += [
        "",
        f"model vs archsim cycles over {e['runs']} layer runs: mean |error| {e['cycles_mean_abs_error_pct']:.2f}%,"
        f" max {e['cycles_max_abs_error_pct']:.2f}% (tolerance {e['tolerance_pct']:g}%)",
    ]
    return lines


NETWORK = ese_specs.ESE_LSTM
"""The network of ``hwcost validate ese`` (read at call time)."""


def _run(progress: bool, *, densities: Sequence[float] | None = None, frames: int | None = None) -> dict[str, Any]:
    """The report of ``hwcost validate ese`` (the module's defaults, read at call time)."""
    return ese_validation_report(
        LOAD_BALANCE_DENSITIES if densities is None else densities,
        frames=FRAMES if frames is None else frames,
        progress=progress,
        network=NETWORK,
    )


register_validation(
    "ese",
    Validation(
        "ESE (FPGA'17): per layer at density 0.112 on archsim and the model (random weights, load-balance-aware "
        "and magnitude pruning)",
        _run,
        TABLE_COLUMNS,
        summary_lines,
    ),
)

__all__ = [
    "ASSUMPTIONS",
    "BASELINES",
    "FRAMES",
    "LOAD_BALANCE_DENSITIES",
    "MATRIX_NAMES",
    "PAPER",
    "SEED",
    "check_lstm_matrices",
    "compare_lstm",
    "ese_validation_report",
    "lstm_workload",
    "measured_balanced_density",
    "prune",
    "run_layer",
    "simulator_options",
    "summary_lines",
]
