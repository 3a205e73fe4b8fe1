"""The ``hwcost`` command line: ``hwcost <verb> ...``, one module per verb in this package.

Each verb module exports ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

VERBS: tuple[str, ...] = ("train", "compress", "simulate", "validate", "models", "report")


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr, like every other expected failure:
    ``PROG: error: MESSAGE (see PROG --help)``, exit status 2 (argparse's own status); the usage block that
    argparse prints before the message is left to ``--help``. Sub-parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        """Print the one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per available verb (usage errors one line,
    :class:`OneLineParser`)."""
    parser = OneLineParser(
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


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, EOFError)
"""Expected failures, reported as one line and exit status 2 by :func:`main`: bad input (``ValueError``, which
covers :class:`hwcost.errors.UsageError`, ``json.JSONDecodeError`` and ``UnicodeDecodeError``), a missing,
existing, unreadable or damaged file or folder (``OSError``: ``FileNotFoundError``, ``FileExistsError``,
``PermissionError``, ``gzip.BadGzipFile``, a full disk), a truncated compressed file (``EOFError``).
Any other exception is a bug and keeps its traceback."""

RESUMABLE: tuple[str, ...] = ("train", "compress")
"""Verbs that keep their finished work in ``--out`` and resume from it when rerun."""


def error_line(verb: str, err: BaseException) -> str:
    """The one stderr line of an expected failure: ``hwcost VERB: error: MESSAGE`` (newlines folded)."""
    message = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, OSError) and err.filename is not None and str(err.filename) not in message:
        message = f"{err.filename}: {message}"
    return f"hwcost {verb}: error: {message}"


def interrupted_line(verb: str) -> str:
    """The one stderr line of a Ctrl-C: how to pick the work up again."""
    if verb in RESUMABLE:
        return f"hwcost {verb}: interrupted; rerun the same command to resume from the last finished epoch"
    return f"hwcost {verb}: interrupted; rerun the same command to start it again"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hwcost`` console script: the one error boundary of every verb.

    Bad input or a bad file (:data:`EXPECTED_ERRORS`) exits with status 2 and one line on stderr; Ctrl-C
    exits with status 130 and one line saying how to resume; anything else propagates with its traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(interrupted_line(args.verb), file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as err:
        print(error_line(args.verb, err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
