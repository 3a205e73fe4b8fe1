"""Memory-hierarchy cost model: the energy of moving a layer's weights and activations.

Three levels (register file, on-chip SRAM, off-chip DRAM), each with a per-bit access energy from the
45 nm table (:mod:`hwcost.tech`, EIE Table I). One inference (batch 1) of a layer:

* every stored (nonzero) weight is read once: from SRAM if the layer's footprint (weights + input and
  output activations) fits on chip, otherwise from DRAM. "Fits on chip" is the smooth step
  ``soft_step((sram_capacity_bytes - footprint_bytes) / (temperature * sram_capacity_bytes))``; the hard
  twin (``Smoothing(hard=True)``) is the exact indicator ``footprint < capacity``;
* input activations are read once and outputs written once, from/to the same level as the weights;
* every MAC reads its weight operand and reads and writes its partial sum in the register file.

Counts are in accesses of ``word_bits`` (default 32 bit, the width of EIE Table I's entries), so the
papers' arithmetic holds directly: one DRAM access costs 640 / 5 = 128 SRAM accesses.
Workloads: :class:`~hwcost.types.FcLayer` and :class:`~hwcost.types.ConvLayer`
(weights ``K*C*R*S``, input ``C*H*W``, output ``K*Ho*Wo``, MACs ``K*C*R*S*Ho*Wo``, times densities).
"""

from __future__ import annotations

import jax.numpy as jnp

from hwcost import checks, tech
from hwcost.smooth import Smoothing, soft_step
from hwcost.types import Array, ConvLayer, CostModel, Counts, FcLayer, Scalar, pytree_dataclass


@pytree_dataclass
class MemoryHierarchy:
    """A register file / SRAM / DRAM hierarchy (all fields are data leaves).

    Attributes:
        sram_capacity_bytes: on-chip SRAM capacity, bytes.
        register_file_pj_per_bit: register-file access energy, pJ/bit.
        sram_pj_per_bit: SRAM access energy, pJ/bit.
        dram_pj_per_bit: DRAM access energy, pJ/bit.
        word_bits: access width the counts are expressed in, bits.
        weight_bits: bits per stored weight.
        activation_bits: bits per activation.
        dram_bits_per_cycle: off-chip bandwidth, bits per cycle (for the streaming latency).
        sram_bits_per_cycle: on-chip bandwidth, bits per cycle.
        clock_mhz: clock frequency, MHz.
        smoothing: temperature of the "fits on chip" step (relative to the capacity) and the hard switch.
    """

    sram_capacity_bytes: Scalar
    register_file_pj_per_bit: Scalar
    sram_pj_per_bit: Scalar
    dram_pj_per_bit: Scalar
    word_bits: Scalar
    weight_bits: Scalar
    activation_bits: Scalar
    dram_bits_per_cycle: Scalar
    sram_bits_per_cycle: Scalar
    clock_mhz: Scalar
    smoothing: Smoothing


MEMORY_45NM = MemoryHierarchy(
    # EIE Sec. VI: 162 KB SRAM per PE x 64 PEs (V-P) = 10.4 MB of on-chip SRAM.
    sram_capacity_bytes=64 * 162 * 1024.0,
    register_file_pj_per_bit=tech.REGISTER_FILE_PJ_PER_BIT,  # Han et al. NIPS'15 Fig. 1 (V-S), 45 nm
    sram_pj_per_bit=tech.SRAM_PJ_PER_BIT,  # EIE Table I (V-P), 45 nm: 5 pJ / 32 bit
    dram_pj_per_bit=tech.DRAM_PJ_PER_BIT,  # EIE Table I (V-P), 45 nm: 640 pJ / 32 bit
    word_bits=32.0,  # EIE Table I entries are 32-bit accesses
    weight_bits=32.0,  # uncompressed fp32 weights (EIE Sec. I's 20 Hz x 1G x 640 pJ example)
    activation_bits=32.0,
    dram_bits_per_cycle=64.0,  # one 64-bit LPDDR channel beat per cycle (assumption, not from the papers)
    sram_bits_per_cycle=64.0 * 64,  # 64 PEs x 64-bit SRAM interface (EIE Sec. VI, V-P)
    clock_mhz=800.0,  # EIE Sec. VI / Table V (V-P), 45 nm
    smoothing=Smoothing(temperature=0.05),
)
"""Paper-default 45 nm hierarchy: the per-bit energies of EIE Table I (Horowitz 45 nm) and EIE's 64-PE
on-chip SRAM (162 KB per PE, EIE Sec. VI) at 800 MHz (EIE Table V)."""


