"""DCNN and DCNN-opt, the dense baselines of SCNN (Parashar et al., ISCA'17, Sec. 5, Tables 5-6), in the
same contract as :mod:`hwcost.scnn` and with the mechanism of the simulator :mod:`archsim.dcnn`.

DCNN (PT-IS-DP-dense): 64 PEs (8 x 8) of 16 multipliers, each a dot-product unit of ``F = 4`` output
channels by ``I = 4`` input channels, 2 MB of activation SRAM, 1 GHz. PE ``(i, j)`` owns an
``ceil(Ho / 8) x ceil(Wo / 8)`` output tile; per cycle it computes one output position and kernel tap for
4 output x 4 input channels, so ``cycles = Hto Wto ceil(K / 4) ceil(C / 4) R S`` (the busiest PE; channel
counts that are not multiples of 4 leave multipliers idle). DCNN-opt adds multiplier gating when an operand
is zero and compressed DRAM transfers of weights and activations; it is exactly as fast (Sec. 5, footnote 1).

Counts per cycle and PE: one 256-bit weight-block read and four accumulator updates; every multiply is an
adder-tree add. Input stationary: a PE reads each 64-bit activation vector of its window (the bounding box in
the zero-bordered plane) once per input-channel group and holds it through the output-channel groups and taps
it meets, ``ceil(C / 4) (u Ho + n_h (R - u)) (u Wo + n_w (S - u))`` reads over the ``n_h = ceil(Ho / Hto)``
PE rows and ``n_w`` PE columns that own outputs (:func:`window_vectors`).

Weights come from DRAM once per layer (dense 16-bit, or compressed at 20 bits per entry for DCNN-opt);
activations go to DRAM when the layer's input and output do not fit the 2 MB SRAM (dense, or compressed for
DCNN-opt). The expected nonzero operand pairs of DCNN-opt are ``d_w d_a`` times the multiplies whose input
lies inside the unpadded plane (:func:`hwcost.conv.taps_inside_input`). Per-access energies follow the rule
of :mod:`hwcost.scnn_energy`, shared with SCNN.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from hwcost import checks
from hwcost._csc import expected_entries
from hwcost.conv import ceil_of_ratio, check_conv_layer, dense_multiplies, taps_inside_input
from hwcost.scnn import CLOCK_MHZ, DRAM_BYTES_PER_CYCLE, sample_workloads
from hwcost.scnn_energy import dcnn_energies
from hwcost.smooth import Smoothing, smooth_maximum_relative, soft_step
from hwcost.types import (
    Array,
    ConvLayer,
    CostModel,
    Counts,
    LayerRun,
    LayerStatistics,
    ModelCard,
    Monotone,
    Scalar,
    pytree_dataclass,
    static_field,
)


@pytree_dataclass
class DcnnHardware:
    """A DCNN configuration (data leaves traceable; ``optimized`` and the bit widths static).

    Attributes:
        pe_rows, pe_cols: PE array (Table 5: 64 PEs, 8 x 8).
        output_vector, input_vector: the dot-product unit, output x input channels per cycle (4 x 4).
        sram_bytes: activation SRAM of the chip (Table 5: 2 MB).
        dram_bytes_per_cycle: DRAM bandwidth, bytes per cycle.
        clock_mhz: clock, MHz.
        multiply_pj: one 16-bit multiply, pJ (0 when gated).
        add_pj: one 24-bit adder-tree add, pJ.
        weight_read_pj: one 4 x 4 x 16-bit weight-block read, pJ.
        activation_read_pj: one 4 x 16-bit activation read from a PE's share of the SRAM, pJ.
        accumulator_update_pj: one 24-bit accumulator read-add-write, pJ.
        sram_write_pj: one 16-bit output written, pJ.
        dram_pj_per_bit: DRAM energy per bit, pJ.
        smoothing: relaxation temperature and the hard switch.
        value_bits, index_bits: value and compressed-index widths (16 and 4).
        optimized: DCNN-opt (gating and compressed DRAM traffic).
    """

    pe_rows: Scalar
    pe_cols: Scalar
    output_vector: Scalar
    input_vector: Scalar
    sram_bytes: Scalar
    dram_bytes_per_cycle: Scalar
    clock_mhz: Scalar
    multiply_pj: Scalar
    add_pj: Scalar
    weight_read_pj: Scalar
    activation_read_pj: Scalar
    accumulator_update_pj: Scalar
    sram_write_pj: Scalar
    dram_pj_per_bit: Scalar
    smoothing: Smoothing
    value_bits: int = static_field(default=16)
    index_bits: int = static_field(default=4)
    optimized: bool = static_field(default=False)


_SRAM_BYTES = 2.0 * 1024 * 1024


DCNN_16NM = DcnnHardware(
    pe_rows=8.0,
    pe_cols=8.0,
    output_vector=4.0,
    input_vector=4.0,
    sram_bytes=_SRAM_BYTES,  # SCNN Table 5: 2 MB
    dram_bytes_per_cycle=DRAM_BYTES_PER_CYCLE,
    clock_mhz=CLOCK_MHZ,
    **dcnn_energies(),
    smoothing=Smoothing(temperature=0.05),
)
"""DCNN of SCNN Table 5 (64 PEs, 1,024 multipliers, 2 MB SRAM) with the energies of :mod:`hwcost.scnn`'s rule."""

