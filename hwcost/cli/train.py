"""``hwcost train``: hardware-aware training of masks and thresholds against accuracy plus simulated cost.

Usage::

    hwcost train [--model lenet300|lenet5|lstm] [--hardware NAME] [--objective energy|latency]
                 [--lambda L ... | --budget B ...] [--out DIR] [--seed S] [--json]
                 [--groups LAYER=G[,G] ...] [--ttq] [--ste] [--init-threshold T]

The compression decisions trained are a magnitude threshold per layer and the group gates of
``--groups`` (default: the input pixels of the first layer and every hidden neuron; for the LSTM every gate
matrix's input columns and its cells, :func:`models.registry.lstm_groups`); ``--ttq`` ternarizes
the kept weights, the thresholds becoming Trained Ternary Quantization's ``t``; ``--ste`` trains hard masks
with straight-through gradients instead of annealed soft ones (:mod:`compress.hwaware`).

With neither ``--lambda`` nor ``--budget`` it sweeps the default λ values of the model (a Pareto front).
It trains from the cached dense baseline, adds the hardware-agnostic baselines (magnitude pruning at
several densities, retrained for the same epochs; the Deep Compression pipeline, for the models it has a
recipe for) and writes to DIR:

* ``report.json``: every point (test error, exact cost, hard and relaxed model values, structure),
  the Pareto fronts and the energy (or latency) ratio of the joint method over magnitude pruning at equal
  or better test error; ``hwcost report DIR`` prints it again;
* ``models/<point>.ckpt``: the masked parameters of each joint point, and ``models/<point>.hwdc`` the
  same network in the compressed file format of :mod:`compress.export` (6-bit shared weights);
* ``pareto.png``: test error against the exact cost relative to the dense network.

The exact cost is the model's reference simulator's (``hwcost models`` lists which have one) on the real
pruned weights and real test activations, batch 1; without a simulator it is the cost model evaluated exactly.
Interrupted runs resume: finished points are kept in ``DIR/points`` and unfinished ones restart
from their last epoch checkpoint in ``DIR/checkpoints``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from hwcost.checks import check_choice, check_fraction, check_int_range, check_non_negative
from hwcost.cli.output import check_out_dir
from hwcost.types import check_objective

HELP = "Hardware-aware training: masks and thresholds trained against accuracy plus simulated cost."

TRAIN_IMAGES = 60_000
TEST_IMAGES = 10_000
"""MNIST's training and test set sizes (the largest ``--train-subset`` and ``--eval-images``)."""


def model_names() -> tuple[str, ...]:
    """The trainable models (:mod:`models.registry`), in registration order."""
    from models.registry import names

    return names()


def default_lambdas(model: str) -> tuple[float, ...]:
    """The model's default sweep (:attr:`models.registry.TrainableModel.default_lambdas`): penalty weights λ on
    the cost relative to the dense network on the training data (cross-entropy in nats per unit of dense
    cost)."""
    from models.registry import trainable

    return trainable(model).default_lambdas


def has_deep_compression(model: str) -> bool:
    """Whether the Deep Compression pipeline has a recipe for ``model`` (its point is skipped otherwise)."""
    from compress.deep_compression import CONFIGS

    return model in CONFIGS


