"""Differentiable first-order models of an in-order core, a conventional out-of-order core and CG-OoO
(Mohammadi, Han, Aamodt, Dally, "CG-OoO: Energy-Efficient Coarse-Grain Out-of-Order Execution", arXiv
1606.01607; TACO 14(4) 2017) running one program, in continuous design parameters: cycles from an interval
model over the program's dataflow, energy as accesses times per-access energy with a size scaling of every
table. :mod:`archsim.cgooo` simulates the same cores cycle by cycle; the semantics below are its semantics.

Performance: an interval model (Karkhanis & Smith, ISCA 2004; Eyerman, Eeckhout, Karkhanis, Smith, TOCS 27(2)
2009)
----------------------------------------------------------------------------------------------------------
A branch misprediction empties the core: the next instruction enters ``mispredict_penalty_cycles`` after the
mispredicted one completes. The program is therefore a sequence of *intervals*, each beginning at a redirect
and ending at the completion of the next mispredicted instruction, and::

    cycles = sum over intervals of T_interval + mispredicts x mispredict_penalty_cycles + 1

(cycles counted as archsim counts them, from the first fetch to the last commit inclusive).

Within an interval nothing but the core's own limits holds instructions back: the front end delivers one fetch
group per cycle (``width`` instructions at most, in one 64-byte line, ending after a taken or mispredicted
control instruction), delayed by the L1-I misses; an instruction issues one cycle after it enters, once its
register producers and, for a load, a store to the same word have completed, and it completes its latency
later (a load: the latency of the level that serves it, so the long misses and their overlap, the
memory-level parallelism, are part of the interval). ``T_interval`` is the completion of the interval's last
instruction under the core's window:

* **InO**: issue in program order (an instruction issues no earlier than the one before it), at most
  ``width`` per cycle.
* **OoO**: a window of ``rob_entries`` instructions: an instruction enters no earlier than the cycle after all
  instructions ``rob_entries`` or more places older have completed (in-order commit of the ROB); and not before
  a reservation-station entry is free (the cycle after the ``rs_entries``-th latest issue of the older
  instructions), nor, for a load, a store or a register writer, before the one ``lq_entries``,
  ``sq_entries`` or ``prf_entries - 32`` places earlier among them has committed (the ROB's in-order
  completion up to it; 32 physical registers hold the architectural state).
* **CG-OoO**: the trace cut into blocks (after every branch or jump, and at 60 instructions, 64 loads or 32
  stores); a block takes one of ``windows`` block windows, free the cycle after the block that held it last
  (``windows`` blocks older) has issued all its instructions; within a block only the ``head_buffer_entries``
  oldest unissued instructions may issue (an instruction issues after the cycle in which the
  ``head_buffer_entries``-th latest of the older ones of its block issued); across blocks, a block issues only
  after the cycle in which the ``skipahead_blocks``-th latest of the last issues of the ``windows - 1`` older
  blocks took place (Skipahead). A block enters after the block ``block_rob_entries`` blocks older has
  committed (its last instruction's in-order completion), and loads, stores and global-register writers wait
  for the ``lq_entries``-th, ``sq_entries``-th and ``global_rf_entries - 32``-th earlier one's block to commit
  (local values at the authors' 20-entry local RFs).

``T_interval`` is a dataflow quantity of the trace: the profiler (:mod:`hwcost.experiments.core_profile`)
measures ``sum T_interval`` at the grid points of each design parameter below, the others at the paper's
values (:data:`DEFAULT_CORE`), and the model interpolates (module section "Relaxations"); the parameters are
taken as separable, ``T(x, y) = T(x, y0) T(x0, y) / T(x0, y0)`` (:data:`TIMING_GRIDS`). What the interval
time does not see: the out-of-order cores' issue width and CG-OoO's cluster ALUs (only dispatch is width-bound),
cross-cluster operand delays, commit width, and (CG-OoO) the local RF's size (its share of the values is priced
in energy only). ``hwcost validate cgooo`` measures what leaving them out costs against archsim, which models
all of them.

Energy: accesses x per-access energy (the authors' table, with a size scaling)
--------------------------------------------------------------------------------
Every core counts what :mod:`archsim.cgooo` counts (module docstring there): the shared front end and L1s,
ALU and multiplier operations, latch traversals (``stages`` per instruction), and per core the window, ROB,
rename, register-file and queue accesses, all exact functions of the profile's class and operand counts
(CG-OoO's local values: the first ``local_rf_entries`` values of a block whose readers are all in the block).
Leakage is a count too: ``"<structure>.leakage"`` counts cycles x instances, priced per cycle. Per-access
energies are the CG-OoO authors' (``miladm/CG-OoO`` ``src/config/base.yaml``, :data:`REFERENCE_ENTRIES` their
table sizes); a table of ``e`` entries instead of ``e0``:

* RAM read / write: ``x (e / e0)**0.5`` (assumption A1: a longer table is split into banks, and the energy of
  an access grows with the bitline and wordline lengths of its bank, about the square root of the capacity);
* CAM search: ``x (e / e0)`` (every entry's match line is evaluated);
* leakage: ``x (e / e0)`` (every cell leaks).

and a core of ``width`` instead of the authors' 4: the tables read and written once per instruction in every
stage of the pipeline (:data:`PORTED`: ROBs, reservation station, windows, head buffers, register files,
rename tables, load / store queues) have ports in proportion to the width, and a cell with ``p`` ports has a
side in proportion to ``p`` (a wordline and a bitline pair per port; its area grows as ``p**2``, Rixner et
al., HPCA 2000), so every access, the leakage and the pipeline latches (``width`` instructions per stage) scale
by ``width / 4`` (assumption A5).

Relaxations
-----------
Integer parameters (``width``, entries, blocks) are rounded (:func:`hwcost.smooth.soft_round`, at temperature
``smoothing.temperature`` in units of one entry) and the grid values are interpolated in the logarithm of the
parameter by monotone piecewise-cubic Hermite interpolation (:func:`monotone_interpolate`), which is
continuously differentiable, exact at the grid points and monotone where the data are (the
interval time never grows when a window, a width, a head buffer or a look-ahead grows). Fetch groups per
line run ``ceil(r / width)`` are relaxed by :func:`hwcost.smooth.soft_ceil` (:func:`fetch_groups`), the
local-register ranks by :func:`hwcost.smooth.soft_step`. The hard twin (``smoothing.hard``) evaluates all of
them exactly: at integer parameters on the grids, its cycles are the profiled sums plus the redirect
penalties.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from hwcost import checks
from hwcost.smooth import Smoothing, soft_ceil, soft_round, soft_step
from hwcost.types import (
    Array,
    Counts,
    Monotone,
    Scalar,
    pytree_dataclass,
    static_field,
)

CORES = ("ino", "ooo", "cgooo")
"""The three cores: in-order, out-of-order, CG-OoO."""

# --- grids the profile is measured at (each includes the paper's value) ----------------------------------
WIDTH_GRID = (1.0, 2.0, 4.0, 8.0)
"""Fetch / dispatch widths, instructions per cycle (the authors' cores are 4-wide)."""
ROB_GRID = (16.0, 32.0, 64.0, 128.0, 180.0, 256.0, 512.0)
"""OoO reorder-buffer entries (the authors' 180)."""
HEAD_BUFFER_GRID = (1.0, 2.0, 4.0, 8.0, 16.0)
"""CG-OoO head-buffer entries per block window (the authors' 4)."""
SKIPAHEAD_GRID = (1.0, 2.0, 3.0, 5.0, 8.0, 11.0)
"""CG-OoO Skipahead look-ahead, blocks (the authors' 5; at most ``windows - 1``)."""
WINDOWS_GRID = (8.0, 12.0, 16.0, 24.0, 32.0)
"""CG-OoO block windows (the authors' 12)."""
RS_GRID = (16.0, 32.0, 64.0, 128.0)
"""OoO reservation-station entries (the authors' 64)."""
LQ_GRID = (16.0, 32.0, 64.0, 128.0)
"""Load-queue entries, OoO and CG-OoO (the authors' 64)."""
SQ_GRID = (8.0, 16.0, 32.0, 64.0)
"""Store-queue entries, OoO and CG-OoO (the authors' 32)."""
PRF_GRID = (96.0, 160.0, 252.0, 512.0)
"""OoO physical registers (the authors' 252; 32 hold the architectural state)."""
GLOBAL_RF_GRID = (96.0, 192.0, 348.0, 512.0)
"""CG-OoO global physical registers (the authors' 348)."""
BLOCK_ROB_GRID = (8.0, 16.0, 30.0, 64.0)
"""CG-OoO block-ROB entries (the authors' 30)."""
LINE_INSTRUCTIONS = 16
"""Instructions in one 64-byte line (4-byte RV64IM instructions): the longest fetch run."""
BLOCK_RANKS = 60
"""Values a block can write (its instructions, at most 60): the ranks of local-value candidates."""
SHARED_KEYS = ("bpred.read", "bpred.write", "btb.search", "btb.write", "l1d.read", "l1d.write")
"""Accesses of the shared front end and L1-D that do not depend on the core (``l1i.read`` does: fetch groups)."""

# --- the authors' per-access energies and their table sizes (miladm/CG-OoO src/config/base.yaml) ----------
_GLOBAL_RF_SEGMENTS = 6
_WIRE_PJ = 0.08 * 0.5 * 64 * 1.0  # 0.08 pJ/bit/mm at activity 0.5 (paper p. 7), 64 bits over 1 mm (A2)
ACCESS_PJ: dict[str, float] = {
    "rob.read": 4.066, "rob.write": 4.066, "ino_rob.read": 0.0873, "ino_rob.write": 0.0873,
    "block_rob.read": 3.334, "block_rob.write": 3.334, "rs.read": 4.844, "rs.write": 4.844, "rs.cam_search": 3.210,
    "lq.read": 1.236, "lq.write": 1.236, "lq.cam_search": 2.204, "sq.read": 1.621, "sq.write": 1.621,
    "sq.cam_search": 1.315, "block_window.read": 0.4397, "block_window.write": 0.4397, "head_buffer.read": 0.605,
    "head_buffer.write": 0.605, "head_buffer.cam_search": 0.0471, "ino_window.read": 0.4389,
    "ino_window.write": 0.4389, "prf.read": 7.649, "prf.write": 7.649,
    "global_rf.read": 7.649 / (2 * _GLOBAL_RF_SEGMENTS), "global_rf.write": 7.649 / (2 * _GLOBAL_RF_SEGMENTS),
    "local_rf.read": 0.3103, "local_rf.write": 0.3103, "ino_rf.read": 2.535, "ino_rf.write": 2.535,
    "rat.read": 1.171, "rat.write": 1.171, "global_rat.read": 1.070, "global_rat.write": 1.070,
    "bpred.read": 0.406, "bpred.write": 0.406, "btb.search": 87.13, "btb.write": 87.13, "l1i.read": 42.96,
    "l1d.read": 28.2, "l1d.write": 28.2, "alu.op": 1.040, "muldiv.op": 8.800, "latch.traversal": 0.5864,
    "cluster_wire.traversal": _WIRE_PJ,
}  # fmt: skip
"""pJ per access at the reference sizes: the CG-OoO authors' simulator (``miladm/CG-OoO``
``src/config/base.yaml``, 2017 state; shared/reference/papers.md, "CG-OoO (additions to section 8)"); the
global RF's energy is the authors' 7.649 pJ divided by twice its 6 segments, as in their code; writes of the
BTB and L1-D priced as their searches / reads and the multiplier as the authors' FPU (A3: no figures); the
cluster wire as A2. The same table as :data:`archsim.cores.AUTHOR_ENERGY`."""
LEAKAGE_PJ_PER_CYCLE: dict[str, float] = {
    "rob": 7.356e-3, "ino_rob": 4.718e-5, "block_rob": 7.356e-3, "rs": 1.979e-2, "lq": 1.086e-2,
    "sq": 7.786e-3, "block_window": 6.983e-4, "head_buffer": 1.479e-3, "ino_window": 1.397e-3,
    "prf": 1.476e-2, "global_rf": 1.476e-2, "local_rf": 1.098e-3, "ino_rf": 4.939e-3, "rat": 5.703e-4,
    "global_rat": 5.703e-4, "bpred": 1.476e-2, "btb": 4.514e-2, "l1i": 0.2135, "latch": 5.864e-2,
}  # fmt: skip
"""pJ per cycle per instance, the same source."""
REFERENCE_ENTRIES: dict[str, tuple[str, float]] = {
    "rob": ("rob_entries", 180.0), "rs": ("rs_entries", 64.0), "lq": ("lq_entries", 64.0),
    "sq": ("sq_entries", 32.0), "prf": ("prf_entries", 252.0), "ino_window": ("ino_window_entries", 10.0),
    "ino_rob": ("ino_rob_entries", 50.0), "block_rob": ("block_rob_entries", 30.0),
    "head_buffer": ("head_buffer_entries", 4.0), "local_rf": ("local_rf_entries", 20.0),
    "global_rf": ("global_rf_entries", 348.0),
}  # fmt: skip
"""Structure -> (hardware field, entries of the authors' table): the tables whose energies scale with size."""
CORE_ACCESSES: dict[str, tuple[str, ...]] = {
    "ino": ("ino_window.write", "ino_window.read", "ino_rob.write", "ino_rob.read", "ino_rf.read", "ino_rf.write"),
    "ooo": ("rat.read", "rat.write", "rob.write", "rob.read", "rs.write", "rs.read", "rs.cam_search", "prf.read",
            "prf.write", "lq.write", "lq.read", "sq.cam_search", "sq.write", "sq.read", "lq.cam_search"),
    "cgooo": ("block_rob.write", "block_rob.read", "block_window.write", "block_window.read", "head_buffer.write",
              "head_buffer.read", "head_buffer.cam_search", "local_rf.write", "local_rf.read", "global_rf.write",
              "global_rf.read", "global_rat.write", "global_rat.read", "cluster_wire.traversal", "lq.write",
              "lq.read", "sq.cam_search", "sq.write", "sq.read", "lq.cam_search"),
}  # fmt: skip
"""The accesses each core counts besides the shared ones (:data:`SHARED_KEYS`, ``l1i.read``, ``alu.op``,
``muldiv.op``, ``latch.traversal``)."""
CORE_STRUCTURES: dict[str, tuple[str, ...]] = {
    "ino": ("ino_window", "ino_rob", "ino_rf"),
    "ooo": ("rob", "rs", "lq", "sq", "prf", "rat"),
    "cgooo": ("block_rob", "block_window", "head_buffer", "local_rf", "global_rf", "global_rat", "lq", "sq"),
}
"""The structures of each core besides the shared ``bpred``, ``btb``, ``l1i`` and ``latch``."""


# --- workload and hardware --------------------------------------------------------------------------------
@pytree_dataclass
class CoreProfile:
    """What the models take from one dynamic trace (measured by :mod:`hwcost.experiments.core_profile`).

    Attributes:
        instructions: ``N``, dynamic instructions.
        loads, stores, muldiv: loads, stores and multiply / divide instructions.
        operands: register operands read (``x0`` and absent ones not counted).
        producer_reads: operands read from a value an older instruction of the trace wrote, each producer
            counted once per reader (both operands from one producer: one read, the other global).
        results: register results written.
        mispredicts: mispredicted control instructions before the last instruction (interval boundaries).
        shared_counts: ``[len(SHARED_KEYS)]`` accesses of the predictor, BTB and L1-D.
        fetch_runs: ``[LINE_INSTRUCTIONS]`` runs of ``r = 1 .. 16`` instructions in one line ending at a line
            change or after a taken or mispredicted control instruction; a run takes ``ceil(r / width)``
            fetch groups (L1-I reads).
        blocks: CG-OoO blocks.
        local_results: ``[BLOCK_RANKS]`` CG-OoO local-value candidates (values read only in their own block)
            by their rank among the block's candidates; the first ``local_rf_entries`` ranks are local.
        local_reads: ``[BLOCK_RANKS]`` reads of those candidates, by the rank of the value read.
        cross_cluster_share: share of the reads of global values produced in another cluster, measured at
            the authors' CG-OoO (A4: the share at other cluster counts is not profiled).
        ino_cycles: ``[len(WIDTH_GRID)]`` ``sum T_interval`` of the in-order core at each width, cycles.
        ooo_rob_cycles: ``[len(ROB_GRID)]`` the OoO core's at each ROB size (width 4).
        ooo_width_cycles: ``[len(WIDTH_GRID)]`` the OoO core's at each width (180 entries).
        ooo_rs_cycles, ooo_lq_cycles, ooo_sq_cycles, ooo_prf_cycles: the OoO core's at each grid point of its
            reservation station, load and store queues and physical registers.
        cgooo_head_buffer_cycles, cgooo_skipahead_cycles, cgooo_windows_cycles, cgooo_width_cycles,
            cgooo_lq_cycles, cgooo_sq_cycles, cgooo_global_rf_cycles, cgooo_block_rob_cycles: CG-OoO's at each grid
            point of one parameter (:data:`TIMING_GRIDS`), the others at :data:`DEFAULT_CORE`'s values.
        name: label used in reports.
    """

    instructions: Scalar
    loads: Scalar
    stores: Scalar
    muldiv: Scalar
    operands: Scalar
    producer_reads: Scalar
    results: Scalar
    mispredicts: Scalar
    shared_counts: Array
    fetch_runs: Array
    blocks: Scalar
    local_results: Array
    local_reads: Array
    cross_cluster_share: Scalar
    ino_cycles: Array
    ooo_rob_cycles: Array
    ooo_width_cycles: Array
    ooo_rs_cycles: Array
    ooo_lq_cycles: Array
    ooo_sq_cycles: Array
    ooo_prf_cycles: Array
    cgooo_head_buffer_cycles: Array
    cgooo_skipahead_cycles: Array
    cgooo_windows_cycles: Array
    cgooo_width_cycles: Array
    cgooo_lq_cycles: Array
    cgooo_sq_cycles: Array
    cgooo_global_rf_cycles: Array
    cgooo_block_rob_cycles: Array
    name: str = static_field(default="program")


@pytree_dataclass
class CoreHardware:
    """One core and its design parameters (module docstring; defaults :data:`DEFAULT_CORE`).

    Attributes:
        width: fetch, dispatch and commit width, instructions per cycle.
        mispredict_penalty_cycles: cycles from a mispredicted instruction's completion to the next one's entry.
        stages: pipeline stages (latch traversals per instruction, latch leakage).
        rob_entries, rs_entries, lq_entries, sq_entries, prf_entries: OoO ROB, reservation station, load and
            store queues, physical registers (LQ and SQ also CG-OoO's).
        ino_window_entries, ino_rob_entries: the in-order core's instruction window and ROB (energy only).
        windows, head_buffer_entries, skipahead_blocks: CG-OoO block windows, head-buffer entries per window,
            Skipahead look-ahead in blocks.
        local_rf_entries, global_rf_entries, block_rob_entries: CG-OoO local RF entries per window, global
            physical registers, block-ROB entries (energy only, and the local RF's share of the values).
        clock_mhz: clock (report edges only).
        smoothing: relaxation temperature and the hard switch.
        core: ``"ino"``, ``"ooo"`` or ``"cgooo"`` (static).
    """

    width: Scalar
    mispredict_penalty_cycles: Scalar
    stages: Scalar
    rob_entries: Scalar
    rs_entries: Scalar
    lq_entries: Scalar
    sq_entries: Scalar
    prf_entries: Scalar
    ino_window_entries: Scalar
    ino_rob_entries: Scalar
    windows: Scalar
    head_buffer_entries: Scalar
    skipahead_blocks: Scalar
    local_rf_entries: Scalar
    global_rf_entries: Scalar
    block_rob_entries: Scalar
    clock_mhz: Scalar
    smoothing: Smoothing
    core: str = static_field(default="cgooo")


DEFAULT_CORE = CoreHardware(
    width=4.0,
    mispredict_penalty_cycles=20.0,
    stages=11.0,
    rob_entries=180.0,
    rs_entries=64.0,
    lq_entries=64.0,
    sq_entries=32.0,
    prf_entries=252.0,
    ino_window_entries=10.0,
    ino_rob_entries=50.0,
    windows=12.0,
    head_buffer_entries=4.0,
    skipahead_blocks=5.0,
    local_rf_entries=20.0,
    global_rf_entries=348.0,
    block_rob_entries=30.0,
    clock_mhz=2000.0,
    smoothing=Smoothing(0.05),
)
"""CG-OoO as the authors' simulator configures it (``miladm/CG-OoO`` ``src/config/base.yaml``; papers.md
"CG-OoO (additions to section 8)"): 4-wide, 20-cycle mispredict penalty, 12 block windows of 60 entries with
4-entry head buffers, Skipahead 5, 20-entry local RFs, 348 global registers, 30-entry block ROB, LSQ 64 / 32;
OoO fields: ROB 180, RS 64, 252 physical registers, 11 stages (2014 draft); in-order: window 10, ROB 50; 2 GHz
(2014 draft). :data:`INO_CORE` and :data:`OOO_CORE` are the same with another ``core`` (the in-order core has
9 stages)."""
INO_CORE = dataclasses.replace(DEFAULT_CORE, core="ino", stages=9.0)
"""The authors' in-order core (9 stages, 2014 draft)."""
OOO_CORE = dataclasses.replace(DEFAULT_CORE, core="ooo")
"""The authors' out-of-order core."""
CORE_HARDWARE = {"ino": INO_CORE, "ooo": OOO_CORE, "cgooo": DEFAULT_CORE}
"""Each core at the authors' configuration."""

_RANGES: dict[str, tuple[float, float]] = {
    "width": (WIDTH_GRID[0], WIDTH_GRID[-1]),
    "mispredict_penalty_cycles": (0.0, 1000.0),
    "stages": (1.0, 100.0),
    "rob_entries": (ROB_GRID[0], ROB_GRID[-1]),
    "rs_entries": (RS_GRID[0], RS_GRID[-1]),
    "lq_entries": (LQ_GRID[0], LQ_GRID[-1]),
    "sq_entries": (SQ_GRID[0], SQ_GRID[-1]),
    "prf_entries": (PRF_GRID[0], PRF_GRID[-1]),
    "ino_window_entries": (1.0, 4096.0),
    "ino_rob_entries": (1.0, 4096.0),
    "windows": (WINDOWS_GRID[0], WINDOWS_GRID[-1]),
    "head_buffer_entries": (HEAD_BUFFER_GRID[0], HEAD_BUFFER_GRID[-1]),
    "skipahead_blocks": (SKIPAHEAD_GRID[0], SKIPAHEAD_GRID[-1]),
    "local_rf_entries": (0.0, float(BLOCK_RANKS)),
    "global_rf_entries": (GLOBAL_RF_GRID[0], GLOBAL_RF_GRID[-1]),
    "block_rob_entries": (BLOCK_ROB_GRID[0], BLOCK_ROB_GRID[-1]),
}
"""Allowed range of each design parameter: the profiled grids bound the timing parameters (no extrapolation)."""


# --- checks -----------------------------------------------------------------------------------------------
def check_hardware(hw: CoreHardware) -> None:
    """``ValueError`` naming the field, its value and the allowed range (:data:`_RANGES`; Skipahead also at
    most ``windows - 1``), the clock, the temperature, and ``core`` one of :data:`CORES`."""
    checks.check_choice("core", hw.core, CORES)
    for name, (low, high) in _RANGES.items():
        checks.check_range(name, getattr(hw, name), low, high)
    skip, windows = float(np.asarray(hw.skipahead_blocks)), float(np.asarray(hw.windows))
    if skip > windows - 1.0:
        raise ValueError(f"skipahead_blocks={skip:g} with windows={windows:g}; allowed: at most windows - 1")
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)


