"""The Deep Compression pipeline (Han, Mao & Dally, ICLR'16): prune -> quantize (share) -> Huffman.

1. Dense baseline (:func:`compress.baseline.dense_baseline`, cached).
2. Iterative magnitude pruning with retraining (Sec. 2): the masks are tightened geometrically over a
   few stages to per-layer densities near the paper's (Tables 2, 3; deviations noted in :data:`CONFIGS`),
   then the survivors are retrained with the masks fixed (:func:`compress.pruning.magnitude_pruning`
   keeps them in the optimizer state). Retraining uses Adam with an L2 penalty, on the training set plus
   one copy translated by up to 2 pixels (a deviation from the paper, disclosed in the report's ``config``;
   its effect on the test error is recorded in ``benchmarks/results/deep_compression_lenet300.json``).
3. Trained quantization (Sec. 3): per-layer k-means with linear initialisation, then centroid fine-tuning
   through :func:`compress.sharing.shared_weights` (gradient of a centroid = sum over its cluster, Eq. 3).
4. Huffman coding of weight codes and relative indices (Sec. 4) and sparse storage with filler zeros
   (Sec. 2), counted bit-exactly by :mod:`compress.encoding` and written by :mod:`compress.export`.

The reported test error after compression is measured on the weights *read back from the exported file*.
Every phase checkpoints into ``workdir``; a rerun with the same ``workdir`` resumes where it stopped.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from compress import encoding, export, sharing
from compress.baseline import DEFAULT_EPOCHS, dense_baseline
from compress.checkpoint import load_checkpoint, save_checkpoint
from compress.masks import apply_masks, kernel_densities
from compress.pruning import magnitude_pruning, pruning_masks
from compress.training import error_rate, train
from hwcost.checks import check_choice, check_fraction, check_int_range, check_non_negative
from hwcost.errors import UsageError
from hwcost.files import load_json_or_set_aside, write_atomically
from models.datasets import Dataset, subset
from models.lenet import layer_specs, make_model

PIPELINE = "deep-compression"


class DeepCompressionConfig(NamedTuple):
    """Recipe of one model. Densities are fractions of kept weights; bits are per weight / relative index."""

    densities: dict[str, float]
    weight_bits: dict[str, int]
    index_bits: int
    dense_epochs: int | None  # None: the baseline's default
    prune_epochs: int  # total epochs of the pruning phase (stages + retraining)
    prune_stages: int  # pruning steps, one at the start of each of the first `prune_stages` epochs
    prune_lr: float  # peak Adam learning rate of the pruning phase (cosine-decayed to 1% of it)
    prune_l2: float  # L2 penalty coefficient (coupled weight decay) while pruning and retraining
    finetune_epochs: int  # centroid fine-tuning epochs
    finetune_lr: float  # peak Adam learning rate of the centroid fine-tuning
    shift_pixels: int  # retraining data: training set + one copy translated by up to this many pixels (0: none)


CONFIGS: dict[str, DeepCompressionConfig] = {
    "lenet300": DeepCompressionConfig(
        # Deep Compression Table 2: weights kept after pruning ip1 8%, ip2 9%, ip3 26%; 6-bit weights, 5-bit index.
        # ip1/ip2 are pruned to 7%/8%: our 6-bit codes Huffman-code to 4.8-5.1 bits (Table 2: 4.4), so the
        # paper's 8%/9% gave 36.5x-39.6x in our runs; one point less density buys the missing storage.
        densities={"ip1": 0.07, "ip2": 0.08, "ip3": 0.26},
        weight_bits={"ip1": 6, "ip2": 6, "ip3": 6},
        index_bits=encoding.LENET_INDEX_BITS,
        dense_epochs=None,
        prune_epochs=8,
        prune_stages=4,
        prune_lr=1e-3,
        prune_l2=5e-4,
        finetune_epochs=2,
        finetune_lr=1e-4,
        shift_pixels=2,
    ),
    "lenet5": DeepCompressionConfig(
        # Deep Compression Table 3: conv1 66%, conv2 12%, ip1 8%, ip2 19%; conv 8-bit, fc 5-bit weights,
        # 5-bit index. ip1 is pruned to 6.5% instead of 8%: Table 3's own per-layer rates (67.45%, 5.28%,
        # 2.45%, 6.13% of 0.5K, 25K, 400K, 5K weights) add up to 2.73% (37x), not the 2.55% (39x) of its
        # total row, so the paper's densities cannot give 39x; ip1 holds 93% of the weights.
        densities={"conv1": 0.66, "conv2": 0.12, "ip1": 0.065, "ip2": 0.19},
        weight_bits={"conv1": 8, "conv2": 8, "ip1": 5, "ip2": 5},
        index_bits=encoding.LENET_INDEX_BITS,
        dense_epochs=None,
        prune_epochs=5,
        prune_stages=4,
        prune_lr=1e-3,
        prune_l2=5e-4,
        finetune_epochs=1,
        finetune_lr=1e-4,
        shift_pixels=2,
    ),
}

#: small=True: training subset, epochs and test subset for quick plumbing tests (a few hundred steps).
SMALL_TRAIN, SMALL_TEST, SMALL_EPOCHS = 6400, 2000, 2
BATCH_SIZE = 128


def check_config(config: DeepCompressionConfig, layers: tuple[str, ...]) -> None:
    """Validate a recipe against the model's layers (densities in (0, 1], bits >= 1, epochs >= 0)."""
    for name, table in (("densities", config.densities), ("weight_bits", config.weight_bits)):
        missing = [layer for layer in layers if layer not in table]
        if missing:
            raise ValueError(f"{name} has no entry for layer {missing[0]!r}; given: {', '.join(table)}")
    for layer in layers:
        check_fraction(f"densities[{layer!r}]", config.densities[layer], open_low=True)
        sharing.check_bits(f"weight_bits[{layer!r}]", config.weight_bits[layer])
    sharing.check_bits("index_bits", config.index_bits)
    check_int_range("prune_epochs", config.prune_epochs, 0)
    check_int_range("prune_stages", config.prune_stages, 1, max(1, config.prune_epochs))
    check_int_range("finetune_epochs", config.finetune_epochs, 0)
    check_non_negative("prune_l2", config.prune_l2)
    check_int_range("shift_pixels", config.shift_pixels, 0, 8)


