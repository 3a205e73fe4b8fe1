"""Trained quantization by weight sharing (Deep Compression, Han et al., ICLR'16, Sec. 3).

Per layer, the nonzero weights are clustered by one-dimensional k-means with *linear* initialisation
(centroids evenly spaced between the smallest and largest weight; Sec. 3.2 finds it best, against Forgy
and density-based initialisation). A layer with ``b`` bits has ``2**b`` codes: code 0 means "zero" (a
pruned weight, or a filler zero of the sparse format, Sec. 2) and codes ``1 .. 2**b - 1`` index the
``k = 2**b - 1`` learned centroids. The layer is stored as its codebook (k float32 centroids) plus one
integer code per weight.

Fine-tuning (Sec. 3.3, Eq. 3): the trainable parameters are the centroids; :func:`shared_weights`
rebuilds each kernel as ``codebook[code]`` (zero where the code is 0), so automatic differentiation gives
each centroid the sum of the gradients of the weights of its cluster, exactly the paper's update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwcost.checks import check_int_range

#: Largest bits per weight accepted (a code must fit the export format's one-byte Huffman lengths).
MAX_BITS = 16


class SharedLayer(NamedTuple):
    """One weight-shared kernel.

    ``codebook``: float32 (2**bits - 1,), the centroids; ``codes``: int32 of the kernel's shape, in
    ``[0, 2**bits)``, 0 = zero weight, ``c > 0`` = ``codebook[c - 1]``.
    """

    codebook: np.ndarray
    codes: np.ndarray
    bits: int


def check_bits(name: str, bits: int) -> None:
    """Bits per shared weight must be an integer in [1, :data:`MAX_BITS`]."""
    check_int_range(name, bits, 1, MAX_BITS)


def compression_rate(n: int, bits: int, k: int) -> float:
    """Weight-sharing compression rate r = n·b / (n·log2 k + k·b) (Deep Compression Sec. 3, Eq. 1).

    Args:
        n: number of weights (connections).
        bits: bits per original weight (b, e.g. 32).
        k: number of clusters (shared weights); each weight then needs log2 k bits of index.
    """
    check_int_range("n", n, 1)
    check_int_range("bits", bits, 1)
    check_int_range("k", k, 1)
    return n * bits / (n * float(np.log2(k)) + k * bits)


def linear_init(values: np.ndarray, k: int) -> np.ndarray:
    """``k`` centroids evenly spaced over ``[min(values), max(values)]`` (Sec. 3.2, linear initialisation)."""
    check_int_range("k", k, 1)
    if values.size == 0:
        return np.zeros(k, np.float32)
    return np.linspace(float(values.min()), float(values.max()), k).astype(np.float32)


def assign(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index (int64, like ``values``) of the nearest centroid of each value (ties to the lower centroid)."""
    order = np.argsort(centroids, kind="stable")
    sorted_c = centroids[order].astype(np.float64)
    mids = (sorted_c[1:] + sorted_c[:-1]) / 2
    return order[np.searchsorted(mids, values.astype(np.float64), side="left")]


def kmeans_1d(values: np.ndarray, k: int, iterations: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means in one dimension from linear initialisation.

    Returns ``(centroids float32 (k,), assignment int64 like values)``; an empty cluster keeps its
    previous centroid. Stops early when the assignment no longer changes.
    """
    values = np.asarray(values, np.float64).reshape(-1)
    centroids = linear_init(values, k).astype(np.float64)
    labels = assign(values, centroids) if values.size else np.zeros(0, np.int64)
    for _ in range(iterations):
        sums = np.bincount(labels, weights=values, minlength=k)
        counts = np.bincount(labels, minlength=k)
        centroids = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        new = assign(values, centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids.astype(np.float32), labels


def share_kernel(kernel: np.ndarray, bits: int, iterations: int = 100) -> SharedLayer:
    """Cluster the nonzero weights of ``kernel`` into ``2**bits - 1`` shared values (zeros stay zero)."""
    check_bits("bits", bits)
    kernel = np.asarray(kernel, np.float32)
    nonzero = kernel != 0
    codebook, labels = kmeans_1d(kernel[nonzero], 2**bits - 1, iterations)
    codes = np.zeros(kernel.shape, np.int32)
    codes[nonzero] = labels + 1
    return SharedLayer(codebook, codes, int(bits))


def share_weights(params: Mapping[str, Mapping[str, Any]], bits: Mapping[str, int]) -> dict[str, SharedLayer]:
    """K-means weight sharing of every layer's kernel, ``bits[layer]`` bits per weight (Sec. 3)."""
    out = {}
    for layer, leaves in params.items():
        if layer not in bits:
            raise ValueError(f"bits has no entry for layer {layer!r}; given: {', '.join(bits)}")
        check_bits(f"bits[{layer!r}]", bits[layer])
        out[layer] = share_kernel(np.asarray(leaves["kernel"]), int(bits[layer]))
    return out


def decode_kernel(codebook: jax.Array | np.ndarray, codes: jax.Array | np.ndarray) -> jax.Array:
    """Kernel ``codebook[codes - 1]`` with zeros at code 0; differentiable in ``codebook`` (Eq. 3)."""
    full = jnp.concatenate([jnp.zeros((1,), jnp.asarray(codebook).dtype), jnp.asarray(codebook)])
    return full[jnp.asarray(codes)]


def trainable_params(params: Mapping[str, Mapping[str, Any]], shared: Mapping[str, SharedLayer]) -> dict:
    """Fine-tuning parameters ``{layer: {"codebook": (k,), "bias": ...}}`` (biases stay 32-bit, trainable)."""
    return {
        layer: {"codebook": jnp.asarray(shared[layer].codebook), "bias": jnp.asarray(leaves["bias"])}
        for layer, leaves in params.items()
    }


def shared_weights(codes: Mapping[str, Any]):
    """The fine-tuning transform: trainable ``{layer: {"codebook", "bias"}}`` -> network weights.

    ``codes`` maps each layer to its int code array (fixed during fine-tuning). The returned function is
    the ``transform=`` hook of :func:`compress.training.train`.
    """
    codes = {layer: jnp.asarray(c) for layer, c in codes.items()}

    def transform(trainable: Mapping[str, Mapping[str, jax.Array]]) -> dict:
        return {
            layer: {"kernel": decode_kernel(leaves["codebook"], codes[layer]), "bias": leaves["bias"]}
            for layer, leaves in trainable.items()
        }

    return transform


def centroid_gradient(weight_grad: jax.Array | np.ndarray, codes: jax.Array | np.ndarray, k: int) -> jax.Array:
    """Eq. 3 written out: gradient of each of ``k`` centroids = sum of the weight gradients of its cluster."""
    flat_codes = jnp.asarray(codes).reshape(-1)
    sums = jax.ops.segment_sum(jnp.asarray(weight_grad).reshape(-1), flat_codes, num_segments=k + 1)
    return sums[1:]