TIMING_GRIDS: dict[str, tuple[tuple[str, tuple[float, ...], str], ...]] = {
    "ino": (("width", WIDTH_GRID, "ino_cycles"),),
    "ooo": (
        ("width", WIDTH_GRID, "ooo_width_cycles"),
        ("rob_entries", ROB_GRID, "ooo_rob_cycles"),
        ("rs_entries", RS_GRID, "ooo_rs_cycles"),
        ("lq_entries", LQ_GRID, "ooo_lq_cycles"),
        ("sq_entries", SQ_GRID, "ooo_sq_cycles"),
        ("prf_entries", PRF_GRID, "ooo_prf_cycles"),
    ),
    "cgooo": (
        ("width", WIDTH_GRID, "cgooo_width_cycles"),
        ("head_buffer_entries", HEAD_BUFFER_GRID, "cgooo_head_buffer_cycles"),
        ("skipahead_blocks", SKIPAHEAD_GRID, "cgooo_skipahead_cycles"),
        ("windows", WINDOWS_GRID, "cgooo_windows_cycles"),
        ("lq_entries", LQ_GRID, "cgooo_lq_cycles"),
        ("sq_entries", SQ_GRID, "cgooo_sq_cycles"),
        ("global_rf_entries", GLOBAL_RF_GRID, "cgooo_global_rf_cycles"),
        ("block_rob_entries", BLOCK_ROB_GRID, "cgooo_block_rob_cycles"),
    ),
}
"""Per core, the timing parameters: ``(hardware field, grid, profile field)``, the interval time profiled at each
grid point of the field with the others at :data:`DEFAULT_CORE`'s values."""