def pruning_schedule(
    densities: dict[str, float], stages: int, steps_per_stage: int
) -> list[tuple[int, dict[str, float]]]:
    """Geometric schedule: at stage s (step s * steps_per_stage) each layer keeps density ** ((s+1)/stages)."""
    return [
        (s * steps_per_stage, {layer: float(d) ** ((s + 1) / stages) for layer, d in densities.items()})
        for s in range(stages)
    ]


def translated_copy(images: np.ndarray, max_shift: int, seed: int) -> np.ndarray:
    """Each image (N, H, W, C) moved by a random (dy, dx) in [-max_shift, max_shift]^2, zero-filled."""
    check_int_range("max_shift", max_shift, 0)
    rng = np.random.default_rng([seed, 7])
    shifts = rng.integers(-max_shift, max_shift + 1, (len(images), 2))
    m = max_shift
    padded = np.pad(images, ((0, 0), (m, m), (m, m), (0, 0)))
    out = np.empty_like(images)
    h, w = images.shape[1:3]
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            sel = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            out[sel] = padded[sel, m - dy : m - dy + h, m - dx : m - dx + w]
    return out


def retraining_data(data: Dataset, shift_pixels: int, seed: int) -> Dataset:
    """The training set plus one translated copy (``shift_pixels`` > 0), the test set unchanged."""
    if shift_pixels == 0:
        return data
    return Dataset(
        np.concatenate([data.train_images, translated_copy(data.train_images, shift_pixels, seed)]),
        np.concatenate([data.train_labels, data.train_labels]),
        data.test_images,
        data.test_labels,
    )


def _cosine_adam(peak: float, epochs: int, steps_per_epoch: int) -> optax.GradientTransformation:
    return optax.adam(optax.cosine_decay_schedule(peak, max(1, epochs * steps_per_epoch), alpha=0.01))


