"""Granularity ladder on LeNet-5: test error and storage (index bits included) at 75% sparsity for
element, vector, kernel and filter pruning (Regularity study, Mao et al., arXiv 1705.08922; papers.md §4).
Writes ``results/granularity_ladder_lenet5.json`` and ``.txt``. Usage: ``python benchmarks/granularity_ladder.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from compress.ladder import ladder_table, run_ladder
from models.datasets import load_mnist

RESULTS = Path(__file__).resolve().parent / "results"


def format_table(result: dict) -> str:
    """Printable ladder table."""
    lines = [
        f"Granularity ladder, {result['model']}: layers {', '.join(result['pruned_layers'])} pruned to "
        f"{result['density']:.0%} density, {result['weight_bits']}-bit weights; storage includes relative indices",
        f"{'granularity':<12}{'error %':>9}{'kept %':>8}{'storage KB':>12}{'index KB':>10}"
        f"{'idx bits/kept w':>17}{'conv idx bits/kept w':>22}{'rate':>7}",
    ]
    for r in ladder_table(result):
        lines.append(
            f"{r['granularity']:<12}{r['test_error_pct']:>9.2f}{r['weights_kept_pct']:>8.1f}{r['storage_kb']:>12.1f}"
            f"{r['index_kb']:>10.2f}{r['index_bits_per_kept_weight']:>17.3f}"
            f"{r['conv_index_bits_per_kept_weight']:>22.3f}{r['compression_rate']:>6.2f}x"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the ladder and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="plumbing run (not written to results/)")
    args = parser.parse_args(argv)
    result = run_ladder("lenet5", load_mnist(), seed=0, small=args.small, progress=False)
    text = format_table(result)
    print(text)
    if not args.small:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "granularity_ladder_lenet5.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "granularity_ladder_lenet5.txt").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
