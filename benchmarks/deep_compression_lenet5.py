"""Deep Compression on LeNet-5 (Han et al., ICLR'16, Tables 1 and 3): prune + quantize + Huffman on MNIST.

Paper: 39x (P+Q+H) at 0.74% top-1 error (reference 0.80%). Writes
``benchmarks/results/deep_compression_<model>.json`` (the full report) and ``.txt`` (the per-layer table).
Checkpoints go to ``runs/bench-deep-compression-<model>``, so an interrupted run resumes.

Usage: ``python benchmarks/deep_compression_lenet5.py [--model lenet5|lenet300] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compress.deep_compression import run_pipeline  # noqa: E402
from hwcost.cli.compress import format_report  # noqa: E402
from hwcost.cli.output import to_jsonable  # noqa: E402
from models.datasets import load_mnist  # noqa: E402

#: Deep Compression Table 1 (V-P): compressed top-1 error (%) and P+Q+H compression of each network.
PAPER: dict[str, dict[str, float]] = {
    "lenet300": {"reference_error_pct": 1.64, "compressed_error_pct": 1.58, "compression_pqh": 40.0},
    "lenet5": {"reference_error_pct": 0.80, "compressed_error_pct": 0.74, "compression_pqh": 39.0},
}


def main(argv: list[str] | None = None, model: str = "lenet5") -> int:
    """Run the pipeline and write the results files; returns 0 when the paper's targets are met."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=model, choices=sorted(PAPER))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = run_pipeline(
        args.model,
        load_mnist(),
        seed=args.seed,
        workdir=ROOT / "runs" / f"bench-deep-compression-{args.model}",
        progress=not args.no_progress,
    )
    paper = PAPER[args.model]
    report["details"]["paper_table1"] = paper
    report["details"]["wall_s"] = round(time.perf_counter() - start, 1)
    report["details"]["machine"] = f"{platform.machine()}, {platform.processor() or 'cpu'}"
    met = (
        report["total"]["compression_pqh"] >= paper["compression_pqh"]
        and report["test_error_after"] <= paper["reference_error_pct"]
    )
    report["details"]["meets_paper"] = met
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"deep_compression_{args.model}.json").write_text(json.dumps(to_jsonable(report), indent=2) + "\n")
    text = format_report(report) + (
        f"\npaper (Table 1): {paper['compression_pqh']:.0f}x at {paper['compressed_error_pct']:.2f}% "
        f"(reference {paper['reference_error_pct']:.2f}%); met: {met}\n"
    )
    (out / f"deep_compression_{args.model}.txt").write_text(text)
    print(text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