def check_hardware(hw: MemoryHierarchy) -> None:
    """Raise ``ValueError`` naming the field if any parameter is out of range (call outside ``jit``)."""
    for name in (
        "sram_capacity_bytes",
        "word_bits",
        "weight_bits",
        "activation_bits",
        "dram_bits_per_cycle",
        "sram_bits_per_cycle",
        "clock_mhz",
    ):
        checks.check_positive(name, getattr(hw, name))
    for name in ("register_file_pj_per_bit", "sram_pj_per_bit", "dram_pj_per_bit"):
        checks.check_non_negative(name, getattr(hw, name))
    checks.check_positive("smoothing.temperature", hw.smoothing.temperature)


def check_layer(layer: FcLayer | ConvLayer) -> None:
    """Raise ``ValueError`` for nonpositive shapes or densities outside [0, 1] (call outside ``jit``)."""
    if isinstance(layer, FcLayer):
        shape_fields: tuple[str, ...] = ("in_features", "out_features")
    elif isinstance(layer, ConvLayer):
        shape_fields = ("in_channels", "out_channels", "kernel_h", "kernel_w", "in_h", "in_w", "out_h", "out_w")
    else:
        raise ValueError(f"layer={type(layer).__name__} is unknown; allowed: FcLayer, ConvLayer")
    for name in shape_fields:
        checks.check_positive(name, getattr(layer, name))
    checks.check_fraction("weight_density", layer.weight_density)
    checks.check_fraction("activation_density", layer.activation_density)


def layer_sizes(layer: FcLayer | ConvLayer) -> tuple[Array, Array, Array, Array]:
    """Stored weights, input activations, output activations and MACs of one inference (counts).

    Weights and MACs are scaled by the weight density (MACs also by the activation density); the
    activation tensors are dense (every input is read, every output written).
    """
    if isinstance(layer, FcLayer):
        dense_weights = layer.in_features * layer.out_features
        inputs = jnp.asarray(layer.in_features, dtype=jnp.result_type(float))
        outputs = jnp.asarray(layer.out_features, dtype=jnp.result_type(float))
        dense_macs = dense_weights
    elif isinstance(layer, ConvLayer):
        dense_weights = layer.out_channels * layer.in_channels * layer.kernel_h * layer.kernel_w
        inputs = layer.in_channels * layer.in_h * layer.in_w
        outputs = layer.out_channels * layer.out_h * layer.out_w
        dense_macs = dense_weights * layer.out_h * layer.out_w
    else:
        raise ValueError(f"layer={type(layer).__name__} is unknown; allowed: FcLayer, ConvLayer")
    weights = dense_weights * layer.weight_density
    macs = dense_macs * layer.weight_density * layer.activation_density
    return weights, inputs, outputs, macs


def on_chip_fraction(hw: MemoryHierarchy, layer: FcLayer | ConvLayer) -> Array:
    """Smooth "fits on chip" indicator in [0, 1] for the layer's footprint (hard twin: exact step)."""
    weights, inputs, outputs, _ = layer_sizes(layer)
    footprint_bytes = (weights * hw.weight_bits + (inputs + outputs) * hw.activation_bits) / 8.0
    margin = (hw.sram_capacity_bytes - footprint_bytes) / hw.sram_capacity_bytes
    return soft_step(margin, hw.smoothing.temperature, hard=hw.smoothing.hard)