_SHAPES = {
    "shared_counts": (len(SHARED_KEYS),),
    "fetch_runs": (LINE_INSTRUCTIONS,),
    "local_results": (BLOCK_RANKS,),
    "local_reads": (BLOCK_RANKS,),
    **{profile_field: (len(grid),) for grids in TIMING_GRIDS.values() for _, grid, profile_field in grids},
}


def check_workload(profile: CoreProfile) -> None:
    """``ValueError`` naming the field, its value and what is allowed: counts in ``[0, 2**62]`` (at least one
    instruction), per-instruction counts at most what the instructions allow (loads + stores + multiply /
    divide at most ``N``, operands at most ``2 N``, results at most ``N``), arrays of their shapes
    (:data:`_SHAPES`) with non-negative entries, interval cycles positive; ``TypeError`` for another type."""
    if not isinstance(profile, CoreProfile):
        raise TypeError(f"workload={type(profile).__name__} is not a CoreProfile")
    checks.check_range("instructions", profile.instructions, 1, checks.MAX_COUNT)
    n = float(np.asarray(profile.instructions))
    for name in ("loads", "stores", "muldiv", "results", "mispredicts", "blocks"):
        checks.check_range(name, getattr(profile, name), 0, n)
    for name in ("operands", "producer_reads"):
        checks.check_range(name, getattr(profile, name), 0, 2.0 * n)
    mix = sum(float(np.asarray(getattr(profile, k))) for k in ("loads", "stores", "muldiv"))
    if mix > n:
        raise ValueError(f"loads + stores + muldiv = {mix:g} with instructions={n:g}; allowed: at most instructions")
    checks.check_fraction("cross_cluster_share", profile.cross_cluster_share)
    for name, shape in _SHAPES.items():
        value = getattr(profile, name)
        if np.shape(value) != shape:
            raise ValueError(f"{name} has shape {np.shape(value)}; allowed: {shape}")
        if name.endswith("_cycles"):
            checks.check_range(name, value, 0, checks.MAX_COUNT, open_low=True)
        else:
            checks.check_range(name, value, 0, checks.MAX_COUNT)


