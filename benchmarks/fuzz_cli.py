"""The long run of the fuzz suite: the strategies of ``tests/fuzz`` (bad command lines and bad files for every
verb, bad hardware and workload values for every registered cost model), derandomized, over many more cases
than ``make test`` runs, with every failure recorded instead of stopping at the first.

    .venv/bin/python benchmarks/fuzz_cli.py [--cases-per-verb 1200] [--cases-per-model 1500]

Writes ``benchmarks/results/fuzz_cli.json``: cases tried per verb (and per kind of case) and per model, the
failures with their command line (must be none), the run time.
"""

from __future__ import annotations

import argparse
import collections
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hypothesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from hwcost.files import write_atomically  # noqa: E402
from hwcost.formatting import dumps_json  # noqa: E402
from tests.fuzz import api_cases, cli_cases  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "fuzz_cli.json"


def _settings(n: int) -> settings:
    # generate only (no shrinking, no replay of a database): every case is recorded, failures included
    return settings(
        derandomize=True, max_examples=n, deadline=None, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip


def _fuzz(strategy: Any, n: int, kind_of: Any, check: Any) -> tuple[collections.Counter[str], list[dict[str, Any]]]:
    """``n`` cases drawn from ``strategy``: how many of each kind (``kind_of(case)``) and what ``check(case)``
    found wrong (a dict, or ``None`` when the case behaves)."""
    kinds: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, Any]] = []

    @_settings(n)
    @given(strategy)
    def run(case: Any) -> None:
        kinds[kind_of(case)] += 1
        failure = check(case)
        if failure is not None:
            failures.append(failure)

    run()
    return kinds, failures


def _check_cli(case: cli_cases.Case) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory(prefix="hwcost-fuzz-") as folder:
        outcome = cli_cases.run_case(case, Path(folder))
    found = cli_cases.problems(case, outcome)
    if not found:
        return None
    return {**case.describe(), "problems": found, "stderr": outcome.stderr[-600:],
            "traceback_tail": (outcome.escaped or "")[-600:]}  # fmt: skip


def _check_api(case: api_cases.ApiCase) -> dict[str, Any] | None:
    problem = api_cases.api_problem(case)
    return None if problem is None else {**case.describe(), "problem": problem}


def fuzz_verbs(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``n`` generated command lines per verb (and without a verb); counts and failures."""
    parsers = cli_cases.verb_parsers()
    groups = {verb: cli_cases.verb_cases(verb, p) for verb, p in sorted(parsers.items())}
    groups["(no verb)"] = cli_cases.top_level_cases()
    counts: dict[str, Any] = {}
    failures: list[dict[str, Any]] = []
    for verb, strategy in groups.items():
        start = time.perf_counter()
        kinds, found = _fuzz(strategy, n, lambda case: case.kind, _check_cli)
        failures += found
        seconds = round(time.perf_counter() - start, 1)
        counts[verb] = {"cases": sum(kinds.values()), "failures": len(found), "seconds": seconds,
                        "kinds": dict(sorted(kinds.items()))}  # fmt: skip
        print(f"{verb}: {counts[verb]['cases']} cases, {len(kinds)} kinds, {len(found)} failures, "
              f"{counts[verb]['seconds']} s", flush=True)  # fmt: skip
    return counts, failures


def fuzz_models(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``n`` generated check calls per registered cost model; counts and failures."""
    from hwcost.registry import names

    counts: dict[str, Any] = {}
    failures: list[dict[str, Any]] = []
    for name in names():
        kinds, found = _fuzz(api_cases.model_cases(name), n, lambda c: f"{c.target} {c.expect}", _check_api)
        failures += found
        counts[name] = {"cases": sum(kinds.values()), "failures": len(found), "kinds": dict(sorted(kinds.items()))}
        print(f"model {name}: {counts[name]['cases']} cases, {len(found)} failures", flush=True)
    return counts, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases-per-verb", type=int, default=1200)
    parser.add_argument("--cases-per-model", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()
    start = time.perf_counter()
    verbs, cli_failures = fuzz_verbs(args.cases_per_verb)
    models, api_failures = fuzz_models(args.cases_per_model)
    cli_total = sum(v["cases"] for v in verbs.values())
    api_total = sum(m["cases"] for m in models.values())
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(["git", "status", "--short", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                             text=True).stdout.split("\n")  # fmt: skip
    result = {
        "what": "bad command lines and files for every hwcost verb, bad fields for every registered cost model",
        "expected": "exit 2, one stderr line 'hwcost[ VERB]: error: ...', no traceback, no work started, nothing "
        "written outside --out; library: ValueError naming the field",
        "commit": commit,
        "uncommitted_changes_run_with": [line.strip() for line in changed if line.strip()],
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "derandomize": True,
        "cases_per_verb_requested": args.cases_per_verb,
        "cases_per_model_requested": args.cases_per_model,
        "cases_total": cli_total + api_total,
        "cli_cases": cli_total,
        "api_cases": api_total,
        "failures_total": len(cli_failures) + len(api_failures),
        "verbs": verbs,
        "models": models,
        "cli_failures": cli_failures,
        "api_failures": api_failures,
        "seconds": round(time.perf_counter() - start, 1),
    }
    write_atomically(args.out, dumps_json(result) + "\n")
    print(f"{result['cases_total']} cases ({cli_total} command lines, {api_total} library calls), "
          f"{result['failures_total']} failures, {result['seconds']} s -> {args.out}")  # fmt: skip
    return 0 if result["failures_total"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