def prune(
    model_name: str,
    dense: dict,
    data: Dataset,
    config: DeepCompressionConfig,
    *,
    seed: int,
    epochs: int,
    checkpoint: Path | None,
    progress: bool,
) -> dict:
    """Iterative magnitude pruning with retraining; returns pruned params (pruned weights exactly 0)."""
    steps_per_epoch = len(data.train_labels) // BATCH_SIZE
    stages = min(config.prune_stages, max(1, epochs))
    schedule = pruning_schedule(config.densities, stages, steps_per_epoch)
    tx = optax.chain(
        optax.add_decayed_weights(config.prune_l2),
        _cosine_adam(config.prune_lr, epochs, steps_per_epoch),
        magnitude_pruning(schedule),
    )
    result = train(
        make_model(model_name),
        dense,
        data,
        tx,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        seed=seed + 1,
        checkpoint=checkpoint,
        progress=progress,
        desc=f"prune {model_name}",
    )
    return apply_masks(result.params, pruning_masks(result.opt_state))


def quantize(
    model_name: str,
    pruned: dict,
    data: Dataset,
    config: DeepCompressionConfig,
    *,
    seed: int,
    epochs: int,
    workdir: Path,
    progress: bool,
) -> tuple[dict[str, sharing.SharedLayer], dict, dict]:
    """K-means sharing plus centroid fine-tuning; returns ``(shared layers, biases, k-means-only weights)``."""
    init_path = workdir / "shared_init.ckpt"
    shared = sharing.share_weights(pruned, config.weight_bits)
    target = {layer: {"codebook": s.codebook, "codes": s.codes} for layer, s in shared.items()}
    if init_path.is_file():
        stored, _ = load_checkpoint(init_path, target)
        shared = {
            layer: sharing.SharedLayer(np.asarray(v["codebook"]), np.asarray(v["codes"]), config.weight_bits[layer])
            for layer, v in stored.items()
        }
    else:
        save_checkpoint(init_path, target, {"phase": "kmeans"})
    codes = {layer: s.codes for layer, s in shared.items()}
    transform = sharing.shared_weights(codes)
    trainable = sharing.trainable_params(pruned, shared)
    kmeans_weights = transform(trainable)
    steps_per_epoch = len(data.train_labels) // BATCH_SIZE
    result = train(
        make_model(model_name),
        trainable,
        data,
        _cosine_adam(config.finetune_lr, epochs, steps_per_epoch),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        seed=seed + 2,
        transform=transform,
        checkpoint=workdir / "finetune.ckpt",
        progress=progress,
        desc=f"fine-tune centroids {model_name}",
    )
    tuned = {
        layer: sharing.SharedLayer(np.asarray(v["codebook"], np.float32), codes[layer], config.weight_bits[layer])
        for layer, v in result.params.items()
    }
    biases = {layer: np.asarray(v["bias"], np.float32) for layer, v in result.params.items()}
    return tuned, biases, kmeans_weights


