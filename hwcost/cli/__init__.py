"""The ``hwcost`` command line: ``hwcost <verb> ...``, one module per verb in this package.

Each verb module exports ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

VERBS: tuple[str, ...] = ("train", "compress", "simulate", "validate", "models", "report")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per available verb."""
    parser = argparse.ArgumentParser(
        prog="hwcost",
        description="Differentiable hardware cost models for hardware-aware model compression.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="<verb>", required=True)
    for verb in VERBS:
        module = importlib.import_module(f"hwcost.cli.{verb}")
        verb_parser = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hwcost`` console script. Bad input exits with status 2 and one clear line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except ValueError as err:
        print(f"hwcost {args.verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
