"""Throughput of the differentiable SCNN model: one ``jit(vmap)`` call over >= 1e6 design points.

Grid: every conv layer shape of AlexNet, GoogLeNet and VGG-16 (``models.conv_specs``, one filter group each)
x 20 weight densities x 20 activation densities (both 0.05..1, geometric) x 36 hardware configurations
(PE arrays 4x4, 8x4, 8x8, 16x16; multiplier arrays F x I = 4x4, 2x8, 8x2; 16, 32 or 64 accumulator banks).
Layer shapes, densities and hardware fields are all data leaves of one stacked pytree, so the whole grid is
one compiled call of the relaxed model (:data:`hwcost.scnn.COST_MODEL`), evaluated in float32: ``jit`` of
``lax.map(..., batch_size=CHUNK)``, i.e. ``vmap`` over chunks of :data:`CHUNK` points inside one program (the
model keeps about 90 KB of intermediates per point, so one unchunked ``vmap`` over the grid would need 90 GB).

Prints points per second and the speedup over the cycle-level simulator (:func:`archsim.scnn.simulate` through
:func:`hwcost.experiments.simulators.simulate_conv`),
measured on points drawn from the same grid (random tensors of the point's densities, per-point simulator time
extrapolated to the whole grid), with the model's cycle and energy error against the simulator on those
points. Writes ``benchmarks/results/scnn_sweep.txt``.

Usage: ``python benchmarks/scnn_sweep.py [--samples N] [--repeats R]`` (on 2 CPU cores one sweep of the grid
takes about 7.5 minutes; the committed result is from ``--repeats 1``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim import scnn as sim
from hwcost import scnn
from hwcost.cost import price_action_counts
from hwcost.experiments.simulators import simulate_conv
from hwcost.files import write_atomically
from hwcost.types import ConvLayer
from models import conv_specs

RESULT = Path(__file__).resolve().parent / "results" / "scnn_sweep.txt"
NETWORKS = ("alexnet", "googlenet", "vgg16")
DENSITIES = np.geomspace(0.05, 1.0, 20)
PE_ARRAYS = ((4, 4), (8, 4), (8, 8), (16, 16))
VECTORS = ((4, 4), (2, 8), (8, 2))
BANKS = (16, 32, 64)
SHAPE_FIELDS = ("in_channels", "out_channels", "kernel_h", "kernel_w", "in_h", "in_w", "out_h", "out_w",
                "stride", "padding", "output_density")  # fmt: skip
HARDWARE_FIELDS = ("pe_rows", "pe_cols", "weight_vector", "activation_vector", "banks")
CHUNK = 16_384
"""Points per ``vmap`` chunk (about 1.5 GB of intermediates)."""


def layers() -> list[ConvLayer]:
    """One filter group of every conv layer of :data:`NETWORKS` at its published output density."""
    return [conv_specs.to_conv_layer(spec) for net in NETWORKS for spec in conv_specs.network_specs(net)]


def grid() -> dict[str, np.ndarray]:
    """Flattened design grid: one float32 array per shape, density and hardware field, all of one length."""
    shapes = np.array([[getattr(layer, f) for f in SHAPE_FIELDS] for layer in layers()], dtype=np.float32)
    configs = np.array([(r, c, f, i, b) for r, c in PE_ARRAYS for f, i in VECTORS for b in BANKS], dtype=np.float32)
    li, wi, ai, ci = (
        a.ravel()
        for a in np.meshgrid(
            np.arange(len(shapes)),
            np.arange(DENSITIES.size),
            np.arange(DENSITIES.size),
            np.arange(len(configs)),
            indexing="ij",
        )
    )
    out = {f: shapes[li, k] for k, f in enumerate(SHAPE_FIELDS)}
    out |= {f: configs[ci, k] for k, f in enumerate(HARDWARE_FIELDS)}
    out["weight_density"] = DENSITIES[wi].astype(np.float32)
    out["activation_density"] = DENSITIES[ai].astype(np.float32)
    return out


def point(p: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
    """Latency (cycles) and total energy (pJ) of one design point of the relaxed model."""
    hw = dataclasses.replace(scnn.SCNN_16NM, **{f: p[f] for f in HARDWARE_FIELDS})
    layer = ConvLayer(**{f: p[f] for f in (*SHAPE_FIELDS, "weight_density", "activation_density")})
    return scnn.COST_MODEL.latency_cycles(hw, layer), sum(scnn.COST_MODEL.energy_pj(hw, layer).values())


def simulate_point(g: dict[str, np.ndarray], j: int) -> tuple[float, float, float]:
    """``(seconds, cycles, energy pJ)`` of the simulator on grid point ``j`` (random tensors of its densities)."""
    v = {k: float(a[j]) for k, a in g.items()}
    hw = dataclasses.replace(scnn.SCNN_16NM, **{f: v[f] for f in HARDWARE_FIELDS})
    k, c, r, s = (int(v[f]) for f in ("out_channels", "in_channels", "kernel_h", "kernel_w"))
    weights, acts = sim.random_layer(
        (k, c, r, s), (c, int(v["in_h"]), int(v["in_w"])), v["weight_density"], v["activation_density"]
    )
    t0 = time.perf_counter()
    result = simulate_conv("scnn", weights, acts, int(v["stride"]), int(v["padding"]), v["output_density"], hw)
    seconds = time.perf_counter() - t0
    energy = sum(price_action_counts(result.counts, scnn.COST_MODEL.per_action_energy_pj(hw)).values())
    return seconds, result.cycles, energy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=12, help="grid points run on the simulator (default 12)")
    parser.add_argument("--repeats", type=int, default=3, help="timed sweeps, the best reported (default 3)")
    args = parser.parse_args()
    for name in ("samples", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}={getattr(args, name)} must be at least 1")

    g = grid()
    n_points = g["weight_density"].size
    stacked = {k: jnp.asarray(a) for k, a in g.items()}
    sweep = jax.jit(lambda p: jax.lax.map(point, p, batch_size=CHUNK))

    t0 = time.perf_counter()
    compiled = sweep.lower(stacked).compile()
    compile_s = time.perf_counter() - t0
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        latency, energy = jax.block_until_ready(compiled(stacked))
        runs.append(time.perf_counter() - t0)
    sweep_s = min(runs)
    latency, energy = np.asarray(latency, np.float64), np.asarray(energy, np.float64)
    if not (np.all(np.isfinite(latency)) and np.all(np.isfinite(energy))):
        raise SystemExit("scnn_sweep: the model gave non-finite costs on the grid")

    rng = np.random.default_rng(0)
    idx = rng.choice(n_points, size=args.samples, replace=False)
    sim_times, cycle_err, energy_err = [], [], []
    for n, j in enumerate(idx, 1):
        seconds, cycles, sim_energy = simulate_point(g, int(j))
        sim_times.append(seconds)
        cycle_err.append(latency[j] / cycles - 1)
        energy_err.append(energy[j] / sim_energy - 1)
        print(f"  archsim point {n}/{args.samples}: {seconds:.2f} s, model/archsim cycles {latency[j] / cycles:.4f}",
              file=sys.stderr)  # fmt: skip
    sim_per_point_s = float(np.mean(sim_times))

    lines = [
        "SCNN model design-space sweep: one jit call of the relaxed model (float32),"
        f" vmap over chunks of {CHUNK} points",
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"JAX {jax.__version__} on {jax.devices()[0].platform.upper()}",
        f"points: {n_points} ({len(layers())} conv layer shapes of {', '.join(NETWORKS)} x {DENSITIES.size} weight"
        f" x {DENSITIES.size} activation densities x {len(PE_ARRAYS) * len(VECTORS) * len(BANKS)} hardware"
        " configurations)",
        f"compile: {compile_s:.2f} s",
        f"sweep (best of {args.repeats}): {sweep_s:.3f} s -> {n_points / sweep_s:.3e} points/s",
        f"archsim on {args.samples} grid points: mean {sim_per_point_s:.3f} s/point "
        f"(min {min(sim_times):.3f}, max {max(sim_times):.3f})",
        f"extrapolated archsim time for the grid: {sim_per_point_s * n_points / 3600:.1f} h",
        f"speedup of the model over archsim: {sim_per_point_s * n_points / sweep_s:.2e}x",
        f"model vs archsim on the sampled points: cycles mean |err| {np.mean(np.abs(cycle_err)):.2%}, "
        f"max {np.max(np.abs(cycle_err)):.2%}; energy mean |err| {np.mean(np.abs(energy_err)):.2%}, "
        f"max {np.max(np.abs(energy_err)):.2%}",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    write_atomically(RESULT, text)


if __name__ == "__main__":
    main()
