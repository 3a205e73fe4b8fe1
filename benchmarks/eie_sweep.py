"""Throughput of the differentiable EIE model: one ``jit(vmap)`` call over >= 1e6 design points.

Grid: the nine EIE Table III layer shapes x 50 weight densities (0.01..0.3) x 50 activation densities
(0.05..1) x 45 PE counts (4..256), all continuous data leaves of one stacked pytree. Prints points per
second and the speedup over the cycle-level simulator (archsim/eie.py) measured on 20 points drawn
from the same grid (per-point simulator time extrapolated to the whole grid). Writes
``benchmarks/results/eie_sweep.txt``.

Usage: ``python benchmarks/eie_sweep.py``.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim import eie as sim
from hwcost import eie
from hwcost.types import FcLayer
from models.specs import EIE_TABLE_III

RESULT = Path(__file__).resolve().parent / "results" / "eie_sweep.txt"
N_SIM_SAMPLES = 20


def grid() -> dict[str, np.ndarray]:
    """Flattened design grid, float32 arrays of equal length."""
    shapes = np.array([(row.in_features, row.out_features) for row in EIE_TABLE_III], dtype=np.float32)
    wd = np.geomspace(0.01, 0.3, 50, dtype=np.float32)
    ad = np.geomspace(0.05, 1.0, 50, dtype=np.float32)
    pes = np.round(np.geomspace(4, 256, 45)).astype(np.float32)
    i, w, a, p = np.meshgrid(np.arange(len(shapes)), wd, ad, pes, indexing="ij")
    return {
        "in": shapes[i.ravel(), 0],
        "out": shapes[i.ravel(), 1],
        "wd": w.ravel(),
        "ad": a.ravel(),
        "pes": p.ravel(),
    }


def point_cost(in_f, out_f, wd, ad, pes):
    """Latency (cycles) and total energy (pJ) of one design point."""
    hw = eie.EieHardware(**{**vars(eie.EIE_64PE_45NM), "num_pes": pes})
    layer = FcLayer(in_f, out_f, wd, ad)
    energy = eie.COST_MODEL.energy_pj(hw, layer)
    return eie.latency_cycles(hw, layer), sum(energy.values())


def main() -> None:
    g = grid()
    n_points = g["in"].size
    args = [jnp.asarray(g[k]) for k in ("in", "out", "wd", "ad", "pes")]
    sweep = jax.jit(jax.vmap(point_cost))

    t0 = time.perf_counter()
    jax.block_until_ready(sweep(*args))
    compile_and_first_s = time.perf_counter() - t0
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        latency, energy = jax.block_until_ready(sweep(*args))
        runs.append(time.perf_counter() - t0)
    sweep_s = min(runs)
    assert bool(jnp.all(jnp.isfinite(latency))) and bool(jnp.all(jnp.isfinite(energy)))

    rng = np.random.default_rng(0)
    idx = rng.choice(n_points, size=N_SIM_SAMPLES, replace=False)
    sim_times, rel_err = [], []
    for j in idx:
        layer = FcLayer(int(g["in"][j]), int(g["out"][j]), float(g["wd"][j]), float(g["ad"][j]))
        t0 = time.perf_counter()
        result = sim.simulate_benchmark(layer, pes=int(g["pes"][j]))
        sim_times.append(time.perf_counter() - t0)
        rel_err.append(float(latency[j]) / max(result.cycles, 1) - 1)
    sim_per_point_s = float(np.mean(sim_times))

    lines = [
        "EIE model design-space sweep: one jit(vmap) call",
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"JAX {jax.__version__} on {jax.devices()[0].platform.upper()} (no accelerator)",
        f"points: {n_points} (9 Table III shapes x 50 weight x 50 activation densities x 45 PE counts)",
        f"compile + first call: {compile_and_first_s:.2f} s",
        f"sweep (best of 3): {sweep_s:.3f} s -> {n_points / sweep_s:.3e} points/s",
        f"archsim on {N_SIM_SAMPLES} grid points: mean {sim_per_point_s:.3f} s/point "
        f"(min {min(sim_times):.3f}, max {max(sim_times):.3f})",
        f"extrapolated archsim time for the grid: {sim_per_point_s * n_points / 3600:.1f} h",
        f"speedup of the model over archsim: {sim_per_point_s * n_points / sweep_s:.2e}x",
        f"model vs archsim latency on the sampled points: mean |err| {np.mean(np.abs(rel_err)):.2%}, "
        f"max {np.max(np.abs(rel_err)):.2%}",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text)


if __name__ == "__main__":
    main()