# --- interpolation ----------------------------------------------------------------------------------------
def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


SLOPE_FLOOR = 0.01
"""``epsilon`` of the interpolation's inner slopes, in units of ``log(value)`` per ``log(parameter)``: below it
a secant counts as flat."""


def monotone_interpolate(x: Scalar, grid: tuple[float, ...], values: Array) -> Array:
    """Monotone piecewise-cubic Hermite interpolation of ``values`` (shape ``[len(grid)]``, positive) in
    ``log(grid)`` and ``log(values)`` at ``x``: ``exp`` of :func:`log_interpolate`."""
    return jnp.exp(log_interpolate(x, grid, values))


def log_interpolate(x: Scalar, grid: tuple[float, ...], values: Array) -> Array:
    """The logarithm of :func:`monotone_interpolate`'s value (the interpolant is built in log-log); ``x`` must lie
    in ``[grid[0], grid[-1]]`` (the checks ensure it).

    With secants ``d_k`` of the log data, the slope at an inner point is ``d1 d2 (d1 + d2) / (d1**2 + d2**2 +
    epsilon**2)`` (:data:`SLOPE_FLOOR`), at the ends the one-sided secant. For monotone data the inner slope has
    the secants' sign and at most ``(1 + sqrt 2) / 2`` times either of them (``r (r + 1) / (r**2 + 1)`` with
    ``r = d1 / d2 > 0``), inside Fritsch & Carlson's region ``0 <= m / d <= 3`` (SIAM J. Numer. Anal. 17(2)
    1980), so the interpolant is monotone where the data are; unlike their harmonic slopes it is a smooth
    function of the data (no switch where a secant is zero), so its derivatives in the profile agree with
    finite differences. Exact at the grid points and C1 in ``x``."""
    u = np.log(np.asarray(grid, np.float64))
    y = jnp.log(_float(values))
    h = jnp.asarray(np.diff(u), y.dtype)
    d = (y[1:] - y[:-1]) / h
    d1, d2 = d[:-1], d[1:]
    inner = d1 * d2 * (d1 + d2) / (d1 * d1 + d2 * d2 + SLOPE_FLOOR**2)
    m = jnp.concatenate([d[:1], inner, d[-1:]])
    t_x = jnp.log(_float(x))
    k = jnp.sum(t_x >= jnp.asarray(u[1:-1], y.dtype)).astype(jnp.int32)  # the interval of x (0 .. len - 2)
    hk = h[k]
    s = (t_x - jnp.asarray(u, y.dtype)[k]) / hk
    s2, s3 = s * s, s * s * s
    value = (
        (2.0 * s3 - 3.0 * s2 + 1.0) * y[k]
        + (s3 - 2.0 * s2 + s) * hk * m[k]
        + (-2.0 * s3 + 3.0 * s2) * y[k + 1]
        + (s3 - s2) * hk * m[k + 1]
    )
    return value


