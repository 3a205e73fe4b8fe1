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

from hwcost import checks, conv, tech
from hwcost.safe import safe_divide
from hwcost.smooth import Smoothing, soft_step
from hwcost.types import (
    Array,
    ConvLayer,
    CostModel,
    Counts,
    FcLayer,
    LayerRun,
    LayerStatistics,
    ModelCard,
    Monotone,
    Scalar,
    pytree_dataclass,
)


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
    """Raise ``ValueError`` naming the field, its value and the allowed range if any parameter is out of range
    (call outside ``jit``): capacity in ``[1, 2**62]`` bytes, bit widths in ``[1, 2**16]``, bandwidths in
    [1e-3, 2**31] bits per cycle, clock in [1e-3, 1e6] MHz, energies in [0, 1e6] pJ per bit, temperature in
    [1e-6, 10] (bounds: :mod:`hwcost.checks`)."""
    checks.check_range("sram_capacity_bytes", hw.sram_capacity_bytes, 1, checks.MAX_COUNT)
    for name in ("word_bits", "weight_bits", "activation_bits"):
        checks.check_bits(name, getattr(hw, name))
    for name in ("dram_bits_per_cycle", "sram_bits_per_cycle"):
        checks.check_bandwidth(name, getattr(hw, name))
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    for name in ("register_file_pj_per_bit", "sram_pj_per_bit", "dram_pj_per_bit"):
        checks.check_energy_pj(name, getattr(hw, name))
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)


def check_workload(layer: FcLayer | ConvLayer) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range for shapes outside
    ``(0, 2**31]``, weights, activations or multiply-accumulates above ``2**62``, or densities outside [0, 1]
    (call outside ``jit``; bounds: :mod:`hwcost.checks`)."""
    if isinstance(layer, FcLayer):
        shape_fields: tuple[str, ...] = ("in_features", "out_features")
        products: dict[str, tuple[str, ...]] = {}
    elif isinstance(layer, ConvLayer):
        shape_fields = ("in_channels", "out_channels", "kernel_h", "kernel_w", "in_h", "in_w", "out_h", "out_w")
        products = dict(conv.PRODUCTS)
    else:
        raise ValueError(f"layer={type(layer).__name__} is unknown; allowed: FcLayer, ConvLayer")
    for name in shape_fields:
        checks.check_size(name, getattr(layer, name), low=0, open_low=True)
    for what, names in products.items():
        checks.check_product(names, [getattr(layer, n) for n in names], what)
    checks.check_fraction("weight_density", layer.weight_density)
    checks.check_fraction("activation_density", layer.activation_density)
    if isinstance(layer, ConvLayer):
        checks.check_at_least("stride", layer.stride, 1)
        checks.check_non_negative("padding", layer.padding)
        checks.check_fraction("output_density", layer.output_density)


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


def per_action_energy_pj(hw: MemoryHierarchy) -> dict[str, Array]:
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


def latency_cycles(hw: MemoryHierarchy, layer: FcLayer | ConvLayer) -> Array:
    """Streaming time of the layer's traffic, cycles: DRAM bits / DRAM bandwidth + SRAM bits / SRAM bandwidth."""
    counts = action_counts(hw, layer)
    dram_bits = (counts["dram.read"] + counts["dram.write"]) * hw.word_bits
    sram_bits = (counts["sram.read"] + counts["sram.write"]) * hw.word_bits
    return dram_bits / hw.dram_bits_per_cycle + sram_bits / hw.sram_bits_per_cycle