def _claim_workdir(workdir: Path, recipe: dict[str, Any]) -> None:
    """Record the recipe in ``workdir``; refuse to resume checkpoints made with another recipe."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "recipe.json"
    text = json.dumps(recipe, sort_keys=True)
    stored = load_json_or_set_aside(path)  # a file that does not parse is set aside, never "another run"
    if stored is not None and json.dumps(stored, sort_keys=True) != text:
        raise UsageError(
            f"workdir={str(workdir)!r} holds checkpoints of another run ({path}: {json.dumps(stored)}); "
            "use another folder or delete it"
        )
    write_atomically(path, text)


def _to_numpy(tree: Any) -> Any:
    return jax.tree.map(lambda x: np.asarray(x), tree)


def run_pipeline(
    model_name: str,
    data: Dataset,
    *,
    seed: int = 0,
    workdir: Path | None = None,
    progress: bool = True,
    small: bool = False,
    config: DeepCompressionConfig | None = None,
) -> dict[str, Any]:
    """Run Deep Compression on ``model_name``; returns the JSON-able report.

    Args:
        model_name: ``"lenet300"`` or ``"lenet5"``.
        data: MNIST.
        seed: seed of the baseline and of every training phase.
        workdir: checkpoints and the exported ``<model>.hwdc`` go here (a temporary folder, deleted
            afterwards, if None).
        progress: progress bars.
        small: a few hundred training steps on a subset (for plumbing tests; the figures mean nothing).
        config: recipe override (default :data:`CONFIGS` for the model).

    Returns:
        ``{"model", "pipeline", "test_error_before", "test_error_after" (percent), "layers": [Table 2/3
        rows], "total": {same keys + "compression_pq", "compression_pqh"}, "details": {...}}``. Rates are
        percent of the dense 32-bit weight storage, biases excluded (the paper's #weights convention).
    """
    check_choice("model", model_name, tuple(CONFIGS))
    check_int_range("seed", seed, 0)
    config = CONFIGS[model_name] if config is None else config
    layers = tuple(spec.name for spec in layer_specs(model_name))
    check_config(config, layers)
    if workdir is None:
        with tempfile.TemporaryDirectory() as tmp:
            report = run_pipeline(
                model_name, data, seed=seed, workdir=Path(tmp), progress=progress, small=small, config=config
            )
        report["details"]["exported_file"] = None  # it lived in the deleted temporary folder
        return report
    workdir = Path(workdir)
    _claim_workdir(workdir, {"model": model_name, "seed": seed, "small": small, "config": config._asdict()})
    if small:
        data = subset(data, SMALL_TRAIN, SMALL_TEST)
    model = make_model(model_name)

    def err_pct(weights: Any) -> float:
        return 100.0 * error_rate(model, weights, data.test_images, data.test_labels)

    dense = dense_baseline(
        model_name,
        data,
        seed=seed,
        epochs=SMALL_EPOCHS if small else config.dense_epochs,
        cache_dir=workdir / "baseline" if small else None,
        progress=progress,
    )
    error_dense = err_pct(dense)

    retrain = retraining_data(data, config.shift_pixels, seed)
    pruned_path = workdir / "pruned.ckpt"
    if pruned_path.is_file():
        pruned, _ = load_checkpoint(pruned_path, dense)
    else:
        pruned = prune(
            model_name,
            dense,
            retrain,
            config,
            seed=seed,
            epochs=SMALL_EPOCHS if small else config.prune_epochs,
            checkpoint=workdir / "prune.ckpt",
            progress=progress,
        )
        save_checkpoint(pruned_path, pruned, {"phase": "pruned"})
    pruned = _to_numpy(pruned)
    error_pruned = err_pct(pruned)

    shared, biases, kmeans_weights = quantize(
        model_name,
        pruned,
        retrain,
        config,
        seed=seed,
        epochs=1 if small else config.finetune_epochs,
        workdir=workdir,
        progress=progress,
    )
    error_kmeans = err_pct(kmeans_weights)

    encoded = [encoding.encode_layer(layer, shared[layer], config.index_bits, biases[layer]) for layer in layers]
    path = export.save_compressed(workdir / f"{model_name}.hwdc", model_name, encoded)
    _, loaded = export.load_params(path)
    error_after = err_pct({k: {n: jnp.asarray(v) for n, v in leaves.items()} for k, leaves in loaded.items()})
    rows, total, bits = encoding.storage_table(encoded)

    dense_bits = sum(b["original_bits"] + b["bias_bits"] for b in bits.values())
    file_bytes = path.stat().st_size
    return {
        "model": model_name,
        "pipeline": PIPELINE,
        "test_error_before": error_dense,
        "test_error_after": error_after,
        "layers": rows,
        "total": total,
        "details": {
            "seed": seed,
            "small": small,
            "test_examples": len(data.test_labels),
            "test_error_dense": error_dense,
            "test_error_pruned": error_pruned,
            "test_error_kmeans": error_kmeans,
            "test_error_finetuned": error_after,
            "densities_target": config.densities,
            "densities_measured": kernel_densities(pruned),
            "weight_bits": config.weight_bits,
            "index_bits": config.index_bits,
            "retraining_data": (
                f"training set + one copy translated by up to {config.shift_pixels} pixels "
                f"({len(retrain.train_labels)} images)"
                if config.shift_pixels
                else "training set"
            ),
            "prune_l2": config.prune_l2,
            "epochs": {
                "dense": SMALL_EPOCHS if small else (config.dense_epochs or DEFAULT_EPOCHS[model_name]),
                "prune": SMALL_EPOCHS if small else config.prune_epochs,
                "finetune": 1 if small else config.finetune_epochs,
            },
            "bits": bits,
            "rate_convention": (
                "compressed / dense 32-bit size of the weights, biases excluded (Deep Compression #weights); "
                "P+Q: codes + relative indices (fillers included) + codebook; P+Q+H adds the canonical "
                "Huffman tables"
            ),
            "exported_file": str(path),
            "exported_file_bytes": file_bytes,
            "compression_file_with_biases": dense_bits / (8 * file_bytes),
        },
    }
