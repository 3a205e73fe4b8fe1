"""Share of the hardware cost term in the jit-compiled hardware-aware training step.

LeNet-300-100 on MNIST against EIE energy: the joint step (relaxed masks, straight-through gates) with and
without the cost term (bridge to workloads + the EIE model + its gradient), same batch, same state, many
steps each, timed in short chunks interleaved between the two variants so that machine load hits both
alike. On a shared machine the minimum chunk time estimates the uncontended step time (as ``timeit``
does); the medians are printed beside. Prints the cost term's share ``(t_with - t_without) / t_with`` of
the minima, also written to ``--out`` (default benchmarks/results/train_overhead.txt).

    python benchmarks/train_overhead.py [--steps 25] [--rounds 40] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from compress import hwtrain
from compress.hwtrain import HwTrainConfig, Penalty
from models.datasets import load_mnist, subset
from models.lenet import init_params


def time_steps(step, state, images, labels, idx, steps: int) -> float:
    """Mean seconds per step over ``steps`` chained steps (after the result is ready)."""
    s = state
    t0 = time.perf_counter()
    for _ in range(steps):
        s, metrics = step(s, images, labels, idx)
    jax.block_until_ready((s, metrics))
    return (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=25, help="steps per timed chunk")
    parser.add_argument("--rounds", type=int, default=40, help="chunks per variant, interleaved")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "train_overhead.txt"))
    args = parser.parse_args()

    data = subset(load_mnist(), 12800, 10000)
    config = HwTrainConfig(model="lenet300", hardware="eie", objective="energy")
    steps_per_epoch = len(data.train_labels) // config.batch_size
    trainings = {wc: hwtrain.hwaware_training(config, steps_per_epoch, cost_term=wc) for wc in (False, True)}
    images, labels = jnp.asarray(data.train_images), jnp.asarray(data.train_labels)
    params = init_params("lenet300", 0)
    reference = hwtrain.reference_cost(trainings[True].setup, params, images[: hwtrain.REFERENCE_IMAGES])
    state = trainings[True].init(params, reference, Penalty(0.5))
    idx = jnp.arange(128)
    steps = {wc: jax.jit(training.joint_step) for wc, training in trainings.items()}
    for step in steps.values():  # compile and warm up
        jax.block_until_ready(step(state, images, labels, idx))
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for wc, step in steps.items():
            times[wc].append(time_steps(step, state, images, labels, idx, args.steps))
    t_without, t_with = min(times[False]), min(times[True])
    m_without, m_with = float(np.median(times[False])), float(np.median(times[True]))
    share = (t_with - t_without) / t_with
    lines = [
        "hardware-aware training step, LeNet-300-100 / MNIST / EIE energy, batch 128, joint phase",
        f"machine: {platform.machine()} cores={os.cpu_count()} backend={jax.default_backend()}",
        f"{args.rounds} interleaved chunks of {args.steps} steps per variant; min (median) per step",
        f"step without cost term: {t_without * 1e3:.3f} ms ({m_without * 1e3:.3f} ms)",
        f"step with cost term:    {t_with * 1e3:.3f} ms ({m_with * 1e3:.3f} ms)",
        f"ratio with / without:   {t_with / t_without:.3f} ({m_with / m_without:.3f})",
        f"cost term share of the step: {100 * share:.1f} % (target < 15 %)",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
