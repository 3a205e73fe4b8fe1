"""``hwcost report DIR [--json]``: print the report of a ``hwcost train`` run again (table or JSON)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwcost.cli.output import format_table, print_json
from hwcost.errors import UsageError
from hwcost.files import read_json

HELP = "Print the report of a hwcost train run (table, or JSON with --json)."

COLUMNS = (
    "point", "kind", "test_error_pct", "exact_rel_dense", "exact", "hard_over_exact", "relaxed_over_exact",
    "weight_density",
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost report``."""
    parser.add_argument("dir", help="output directory of hwcost train (holds report.json)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


REPORT_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": str, "hardware": str, "objective": str, "exact_source": str, "dense_exact": (int, float), "rows": list,
}  # fmt: skip
"""Top-level keys every ``hwcost train`` report has, with their JSON types."""
ROW_KEYS: dict[str, type | tuple[type, ...]] = {"point": str, "kind": str, "test_error_pct": (int, float)}
"""Keys every row of a report has."""
BEST_KEYS: dict[str, type | tuple[type, ...]] = {
    k: (int, float) for k in ("ratio", "baseline_error_pct", "baseline_cost", "joint_error_pct", "joint_cost")
}
"""Keys of the report's ``best_ratio_vs_magnitude`` (when not null)."""


def _too_large(value: Any) -> bool:
    """A JSON integer beyond the float range (Python reads it exactly; formatting it as a float fails)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1.7976931348623157e308


def check_report(report: Any, path: str | Path) -> None:
    """:class:`~hwcost.errors.UsageError` naming ``path`` and the first missing or mistyped key if ``report``
    is not a ``hwcost train`` report (valid JSON that something else wrote)."""
    fix = "it is not a hwcost train report; point hwcost report at the --out folder of hwcost train"

    def check(where: str, value: Any, keys: Mapping[str, type | tuple[type, ...]]) -> None:
        if not isinstance(value, dict):
            raise UsageError(f"{path}: {where} is a JSON {type(value).__name__}, not an object; {fix}")
        for key, kind in keys.items():
            if key not in value:
                raise UsageError(f"{path}: {where} has no {key!r}; {fix}")
            if isinstance(value[key], bool) or not isinstance(value[key], kind):
                raise UsageError(f"{path}: {where}[{key!r}]={value[key]!r:.40} has the wrong type; {fix}")
            if _too_large(value[key]):
                raise UsageError(f"{path}: {where}[{key!r}]={value[key]!r:.40}... is too large for a float; {fix}")

    check("the report", report, REPORT_KEYS)
    if not report["rows"]:
        raise UsageError(f"{path}: the report has no rows; {fix}")
    for i, row in enumerate(report["rows"]):
        check(f"rows[{i}]", row, ROW_KEYS)
        for column in COLUMNS:
            value = row.get(column)
            if value is not None and not isinstance(value, str | int | float):
                raise UsageError(f"{path}: rows[{i}][{column!r}]={value!r:.40} is not a number or text; {fix}")
            if _too_large(value):
                raise UsageError(f"{path}: rows[{i}][{column!r}]={value!r:.40}... is too large for a float; {fix}")
    if report.get("best_ratio_vs_magnitude") is not None:
        check("best_ratio_vs_magnitude", report["best_ratio_vs_magnitude"], BEST_KEYS)
    if report.get("dominance_vs_deep_compression") is not None:
        dominance = report["dominance_vs_deep_compression"]
        check("dominance_vs_deep_compression", dominance, {})
        if dominance.get("ratio") is not None:
            check("dominance_vs_deep_compression", dominance, {"ratio": (int, float)})


def load_report(directory: str | Path) -> dict[str, Any]:
    """Read ``DIR/report.json``; :class:`~hwcost.errors.UsageError` naming the path if it is missing, not
    UTF-8 JSON or not a report (:func:`check_report`)."""
    path = Path(directory) / "report.json"
    if not path.is_file():
        raise UsageError(f"dir={str(directory)!r} holds no report.json (run hwcost train --out {directory} first)")
    report = read_json(path)
    check_report(report, path)
    return report


def format_report(report: Mapping[str, Any]) -> str:
    """Human-readable summary: one row per point, then the dominance of the joint method."""
    unit = report.get("exact_unit", "")
    head = (
        f"{report['model']} on {report['hardware']} ({report['objective']}); exact = {report['exact_source']}, "
        f"dense = {report['dense_exact']:.4g} {unit}"
    )
    lines = [head, "", format_table(report["rows"], COLUMNS)]
    best = report.get("best_ratio_vs_magnitude")
    lines.append("")
    if best:
        lines.append(
            f"joint vs magnitude pruning at equal or better test error: best {best['ratio']:.2f}x lower "
            f"{report['objective']} (magnitude {best['baseline_error_pct']:.2f}% at "
            f"{best['baseline_cost']:.4g} {unit} vs joint {best['joint_error_pct']:.2f}% at {best['joint_cost']:.4g})"
        )
    elif any(row["kind"] == "magnitude" for row in report["rows"]):
        lines.append("no joint point reaches the test error of any magnitude-pruning point")
    dc = report.get("dominance_vs_deep_compression")
    if dc and dc.get("ratio"):
        lines.append(
            f"joint vs Deep Compression at equal or better test error: {dc['ratio']:.2f}x lower {report['objective']}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the stored report."""
    report = load_report(args.dir)
    if args.json:
        print_json({k: v for k, v in report.items() if k != "points"})
    else:
        print(format_report(report))
    return 0
