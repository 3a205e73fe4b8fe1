"""Reference simulators by cost-model name: the exact side of every comparison with a differentiable model.

A :data:`LayerSimulator` runs one layer of a real network (pruned weights, one example's real input) on an
integer-exact simulator of :mod:`archsim` and returns its action counts (the cost model's keys) and cycles;
:func:`simulate_network` runs a whole network on a batch of examples one at a time (batch 1, as the
accelerators run) and prices the counts with the model's own per-action energies, so the energy gap
between model and simulator comes only from the counts. A model without a simulator is evaluated exactly
by its hard twin instead (:func:`has_simulator`).

The convolution accelerators (SCNN and its dense baselines DCNN / DCNN-opt) also run one user-given layer
as it is, weights ``(K, C, R, S)`` and activations ``(C, H, W)`` with stride and padding
(:data:`CONV_SIMULATORS`, :func:`simulate_conv`); in a network (:data:`SIMULATORS`) a convolution kernel
``(kh, kw, c, k)`` runs at stride 1 without padding (as :class:`~hwcost.types.LayerSpec` describes it) and a
fully connected layer as a 1 x 1 convolution on a 1 x 1 plane, as the models lower it
(:func:`hwcost.scnn.lower`). The simulated design is the model's hardware: its PE array, vector widths,
banks, buffer sizes, bandwidth and clock (whole numbers where the simulator counts them).
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


def simulate_ese_layer(spec: LayerSpec, kernel: np.ndarray, x: np.ndarray, hw: Any) -> LayerSimulation:
    """One layer on one ESE channel as :func:`hwcost.ese.lower` runs it: each of its matrix-vector products
    (one per row of ``x`` reshaped to ``(-1, fan_in)``: one per time step of a recurrent layer's matrix, one
    for a plain fully connected layer; one per output position of a convolution) on the live columns, PE
    schedule of :func:`archsim.eie.simulate` (the recurrence ``archsim.ese`` runs for every product), each
    product taking ``max(its cycles, ceil(B / dram_bits_per_cycle))`` with ``B`` the matrix's streamed bits
    (entries, indices and one pointer per PE and column), counted with ``hwcost.ese``'s keys."""
    import math

    from archsim import eie as archsim_eie
    from archsim.network import layer_matvecs

    ints = _whole("ese", hw, {"pes": "num_pes", "fifo_depth": "fifo_depth", "num_channels": "num_channels"})
    pes, channels = ints["pes"], ints["num_channels"]
    kernel = np.asarray(kernel)
    if kernel.ndim == 2:
        w = kernel.T
        vecs = np.asarray(x).reshape(-1, w.shape[1])
        alive = np.any(w != 0, axis=0)
        w, vecs = w[:, alive], vecs[:, alive]
    else:
        w, vecs = layer_matvecs(kernel, x)
    keys = ("pe.mac", "pe.filler", "weight_bram.read", "ptr_bram.read", "fifo.push", "dram.bit", "lut.read",
            "elementwise.op", "board.cycle")  # fmt: skip
    counts = dict.fromkeys(keys, 0.0)
    extras = {"broadcasts": 0.0, "broadcast_stall_cycles": 0.0, "transfer_bound_products": 0.0}
    if w.shape[1] == 0:  # no live column: nothing is stored, streamed or broadcast
        return LayerSimulation(counts, 0.0, extras)
    coo = archsim_eie.CooMatrix.from_dense(w)
    entries = int(archsim_eie.column_counts(coo, pes, int(hw.index_bits)).entries.sum())
    stored_bits = entries * (int(hw.weight_bits) + int(hw.index_bits)) + pes * w.shape[1] * int(hw.pointer_bits)
    transfer = math.ceil(stored_bits / float(hw.dram_bits_per_cycle))
    cycles = 0.0
    for vec in vecs:
        sim = archsim_eie.simulate(coo, vec, pes=pes, fifo_depth=ints["fifo_depth"], index_bits=int(hw.index_bits))
        cycles += max(sim.cycles, transfer)
        counts["pe.mac"] += sim.macs
        counts["pe.filler"] += sim.fillers
        extras["broadcasts"] += sim.broadcasts
        extras["broadcast_stall_cycles"] += sim.broadcast_stall_cycles
        extras["transfer_bound_products"] += float(transfer > sim.cycles)
    counts["weight_bram.read"] = counts["pe.mac"] + counts["pe.filler"]
    counts["ptr_bram.read"] = archsim_eie.PTR_READS_PER_COLUMN * pes * extras["broadcasts"]
    counts["fifo.push"] = float(pes) * extras["broadcasts"]
    counts["dram.bit"] = len(vecs) * stored_bits / channels
    counts["board.cycle"] = cycles / channels
    return LayerSimulation(counts, cycles, extras)


