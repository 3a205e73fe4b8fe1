"""Granularity ladder: accuracy and storage of one sparsity at every pruning granularity.

Reproduces the two claims of the Regularity study (Mao et al., arXiv 1705.08922, abstract and Fig. 1;
papers.md §4): coarse-grained pruning (vector, kernel, filter) reaches a sparsity close to fine-grained
pruning at a small cost in accuracy, and, because one index addresses a whole group of weights (the
*index saving* effect), it needs fewer index bits than fine-grained pruning at the same sparsity.

Procedure (one rung per granularity): start from the dense baseline, prune the chosen layers one-shot
by group magnitude (:mod:`compress.masks`; fully connected layers are 1x1 convolutions, so their
element, vector and kernel groups are single weights and a filter is one output neuron) to the same
density, and retrain under the fixed mask (:func:`compress.pruning.magnitude_pruning` at step 0).

Storage rule (bits, per pruned layer; :func:`sparse_storage_bits`):

* Groups are laid out in the Caffe blob order of :func:`compress.encoding.storage_order` (fc ``(out,
  in)``, conv ``(k, c, kh, kw)``), one 0/1 per group, and encoded with relative indices and filler
  entries by :func:`compress.encoding.relative_indices` (Deep Compression Sec. 2, Fig. 2).
* Each stored entry — a kept group or a filler — costs one relative index of ``index_bits`` plus its
  ``group_size`` weights at ``weight_bits`` each (a filler stores a group of zeros). The index is counted
  per GROUP, not per weight: this is the index saving.
* ``index_bits`` is the value in 1..8 that minimises the layer's bits (reported), and the fixed 5-bit
  index of Deep Compression Table 3 is reported beside it.
* Unpruned layers are stored dense, ``weight_bits`` per weight and no index. Biases are not counted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import optax

from compress.baseline import adam_cosine, dense_baseline
from compress.encoding import LENET_INDEX_BITS, relative_indices, storage_order
from compress.masks import group_axes, overall_density
from compress.pruning import magnitude_pruning, pruning_masks
from compress.training import error_rate, train
from hwcost.checks import check_choice, check_fraction, check_int_range
from models.datasets import Dataset, subset
from models.lenet import layer_specs, make_model

#: Granularities of the Regularity study's Fig. 1, finest first (0-D, 1-D, 2-D, 3-D).
LADDER_GRANULARITIES: tuple[str, ...] = ("element", "vector", "kernel", "filter")
#: Kept fraction of the pruned layers' weights: 75% of the weights removed (ours).
DEFAULT_DENSITY = 0.25
#: Pruned layers of LeNet-5: both convolutions and the first fc layer; the 10-way classifier stays dense
#: (at filter granularity pruning it would delete output classes).
DEFAULT_PRUNED_LAYERS: dict[str, tuple[str, ...]] = {"lenet5": ("conv1", "conv2", "ip1"), "lenet300": ("ip1", "ip2")}
#: Retraining epochs after pruning, peak Adam learning rate (cosine-decayed to 1e-5) and batch size (ours).
DEFAULT_RETRAIN_EPOCHS = 2
RETRAIN_LR = 5e-4
BATCH_SIZE = 128
#: Candidate relative-index widths (bits).
INDEX_BITS_RANGE: tuple[int, ...] = tuple(range(1, 9))
#: Stored weight width: float32 as trained.
WEIGHT_BITS = 32
SMALL_TRAIN_EXAMPLES = 3_200
SMALL_TEST_EXAMPLES = 1_000


def group_mask(mask: np.ndarray, granularity: str) -> np.ndarray:
    """One 0/1 per group (keepdims shape) of a group-structured kernel mask (fc (in, out) or conv (kh, kw, c, k))."""
    mask = np.asarray(mask)
    axes = group_axes(mask.shape, granularity)
    return mask.max(axis=axes, keepdims=True) if axes else mask


def sparse_storage_bits(
    mask: np.ndarray, granularity: str, *, weight_bits: int = WEIGHT_BITS, index_bits: int | None = None
) -> dict[str, Any]:
    """Bits to store one pruned kernel with one relative index per kept group (see the module docstring).

    Args:
        mask: 0/1 kernel mask whose zeros form whole groups of ``granularity``.
        granularity: ``element``, ``vector``, ``kernel``, ``filter`` or ``channel``.
        weight_bits: bits per stored weight.
        index_bits: relative-index width; None picks the minimising width in :data:`INDEX_BITS_RANGE`.

    Returns:
        ``{"num_groups", "group_size", "kept_groups", "fillers", "index_bits", "index_storage_bits",
        "weight_storage_bits", "storage_bits"}`` (counts and bits, ints).
    """
    check_int_range("weight_bits", weight_bits, 1, 64)
    groups = group_mask(mask, granularity)
    group_size = int(np.asarray(mask).size // groups.size)
    flat = storage_order(groups).reshape(-1).astype(np.int64)
    kept = int(flat.sum())

    def bits(b: int) -> dict[str, Any]:
        codes, _ = relative_indices(flat, b)
        entries = int(codes.size)
        return {
            "num_groups": int(flat.size),
            "group_size": group_size,
            "kept_groups": kept,
            "fillers": entries - kept,
            "index_bits": b,
            "index_storage_bits": entries * b,
            "weight_storage_bits": entries * group_size * weight_bits,
            "storage_bits": entries * (b + group_size * weight_bits),
        }

    if index_bits is not None:
        return bits(index_bits)
    return min((bits(b) for b in INDEX_BITS_RANGE), key=lambda r: (r["storage_bits"], r["index_bits"]))


def network_storage(
    masks: Mapping[str, Mapping[str, Any]],
    granularity: str,
    pruned_layers: Sequence[str],
    *,
    weight_bits: int = WEIGHT_BITS,
) -> dict[str, Any]:
    """Per-layer and total storage of a pruned network: sparse format for ``pruned_layers``, dense otherwise.

    Returns ``{"layers": [{layer, num_weights, weights_kept_pct, storage_bits, index_storage_bits,
    index_bits, storage_bits_index5, ...}], "total": {...}}``; ``index_bits_per_kept_weight`` shows the
    index saving.
    """
    rows = []
    for layer, leaves in masks.items():
        mask = np.asarray(leaves["kernel"])
        n = int(mask.size)
        row: dict[str, Any] = {"layer": layer, "num_weights": n, "weights_kept_pct": 100.0 * float(mask.mean())}
        if layer in pruned_layers:
            best = sparse_storage_bits(mask, granularity, weight_bits=weight_bits)
            fixed = sparse_storage_bits(mask, granularity, weight_bits=weight_bits, index_bits=LENET_INDEX_BITS)
            row.update(best)
            row["storage_bits_index5"] = fixed["storage_bits"]
            row["index_storage_bits_index5"] = fixed["index_storage_bits"]
        else:
            row.update(
                index_bits=0,
                index_storage_bits=0,
                weight_storage_bits=n * weight_bits,
                storage_bits=n * weight_bits,
                storage_bits_index5=n * weight_bits,
                index_storage_bits_index5=0,
            )
        rows.append(row)
    kept = sum(r["weights_kept_pct"] * r["num_weights"] / 100.0 for r in rows)
    n = sum(r["num_weights"] for r in rows)
    total = {
        key: sum(r[key] for r in rows)
        for key in (
            "num_weights",
            "storage_bits",
            "index_storage_bits",
            "weight_storage_bits",
            "storage_bits_index5",
            "index_storage_bits_index5",
        )
    }
    total["weights_kept_pct"] = 100.0 * kept / n
    total["compression_rate"] = 32 * n / total["storage_bits"]
    pruned = [r for r in rows if r["layer"] in pruned_layers]
    pruned_kept = sum(r["weights_kept_pct"] * r["num_weights"] / 100.0 for r in pruned)
    total["pruned_layers_storage_bits"] = sum(r["storage_bits"] for r in pruned)
    total["pruned_layers_index_storage_bits"] = sum(r["index_storage_bits"] for r in pruned)
    total["index_bits_per_kept_weight"] = total["pruned_layers_index_storage_bits"] / max(pruned_kept, 1.0)
    return {"layers": rows, "total": total}


def run_ladder(
    model_name: str,
    data: Dataset,
    *,
    seed: int = 0,
    density: float = DEFAULT_DENSITY,
    granularities: Sequence[str] = LADDER_GRANULARITIES,
    pruned_layers: Sequence[str] | None = None,
    epochs: int | None = None,
    weight_bits: int = WEIGHT_BITS,
    workdir: str | Path | None = None,
    progress: bool = True,
    small: bool = False,
    on_rung: Callable[[str, dict, dict], None] | None = None,
) -> dict[str, Any]:
    """Prune the dense baseline to ``density`` at each granularity, retrain, and measure error and storage.

    Args:
        model_name: ``"lenet5"`` (or ``"lenet300"``, where only element and filter differ).
        data: MNIST.
        seed: baseline and batch-order seed.
        density: kept fraction of each pruned layer's groups (= weights), in (0, 1].
        granularities: rungs of the ladder.
        pruned_layers: default :data:`DEFAULT_PRUNED_LAYERS`.
        epochs: retraining epochs per rung (default :data:`DEFAULT_RETRAIN_EPOCHS`; 1 when ``small``).
        weight_bits: bits per stored weight in the storage count.
        workdir: resumable checkpoints (and, when ``small``, the baseline); a temporary folder if None.
        progress: progress bars.
        small: plumbing run on a 3,200-example subset (one baseline epoch, one epoch per rung).
        on_rung: called after each rung as ``on_rung(granularity, params, masks)`` with the retrained (pruned)
            params and their masks, for measurements that need the weights themselves.

    Returns:
        ``{"model", "density", "pruned_layers", "weight_bits", "dense": {test_error_pct, storage},
        "rungs": [{granularity, test_error_pct, test_error_before_retraining_pct, storage}], "details"}``
        with errors in percent and storage from :func:`network_storage`.
    """
    check_fraction("density", density, open_low=True)
    for g in granularities:
        check_choice("granularity", g, ("element", "vector", "kernel", "filter", "channel"))
    model = make_model(model_name)
    names = [s.name for s in layer_specs(model_name)]
    pruned_layers = tuple(DEFAULT_PRUNED_LAYERS.get(model_name, names) if pruned_layers is None else pruned_layers)
    for layer in pruned_layers:
        check_choice("pruned_layers", layer, names)
    epochs = (1 if small else DEFAULT_RETRAIN_EPOCHS) if epochs is None else epochs
    check_int_range("epochs", epochs, 0)
    if small:
        data = subset(data, SMALL_TRAIN_EXAMPLES, SMALL_TEST_EXAMPLES)
    densities = {name: (density if name in pruned_layers else 1.0) for name in names}

    def err(params: Any) -> float:
        return 100.0 * error_rate(model, params, data.test_images, data.test_labels)

    rungs = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        if small:
            dense = dense_baseline(
                model_name, data, seed=seed, epochs=1, cache_dir=work / "baselines", progress=progress
            )
        else:
            dense = dense_baseline(model_name, data, seed=seed, progress=progress)
        dense_masks = {name: {k: jnp.ones_like(v) for k, v in leaves.items()} for name, leaves in dense.items()}
        steps = max(1, epochs * (len(data.train_labels) // BATCH_SIZE))
        for g in granularities:
            tx = magnitude_pruning([(0, densities)], g)
            opt = optax.chain(adam_cosine(steps, peak_lr=RETRAIN_LR), tx)
            # Masks at step 0 from the dense weights (the same computation the transform performs).
            one_shot = pruning_masks(tx.update(dense, tx.init(dense), dense)[1])
            pruned = {n: {k: v * one_shot[n][k] for k, v in leaves.items()} for n, leaves in dense.items()}
            tag = f"{model_name}-seed{seed}-{g}-d{density:g}-ep{epochs}{'-small' if small else ''}"
            result = train(
                model,
                dense,
                data,
                opt,
                epochs=epochs,
                batch_size=BATCH_SIZE,
                seed=seed + 2000,
                checkpoint=work / f"ladder-{tag}.ckpt",
                progress=progress,
                desc=f"{g} {model_name}",
            )
            masks = pruning_masks(result.opt_state) if epochs > 0 else one_shot
            params = result.params if epochs > 0 else pruned
            if on_rung is not None:
                on_rung(g, params, masks)
            rungs.append(
                {
                    "granularity": g,
                    "test_error_pct": err(params),
                    "test_error_before_retraining_pct": err(pruned),
                    "overall_density": overall_density(masks),
                    "storage": network_storage(masks, g, pruned_layers, weight_bits=weight_bits),
                }
            )
    return {
        "model": model_name,
        "density": density,
        "pruned_layers": list(pruned_layers),
        "weight_bits": weight_bits,
        "dense": {
            "test_error_pct": err(dense),
            "storage": network_storage(dense_masks, "element", (), weight_bits=weight_bits),
        },
        "rungs": rungs,
        "details": {
            "seed": seed,
            "small": small,
            "retrain_epochs": epochs,
            "retrain_peak_lr": RETRAIN_LR,
            "test_examples": len(data.test_labels),
            "storage_rule": "per pruned layer: one relative index per kept group (Caffe blob order, filler "
            "entries for long gaps, Deep Compression Sec. 2) + group_size weights per entry; index width "
            "minimising the layer's bits in 1..8 (also given at 5 bits, Deep Compression Table 3); "
            "unpruned layers dense without index; biases not counted",
        },
    }


def ladder_table(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flat rows for printing/plotting: granularity, test error (%), kept weights (%), storage (KB), index
    bits per kept weight (all pruned layers, and the pruned conv layers alone, where vector, kernel and
    filter groups differ), compression rate (dense first)."""
    rows = []
    conv = {s.name for s in layer_specs(result["model"]) if s.kind == "conv"} & set(result["pruned_layers"])
    entries = [("dense", result["dense"])] + [(r["granularity"], r) for r in result["rungs"]]
    for name, entry in entries:
        total = entry["storage"]["total"]
        conv_rows = [r for r in entry["storage"]["layers"] if r["layer"] in conv]
        conv_kept = sum(r["weights_kept_pct"] * r["num_weights"] / 100.0 for r in conv_rows)
        rows.append(
            {
                "granularity": name,
                "test_error_pct": entry["test_error_pct"],
                "weights_kept_pct": total["weights_kept_pct"],
                "storage_kb": total["storage_bits"] / 8 / 1024,
                "index_kb": total["index_storage_bits"] / 8 / 1024,
                "index_bits_per_kept_weight": total["index_bits_per_kept_weight"],
                "conv_index_bits_per_kept_weight": sum(r["index_storage_bits"] for r in conv_rows)
                / max(conv_kept, 1.0),
                "compression_rate": total["compression_rate"],
            }
        )
    return rows
