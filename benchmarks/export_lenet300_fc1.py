"""Export the pruned first layer of a trained LeNet-300-100 as the CSC matrix of the SpMV trace program.

Trains LeNet-300-100 on MNIST (:func:`compress.baseline.dense_baseline`, a short cached run), prunes it by
iterative magnitude pruning with retraining (:func:`compress.deep_compression.prune`) to the densities Deep
Compression keeps (Han et al., ICLR'16, Table 2; papers.md sec. 5.3: ip1 8%, ip2 9%, ip3 26%), and writes
``ip1`` (784 inputs x 300 outputs, "fc1") to ``archsim/traces/programs/data/lenet300_fc1.npz``:

* the matrix ``W`` (300 rows = outputs, 784 columns = inputs; ``y = W x``) in compressed sparse columns, one
  column per input activation as EIE stores it (Han et al., ISCA'16, Sec. III): ``col_ptr`` (int32, 785),
  ``row_idx`` (uint16, nnz), ``values`` (int16, nnz) with ``W[row_idx[k], j] = values[k] * scale`` for
  ``col_ptr[j] <= k < col_ptr[j + 1]``, row indices increasing within a column;
* ``scale`` (float64): symmetric linear int16 quantisation, ``scale = max|w| / 32767`` (an assumption of this
  export: the trace program needs integer weights, RV64IM has no floating point);
* ``shape`` (int64, 2) = (300, 784) and ``meta``: a JSON string with the recipe, the density, the float test
  accuracy of the pruned network and its test accuracy with ip1 replaced by the int16 weights.

Run: ``HWCOST_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/export_lenet300_fc1.py`` (about two
minutes on two cores). The committed file is the output of one run; the trace programs read only that file.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compress.baseline import dense_baseline  # noqa: E402
from compress.deep_compression import BATCH_SIZE, CONFIGS, prune  # noqa: E402
from compress.training import error_rate  # noqa: E402
from hwcost.files import write_atomically  # noqa: E402
from models.datasets import load_mnist  # noqa: E402
from models.registry import make_model  # noqa: E402

OUT = ROOT / "archsim" / "traces" / "programs" / "data" / "lenet300_fc1.npz"
MODEL = "lenet300"
LAYER = "ip1"
#: Deep Compression Table 2 (papers.md sec. 5.3): weights kept after pruning, LeNet-300-100.
DENSITIES = {"ip1": 0.08, "ip2": 0.09, "ip3": 0.26}
#: Short recipe (an assumption, to keep the export under a few minutes): dense epochs, pruning epochs
#: (geometric schedule over the first PRUNE_STAGES epochs, then retraining with the masks fixed), seed.
DENSE_EPOCHS = 8
PRUNE_EPOCHS = 6
PRUNE_STAGES = 3
SEED = 0
INT16_MAX = 32767


def to_csc(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC arrays ``(col_ptr, row_idx, weights)`` of ``W = kernel.T``.

    Args:
        kernel: flax Dense kernel of shape (inputs, outputs); zero entries are pruned weights.
    """
    w = np.asarray(kernel).T  # (outputs, inputs): column j holds the weights input j is multiplied by
    col_ptr = np.zeros(w.shape[1] + 1, np.int32)
    rows, vals = [], []
    for j in range(w.shape[1]):
        (nz,) = np.nonzero(w[:, j])
        rows.append(nz)
        vals.append(w[nz, j])
        col_ptr[j + 1] = col_ptr[j] + len(nz)
    return col_ptr, np.concatenate(rows).astype(np.uint16), np.concatenate(vals).astype(np.float64)


def quantize_int16(weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Symmetric linear int16 codes and their scale (``weight ~= code * scale``, ``scale = max|w| / 32767``)."""
    scale = float(np.max(np.abs(weights))) / INT16_MAX
    if not scale > 0:
        raise ValueError(f"max |weight|={scale * INT16_MAX} of {LAYER}: allowed > 0 (a layer with a nonzero weight)")
    codes = np.clip(np.rint(weights / scale), -INT16_MAX, INT16_MAX).astype(np.int16)
    return codes, scale


def dequantized_kernel(col_ptr: np.ndarray, row_idx: np.ndarray, codes: np.ndarray, scale: float, shape) -> np.ndarray:
    """The flax kernel (inputs, outputs) that the int16 CSC matrix stands for."""
    w = np.zeros(shape, np.float32)
    for j in range(shape[1]):
        lo, hi = col_ptr[j], col_ptr[j + 1]
        w[row_idx[lo:hi], j] = codes[lo:hi].astype(np.float64) * scale
    return w.T


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output .npz (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = load_mnist()
    model = make_model(MODEL)
    dense = dense_baseline(MODEL, data, seed=SEED, epochs=DENSE_EPOCHS, progress=args.progress)
    dense_error = error_rate(model, dense, data.test_images, data.test_labels)
    config = CONFIGS[MODEL]._replace(
        densities=dict(DENSITIES), prune_epochs=PRUNE_EPOCHS, prune_stages=PRUNE_STAGES, shift_pixels=0
    )
    pruned = prune(MODEL, dense, data, config, seed=SEED, epochs=PRUNE_EPOCHS, checkpoint=None, progress=args.progress)
    pruned = {k: {n: np.asarray(v) for n, v in layer.items()} for k, layer in pruned.items()}
    pruned_error = error_rate(model, pruned, data.test_images, data.test_labels)

    kernel = pruned[LAYER]["kernel"]
    col_ptr, row_idx, weights = to_csc(kernel)
    codes, scale = quantize_int16(weights)
    if np.any(codes == 0):
        raise ValueError(f"{int(np.sum(codes == 0))} kept weights of {LAYER} quantise to 0: allowed none")
    shape = (kernel.shape[1], kernel.shape[0])
    quantized = {
        **pruned,
        LAYER: {**pruned[LAYER], "kernel": dequantized_kernel(col_ptr, row_idx, codes, scale, shape)},
    }
    quantized_error = error_rate(model, quantized, data.test_images, data.test_labels)
    seconds = time.perf_counter() - start

    meta = {
        "model": MODEL,
        "layer": LAYER,
        "source": "Deep Compression (Han et al., ICLR'16) Table 2 densities: ip1 8%, ip2 9%, ip3 26%",
        "densities_target": DENSITIES,
        "density": round(len(codes) / kernel.size, 6),
        "nnz": len(codes),
        "recipe": {
            "dense_epochs": DENSE_EPOCHS,
            "prune_epochs": PRUNE_EPOCHS,
            "prune_stages": PRUNE_STAGES,
            "prune_lr": config.prune_lr,
            "prune_l2": config.prune_l2,
            "batch_size": BATCH_SIZE,
            "seed": SEED,
        },
        "test_accuracy_dense": round(1.0 - dense_error, 6),
        "test_accuracy_pruned": round(1.0 - pruned_error, 6),
        "test_accuracy_int16_ip1": round(1.0 - quantized_error, 6),
        "quantisation": "symmetric linear int16, scale = max|w| / 32767",
        "scale": scale,
        "export_seconds": round(seconds, 1),
    }
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, col_ptr=col_ptr, row_idx=row_idx, values=codes, scale=np.float64(scale),
        shape=np.asarray(shape, np.int64), meta=np.asarray(json.dumps(meta, sort_keys=True)),
    )  # fmt: skip
    write_atomically(args.out, buffer.getvalue())
    print(json.dumps(meta, indent=2, sort_keys=True))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