def _integer(hw: CoreHardware, name: str) -> Array:
    """A structural integer parameter, rounded (relaxed by :func:`soft_round` unless hard)."""
    return soft_round(_float(getattr(hw, name)), hw.smoothing.temperature, hard=hw.smoothing.hard)


def _log_factor(hw: CoreHardware, name: str, grid: tuple[float, ...], values: Array) -> Array:
    """The logarithm of the interval time at ``hw.<name>`` over its value at the paper's setting (the separable
    factor; in logs, so that a product of factors of large times never overflows float32)."""
    ref = jnp.log(_float(values)[grid.index(float(getattr(DEFAULT_CORE, name)))])
    return log_interpolate(_integer(hw, name), grid, values) - ref


def interval_cycles(hw: CoreHardware, profile: CoreProfile) -> Array:
    """``sum T_interval`` (cycles) of ``hw.core`` at ``hw``'s parameters: the profiled value at the authors'
    configuration times, for each timing parameter (:data:`TIMING_GRIDS`), the interpolated value at ``hw``'s
    setting over the value at the authors' (the separable interpolation of the module docstring)."""
    grids = TIMING_GRIDS[hw.core]
    reference = _float(getattr(profile, grids[0][2]))[WIDTH_GRID.index(4.0)]
    logs = [_log_factor(hw, field, grid, getattr(profile, profile_field)) for field, grid, profile_field in grids]
    return reference * jnp.exp(sum(logs[1:], start=logs[0]))


