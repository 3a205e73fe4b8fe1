"""Cycle-level reference simulator of ESE (Han et al., "ESE: Efficient Speech Recognition Engine with Sparse LSTM
on FPGA", FPGA'17, arXiv 1612.00694), numpy only, exact integers.

It runs an LSTM layer with a projection (LSTMP) over an utterance on one channel of ``N`` PEs, on real sparse
weight matrices, and counts cycles and accesses exactly. It imports nothing from ``hwcost``, ``compress`` or
``models``; the CSC entry counts and the FIFO recurrence of one matrix-vector product are EIE's
(:func:`archsim.eie.column_counts`, :func:`archsim.eie.fifo_schedule`), which ESE's PEs share.

Semantics (the schedule ``hwcost/ese.py`` prices; its docstring gives the sources and assumptions):

* Per frame ``t``: ``z_k = W_k [x_t; y_{t-1}]`` for the gates ``k = i, f, g, o`` (each ``C x (X + P)``), then
  ``y_t = W_ym h_t`` (``P x C``) with ``h_t = o tanh(c_t)``, ``c_t = f c_{t-1} + i g``. The five products
  run one after another on the channel, each to completion.
* A product broadcasts the nonzero elements of its input vector in index order through per-PE FIFOs of
  depth ``D``; PE ``p`` owns rows ``i mod N = p``, spends one cycle per stored entry (nonzero or filler, 4-bit
  relative index) of its slice of the column and at least one cycle per column (EIE's recurrence).
* Between gate ``o`` and the projection, and after the projection, the element-wise pipeline adds
  ``elementwise_latency_cycles`` each; the rest of the element-wise work (``ceil(C / N)`` cycles per gate on
  ``N`` lanes) overlaps the next product and is reported, not added.
* Weights stream from DRAM every frame, shared by ``num_channels`` channels: the frame takes
  ``max(compute, ceil(B / dram_bits_per_cycle))`` cycles, ``B`` the stored bits of all five matrices
  (``entries * (weight_bits + index_bits) + N * columns * pointer_bits``).
* Activations are computed in float64 (sigmoid and tanh exactly, not by table); an element is broadcast
  iff it is nonzero. With the default zero initial state ``y_{-1} = 0`` frame 0 broadcasts no recurrent
  column; pass ``initial_projection`` for a steady-state start.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from archsim.eie import ColumnCounts, CooMatrix, Weights, column_counts, fifo_schedule

# --- ESE design point (papers.md sec. 3; assumptions as in hwcost/ese.py) --------------------------------
DEFAULT_PES = 32  # V-S: 32 PEs per channel
DEFAULT_FIFO_DEPTH = 8  # V-S: FIFO depth 8
DEFAULT_INDEX_BITS = 4  # V-S: 4-bit relative index
DEFAULT_WEIGHT_BITS = 12  # V-S: 12-bit weights
DEFAULT_POINTER_BITS = 16  # assumption: EIE's 16-bit column pointers
DEFAULT_CHANNELS = 32  # [recalled, unverified]: 32 channels
DEFAULT_DRAM_BITS_PER_CYCLE = 1024  # assumption: two 64-bit DDR3-1600 channels at 200 MHz
DEFAULT_ELEMENTWISE_LATENCY_CYCLES = 16  # assumption: element-wise pipeline depth
CLOCK_MHZ = 200.0  # V-P: 200 MHz
GATES = ("i", "f", "g", "o")
PTR_READS_PER_COLUMN = 2  # EIE Sec. IV: two pointer banks per PE and column
LUT_READS_PER_CELL = 5  # sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o), tanh(c_t)
ELEMENTWISE_OPS_PER_CELL = 4  # f * c, i * g, their sum, o * tanh(c)


class LstmWeights(NamedTuple):
    """The weights of one LSTMP layer.

    Attributes:
        gates: ``{"i", "f", "g", "o"} -> (C, X + P)`` dense arrays or :class:`archsim.eie.CooMatrix`, columns
            ``[x; y]``.
        projection: ``(P, C)`` ``W_ym``.
    """

    gates: dict[str, Weights]
    projection: Weights


def _shape(name: str, w: Weights) -> tuple[int, int]:
    shape = tuple(int(s) for s in (w.shape if isinstance(w, CooMatrix) else np.shape(w)))
    if len(shape) != 2:
        raise ValueError(f"{name} shape={shape} must be 2-D (rows, columns)")
    return shape  # type: ignore[return-value]


def _dense(name: str, w: Weights) -> np.ndarray:
    array = w.to_dense() if isinstance(w, CooMatrix) else np.asarray(w, dtype=np.float64)
    finite = np.isfinite(array)
    if not np.all(finite):
        raise ValueError(f"{name} contains {array[~finite].reshape(-1)[0]}; allowed: finite numbers")
    return array


def check_weights(weights: LstmWeights, pes: int) -> tuple[int, int, int]:
    """``(X, C, P)`` of ``weights``; ``ValueError`` naming the field, its value and what is allowed when a gate
    is missing or unknown, the shapes disagree, or ``C`` or ``P`` is not a multiple of ``pes`` (every PE holds
    the same rows of every matrix, so the element-wise lanes read the PEs in lock step)."""
    names = set(weights.gates)
    if names != set(GATES):
        raise ValueError(f"gates={sorted(names)} must be exactly {list(GATES)}")
    p, c = _shape("projection", weights.projection)
    for k in GATES:
        rows, cols = _shape(f"gates[{k!r}]", weights.gates[k])
        if rows != c:
            raise ValueError(f"gates[{k!r}] rows={rows} must equal the projection's columns (cells) {c}")
        if cols <= p:
            raise ValueError(f"gates[{k!r}] columns={cols} must exceed the projection size {p} (columns [x; y])")
    cols = {_shape(f"gates[{k!r}]", weights.gates[k])[1] for k in GATES}
    if len(cols) != 1:
        raise ValueError(f"gates columns={sorted(cols)} must be equal")
    for name, size in (("cell_size", c), ("projection_size", p)):
        if size % pes:
            raise ValueError(f"pes={pes} must divide {name}={size}; allowed: a divisor of {name}")
    return cols.pop() - p, c, p


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name}={value!r} must be an integer in [{low}, inf)")
    return int(value)


@dataclasses.dataclass(frozen=True)
class EseSimResult:
    """Exact counts of one utterance on one channel (integers; arrays per PE have shape ``(pes,)``).

    Attributes:
        cycles: total cycles.
        frame_cycles: ``(frames,)`` cycles of each frame.
        compute_cycles: ``(frames,)`` the PEs' and element-wise latency of each frame (before the DRAM bound).
        transfer_cycles: cycles to stream the weights once (each frame).
        product_cycles: ``(frames, 5)`` cycles of each product (gates i, f, g, o, projection).
        busy_cycles: ``(pes,)`` cycles each PE spent on column slices (at least one per broadcast column).
        idle_cycles: ``(pes,)`` ``cycles - busy_cycles``.
        stall_cycles: broadcast cycles lost waiting for a full FIFO.
        elementwise_cycles: cycles the element-wise lanes were busy, ``5 ceil(C / N)`` per frame.
        macs, fillers, broadcasts: multiplies, filler entries processed, broadcast columns.
        stored_entries: entries of all five encoded matrices; stored_bits: bits streamed per frame.
        counts: action counts keyed as ``hwcost.ese.action_counts`` (one utterance, one channel).
        output: ``(frames, P)`` ``y_t`` (float64).
        pes, fifo_depth, index_bits: the simulated configuration.
    """

    cycles: int
    frame_cycles: np.ndarray
    compute_cycles: np.ndarray
    transfer_cycles: int
    product_cycles: np.ndarray
    busy_cycles: np.ndarray
    idle_cycles: np.ndarray
    stall_cycles: int
    elementwise_cycles: int
    macs: int
    fillers: int
    broadcasts: int
    stored_entries: int
    stored_bits: int
    counts: dict[str, int]
    output: np.ndarray
    pes: int
    fifo_depth: int
    index_bits: int

    @property
    def pe_utilisation(self) -> float:
        """MACs per PE-cycle, ``macs / (pes * cycles)``, in [0, 1]."""
        return self.macs / (self.pes * self.cycles) if self.cycles else 0.0

    @property
    def load_balance(self) -> float:
        """Mean over max PE busy cycles, in (0, 1]; 1.0 with no work."""
        peak = int(self.busy_cycles.max())
        return float(self.busy_cycles.mean() / peak) if peak else 1.0


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class _Matrix(NamedTuple):
    dense: np.ndarray
    counts: ColumnCounts


def simulate(
    weights: LstmWeights,
    inputs: np.ndarray,
    *,
    pes: int = DEFAULT_PES,
    fifo_depth: int = DEFAULT_FIFO_DEPTH,
    index_bits: int = DEFAULT_INDEX_BITS,
    weight_bits: int = DEFAULT_WEIGHT_BITS,
    pointer_bits: int = DEFAULT_POINTER_BITS,
    num_channels: int = DEFAULT_CHANNELS,
    dram_bits_per_cycle: int = DEFAULT_DRAM_BITS_PER_CYCLE,
    elementwise_latency_cycles: int = DEFAULT_ELEMENTWISE_LATENCY_CYCLES,
    initial_projection: np.ndarray | None = None,
    initial_cell: np.ndarray | None = None,
) -> EseSimResult:
    """Simulate an utterance (module docstring).

    Args:
        weights: :class:`LstmWeights` (``C`` and ``P`` multiples of ``pes``).
        inputs: ``(frames, X)`` ``x_t``, finite.
        pes: PEs per channel ``N``; fifo_depth: FIFO depth ``D``; index_bits: relative index width.
        weight_bits, pointer_bits: stored widths, bits; num_channels: channels sharing the weight stream.
        dram_bits_per_cycle: weight-stream bandwidth, bits per cycle.
        elementwise_latency_cycles: exposed element-wise latency (twice per frame), cycles.
        initial_projection: ``(P,)`` ``y_{-1}`` (default zeros); initial_cell: ``(C,)`` ``c_{-1}`` (zeros).

    Raises:
        ValueError: naming the field, its value and what is allowed.
    """
    pes = _check_int("pes", pes, 1)
    fifo_depth = _check_int("fifo_depth", fifo_depth, 1)
    index_bits = _check_int("index_bits", index_bits, 1)
    weight_bits = _check_int("weight_bits", weight_bits, 1)
    pointer_bits = _check_int("pointer_bits", pointer_bits, 1)
    num_channels = _check_int("num_channels", num_channels, 1)
    dram_bits_per_cycle = _check_int("dram_bits_per_cycle", dram_bits_per_cycle, 1)
    elementwise_latency_cycles = _check_int("elementwise_latency_cycles", elementwise_latency_cycles, 0)
    x_size, c_size, p_size = check_weights(weights, pes)
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != x_size:
        raise ValueError(f"inputs shape={x.shape} must be (frames, {x_size})")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"inputs contains {x[~np.isfinite(x)][0]}; allowed: finite numbers")
    y = np.zeros(p_size) if initial_projection is None else np.asarray(initial_projection, np.float64)
    c = np.zeros(c_size) if initial_cell is None else np.asarray(initial_cell, np.float64)
    for name, v, n in (("initial_projection", y, p_size), ("initial_cell", c, c_size)):
        if v.shape != (n,) or not np.all(np.isfinite(v)):
            raise ValueError(f"{name} shape={v.shape} must be ({n},) and finite")

    matrices = [
        _Matrix(d, column_counts(d, pes, index_bits))
        for d in [_dense(f"gates[{k!r}]", weights.gates[k]) for k in GATES] + [_dense("projection", weights.projection)]
    ]
    stored_entries = sum(int(m.counts.entries.sum()) for m in matrices)
    columns = sum(m.dense.shape[1] for m in matrices)
    stored_bits = stored_entries * (weight_bits + index_bits) + pes * columns * pointer_bits
    transfer = -(-stored_bits // dram_bits_per_cycle)
    elementwise_per_frame = len(matrices) * -(-c_size // pes)

    cache: dict[tuple[int, bytes], tuple[int, int, np.ndarray]] = {}

    def product(k: int, vector: np.ndarray) -> tuple[int, int, np.ndarray, int, int, int]:
        """Cycles, stalls, per-PE busy cycles, MACs, fillers and broadcasts of matrix ``k`` times ``vector``."""
        active = np.flatnonzero(vector)
        counts = matrices[k].counts
        key = (k, active.tobytes())
        if key not in cache:
            work = np.maximum(counts.entries[:, active], 1)
            cycles, stall = fifo_schedule(np.ascontiguousarray(work.T), fifo_depth)
            cache[key] = (cycles, stall, work.sum(axis=1).astype(np.int64))
        cycles, stall, busy = cache[key]
        macs = int(counts.nonzeros[:, active].sum())
        return cycles, stall, busy, macs, int(counts.fillers[:, active].sum()), int(active.size)

    frames = x.shape[0]
    frame_cycles = np.zeros(frames, np.int64)
    compute_cycles = np.zeros(frames, np.int64)
    product_cycles = np.zeros((frames, len(matrices)), np.int64)
    busy_total = np.zeros(pes, np.int64)
    stall_total = macs_total = fillers_total = broadcasts_total = 0
    outputs = np.zeros((frames, p_size))
    for t in range(frames):
        xy = np.concatenate([x[t], y])
        z = {gate: matrices[k].dense @ xy for k, gate in enumerate(GATES)}
        c = _sigmoid(z["f"]) * c + _sigmoid(z["i"]) * np.tanh(z["g"])
        h = _sigmoid(z["o"]) * np.tanh(c)
        y = outputs[t] = matrices[-1].dense @ h
        for k, vector in enumerate([xy] * len(GATES) + [h]):
            cycles, stall, busy, macs, fillers, broadcasts = product(k, vector)
            product_cycles[t, k] = cycles
            busy_total += busy
            stall_total += stall
            macs_total += macs
            fillers_total += fillers
            broadcasts_total += broadcasts
        compute_cycles[t] = int(product_cycles[t].sum()) + 2 * elementwise_latency_cycles
        frame_cycles[t] = max(int(compute_cycles[t]), transfer)

    total = int(frame_cycles.sum())
    board = total / num_channels
    counts = {
        "pe.mac": macs_total,
        "pe.filler": fillers_total,
        "weight_bram.read": macs_total + fillers_total,
        "ptr_bram.read": PTR_READS_PER_COLUMN * pes * broadcasts_total,
        "fifo.push": pes * broadcasts_total,
        "dram.bit": frames * stored_bits / num_channels,
        "lut.read": frames * LUT_READS_PER_CELL * c_size,
        "elementwise.op": frames * ELEMENTWISE_OPS_PER_CELL * c_size,
        "board.cycle": board,
    }
    return EseSimResult(
        cycles=total,
        frame_cycles=frame_cycles,
        compute_cycles=compute_cycles,
        transfer_cycles=transfer,
        product_cycles=product_cycles,
        busy_cycles=busy_total,
        idle_cycles=total - busy_total,
        stall_cycles=stall_total,
        elementwise_cycles=frames * elementwise_per_frame,
        macs=macs_total,
        fillers=fillers_total,
        broadcasts=broadcasts_total,
        stored_entries=stored_entries,
        stored_bits=stored_bits,
        counts=counts,
        output=outputs,
        pes=pes,
        fifo_depth=fifo_depth,
        index_bits=index_bits,
    )


__all__ = [
    "CLOCK_MHZ",
    "GATES",
    "EseSimResult",
    "LstmWeights",
    "check_weights",
    "simulate",
]