DCNN_OPT_16NM = dataclasses.replace(DCNN_16NM, optimized=True)
"""DCNN-opt (Table 5): DCNN with multiplier gating on zero operands and compressed DRAM transfers."""


def check_workload(layer: ConvLayer) -> None:
    """Raise ``ValueError`` naming the field for a bad convolution (:func:`hwcost.conv.check_conv_layer`)."""
    check_conv_layer(layer)


def check_hardware(hw: DcnnHardware) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range: array and vector sizes and the
    SRAM in ``[1, 2**31]``, DRAM bandwidth, clock, energies in [0, 1e6] pJ, bit widths and the temperature
    (bounds: :mod:`hwcost.checks`)."""
    for name in ("pe_rows", "pe_cols", "output_vector", "input_vector", "sram_bytes"):
        checks.check_size(name, getattr(hw, name))
    low, high = checks.MIN_BANDWIDTH / 8, checks.MAX_BANDWIDTH / 8
    checks.check_range("dram_bytes_per_cycle", hw.dram_bytes_per_cycle, low, high)
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    checks.check_energy_fields(hw)
    checks.check_int_range("value_bits", hw.value_bits, 1, 64)
    checks.check_int_range("index_bits", hw.index_bits, 1, 16)
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)


def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def pe_cycles(hw: DcnnHardware, layer: ConvLayer) -> Array:
    """Cycles of the busiest PE, ``Hto Wto ceil(K / F) ceil(C / I) R S``."""
    t = hw.smoothing
    tile = ceil_of_ratio(layer.out_h, hw.pe_rows, t) * ceil_of_ratio(layer.out_w, hw.pe_cols, t)
    k_steps = ceil_of_ratio(layer.out_channels, hw.output_vector, t)
    c_steps = ceil_of_ratio(layer.in_channels, hw.input_vector, t)
    return tile * k_steps * c_steps * _float(layer.kernel_h) * _float(layer.kernel_w)


def _busy_cycles(hw: DcnnHardware, layer: ConvLayer) -> Array:
    """Cycles summed over PEs: every owned output position, ``Ho Wo ceil(K / F) ceil(C / I) R S``."""
    t = hw.smoothing
    k_steps = ceil_of_ratio(layer.out_channels, hw.output_vector, t)
    c_steps = ceil_of_ratio(layer.in_channels, hw.input_vector, t)
    positions = _float(layer.out_h) * _float(layer.out_w)
    return positions * k_steps * c_steps * _float(layer.kernel_h) * _float(layer.kernel_w)


def window_vectors(hw: DcnnHardware, layer: ConvLayer) -> Array:
    """Activation vectors the PEs read, each once (input stationary), summed over PEs.

    PE row ``i`` owns output rows ``[y0, y1)`` and reads the padded input rows ``[u y0, u (y1 - 1) + R)``,
    ``u (y1 - y0) + R - u`` of them; over the ``n_h = ceil(Ho / Hto)`` PE rows that own outputs that is
    ``u Ho + n_h (R - u)``, and likewise along W; times ``ceil(C / I)`` input-channel groups.
    """
    t = hw.smoothing
    u = _float(layer.stride)

    def window(out: Scalar, pes: Scalar, kernel: Scalar) -> Array:
        owners = ceil_of_ratio(out, ceil_of_ratio(out, pes, t), t)
        return u * _float(out) + owners * (_float(kernel) - u)

    rows = window(layer.out_h, hw.pe_rows, layer.kernel_h)
    cols = window(layer.out_w, hw.pe_cols, layer.kernel_w)
    return ceil_of_ratio(layer.in_channels, hw.input_vector, t) * rows * cols


def _dram_bits(hw: DcnnHardware, layer: ConvLayer) -> tuple[Array, Array]:
    """``(read, write)`` DRAM bits: the weights, and the activations when they spill the SRAM."""
    t = hw.smoothing
    value, entry = float(hw.value_bits), float(hw.value_bits + hw.index_bits)
    k, c = _float(layer.out_channels), _float(layer.in_channels)
    taps = _float(layer.kernel_h) * _float(layer.kernel_w)
    inputs = c * _float(layer.in_h) * _float(layer.in_w)
    outputs = k * _float(layer.out_h) * _float(layer.out_w)
    dense_bits = (inputs + outputs) * value
    spill = soft_step((dense_bits - 8.0 * _float(hw.sram_bytes)) / (8.0 * _float(hw.sram_bytes)), t.temperature,
                      hard=t.hard)  # fmt: skip
    if hw.optimized:
        weights = c * expected_entries(k * taps, layer.weight_density, hw.index_bits) * entry
        in_bits = c * expected_entries(_float(layer.in_h) * _float(layer.in_w), layer.activation_density,
                                       hw.index_bits) * entry  # fmt: skip
        out_bits = outputs * layer.output_density * entry
    else:
        weights = k * c * taps * value
        in_bits, out_bits = inputs * value, outputs * value
    return weights + spill * in_bits, spill * out_bits


def action_counts(hw: DcnnHardware, layer: ConvLayer) -> Counts:
    """Actions of one layer (keys of :func:`per_action_energy_pj`), dimensionless; DRAM in bits."""
    busy = _busy_cycles(hw, layer)
    multiplies = dense_multiplies(layer)
    if hw.optimized:
        active = taps_inside_input(layer, hw.smoothing) * layer.weight_density * layer.activation_density
    else:
        active = multiplies
    read_bits, write_bits = _dram_bits(hw, layer)
    return {
        "multiplier.multiply": active,
        "multiplier.gated": multiplies - active,
        "adder.add": multiplies,
        "weight_buffer.read": busy,
        "activation_sram.read": window_vectors(hw, layer),
        "accumulator.update": _float(hw.output_vector) * busy,
        "sram.write": _float(layer.out_channels) * _float(layer.out_h) * _float(layer.out_w),
        "dram.read_bit": read_bits,
        "dram.write_bit": write_bits,
    }


def latency_cycles(hw: DcnnHardware, layer: ConvLayer) -> Array:
    """Cycles of one layer: the larger of the busiest PE's cycles and the DRAM transfer."""
    t = hw.smoothing
    read_bits, write_bits = _dram_bits(hw, layer)
    transfer = (read_bits + write_bits) / (8.0 * _float(hw.dram_bytes_per_cycle))
    return smooth_maximum_relative(pe_cycles(hw, layer), transfer, t.temperature, hard=t.hard)