def lower(layer: LayerStatistics) -> LayerRun[FcLayer | ConvLayer]:
    """A masked layer as the hierarchy stores and streams it.

    Fully connected: the matrix of its live input columns, ``FcLayer(live, out, kept / (live out),
    broadcasts / live)`` (pruned inputs are not stored). Convolution: the whole layer as a
    :class:`~hwcost.types.ConvLayer` with the stored density ``kept / (K C R S)`` and the fraction of
    nonzero inputs per receptive field, ``broadcasts / (R S C)``. An empty matrix has density 0.
    """
    spec = layer.spec
    if spec.kind == "conv":
        kh, kw, c, k = (float(d) for d in spec.kernel_shape)
        return LayerRun(
            ConvLayer(
                c,
                k,
                kh,
                kw,
                float(spec.in_hw[0]),
                float(spec.in_hw[1]),
                float(spec.out_hw[0]),
                float(spec.out_hw[1]),
                layer.stored_density(),
                jnp.asarray(layer.broadcasts) / spec.fan_in,
                name=spec.name,
            )
        )
    live = jnp.asarray(layer.live_inputs)
    rows = float(spec.fan_out)
    density = safe_divide(layer.kept_weights, live * rows)
    activation = safe_divide(layer.broadcasts, live)
    return LayerRun(FcLayer(live, rows, density, activation, name=spec.name))


def dense_limit(hw: MemoryHierarchy, layer: FcLayer | ConvLayer) -> dict[str, Array]:
    """Register-file accesses of the dense layer in closed form: one partial-sum write and two reads
    (weight operand, partial sum) per multiply-accumulate, ``in * out`` or ``K C R S Ho Wo`` of them."""
    if isinstance(layer, FcLayer):
        macs = layer.in_features * layer.out_features
    else:
        macs = layer.out_channels * layer.in_channels * layer.kernel_h * layer.kernel_w * layer.out_h * layer.out_w
    words = macs * hw.activation_bits / hw.word_bits
    return {"register_file.read": 2.0 * words, "register_file.write": words}


def sample_workloads() -> dict[str, FcLayer | ConvLayer]:
    """On chip (LeNet-300-100 ip1), off chip (EIE Table III Alex-7 in fp32), at the capacity edge
    (footprint within one temperature of the SRAM), and a convolution (LeNet-5 conv2)."""
    return {
        "on_chip_fc": FcLayer(784.0, 300.0, 0.08, 0.19, name="ip1"),
        "off_chip_fc": FcLayer(4096.0, 4096.0, 0.3, 0.353, name="Alex-7"),
        "capacity_edge_fc": FcLayer(4096.0, 4096.0, 0.155, 0.5, name="edge"),
        "conv": ConvLayer(20.0, 50.0, 5.0, 5.0, 12.0, 12.0, 8.0, 8.0, 0.08, 0.6, name="conv2"),
    }


def clock_mhz(hw: MemoryHierarchy) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


COST_MODEL = CostModel(
    card=ModelCard(
        name="memory",
        title="register file / SRAM / DRAM hierarchy, 45 nm",
        source="Horowitz ISSCC'14 via EIE Table I (Han et al., ISCA'16); Han et al., NIPS'15 Fig. 1",
        workloads=(FcLayer, ConvLayer),
    ),
    per_action_energy_pj=per_action_energy_pj,
    action_counts=action_counts,
    latency_cycles=latency_cycles,
    default_hardware=MEMORY_45NM,
    sample_workloads=sample_workloads,
    lower=lower,
    check_hardware=check_hardware,
    check_workload=check_workload,
    clock_mhz=clock_mhz,
    monotone=(
        Monotone("energy", "workload.weight_density"),
        Monotone("energy", "workload.activation_density"),
        Monotone("latency", "workload.weight_density"),
        Monotone("energy", "hardware.sram_capacity_bytes", increasing=False, grid=tuple(2.0**k for k in range(16, 30))),
    ),
    dense_limit=dense_limit,
)

__all__ = [
    "COST_MODEL",
    "MEMORY_45NM",
    "MemoryHierarchy",
    "action_counts",
    "check_hardware",
    "check_workload",
    "dense_limit",
    "latency_cycles",
    "layer_sizes",
    "lower",
    "on_chip_fraction",
    "per_action_energy_pj",
]
