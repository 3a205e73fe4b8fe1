"""``hwcost models``: the registered cost models, what they model and what they price."""

from __future__ import annotations

import argparse

from hwcost.cli.output import format_table, print_json

HELP = "List the registered cost models (name, what they model, source, workloads, reference simulator)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost models``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Print one row per registered model."""
    from hwcost.experiments.simulators import has_simulator
    from hwcost.experiments.validation import VALIDATIONS
    from hwcost.registry import all_cost_models

    rows = [
        {
            "name": m.name,
            "title": m.card.title,
            "workloads": ", ".join(t.__name__ for t in m.card.workloads),
            "simulator": "yes" if has_simulator(m.name) else "-",
            "validation": "yes" if m.name in VALIDATIONS else "-",
            "source": m.card.source,
        }
        for m in all_cost_models()
    ]
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows, ("name", "title", "workloads", "simulator", "validation", "source")))
    return 0