def action_counts(hw: MemoryHierarchy, layer: FcLayer | ConvLayer) -> Counts:
    """Accesses of ``hw.word_bits`` per level for one inference, dimensionless.

    Keys: ``register_file.read``, ``register_file.write``, ``sram.read``, ``sram.write``, ``dram.read``,
    ``dram.write``.
    """
    weights, inputs, outputs, macs = layer_sizes(layer)
    on_chip = on_chip_fraction(hw, layer)
    weight_words = weights * hw.weight_bits / hw.word_bits
    in_words = inputs * hw.activation_bits / hw.word_bits
    out_words = outputs * hw.activation_bits / hw.word_bits
    reads = weight_words + in_words
    return {
        # weight operand read + partial-sum read per MAC; partial-sum write per MAC
        "register_file.read": 2.0 * macs * hw.activation_bits / hw.word_bits,
        "register_file.write": macs * hw.activation_bits / hw.word_bits,
        "sram.read": on_chip * reads,
        "sram.write": on_chip * out_words,
        "dram.read": (1.0 - on_chip) * reads,
        "dram.write": (1.0 - on_chip) * out_words,
    }


def access_energies_pj(hw: MemoryHierarchy) -> dict[str, Array]:
    """Energy of one ``word_bits`` access per level, pJ (keys as in :func:`action_counts`)."""
    rf = hw.register_file_pj_per_bit * hw.word_bits
    sram = hw.sram_pj_per_bit * hw.word_bits
    dram = hw.dram_pj_per_bit * hw.word_bits
    return {
        "register_file.read": rf,
        "register_file.write": rf,
        "sram.read": sram,
        "sram.write": sram,
        "dram.read": dram,
        "dram.write": dram,
    }


def energy_pj(hw: MemoryHierarchy, layer: FcLayer | ConvLayer) -> Counts:
    """Energy per level and action for one inference, pJ (same keys as :func:`action_counts`)."""
    counts = action_counts(hw, layer)
    per_access = access_energies_pj(hw)
    return {key: counts[key] * per_access[key] for key in counts}


def latency_cycles(hw: MemoryHierarchy, layer: FcLayer | ConvLayer) -> Array:
    """Streaming time of the layer's traffic, cycles: DRAM bits / DRAM bandwidth + SRAM bits / SRAM bandwidth."""
    counts = action_counts(hw, layer)
    dram_bits = (counts["dram.read"] + counts["dram.write"]) * hw.word_bits
    sram_bits = (counts["sram.read"] + counts["sram.write"]) * hw.word_bits
    return dram_bits / hw.dram_bits_per_cycle + sram_bits / hw.sram_bits_per_cycle


def hard(hw: MemoryHierarchy) -> MemoryHierarchy:
    """The same hierarchy evaluated with the exact "fits on chip" step."""
    return MemoryHierarchy(**{**vars(hw), "smoothing": Smoothing(hw.smoothing.temperature, hard=True)})


def example_workload() -> FcLayer:
    """An interior point: EIE Table III Alex-7 shape (4096 x 4096) at 9% weight, 35.3% activation density."""
    return FcLayer(4096.0, 4096.0, 0.09, 0.353, name="alex7")


def clock_mhz(hw: MemoryHierarchy) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


COST_MODEL = CostModel(
    name="memory",
    action_counts=action_counts,
    energy_pj=energy_pj,
    latency_cycles=latency_cycles,
    default_hardware=MEMORY_45NM,
    example_workload=example_workload,
    clock_mhz=clock_mhz,
    hard=hard,
)

__all__ = [
    "COST_MODEL",
    "MEMORY_45NM",
    "MemoryHierarchy",
    "access_energies_pj",
    "action_counts",
    "check_hardware",
    "check_layer",
    "energy_pj",
    "hard",
    "latency_cycles",
    "layer_sizes",
    "on_chip_fraction",
]
