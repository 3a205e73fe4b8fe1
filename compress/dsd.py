"""Dense-Sparse-Dense training (Han, Pool, Narang, Mao, Gong, Tang, Elsen, Vajda, Paluri, Tran, Catanzaro,
Dally, ICLR'17, arXiv 1607.04381).

Three phases: **D** train dense; **S** prune by magnitude to a target sparsity (the single extra
hyper-parameter, abstract) and retrain under the fixed mask; **re-D** remove the mask — the pruned
weights restart from exactly zero — and retrain the whole network at a lower learning rate.

Here the D phase is the cached dense baseline (:func:`compress.baseline.dense_baseline`); S and re-D are
one optax transformation: :func:`dsd_masks` is :func:`compress.pruning.magnitude_pruning` with the
schedule ``[(sparse_step, density), (redense_step, 1.0)]`` — pruning to density 1 restores the all-ones
mask, so the masks live in the optimizer state and are checkpointed with it — and
:func:`dsd_learning_rate` drops the learning rate for re-D. The control (:func:`run_pipeline`) trains the
same baseline for the same number of extra epochs with the same learning-rate schedule but no mask, so
the only difference between the two arms is the sparse phase.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

from compress.baseline import WEIGHT_DECAY, baseline_for
from compress.masks import kernel_densities
from compress.pruning import magnitude_pruning, pruning_masks
from compress.training import error_rate, train
from compress.ttq import small_dataset
from hwcost.checks import check_fraction, check_int_range, check_positive
from models.datasets import Dataset
from models.lenet import layer_specs, make_model

#: Sparsity of the S phase. DSD used 25%-80% depending on the network (30% for the ImageNet CNNs, 50% for
#: DeepSpeech; DSD paper Sec. 3, papers.md §7, recalled); we take 50% for the MNIST networks.
DEFAULT_SPARSITY = 0.5
#: Epochs of the S and re-D phases after the dense baseline (ours).
DEFAULT_SPARSE_EPOCHS = 3
DEFAULT_REDENSE_EPOCHS = 3
#: Adam(W) peak learning rate of the S phase and the re-D reduction factor (DSD retrains the final dense
#: network at a lower learning rate; the factor 0.1 is ours). Each phase decays by cosine to 10% of its peak.
SPARSE_LR = 3e-4
REDENSE_LR_FACTOR = 0.1
BATCH_SIZE = 128


def dsd_masks(
    sparse_step: int,
    redense_step: int,
    density: float | Mapping[str, float],
    granularity: str | Mapping[str, str] = "element",
) -> optax.GradientTransformation:
    """Masks of the S phase as an optax transformation (chain it after the optimizer).

    Dense until ``sparse_step``; at ``sparse_step`` prune by magnitude to ``density`` (fraction kept, in
    (0, 1], one or per layer) and keep pruned weights at exactly zero; at ``redense_step`` the mask
    returns to all ones and the pruned weights train again from zero.
    """
    check_int_range("sparse_step", sparse_step, 0)
    check_int_range("redense_step", redense_step, sparse_step + 1)
    return magnitude_pruning([(sparse_step, density), (redense_step, 1.0)], granularity)


def dsd_learning_rate(
    sparse_steps: int, redense_steps: int, lr: float = SPARSE_LR, redense_factor: float = REDENSE_LR_FACTOR
) -> optax.Schedule:
    """Learning rate: cosine from ``lr`` to ``lr/10`` over the S phase, then from ``lr*redense_factor`` to a
    tenth of that over the re-D phase (steps counted in optimizer updates)."""
    check_positive("lr", lr)
    check_positive("redense_factor", redense_factor)
    sparse = optax.cosine_decay_schedule(lr, max(1, sparse_steps), alpha=0.1)
    redense = optax.cosine_decay_schedule(lr * redense_factor, max(1, redense_steps), alpha=0.1)
    return optax.join_schedules([sparse, redense], [sparse_steps])


def dsd_optimizer(
    sparse_steps: int,
    redense_steps: int,
    density: float | Mapping[str, float],
    *,
    lr: float = SPARSE_LR,
    redense_factor: float = REDENSE_LR_FACTOR,
    sparse: bool = True,
) -> optax.GradientTransformation:
    """AdamW on :func:`dsd_learning_rate` followed by :func:`dsd_masks` (pruning at step 0, re-densifying
    at ``sparse_steps``); ``sparse=False`` gives the dense control with the identical schedule."""
    schedule = dsd_learning_rate(sparse_steps, redense_steps, lr, redense_factor)
    adam = optax.adamw(schedule, weight_decay=WEIGHT_DECAY)
    if not sparse:
        return adam
    return optax.chain(adam, dsd_masks(0, max(1, sparse_steps), density))


def run_pipeline(
    model_name: str,
    data: Dataset,
    *,
    seed: int = 0,
    workdir: str | Path | None = None,
    progress: bool = True,
    small: bool = False,
    sparsity: float = DEFAULT_SPARSITY,
    sparse_epochs: int | None = None,
    redense_epochs: int | None = None,
    control: bool = True,
) -> dict:
    """Dense baseline -> S (prune to ``sparsity``, retrain) -> re-D (free the pruned weights, lower lr).

    With ``control`` the baseline is also trained densely for the same S + re-D epochs under the same
    learning-rate schedule, so DSD and dense are compared at the same total epochs.

    Args:
        model_name: ``"lenet300"`` or ``"lenet5"``.
        data: MNIST.
        seed: baseline and batch-order seed.
        workdir: folder for the resumable phase checkpoints; a temporary folder if None.
        progress: progress bars.
        small: plumbing run (12,800-example subset, one baseline epoch, one epoch per phase: 300 steps).
        sparsity: fraction of each layer's weights removed in the S phase, in [0, 1).
        sparse_epochs, redense_epochs: phase lengths (defaults :data:`DEFAULT_SPARSE_EPOCHS`,
            :data:`DEFAULT_REDENSE_EPOCHS`).
        control: also train the dense control.

    Returns:
        ``{"model", "pipeline": "dsd", "test_error_before" (dense baseline), "test_error_after" (DSD),
        "layers": [...], "total": {...}, "details": {...}}`` (errors in percent); per layer the S-phase
        density (``sparse_weights_kept_pct``) and the final one (``weights_kept_pct``, 100 after re-D).
    """
    check_fraction("sparsity", sparsity)
    if sparsity >= 1:
        raise ValueError(f"sparsity={sparsity} is outside [0, 1)")
    model = make_model(model_name)
    specs = layer_specs(model_name)
    s_epochs = (1 if small else DEFAULT_SPARSE_EPOCHS) if sparse_epochs is None else sparse_epochs
    d_epochs = (1 if small else DEFAULT_REDENSE_EPOCHS) if redense_epochs is None else redense_epochs
    check_int_range("sparse_epochs", s_epochs, 1)
    check_int_range("redense_epochs", d_epochs, 0)
    density = 1.0 - sparsity
    if small:
        data = small_dataset(data)
    steps_per_epoch = len(data.train_labels) // BATCH_SIZE
    s_steps, d_steps = s_epochs * steps_per_epoch, d_epochs * steps_per_epoch
    total = s_epochs + d_epochs

    def err(params: dict) -> float:
        return 100.0 * error_rate(model, params, data.test_images, data.test_labels)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        dense = baseline_for(model_name, data, seed=seed, workdir=work, progress=progress, small=small)
        tag = f"{model_name}-seed{seed}-s{sparsity:g}-ep{s_epochs}+{d_epochs}{'-small' if small else ''}"

        def run(opt: optax.GradientTransformation, epochs: int, name: str) -> tuple[dict, object]:
            result = train(
                model,
                dense,
                data,
                opt,
                epochs=epochs,
                batch_size=BATCH_SIZE,
                seed=seed + 1000,  # batch order of the continuation, distinct from the baseline's
                checkpoint=work / f"dsd-{name}-{tag}.ckpt",
                progress=progress,
                desc=f"{name} {model_name}",
            )
            return result.params, result.opt_state

        # Stop after the S phase (the sparse network), then continue a copy of that run through re-D.
        sparse_params, sparse_state = run(dsd_optimizer(s_steps, d_steps, density), s_epochs, "dsd-sparse")
        sparse_masks = pruning_masks(sparse_state)
        if not (work / f"dsd-dsd-{tag}.ckpt").is_file():
            shutil.copyfile(work / f"dsd-dsd-sparse-{tag}.ckpt", work / f"dsd-dsd-{tag}.ckpt")
        dsd_params, _ = run(dsd_optimizer(s_steps, d_steps, density), total, "dsd")
        control_params = None
        if control:
            control_params, _ = run(dsd_optimizer(s_steps, d_steps, density, sparse=False), total, "dense")

    before, after = err(dense), err(dsd_params)
    sparse_dens = kernel_densities(jax.tree.map(jnp.asarray, sparse_masks))
    final_dens = kernel_densities(dsd_params)
    rows = [
        {
            "layer": s.name,
            "num_weights": s.num_weights,
            "sparse_weights_kept_pct": 100.0 * sparse_dens[s.name],
            "weights_kept_pct": 100.0 * final_dens[s.name],
            "weight_bits": 32,
        }
        for s in specs
    ]
    n = sum(s.num_weights for s in specs)
    return {
        "model": model_name,
        "pipeline": "dsd",
        "test_error_before": before,
        "test_error_after": after,
        "layers": rows,
        "total": {
            "num_weights": n,
            "sparse_weights_kept_pct": sum(r["sparse_weights_kept_pct"] * r["num_weights"] for r in rows) / n,
            "weights_kept_pct": sum(r["weights_kept_pct"] * r["num_weights"] for r in rows) / n,
        },
        "details": {
            "seed": seed,
            "small": small,
            "sparsity": sparsity,
            "sparse_epochs": s_epochs,
            "redense_epochs": d_epochs,
            "extra_epochs_after_baseline": total,
            "test_error_sparse_phase": err(sparse_params),
            "test_error_dense_control": None if control_params is None else err(control_params),
            "lr": SPARSE_LR,
            "redense_lr_factor": REDENSE_LR_FACTOR,
            "test_examples": len(data.test_labels),
        },
    }
