"""Dense reference networks, trained once and cached: the starting point of every compression pipeline.

Recipe: Adam (Kingma & Ba) with a cosine-decayed learning rate (2e-3 -> 2e-5), batch 128, flax default
initialisation, :data:`DEFAULT_EPOCHS` epochs. The reference errors of Deep Compression Table 1 are 1.64 %
(LeNet-300-100) and 0.80 % (LeNet-5); the baselines' own test errors are stored with them in the cache and
reported as ``test_error_before`` in ``benchmarks/results/deep_compression_*.json``.

The trained parameters are cached as a checkpoint in ``cache_dir`` (default ``$HWCOST_CACHE_DIR`` or
``~/.cache/hwcost/baselines``), keyed by model, seed, epochs and recipe version, so TTQ, DSD, Deep
Compression and the hardware-aware trainer all start from the same network without retraining it.
Training itself checkpoints every epoch beside the cache entry, so an interrupted run resumes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import optax

from compress.checkpoint import load_checkpoint, save_checkpoint
from compress.training import error_rate, train
from hwcost.checks import check_int_range
from models.datasets import Dataset
from models.registry import TRAINABLE, init_params, make_model

#: Bumped whenever the recipe changes, so stale cache entries are never reused.
RECIPE_VERSION = 1
#: Default epochs per model (enough to meet the reference error of Deep Compression Table 1).
DEFAULT_EPOCHS: dict[str, int] = {name: m.dense_epochs for name, m in TRAINABLE.items()}
#: Peak and final learning rate of the cosine schedule, batch size, decoupled weight decay.
PEAK_LR = 2e-3
FINAL_LR = 2e-5
BATCH_SIZE = 128
WEIGHT_DECAY = 0.0


def default_cache_dir() -> Path:
    """``$HWCOST_CACHE_DIR`` if set, else ``~/.cache/hwcost/baselines``."""
    env = os.environ.get("HWCOST_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "hwcost" / "baselines"


def cache_path(model_name: str, seed: int, epochs: int, cache_dir: str | Path | None = None) -> Path:
    """Checkpoint file of one dense baseline (model, seed, epochs, recipe version)."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"{model_name}-seed{seed}-ep{epochs}-v{RECIPE_VERSION}.ckpt"


def adam_cosine(steps: int, peak_lr: float = PEAK_LR, final_lr: float = FINAL_LR, weight_decay: float = WEIGHT_DECAY):
    """AdamW whose learning rate decays from ``peak_lr`` to ``final_lr`` along a cosine over ``steps``."""
    schedule = optax.cosine_decay_schedule(peak_lr, max(1, steps), alpha=final_lr / peak_lr)
    return optax.adamw(schedule, weight_decay=weight_decay)


def dense_baseline(
    model_name: str,
    data: Dataset,
    *,
    seed: int = 0,
    epochs: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Parameters ``{layer: {"kernel", "bias"}}`` of the trained dense ``model_name``.

    Loaded from the cache when present; otherwise trained (resuming from a partial run) and cached.

    Args:
        model_name: a registered trainable model (:mod:`models.registry`).
        data: MNIST.
        seed: initialisation and batch-order seed.
        epochs: training epochs (>= 0); default :data:`DEFAULT_EPOCHS`.
        cache_dir: cache folder; default :func:`default_cache_dir`.
        progress: show a progress bar while training.
    """
    model = make_model(model_name)  # validates the name
    epochs = DEFAULT_EPOCHS[model_name] if epochs is None else epochs
    check_int_range("epochs", epochs, 0)
    check_int_range("seed", seed, 0)
    path = cache_path(model_name, seed, epochs, cache_dir)
    params = init_params(model_name, seed)
    if path.is_file():
        params, _ = load_checkpoint(path, params)
        return params
    steps = epochs * (len(data.train_labels) // BATCH_SIZE)
    partial = path.with_name(path.name + ".partial")
    result = train(
        model,
        params,
        data,
        adam_cosine(steps),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        seed=seed,
        checkpoint=partial,
        progress=progress,
        desc=f"dense {model_name}",
    )
    err = error_rate(model, result.params, data.test_images, data.test_labels)
    save_checkpoint(path, result.params, {"model": model_name, "seed": seed, "epochs": epochs, "test_error": err})
    partial.unlink(missing_ok=True)
    return result.params


def baseline_for(
    model_name: str, data: Dataset, *, seed: int, workdir: str | Path, progress: bool, small: bool
) -> dict:
    """Dense baseline of a pipeline via :func:`dense_baseline`; in ``small`` mode a one-epoch network
    cached under ``workdir`` (never in the shared cache, whose key does not record the data subset)."""
    if small:
        return dense_baseline(
            model_name, data, seed=seed, epochs=1, cache_dir=Path(workdir) / "baselines", progress=progress
        )
    return dense_baseline(model_name, data, seed=seed, progress=progress)