def latency_cycles(hw: CoreHardware, profile: CoreProfile) -> Array:
    """Cycles of the program: ``sum T_interval + mispredicts x mispredict_penalty_cycles + 1`` (the cycle in
    which the last instruction completes counted)."""
    penalties = _float(profile.mispredicts) * _float(hw.mispredict_penalty_cycles)
    return interval_cycles(hw, profile) + penalties + 1.0


# --- counts -----------------------------------------------------------------------------------------------
def fetch_groups(hw: CoreHardware, profile: CoreProfile) -> Array:
    """L1-I reads: ``sum_r fetch_runs[r] ceil(r / width)``, written ``ceil((r - 1/2) / width)`` (equal for
    integer ``r`` and ``width``; its steps then sit away from the integer run lengths, so the relaxed ceiling
    converges to the hard one at every integer width)."""
    runs = jnp.arange(1, LINE_INSTRUCTIONS + 1, dtype=_float(0.0).dtype)
    groups = soft_ceil((runs - 0.5) / _integer(hw, "width"), hw.smoothing.temperature, hard=hw.smoothing.hard)
    return jnp.sum(_float(profile.fetch_runs) * groups)


def local_values(hw: CoreHardware, profile: CoreProfile) -> tuple[Array, Array]:
    """CG-OoO's local results and local operand reads: the candidates of rank below ``local_rf_entries``
    (a step at each rank ``r``, between ``r`` and ``r + 1`` entries, relaxed unless hard)."""
    ranks = jnp.arange(BLOCK_RANKS, dtype=_float(0.0).dtype)
    kept = soft_step(_float(hw.local_rf_entries) - ranks - 0.5, hw.smoothing.temperature, hard=hw.smoothing.hard)
    return jnp.sum(_float(profile.local_results) * kept), jnp.sum(_float(profile.local_reads) * kept)


