"""Fuzzed command line: bad arguments and bad files for every verb of the parser (:mod:`tests.fuzz.cli_cases`)
are each refused with exit status 2 and one line on stderr, without a traceback, before any work, and without
writing anything outside ``--out``. ``benchmarks/fuzz_cli.py`` runs the same cases 10,000 times and more."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import cli_cases

VERBS = sorted(cli_cases.verb_parsers())
EXAMPLES_PER_VERB = 80
"""Bounded and derandomized: the suite takes a few seconds per verb on 2 cores."""

FUZZ = settings(
    derandomize=True, max_examples=EXAMPLES_PER_VERB, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)  # fmt: skip


def _check(case: cli_cases.Case) -> None:
    with tempfile.TemporaryDirectory(prefix="hwcost-fuzz-") as folder:
        cli_cases.check_case(case, Path(folder))


def test_every_verb_of_the_parser_is_fuzzed():
    assert set(VERBS) >= {"train", "compress", "simulate", "validate", "models", "report"}


@pytest.mark.parametrize("verb", VERBS)
def test_bad_command_lines_of_each_verb_are_one_line_and_exit_2(verb):
    @FUZZ
    @given(cli_cases.verb_cases(verb, cli_cases.verb_parsers()[verb]))
    def fuzz(case):
        _check(case)

    fuzz()


@FUZZ
@given(cli_cases.top_level_cases())
def test_bad_command_lines_without_a_verb_are_one_line_and_exit_2(case):
    _check(case)


def test_a_case_that_would_start_work_is_reported():
    """The guard itself: a valid command line reaches MNIST and is flagged, never trains."""
    case = cli_cases.Case("compress", "valid", ["compress", "--model", "lenet300", "--out", "out"])
    with tempfile.TemporaryDirectory() as folder:
        outcome = cli_cases.run_case(case, Path(folder))
    assert outcome.escaped is not None and "ReachedWork" in outcome.escaped
    assert cli_cases.problems(case, outcome)
