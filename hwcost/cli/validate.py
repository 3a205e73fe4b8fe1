"""``hwcost validate HARDWARE``: a cost model and its reference simulator against the paper's published
table (:mod:`hwcost.experiments.validation`).

``--json`` prints ``{"layers": [...], "summary": {...}, ...}``; for EIE the keys are
:data:`hwcost.experiments.validation.EIE_LAYER_KEYS` and :data:`~hwcost.experiments.validation.EIE_SUMMARY_KEYS`;
for SCNN (speedup and energy relative to DCNN per layer, GoogLeNet module and network, and the GoogLeNet
density sweep; several minutes) see :func:`hwcost.experiments.scnn_validation.scnn_validation_report`; for ESE
(throughput, latency and energy efficiency of the paper's LSTM, and the load-balance sweep; a few minutes)
see :func:`hwcost.experiments.ese_validation.ese_validation_report`, whose sweep densities and frames
``--densities`` and ``--frames`` set (for a quicker run); for HoLiSwap (the model against archsim on the
committed program-set traces, and the paper's headline quantities as measured; under a minute) see
:func:`hwcost.experiments.holiswap_validation.validate`; for CG-OoO (the in-order, OoO and CG-OoO cores' interval
models against archsim on RV64IM program traces, and CG-OoO's energy-gap closure and ``EDP^-1`` over OoO beside
the paper's; ``--size``) see :func:`hwcost.experiments.cgooo_validation.cgooo_report`, whose JSON holds
``programs`` and the top-level ``energy_gap_closed`` and ``edp_inverse_over_ooo``.
"""

from __future__ import annotations

import argparse
import math

from hwcost.checks import check_choice
from hwcost.cli.output import format_table, print_json
from hwcost.errors import UsageError

HELP = "Compare a cost model and its reference simulator with the paper's published tables."
MAX_FRAMES = 100_000
"""Most frames per utterance of ``hwcost validate ese --frames``."""
ESE_ONLY = ("densities", "frames")
"""Options of the ESE validation only."""
CGOOO_ONLY = ("size",)
"""Options of the CG-OoO validation only."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost validate``."""
    parser.add_argument("hardware", help="cost model whose paper table to reproduce (cgooo, eie, ese, holiswap, scnn)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar on stderr")
    parser.add_argument("--densities", type=float, nargs="+", default=None, metavar="D",
                        help="ese: load-balance sweep densities, each in (0, 1] (default 1.0 0.8 ... 0.1)")  # fmt: skip
    parser.add_argument("--frames", type=int, default=None,
                        help=f"ese: frames per utterance, 1..{MAX_FRAMES} (default 100)")  # fmt: skip
    parser.add_argument("--size", default=None, choices=("fixture", "small", "full"),
                        help="cgooo: the committed test program only (fixture, seconds), or the program set's "
                             "small builds (default, a few minutes, with the other configurations) or full "
                             "builds (about half an hour); the program set needs riscv64-unknown-elf-gcc "
                             "(make tools)")  # fmt: skip


def _options(args: argparse.Namespace) -> dict:
    """The options of one validation checked (before any work) and as keyword arguments of its run: ESE's
    ``--densities`` and ``--frames``, CG-OoO's ``--size``."""
    for hardware, only in (("ese", ESE_ONLY), ("cgooo", CGOOO_ONLY)):
        given = [f"--{d}" for d in only if getattr(args, d) is not None]
        if args.hardware != hardware and given:
            raise UsageError(f"{given[0]} applies to hardware {hardware!r} only, not to hardware={args.hardware!r}")
    if args.hardware == "cgooo":
        return {"size": args.size} if args.size is not None else {}
    if args.hardware != "ese":
        return {}
    if args.frames is not None and not 1 <= args.frames <= MAX_FRAMES:
        raise UsageError(f"frames={args.frames} is outside the allowed range; allowed: an integer in [1, {MAX_FRAMES}]")
    for d in args.densities or ():
        if not math.isfinite(d) or not 0.0 < d <= 1.0:
            raise UsageError(f"density={d!r} in --densities is outside the allowed range; allowed: (0, 1]")
    return {dest: getattr(args, dest) for dest in ESE_ONLY if getattr(args, dest) is not None}


def run(args: argparse.Namespace) -> int:
    """Print the comparison (a table, or JSON with ``--json``)."""
    from hwcost.experiments.validation import VALIDATIONS

    check_choice("hardware", args.hardware, tuple(sorted(VALIDATIONS)))
    options = _options(args)
    validation = VALIDATIONS[args.hardware]
    report = validation.run(not args.no_progress, **options)
    if args.json:
        print_json(report)
        return 0
    print(validation.title)
    print(format_table(report["layers"], validation.table_columns))
    print()
    print("\n".join(validation.summary_lines(report)))
    return 0