def _structures(hw: CoreHardware) -> dict[str, Array]:
    """Instances of every leaking structure of ``hw.core``."""
    shared = {"bpred": 1.0, "btb": 1.0, "l1i": 1.0, "latch": _float(hw.stages)}
    per_core = {name: 1.0 for name in CORE_STRUCTURES[hw.core]}
    if hw.core == "cgooo":
        windows = _integer(hw, "windows")
        per_core.update(block_window=windows, head_buffer=windows, local_rf=windows)
    return {k: _float(v) for k, v in {**per_core, **shared}.items()}


def counts_and_latency(hw: CoreHardware, profile: CoreProfile) -> tuple[Counts, Array]:
    """Accesses per structure (the keys :mod:`archsim.cgooo` counts, plus ``"<structure>.leakage"``:
    cycles x instances) and the cycles of one run of the program."""
    fields = ("instructions", "loads", "stores", "muldiv", "operands", "producer_reads", "results", "blocks")
    f = {name: _float(getattr(profile, name)) for name in fields}
    n, operands, results = f["instructions"], f["operands"], f["results"]
    cycles = latency_cycles(hw, profile)
    shared = _float(profile.shared_counts)
    counts: Counts = {key: shared[i] for i, key in enumerate(SHARED_KEYS)}
    counts.update({
        "l1i.read": fetch_groups(hw, profile),
        "alu.op": n - f["muldiv"],
        "muldiv.op": f["muldiv"],
        "latch.traversal": _float(hw.stages) * n,
    })  # fmt: skip
    lsq = {"lq.write": f["loads"], "lq.read": f["loads"], "sq.cam_search": f["loads"],
           "sq.write": f["stores"], "sq.read": f["stores"], "lq.cam_search": f["stores"]}  # fmt: skip
    if hw.core == "ino":
        counts.update({"ino_window.write": n, "ino_window.read": n, "ino_rob.write": n, "ino_rob.read": n,
                       "ino_rf.read": operands, "ino_rf.write": results})  # fmt: skip
    elif hw.core == "ooo":
        counts.update({"rat.read": operands, "rat.write": results, "rob.write": n, "rob.read": n,
                       "rs.write": n, "rs.read": n, "rs.cam_search": results, "prf.read": operands,
                       "prf.write": results, **lsq})  # fmt: skip
    else:
        local_writes, local_reads = local_values(hw, profile)
        global_writes = results - local_writes
        global_reads = operands - local_reads
        counts.update({
            "block_rob.write": f["blocks"], "block_rob.read": f["blocks"], "block_window.write": n,
            "block_window.read": n, "head_buffer.write": n, "head_buffer.read": n,
            "head_buffer.cam_search": local_writes + _integer(hw, "windows") * global_writes,
            "local_rf.write": local_writes, "local_rf.read": local_reads,
            "global_rf.write": global_writes, "global_rf.read": global_reads,
            "global_rat.write": global_writes, "global_rat.read": global_reads,
            "cluster_wire.traversal": _float(profile.cross_cluster_share) * (f["producer_reads"] - local_reads),
            **lsq,
        })  # fmt: skip
    for name, instances in _structures(hw).items():
        counts[f"{name}.leakage"] = cycles * instances
    return counts, cycles


def action_counts(hw: CoreHardware, profile: CoreProfile) -> Counts:
    """Accesses per structure of one run (:func:`counts_and_latency`)."""
    return counts_and_latency(hw, profile)[0]


def _size_ratio(hw: CoreHardware, structure: str) -> Array:
    field, reference = REFERENCE_ENTRIES[structure]
    return _integer(hw, field) / reference


PORTED = ("rob", "ino_rob", "block_rob", "rs", "lq", "sq", "block_window", "head_buffer", "ino_window", "prf",
          "global_rf", "local_rf", "ino_rf", "rat", "global_rat", "latch")  # fmt: skip
"""Structures whose ports (latches: width) grow with the core's width (module docstring, A5)."""
REFERENCE_WIDTH = 4.0
"""The authors' cores are 4-wide (2014 draft): their table's width."""