def per_action_energy_pj(hw: DcnnHardware) -> dict[str, Scalar]:
    """Energy per action, pJ (DRAM per bit); a gated multiply costs nothing."""
    return {
        "multiplier.multiply": hw.multiply_pj,
        "multiplier.gated": jnp.zeros_like(_float(hw.multiply_pj)),
        "adder.add": hw.add_pj,
        "weight_buffer.read": hw.weight_read_pj,
        "activation_sram.read": hw.activation_read_pj,
        "accumulator.update": hw.accumulator_update_pj,
        "sram.write": hw.sram_write_pj,
        "dram.read_bit": hw.dram_pj_per_bit,
        "dram.write_bit": hw.dram_pj_per_bit,
    }


def clock_mhz(hw: DcnnHardware) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


def lower(layer: LayerStatistics) -> LayerRun[ConvLayer]:
    """As SCNN runs it (:func:`hwcost.scnn.lower`): the dense machine sees the same layer."""
    from hwcost.scnn import lower as scnn_lower

    return scnn_lower(layer)


def dense_limit(hw: DcnnHardware, layer: ConvLayer) -> dict[str, Array]:
    """Every multiply and add of the dense layer, ``K C R S Ho Wo`` (DCNN-opt gates those that read padding,
    so only its adds are dense)."""
    multiplies = dense_multiplies(layer)
    if hw.optimized:
        return {"adder.add": multiplies}
    return {"multiplier.multiply": multiplies, "adder.add": multiplies}


def sample_hardware() -> dict[str, DcnnHardware]:
    """Besides the paper's DCNN: a relaxed 7.5 x 6 array with an 8 x 2 dot-product unit."""
    return {"relaxed_array": dataclasses.replace(DCNN_16NM, pe_rows=7.5, pe_cols=6.0, output_vector=8.0,
                                                 input_vector=2.0)}  # fmt: skip


def _model(name: str, title: str, hardware: DcnnHardware, monotone: tuple[Monotone, ...]) -> CostModel:
    return CostModel(
        card=ModelCard(
            name=name,
            title=title,
            source="Parashar et al., SCNN, ISCA'17, Sec. 5, Tables 5-6 (the dense comparison designs)",
            workloads=(ConvLayer,),
        ),
        per_action_energy_pj=per_action_energy_pj,
        action_counts=action_counts,
        latency_cycles=latency_cycles,
        default_hardware=hardware,
        sample_workloads=sample_workloads,
        lower=lower,
        check_hardware=check_hardware,
        check_workload=check_workload,
        clock_mhz=clock_mhz,
        sample_hardware=sample_hardware,
        monotone=monotone,
        dense_limit=dense_limit,
    )


COST_MODEL = _model("dcnn", "DCNN dense CNN accelerator (8x8 PEs, 4x4 dot product, 2 MB SRAM, 16 nm)", DCNN_16NM, ())
OPT_COST_MODEL = _model(
    "dcnn-opt",
    "DCNN-opt: DCNN with zero gating and compressed DRAM traffic",
    DCNN_OPT_16NM,
    (Monotone("energy", "workload.weight_density"), Monotone("energy", "workload.activation_density")),
)

__all__ = [
    "COST_MODEL",
    "DCNN_16NM",
    "DCNN_OPT_16NM",
    "OPT_COST_MODEL",
    "DcnnHardware",
    "action_counts",
    "check_hardware",
    "check_workload",
    "clock_mhz",
    "dense_limit",
    "latency_cycles",
    "lower",
    "pe_cycles",
    "per_action_energy_pj",
    "window_vectors",
]
