"""DSD on LeNet-300-100 vs dense training with the same total epochs, three seeds (Han et al., ICLR'17;
papers.md §7). Both arms start from the same cached dense baseline and train the same extra epochs under
the same learning-rate schedule; only DSD's sparse phase differs. Writes ``results/dsd_lenet300.json``
and ``results/dsd_lenet300.txt``. Usage: ``python benchmarks/dsd_lenet300.py [--small]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from compress.dsd import run_pipeline
from models.datasets import load_mnist

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = (0, 1, 2)


def main(argv: list[str] | None = None) -> int:
    """Run DSD and the dense control for each seed, print and write the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="plumbing run (not written to results/)")
    args = parser.parse_args(argv)
    data = load_mnist()
    runs = []
    for seed in SEEDS:
        r = run_pipeline("lenet300", data, seed=seed, small=args.small, progress=False)
        runs.append(
            {
                "seed": seed,
                "baseline_error_pct": r["test_error_before"],
                "sparse_phase_error_pct": r["details"]["test_error_sparse_phase"],
                "dsd_error_pct": r["test_error_after"],
                "dense_same_epochs_error_pct": r["details"]["test_error_dense_control"],
                "report": r,
            }
        )
        print({k: v for k, v in runs[-1].items() if k != "report"}, flush=True)
    summary = {}
    for key in ("baseline_error_pct", "sparse_phase_error_pct", "dsd_error_pct", "dense_same_epochs_error_pct"):
        values = np.array([run[key] for run in runs])
        summary[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)), "values": values.tolist()}
    diff = np.array([run["dsd_error_pct"] - run["dense_same_epochs_error_pct"] for run in runs])
    summary["dsd_minus_dense_points"] = {
        "mean": float(diff.mean()),
        "std": float(diff.std(ddof=1)),
        "values": diff.tolist(),
    }
    d = runs[0]["report"]["details"]
    lines = [
        f"DSD on LeNet-300-100, sparsity {d['sparsity']:.0%} in the S phase, {d['sparse_epochs']} S + "
        f"{d['redense_epochs']} re-D epochs after the dense baseline; dense control: same "
        f"{d['extra_epochs_after_baseline']} extra epochs, same schedule. Test error %, mean ± std over seeds {SEEDS}:",
    ]
    for key, label in (
        ("baseline_error_pct", "dense baseline"),
        ("sparse_phase_error_pct", "after S phase (sparse)"),
        ("dsd_error_pct", "DSD"),
        ("dense_same_epochs_error_pct", "dense, same total epochs"),
        ("dsd_minus_dense_points", "DSD - dense (points)"),
    ):
        s = summary[key]
        lines.append(f"  {label:<26}{s['mean']:6.3f} ± {s['std']:.3f}   ({', '.join(f'{v:.2f}' for v in s['values'])})")
    # Is the difference measurable? Paired t over seeds, and the binomial standard error of one error rate.
    n_test = runs[0]["report"]["details"]["test_examples"]
    p = summary["dense_same_epochs_error_pct"]["mean"] / 100
    binomial_se_points = 100 * float(np.sqrt(p * (1 - p) / n_test))
    t_stat = float(diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff)))) if diff.std(ddof=1) > 0 else 0.0
    summary["paired_t"] = {"t": t_stat, "dof": len(diff) - 1}
    summary["binomial_se_points"] = binomial_se_points
    summary["difference_in_test_images"] = float(diff.mean() / 100 * n_test)
    lines.append(
        f"  paired t over seeds = {t_stat:.2f} ({len(diff) - 1} dof); the mean difference is "
        f"{abs(diff.mean()) / 100 * n_test:.0f} of {n_test} test images; binomial standard error of one "
        f"error rate {binomial_se_points:.2f} points: "
        + (
            "no measurable benefit of DSD at this scale."
            if abs(diff.mean()) < binomial_se_points
            else "a difference larger than the test-set resolution."
        )
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.small:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "dsd_lenet300.json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=2) + "\n")
        (RESULTS / "dsd_lenet300.txt").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