class ConvSimulation(NamedTuple):
    """Exact counts of one convolution (one filter group) on a convolution accelerator.

    Attributes:
        counts: ``{"component.action": count}`` (the cost model's keys).
        cycles: latency, cycles.
        extras: the simulator's other exact quantities (SCNN: ``compute_cycles``, ``dram_cycles``,
            ``stall_cycles``, ``barrier_idle_cycles``, ``busy_pe_cycles`` (busy cycles summed over PEs and
            groups), ``multiplier_utilisation``, ``pe_idle_fraction``,
            ``halo_values``, ``products``, ``group_channels`` (K_c), ``output_channel_groups`` (G); DCNN:
            ``compute_cycles``, ``dram_cycles``, ``pe_cycles``, ``spills``).
    """

    counts: dict[str, float]
    cycles: float
    extras: dict[str, float]


ConvSimulator = Callable[[np.ndarray, np.ndarray, int, int, float, Any], ConvSimulation]
"""``(weights, activations, stride, padding, output_density, hw) -> ConvSimulation``: weights ``(K, C, R, S)``,
activations ``(C, H, W)`` before padding, ``hw`` the model's hardware."""


def _whole(hardware: str, hw: Any, names: Mapping[str, str]) -> dict[str, int]:
    """``{config field: int(hw field)}``; ``ValueError`` naming a field the simulator cannot count with."""
    out = {}
    for config_name, hw_name in names.items():
        value = float(getattr(hw, hw_name))
        if not value.is_integer() or value < 1:
            raise ValueError(
                f"hardware field {hw_name}={value:g} of {hardware} is not a whole number >= 1; the reference "
                "simulator needs whole numbers (the model alone accepts relaxed ones)"
            )
        out[config_name] = int(value)
    return out


def scnn_config(hw: Any) -> Any:
    """The :class:`archsim.scnn.ScnnConfig` of an SCNN model hardware (:class:`hwcost.scnn.ScnnHardware`)."""
    from archsim import scnn as archsim_scnn

    ints = _whole("scnn", hw, {
        "pe_rows": "pe_rows", "pe_cols": "pe_cols", "F": "weight_vector", "I": "activation_vector",
        "banks": "banks", "bank_entries": "bank_entries", "max_group_channels": "max_group_channels",
        "iaram_bytes": "iaram_bytes", "oaram_bytes": "oaram_bytes",
    })  # fmt: skip
    return archsim_scnn.ScnnConfig(
        **ints,
        value_bits=int(hw.value_bits),
        index_bits=int(hw.index_bits),
        clock_mhz=float(hw.clock_mhz),
        dram_bytes_per_cycle=float(hw.dram_bytes_per_cycle),
        sparse_weights=bool(hw.sparse_weights),
        sparse_activations=bool(hw.sparse_activations),
    )


def dcnn_config(hw: Any) -> Any:
    """The :class:`archsim.dcnn.DcnnConfig` of a DCNN / DCNN-opt model hardware (:class:`hwcost.dcnn.DcnnHardware`)."""
    from archsim import dcnn as archsim_dcnn

    fields = {"pe_rows": "pe_rows", "pe_cols": "pe_cols", "F": "output_vector", "I": "input_vector",
              "sram_bytes": "sram_bytes"}  # fmt: skip
    ints = _whole("dcnn-opt" if hw.optimized else "dcnn", hw, fields)
    return archsim_dcnn.DcnnConfig(
        **ints,
        value_bits=int(hw.value_bits),
        index_bits=int(hw.index_bits),
        clock_mhz=float(hw.clock_mhz),
        dram_bytes_per_cycle=float(hw.dram_bytes_per_cycle),
        optimized=bool(hw.optimized),
    )


