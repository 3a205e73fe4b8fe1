"""Load-balance-aware pruning (ESE Sec. 3) against ordinary magnitude pruning on the row-sequential MNIST LSTM.

For each seed: the cached dense 128-cell LSTM (``compress.baseline.dense_baseline``) has its four gate
matrices pruned to density ``--density`` (default 0.1) either by element-wise magnitude or load-balance-aware
(``compress.load_balance.LoadBalanced``: every one of ESE's 32 PEs keeps the same number of nonzeros of each
gate matrix); the classifier is kept dense (it is not part of the LSTM layer ESE runs). Both are retrained
under their fixed masks with the same recipe (the hardware-aware trainer's weight optimizer at λ = 0, no cost
term, ``--retrain-epochs`` epochs). Measured per seed and method:

* test accuracy on the full MNIST test set;
* the archsim latency (``archsim.ese.simulate``, 32 PEs, FIFO depth 8, the real pruned gate matrices, the 28
  pixel rows of ``--eval-images`` test images): ``gate_cycles``, the cycles of the four gate products summed
  over the 28 frames (the work pruning changes), and ``total_cycles``, archsim's whole utterance with the
  plain LSTM's ``y_t = h_t`` run as an identity projection (a product the real LSTM does not have);
  ``pe_utilisation`` and ``load_balance`` (mean over max PE busy cycles) from the same runs.

Writes ``benchmarks/results/lba_lstm_mnist.json`` (atomically, after every run; finished runs are kept in
``--work`` and skipped on a rerun). Requirements checked: mean accuracies within 0.5 points, balanced latency
lower (exit 1 otherwise).

    python benchmarks/lba_lstm_mnist.py [--seeds 0 1 2] [--density 0.1] [--retrain-epochs 2] [--eval-images 20]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from archsim import ese as archsim_ese
from compress import hwtrain
from compress.baseline import dense_baseline
from compress.hwtrain import HwTrainConfig, Penalty
from compress.load_balance import LoadBalanced
from compress.masks import prune_by_magnitude
from compress.training import error_rate
from hwcost.files import write_atomically
from models import lstm
from models.datasets import load_mnist

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "lba_lstm_mnist.json"
PES = archsim_ese.DEFAULT_PES
METHODS = {"magnitude": "element", "load_balanced": LoadBalanced(PES)}
ACCURACY_SPREAD_POINTS = 0.5


def gate_masks(dense: dict, density: float, granularity) -> dict:
    """Masks of the four gates at ``density`` by ``granularity``; the classifier whole."""
    densities = {layer: (density if layer in lstm.GATES else 1.0) for layer in dense}
    return prune_by_magnitude(dense, densities, granularity)


def archsim_latency(weights: dict, images: np.ndarray) -> dict:
    """Mean per image of archsim.ese on the real gate matrices (module docstring)."""
    hardware = {k: np.asarray(v, np.float64) for k, v in lstm.gate_matrices(weights).items()}
    cells = hardware["gate_i"].shape[0]
    lw = archsim_ese.LstmWeights(gates={g[-1]: hardware[g] for g in lstm.GATES}, projection=np.eye(cells))
    rows = []
    for image in images:
        r = archsim_ese.simulate(lw, np.asarray(image, np.float64).reshape(lstm.ROWS, lstm.PIXELS_PER_ROW), pes=PES)
        rows.append((float(r.product_cycles[:, :4].sum()), float(r.cycles), r.pe_utilisation, r.load_balance))
    gate, total, util, balance = np.mean(rows, axis=0)
    return {"gate_cycles": gate, "total_cycles": total, "pe_utilisation": util, "load_balance": balance}


def run_one(data, seed: int, method: str, density: float, epochs: int, eval_images: int, work: Path) -> dict:
    """One seed and method: prune, retrain under the fixed masks, measure."""
    dense = {k: {n: jnp.asarray(v) for n, v in leaves.items()} for k, leaves in
             dense_baseline("lstm", data, seed=seed, progress=False).items()}  # fmt: skip
    masks = gate_masks(dense, density, METHODS[method])
    config = HwTrainConfig(model="lstm", hardware="ese", epochs=0, finetune_epochs=epochs, seed=seed)
    training = hwtrain.hwaware_training(config, len(data.train_labels) // config.batch_size, cost_term=False)
    ckpt = work / f"seed{seed}-{method}.ckpt"
    state, _ = hwtrain.train_hwaware(training, dense, data, Penalty(0.0), masks=masks, progress=False,
                                     checkpoint=ckpt, desc=f"{method} seed {seed}")  # fmt: skip
    _, weights = hwtrain.final_weights(training, state)
    acc = 100.0 * (1.0 - error_rate(training.setup.network, weights, data.test_images, data.test_labels))
    gate_density = float(np.mean([np.mean(np.asarray(weights[g]["kernel"]) != 0) for g in lstm.GATES]))
    return {"seed": seed, "method": method, "test_accuracy_pct": acc, "gate_density": gate_density,
            **archsim_latency(weights, np.asarray(data.test_images[:eval_images]))}  # fmt: skip


def summarize(runs: list[dict], args: argparse.Namespace) -> dict:
    out: dict = {"settings": {"seeds": args.seeds, "density": args.density, "retrain_epochs": args.retrain_epochs,
                              "eval_images": args.eval_images, "pes": PES}, "runs": runs, "methods": {}}  # fmt: skip
    for method in METHODS:
        rows = [r for r in runs if r["method"] == method]
        if not rows:
            continue
        acc = np.array([r["test_accuracy_pct"] for r in rows])
        out["methods"][method] = {
            "seeds": len(rows),
            "test_accuracy_mean_pct": float(acc.mean()),
            "test_accuracy_std_pct": float(acc.std(ddof=1)) if len(rows) > 1 else 0.0,
            "test_accuracy_range_pct": [float(acc.min()), float(acc.max())],
            **{f"{k}_mean": float(np.mean([r[k] for r in rows])) for k in
               ("gate_cycles", "total_cycles", "pe_utilisation", "load_balance", "gate_density")},
        }  # fmt: skip
    m = out["methods"]
    if len(m) == 2:
        mag, bal = m["magnitude"], m["load_balanced"]
        gap = abs(mag["test_accuracy_mean_pct"] - bal["test_accuracy_mean_pct"])
        out["accuracy_gap_points"] = gap
        out["gate_latency_ratio_magnitude_over_balanced"] = mag["gate_cycles_mean"] / bal["gate_cycles_mean"]
        out["total_latency_ratio_magnitude_over_balanced"] = mag["total_cycles_mean"] / bal["total_cycles_mean"]
        out["requirements"] = {
            f"accuracy within {ACCURACY_SPREAD_POINTS} points": bool(gap <= ACCURACY_SPREAD_POINTS),
            "balanced latency lower": bool(bal["gate_cycles_mean"] < mag["gate_cycles_mean"]),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--retrain-epochs", type=int, default=2)
    parser.add_argument("--eval-images", type=int, default=20)
    parser.add_argument("--work", default=str(ROOT / ".cache" / "lba_lstm_mnist"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    data = load_mnist()
    runs = []
    for seed in args.seeds:
        for method in METHODS:
            path = work / f"seed{seed}-{method}.json"
            if path.is_file():
                run = json.loads(path.read_text())
            else:
                run = run_one(data, seed, method, args.density, args.retrain_epochs, args.eval_images, work)
                write_atomically(path, json.dumps(run, indent=1))
            print(f"seed {seed} {method}: accuracy {run['test_accuracy_pct']:.2f}%, gate cycles "
                  f"{run['gate_cycles']:.0f}, total {run['total_cycles']:.0f}", flush=True)  # fmt: skip
            runs.append(run)
            write_atomically(RESULTS, json.dumps(summarize(runs, args), indent=1) + "\n")
    report = summarize(runs, args)
    for method, m in report["methods"].items():
        print(f"{method}: accuracy {m['test_accuracy_mean_pct']:.2f} +- {m['test_accuracy_std_pct']:.2f}% "
              f"(range {m['test_accuracy_range_pct']}), archsim gate cycles {m['gate_cycles_mean']:.0f}, "
              f"total {m['total_cycles_mean']:.0f}, load balance {m['load_balance_mean']:.3f}")  # fmt: skip
    if "requirements" not in report:
        return 1
    print(f"latency ratio magnitude / balanced: gates {report['gate_latency_ratio_magnitude_over_balanced']:.3f}, "
          f"total {report['total_latency_ratio_magnitude_over_balanced']:.3f}; accuracy gap "
          f"{report['accuracy_gap_points']:.2f} points")  # fmt: skip
    for claim, ok in report["requirements"].items():
        print(f"{claim}: {'holds' if ok else 'FAILS'}")
    return 0 if all(report["requirements"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
