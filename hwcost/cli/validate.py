"""``hwcost validate HARDWARE``: a cost model and its reference simulator against the paper's published
table (:mod:`hwcost.experiments.validation`).

``--json`` prints ``{"layers": [...], "summary": {...}, ...}``; for EIE the keys are
:data:`hwcost.experiments.validation.EIE_LAYER_KEYS` and :data:`~hwcost.experiments.validation.EIE_SUMMARY_KEYS`;
for SCNN (speedup and energy relative to DCNN per layer, GoogLeNet module and network, and the GoogLeNet
density sweep; several minutes) see :func:`hwcost.experiments.scnn_validation.scnn_validation_report`.
"""

from __future__ import annotations

import argparse

from hwcost.checks import check_choice
from hwcost.cli.output import format_table, print_json

HELP = "Compare a cost model and its reference simulator with the paper's published tables."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost validate``."""
    parser.add_argument("hardware", help="cost model whose paper table to reproduce (eie, scnn)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    """Print the comparison (a table, or JSON with ``--json``)."""
    from hwcost.experiments.validation import VALIDATIONS

    check_choice("hardware", args.hardware, tuple(sorted(VALIDATIONS)))
    validation = VALIDATIONS[args.hardware]
    report = validation.run(not args.no_progress)
    if args.json:
        print_json(report)
        return 0
    print(validation.title)
    print(format_table(report["layers"], validation.table_columns))
    print()
    print("\n".join(validation.summary_lines(report)))
    return 0
