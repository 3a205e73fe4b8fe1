"""``hwcost simulate cpu``: one core (in-order, out-of-order or CG-OoO) on an RV64IM program, cycle by cycle in
archsim and in the interval model (:func:`hwcost.experiments.cgooo_validation.cpu_report`).

Usage::

    hwcost simulate cpu --trace FILE --core inorder|ooo|cgooo [--hw FIELD=VALUE ...] [--json]

``FILE`` is an RV64IM trace (``.npz`` from :func:`archsim.traces.rv64.save_trace`, e.g. the program set's
cache ``.cache/traces/rv64/``) or an RV64IM ELF executable, run on archsim's emulator. The core is the
authors' configuration (:mod:`hwcost.cgooo`), with ``--hw`` changing a design parameter both sides take:
``width``; OoO ``rob_entries``, ``rs_entries``, ``lq_entries``, ``sq_entries``, ``prf_entries``; CG-OoO
``head_buffer_entries``, ``skipahead_blocks``, ``windows``, ``global_rf_entries``, ``block_rob_entries``,
``local_rf_entries``, ``lq_entries``, ``sq_entries``.
Reported: cycles, IPC and energy (uJ, the authors' per-structure table) from both, archsim's stalls by cause,
and the per-structure breakdown (archsim's exact counts beside the model's).
"""

from __future__ import annotations

import argparse

from hwcost.cli.output import format_table, parse_assignments, print_json

CPU = "cpu"
"""The CPU cores: the input is a program trace, not a layer."""


def add_cpu_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hwcost simulate cpu``."""
    from hwcost.experiments.cgooo_validation import CORE_NAMES

    group = parser.add_argument_group("cpu (a core on an RV64IM program)")
    group.add_argument("--core", choices=tuple(CORE_NAMES), default=None,
                       help="cpu: the in-order, out-of-order or CG-OoO core (required)")  # fmt: skip


def run_cpu(args: argparse.Namespace) -> int:
    """Run both sides and print tables (or JSON with ``--json``)."""
    from pathlib import Path

    from hwcost.errors import UsageError
    from hwcost.experiments import cgooo_validation as cv

    if args.core is None:
        raise UsageError("the following arguments are required with hardware 'cpu': --core (inorder, ooo, cgooo)")
    changes = parse_assignments(args.hw, "hw", float)
    trace = cv.read_program(args.trace)
    report = cv.cpu_report(trace, cv.CORE_NAMES[args.core], changes, name=Path(args.trace).name)
    if args.json:
        print_json(report)
        return 0
    settings = ", ".join(f"{k}={v:g}" for k, v in changes.items()) or "the authors' configuration"
    print(f"cpu: {report['program']}: {report['instructions']} RV64IM instructions on the {args.core} core, {settings}")
    rows = [{**row, "model_over_archsim": f"{row['model_over_archsim']:.4f}"} for row in report["summary"]]
    print(format_table(rows, ("quantity", "archsim", "model", "model_over_archsim")))
    print()
    stalls = [{"cause": k, "cycles": v} for k, v in report["stalls"].items() if v]
    print("archsim: cycles in which nothing commits, by cause")
    print(format_table(stalls, ("cause", "cycles")))
    print()
    print("breakdown (counts per structure; energy in uJ):")
    print(format_table(report["breakdown"], ("action", "archsim_count", "model_count", "archsim_energy_uj",
                                             "model_energy_uj")))  # fmt: skip
    return 0
