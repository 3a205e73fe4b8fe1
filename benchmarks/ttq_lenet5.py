"""TTQ on LeNet-5, first and last layer in full precision (Zhu et al., ICLR'17; papers.md §6).

Target: test error within 0.3 points of the full-precision network. Writes
``results/ttq_lenet5.json`` (the pipeline report) and ``results/ttq_lenet5.txt`` (per-layer table with the
learned scales and the ternary sparsity). Usage: ``python benchmarks/ttq_lenet5.py [--small]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from compress.ttq import run_pipeline
from models.datasets import load_mnist

RESULTS = Path(__file__).resolve().parent / "results"
#: Allowed gap between TTQ and full-precision test error, in percentage points (task target).
MAX_GAP_POINTS = 0.3


def table(report: dict) -> str:
    """Human-readable per-layer table of a TTQ report."""
    lines = [
        f"TTQ on {report['model']}: test error {report['test_error_before']:.2f}% (full precision) -> "
        f"{report['test_error_after']:.2f}% (TTQ), gap "
        f"{report['test_error_after'] - report['test_error_before']:+.2f} points (target <= {MAX_GAP_POINTS})",
        "",
        f"{'layer':<8}{'#weights':>10}{'bits':>6}{'nonzero %':>11}{'sparsity %':>12}{'W_p':>10}{'W_n':>10}",
    ]
    for r in report["layers"]:
        scales = ("-", "-") if r["full_precision"] else (f"{r['w_p']:.4f}", f"{r['w_n']:.4f}")
        lines.append(
            f"{r['layer']:<8}{r['num_weights']:>10}{r['weight_bits']:>6}{r['weights_kept_pct']:>11.1f}"
            f"{100 - r['weights_kept_pct']:>12.1f}{scales[0]:>10}{scales[1]:>10}"
        )
    t = report["total"]
    lines.append(
        f"{'total':<8}{t['num_weights']:>10}{'':>6}{t['weights_kept_pct']:>11.1f}{100 - t['weights_kept_pct']:>12.1f}"
        f"   storage {t['storage_bits'] / 8 / 1024:.1f} KB, {t['compression_rate']:.1f}x vs 32-bit"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline and write the results; returns 1 if the accuracy target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="plumbing run (not written to results/)")
    args = parser.parse_args(argv)
    report = run_pipeline("lenet5", load_mnist(), seed=0, small=args.small, progress=False)
    gap = report["test_error_after"] - report["test_error_before"]
    report["details"]["gap_points"] = gap
    report["details"]["target_met"] = gap <= MAX_GAP_POINTS
    text = table(report)
    print(text)
    if not args.small:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "ttq_lenet5.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / "ttq_lenet5.txt").write_text(text)
    return 0 if report["details"]["target_met"] or args.small else 1


if __name__ == "__main__":
    raise SystemExit(main())