def per_action_energy_pj(hw: CoreHardware) -> dict[str, Scalar]:
    """pJ per access and per leakage cycle-instance: :data:`ACCESS_PJ` and :data:`LEAKAGE_PJ_PER_CYCLE` at the
    authors' sizes and width, RAM accesses scaled by ``(e / e0)**0.5``, CAM searches and leakage by ``e / e0``
    (A1), and the :data:`PORTED` structures by ``width / 4`` (A5; module docstring)."""
    ports = _integer(hw, "width") / REFERENCE_WIDTH
    table: dict[str, Scalar] = {}
    for key, pj in ACCESS_PJ.items():
        structure, _, action = key.partition(".")
        scale = ports if structure in PORTED else 1.0
        if structure in REFERENCE_ENTRIES:
            ratio = _size_ratio(hw, structure)
            scale = scale * (ratio if action == "cam_search" else jnp.sqrt(ratio))
        table[key] = pj * scale
    for structure, pj in LEAKAGE_PJ_PER_CYCLE.items():
        scale = ports if structure in PORTED else 1.0
        if structure in REFERENCE_ENTRIES:
            scale = scale * _size_ratio(hw, structure)
        table[f"{structure}.leakage"] = pj * scale
    return {key: table[key] for key in count_keys(hw.core)}


def count_keys(core: str) -> tuple[str, ...]:
    """Every key ``core`` counts (and prices): accesses, then ``"<structure>.leakage"``."""
    shared = (*SHARED_KEYS, "l1i.read", "alu.op", "muldiv.op", "latch.traversal")
    leaking = (*CORE_STRUCTURES[core], "bpred", "btb", "l1i", "latch")
    return (*shared, *CORE_ACCESSES[core], *(f"{name}.leakage" for name in leaking))


def clock_mhz(hw: CoreHardware) -> Scalar:
    """The clock, MHz."""
    return hw.clock_mhz


# --- profiles as data ---------------------------------------------------------------------------------------
SAMPLE_PROFILES = Path(__file__).parent / "data" / "core_profiles.json"
"""Profiles of committed traces (``benchmarks/core_profiles.py`` writes them): the RV64IM test fixture
``checksum`` and the small builds of four kernels of the program set: ``gemm`` (compute, cache-resident),
``sort`` (branch mispredictions), ``pointer_chase`` (dependent misses) and ``spmv_csc`` (the sparse
matrix-vector product of a pruned layer)."""


def profile_to_dict(profile: CoreProfile) -> dict:
    """The profile as JSON-ready values (floats and lists of floats; ``name`` a string)."""
    out: dict = {"name": profile.name}
    for field in dataclasses.fields(CoreProfile):
        if field.name != "name":
            value = np.asarray(getattr(profile, field.name), np.float64)
            out[field.name] = value.tolist() if value.ndim else float(value)
    return out


def profile_from_dict(values: dict) -> CoreProfile:
    """The inverse of :func:`profile_to_dict`; ``ValueError`` naming a missing or unknown field."""
    fields = {f.name for f in dataclasses.fields(CoreProfile)}
    missing, unknown = fields - set(values), set(values) - fields
    if missing or unknown:
        raise ValueError(
            f"profile fields missing: {sorted(missing)}, unknown: {sorted(unknown)}; allowed: {sorted(fields)}"
        )
    arrays = {
        k: np.asarray(v, np.float64) if isinstance(v, list) else float(v) for k, v in values.items() if k != "name"
    }
    return CoreProfile(**arrays, name=str(values["name"]))


def committed_profiles() -> dict[str, CoreProfile]:
    """The committed profiles (:data:`SAMPLE_PROFILES`), by name."""
    entries = json.loads(SAMPLE_PROFILES.read_text())
    return {name: profile_from_dict(values) for name, values in entries.items()}


def sample_workloads() -> dict[str, CoreProfile]:
    """The regimes the property suite checks: ``gemm`` (compute, cache-resident), ``sort`` (branch
    mispredictions), ``pointer_chase`` (dependent misses), from :func:`committed_profiles`."""
    profiles = committed_profiles()
    return {name: profiles[name] for name in ("gemm", "sort", "pointer_chase")}


def sample_hardware() -> dict[str, CoreHardware]:
    """Besides the default CG-OoO: the in-order core, and the OoO core and CG-OoO off their grids (relaxed,
    non-integer parameters between grid points)."""
    return {
        "ino": INO_CORE,
        "ooo_between_grid_points": dataclasses.replace(OOO_CORE, width=3.3, rob_entries=97.5, rs_entries=40.0),
        "cgooo_between_grid_points": dataclasses.replace(
            DEFAULT_CORE, width=2.6, head_buffer_entries=6.3, skipahead_blocks=3.7, windows=13.2,
            local_rf_entries=11.4,
        ),
    }  # fmt: skip


WIDTH_STEPS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
"""Widths the monotone promises are walked along."""
MONOTONE = (
    Monotone("latency", "hardware.width", increasing=False, grid=WIDTH_STEPS),
    Monotone("latency", "hardware.rob_entries", increasing=False, grid=(16.0, 24.0, 48.0, 100.0, 180.0, 300.0, 512.0)),
    Monotone("latency", "hardware.head_buffer_entries", increasing=False, grid=(1.0, 1.5, 2.0, 3.0, 4.0, 8.0, 16.0)),
    Monotone("latency", "hardware.skipahead_blocks", increasing=False, grid=(1.0, 2.0, 2.5, 3.0, 5.0, 8.0, 11.0)),
    Monotone("latency", "hardware.mispredict_penalty_cycles", grid=(0.0, 5.0, 20.0, 100.0)),
    Monotone("l1i.read", "hardware.width", increasing=False, grid=WIDTH_STEPS),
)
"""The directions the model promises (the property suite walks them)."""
