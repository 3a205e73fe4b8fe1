"""Reference simulators by cost-model name: the exact side of every comparison with a differentiable model.

A :data:`LayerSimulator` runs one layer of a real network (pruned weights, one example's real input) on an
integer-exact simulator of :mod:`archsim` and returns its action counts (the cost model's keys) and cycles;
:func:`simulate_network` runs a whole network on a batch of examples one at a time (batch 1, as the
accelerators run) and prices the counts with the model's own per-action energies, so the energy gap
between model and simulator comes only from the counts. A model without a simulator is evaluated exactly
by its hard twin instead (:func:`has_simulator`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from hwcost.cost import price_action_counts
from hwcost.registry import cost_model
from hwcost.types import LayerSpec


class LayerSimulation(NamedTuple):
    """Exact counts of one layer on one example.

    Attributes:
        counts: ``{"component.action": count}`` (the cost model's keys).
        cycles: latency, cycles.
        extras: other exact quantities worth reporting, additive over products and examples (EIE:
            ``broadcasts``, ``broadcast_stall_cycles``, ``pe_busy_cycles``).
    """

    counts: dict[str, float]
    cycles: float
    extras: dict[str, float]


LayerSimulator = Callable[[LayerSpec, np.ndarray, np.ndarray, Any], LayerSimulation]
"""``(spec, kernel, x, hw) -> LayerSimulation``: one layer, ``kernel`` as the network stores it
(``(in, out)`` or ``(kh, kw, c, k)``), ``x`` one example's input to the layer, ``hw`` the model's hardware."""


def simulate_eie_layer(spec: LayerSpec, kernel: np.ndarray, x: np.ndarray, hw: Any) -> LayerSimulation:
    """One layer on the cycle-level EIE simulator (:mod:`archsim.eie`): one product per output position
    (:func:`archsim.network.layer_matvecs`), ``hw``'s PE count, FIFO depth and index width."""
    from archsim import eie as archsim_eie
    from archsim.network import layer_matvecs

    w, vecs = layer_matvecs(kernel, x)
    counts: dict[str, float] = {}
    extras = {"broadcasts": 0.0, "broadcast_stall_cycles": 0.0, "pe_busy_cycles": 0.0}
    cycles = 0.0
    if w.shape[1] == 0:  # no live column: nothing is stored, broadcast or read
        return LayerSimulation(counts, cycles, extras)
    coo = archsim_eie.CooMatrix.from_dense(w)
    for vec in vecs:
        sim = archsim_eie.simulate(coo, vec, pes=int(hw.num_pes), fifo_depth=int(hw.fifo_depth),
                                   index_bits=int(hw.index_bits))  # fmt: skip
        for key, value in sim.action_counts().items():
            counts[key] = counts.get(key, 0.0) + value
        cycles += sim.cycles
        extras["broadcasts"] += sim.broadcasts
        extras["broadcast_stall_cycles"] += sim.broadcast_stall_cycles
        extras["pe_busy_cycles"] += float(sim.busy_cycles.sum())
    return LayerSimulation(counts, cycles, extras)


SIMULATORS: dict[str, LayerSimulator] = {"eie": simulate_eie_layer}
"""Cost-model name -> its reference layer simulator."""


def register_simulator(hardware: str, simulator: LayerSimulator) -> None:
    """Use ``simulator`` as the exact reference of the cost model ``hardware``."""
    SIMULATORS[hardware] = simulator


def has_simulator(hardware: str) -> bool:
    """Whether the cost model ``hardware`` has a reference simulator."""
    return hardware in SIMULATORS


def simulate_network(
    hardware: str,
    specs: Sequence[LayerSpec],
    weights: Mapping[str, Mapping[str, Any]],
    layer_inputs: Mapping[str, Any],
    hw: Any = None,
) -> dict[str, Any]:
    """Exact cost of a network on the reference simulator of ``hardware``, mean over the examples.

    Args:
        hardware: registered cost model with a simulator (:data:`SIMULATORS`).
        specs: the layers in forward order.
        weights: ``{layer: {"kernel", ...}}`` as the network runs (pruned weights exactly zero).
        layer_inputs: ``{layer: (N, ...) inputs}`` of the network on N examples.
        hw: the model's hardware (default: its paper design point).

    Returns:
        ``{"energy_pj", "latency_cycles", "layers": {layer: {"energy_pj", "latency_cycles", "breakdown_pj",
        "counts", <extras>}}}``, means per example; pJ and cycles.
    """
    if hardware not in SIMULATORS:
        raise ValueError(f"hardware={hardware!r} has no reference simulator; allowed: {', '.join(sorted(SIMULATORS))}")
    model = cost_model(hardware)
    hw = model.default_hardware if hw is None else hw
    per_action = {k: float(v) for k, v in model.per_action_energy_pj(hw).items()}
    simulate = SIMULATORS[hardware]
    layers: dict[str, Any] = {}
    for spec in specs:
        kernel = np.asarray(weights[spec.name]["kernel"], np.float64)
        xs = np.asarray(layer_inputs[spec.name], np.float64)
        counts: dict[str, float] = {}
        extras: dict[str, float] = {}
        cycles = 0.0
        for x in xs:
            result = simulate(spec, kernel, x, hw)
            for target, values in ((counts, result.counts), (extras, result.extras)):
                for key, value in values.items():
                    target[key] = target.get(key, 0.0) + value
            cycles += result.cycles
        n = max(1, len(xs))
        counts = {k: v / n for k, v in counts.items()}
        breakdown = price_action_counts(counts, per_action)
        layers[spec.name] = {
            "energy_pj": sum(breakdown.values()),
            "latency_cycles": cycles / n,
            "breakdown_pj": breakdown,
            "counts": counts,
            **{k: v / n for k, v in extras.items()},
        }
    return {
        "energy_pj": sum(v["energy_pj"] for v in layers.values()),
        "latency_cycles": sum(v["latency_cycles"] for v in layers.values()),
        "layers": layers,
    }