DEFAULT_OUT = "hwcost-train"
TTQ_INIT_THRESHOLD = 0.05
"""Initial threshold with ``--ttq``: TTQ's t = 0.05 (Zhu et al., ICLR'17, Sec. 3), in max|w| units."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``hwcost train``."""
    parser.add_argument("--model", default="lenet300",
                        help="trainable model: lenet300 (default), lenet5 or lstm (row-sequential MNIST)")  # fmt: skip
    parser.add_argument("--hardware", default="eie", help="registered cost model (default eie; see hwcost models)")
    parser.add_argument("--objective", default="energy", help="energy (default) or latency")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--lambda", dest="lambdas", type=float, nargs="+", help="penalty weight(s) λ >= 0")
    target.add_argument("--budget", dest="budgets", type=float, nargs="+", help="budget(s), fraction of dense cost")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default ./{DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the baseline, batch order (default 0)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    size = parser.add_argument_group("run size")
    size.add_argument("--epochs", type=int, default=None, help="joint epochs per point (default 3)")
    size.add_argument("--finetune-epochs", type=int, default=None, help="frozen-mask epochs per point (default 3)")
    size.add_argument("--magnitude-densities", type=float, nargs="*", default=None,
                      help="densities of the magnitude-pruning baseline (default 0.1 0.06 0.04 0.025)")  # fmt: skip
    size.add_argument("--no-deep-compression", action="store_true", help="skip the Deep Compression point")
    size.add_argument("--eval-images", type=int, default=100,
                      help="test images run through the reference simulator (default 100)")  # fmt: skip
    size.add_argument("--train-subset", type=int, default=None,
                      help="train on the first N training images (quick checks; baseline cached in DIR)")  # fmt: skip
    size.add_argument("--dense-epochs", type=int, default=None, help="dense baseline epochs (default: its own)")
    size.add_argument("--quiet", action="store_true", help="no progress bars")
    decisions = parser.add_argument_group("compression decisions")
    decisions.add_argument("--groups", nargs="+", metavar="LAYER=G[,G]", default=None,
                           help="group gates of a layer (vector, kernel, filter, channel; 'LAYER=' for none); "
                                "layers not named keep the default: channel on the first fc layer, filter on "
                                "every hidden layer")  # fmt: skip
    decisions.add_argument("--ttq", action="store_true",
                           help="ternarize the kept weights (thresholds are TTQ's t, in max|w| units)")  # fmt: skip
    decisions.add_argument("--ste", action="store_true",
                           help="hard masks in the forward pass, straight-through gradients "
                                "(default: soft masks, annealed)")  # fmt: skip
    decisions.add_argument("--init-threshold", type=float, default=None,
                           help=f"initial element threshold (mean|w| units; default 0, {TTQ_INIT_THRESHOLD} "
                                "max|w| with --ttq)")  # fmt: skip


def parse_groups(model: str, items: list[str] | None) -> dict[str, tuple[str, ...]] | None:
    """``["ip1=channel", "ip2=filter,vector", "ip3="]`` -> the model's default groups with these layers
    replaced; ``None`` if no item is given (the trainer's default)."""
    if not items:
        return None
    from compress.hwtrain import default_groups

    groups = default_groups(model)
    for item in items:
        layer, sep, grans = item.partition("=")
        if not sep:
            raise ValueError(f"groups={item!r} is malformed; allowed: LAYER=G[,G] (e.g. ip1=channel,filter)")
        groups[layer.strip()] = tuple(g.strip() for g in grans.split(",") if g.strip())
    return groups


def validate(args: argparse.Namespace) -> None:
    """Raise ``ValueError`` with a clear message for bad input (before any training)."""
    from compress.hwtrain import check_budget, check_train_config
    from hwcost.registry import names

    check_choice("model", args.model, model_names())
    check_choice("hardware", args.hardware, names())
    check_objective(args.objective)
    for lam in args.lambdas or ():
        check_non_negative("lambda", lam)
    for b in args.budgets or ():
        check_budget(args.model, args.hardware, args.objective, b)
    check_int_range("seed", args.seed, 0)
    for name in ("epochs", "finetune_epochs", "dense_epochs"):
        if getattr(args, name) is not None:
            check_int_range(name.replace("_", "-"), getattr(args, name), 0)
    check_int_range("eval-images", args.eval_images, 1, TEST_IMAGES)
    if args.train_subset is not None:
        check_int_range("train-subset", args.train_subset, 128, TRAIN_IMAGES)
    for d in args.magnitude_densities or ():
        check_fraction("magnitude density", d, open_low=True)
    if args.init_threshold is not None:
        check_non_negative("init-threshold", args.init_threshold)
    check_train_config(experiment_config(args).train)  # groups, thresholds, the rest of the settings
    check_out_dir(args.out, parent_must_exist=True)


def experiment_config(args: argparse.Namespace) -> Any:
    """The :class:`hwcost.experiments.ExperimentConfig` of the command line."""
    from compress.hwaware import MaskConfig
    from compress.hwtrain import HwTrainConfig
    from hwcost.experiments import ExperimentConfig

    train_kw: dict[str, Any] = {"model": args.model, "hardware": args.hardware, "objective": args.objective,
                                "seed": args.seed}  # fmt: skip
    if args.epochs is not None:
        train_kw["epochs"] = args.epochs
    if args.finetune_epochs is not None:
        train_kw["finetune_epochs"] = args.finetune_epochs
    init_threshold = TTQ_INIT_THRESHOLD if args.ttq else 0.0
    if args.init_threshold is not None:
        init_threshold = args.init_threshold
    train_kw["masks"] = MaskConfig(groups=parse_groups(args.model, args.groups), mode="ste" if args.ste else "soft",
                                   ttq=args.ttq, init_threshold=init_threshold)  # fmt: skip
    lambdas = tuple(args.lambdas or ())
    budgets = tuple(args.budgets or ())
    if not lambdas and not budgets:
        lambdas = default_lambdas(args.model)
    kw: dict[str, Any] = {}
    if args.magnitude_densities is not None:
        kw["magnitude_densities"] = tuple(args.magnitude_densities)
    return ExperimentConfig(
        train=HwTrainConfig(**train_kw), lambdas=lambdas, budgets=budgets,
        deep_compression=not args.no_deep_compression and has_deep_compression(args.model),
        eval_images=args.eval_images,
        dense_epochs=args.dense_epochs, **kw,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Validate, run (or resume) the sweep, write the report, model files and plot, print the table."""
    validate(args)
    from hwcost.cli.output import print_json
    from hwcost.cli.report import format_report
    from hwcost.experiments import plot_report, run_experiment
    from hwcost.files import output_lock
    from models.datasets import load_mnist, subset

    config = experiment_config(args)
    data = load_mnist()
    out = Path(args.out)
    baseline_cache = None
    if args.train_subset is not None:
        data = subset(data, args.train_subset, len(data.test_labels))
        baseline_cache = out / "baseline"  # never poison the shared cache with a subset-trained network
    quiet = args.quiet or args.json
    log = (lambda s: None) if quiet else print
    with output_lock(out):
        progress = not quiet and _tty()
        report = run_experiment(config, data, out, progress=progress, log=log, baseline_cache=baseline_cache)
        plot_report(report, out / "pareto.png")
    if args.json:
        print_json({k: v for k, v in report.items() if k != "points"})
    else:
        print(format_report(report))
        print(f"\nwrote {out / 'report.json'}, {out / 'pareto.png'}, {out / 'models'}")
    return 0


def _tty() -> bool:
    return os.isatty(2) or os.environ.get("HWCOST_PROGRESS") == "1"