def simulate_scnn_conv(
    weights: np.ndarray, activations: np.ndarray, stride: int, padding: int, output_density: float, hw: Any
) -> ConvSimulation:
    """One convolution on the cycle-level SCNN simulator (:func:`archsim.scnn.simulate`); the variant
    (SCNN, SparseW, SparseA) follows ``hw.sparse_weights`` / ``hw.sparse_activations``."""
    from archsim import scnn as archsim_scnn

    r = archsim_scnn.simulate(weights, activations, stride, padding, scnn_config(hw), output_density)
    extras = {
        "compute_cycles": r.compute_cycles,
        "dram_cycles": r.dram_cycles,
        "stall_cycles": r.stall_cycles,
        "barrier_idle_cycles": r.barrier_idle_cycles,
        "busy_pe_cycles": int(r.busy_cycles.sum()),
        "multiplier_utilisation": r.multiplier_utilisation,
        "pe_idle_fraction": r.pe_idle_fraction,
        "halo_values": r.halo_values,
        "products": r.products,
        "group_channels": r.group_channels,
        "output_channel_groups": r.groups,
    }
    return ConvSimulation({k: float(v) for k, v in r.counts.items()}, float(r.cycles),
                          {k: float(v) for k, v in extras.items()})  # fmt: skip


def simulate_dcnn_conv(
    weights: np.ndarray, activations: np.ndarray, stride: int, padding: int, output_density: float, hw: Any
) -> ConvSimulation:
    """One convolution on the dense baseline (:func:`archsim.dcnn.simulate`), DCNN or DCNN-opt as
    ``hw.optimized`` says."""
    from archsim import dcnn as archsim_dcnn

    r = archsim_dcnn.simulate(weights, activations, stride, padding, dcnn_config(hw), output_density)
    extras = {"compute_cycles": r.compute_cycles, "dram_cycles": r.dram_cycles, "pe_cycles": r.pe_cycles,
              "spills": float(r.spills)}  # fmt: skip
    return ConvSimulation({k: float(v) for k, v in r.counts.items()}, float(r.cycles),
                          {k: float(v) for k, v in extras.items()})  # fmt: skip


CONV_SIMULATORS: dict[str, ConvSimulator] = {
    "scnn": simulate_scnn_conv,
    "dcnn": simulate_dcnn_conv,
    "dcnn-opt": simulate_dcnn_conv,
}
"""Convolution cost-model name -> its reference simulator of one convolution as it is."""


def simulate_conv(
    hardware: str,
    weights: np.ndarray,
    activations: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    output_density: float = 1.0,
    hw: Any = None,
) -> ConvSimulation:
    """One convolution on the reference simulator of ``hardware`` (a key of :data:`CONV_SIMULATORS`), with
    the model's hardware ``hw`` (default: its paper design point)."""
    if hardware not in CONV_SIMULATORS:
        raise ValueError(
            f"hardware={hardware!r} has no convolution simulator; allowed: {', '.join(sorted(CONV_SIMULATORS))}"
        )
    hw = cost_model(hardware).default_hardware if hw is None else hw
    return CONV_SIMULATORS[hardware](weights, activations, stride, padding, output_density, hw)


def _conv_network_layer(hardware: str) -> LayerSimulator:
    """The :data:`LayerSimulator` of a convolution accelerator (module docstring: stride 1, no padding; an
    fc layer as a 1 x 1 convolution)."""

    def simulate(spec: LayerSpec, kernel: np.ndarray, x: np.ndarray, hw: Any) -> LayerSimulation:
        kernel = np.asarray(kernel)
        if spec.kind == "conv":
            weights = kernel.transpose(3, 2, 0, 1)  # (kh, kw, c, k) -> (k, c, kh, kw)
            activations = np.asarray(x).transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)
        else:
            weights = kernel.T[:, :, None, None]
            activations = np.asarray(x).reshape(-1)[:, None, None]
        sim = CONV_SIMULATORS[hardware](weights, activations, 1, 0, 1.0, hw)
        return LayerSimulation(sim.counts, sim.cycles, sim.extras)

    return simulate


SIMULATORS: dict[str, LayerSimulator] = {
    "eie": simulate_eie_layer,
    "ese": simulate_ese_layer,
    **{name: _conv_network_layer(name) for name in CONV_SIMULATORS},
}
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
