"""A network layer as the matrix-vector products a sparse accelerator runs (numpy, exact).

A fully connected kernel ``(in, out)`` is one product ``y = W a`` with ``W = kernel.T``; a convolution
kernel ``(kh, kw, c, k)`` (stride 1, VALID padding) is one product per output position with the
``(k, kh kw c)`` filter matrix and the receptive-field patch as the input vector (im2col, patch entries
ordered ``(row, column, channel)`` like the kernel's flattening). A compressed model stores which inputs it
reads, so the columns of ``W`` that hold no weight, and their inputs, are dropped: the product runs on
the live columns only.
"""

from __future__ import annotations

import numpy as np


def layer_matvecs(kernel: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(W, vectors)`` of one layer on one input: ``W`` ``(out, in)``, vectors ``(P, in)``.

    Args:
        kernel: ``(in, out)`` fully connected or ``(kh, kw, c, k)`` convolution weights (zeros pruned).
        x: the layer's input for one example: any shape with ``in`` entries (fc) or ``(H, W, C)`` (conv).

    Returns:
        ``W`` restricted to its live columns, ``(out, live)``, and one input vector per product restricted
        to the same columns, ``(P, live)`` (``P = 1`` for fc, ``Ho * Wo`` for conv).
    """
    kernel = np.asarray(kernel)
    x = np.asarray(x)
    if kernel.ndim == 2:
        w = kernel.T
        vecs = x.reshape(1, -1)
        if vecs.shape[1] != w.shape[1]:
            raise ValueError(f"x has {vecs.shape[1]} entries; the kernel {kernel.shape} reads {w.shape[1]}")
    elif kernel.ndim == 4:
        kh, kw, c, k = kernel.shape
        if x.ndim != 3 or x.shape[2] != c:
            raise ValueError(f"x shape={x.shape} must be (H, W, {c}) for the kernel {kernel.shape}")
        w = kernel.reshape(kh * kw * c, k).T
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))  # (Ho, Wo, C, kh, kw)
        vecs = win.transpose(0, 1, 3, 4, 2).reshape(-1, kh * kw * c)
    else:
        raise ValueError(f"kernel shape={kernel.shape} is not (in, out) or (kh, kw, c, k)")
    alive = np.any(w != 0, axis=0)
    return w[:, alive], vecs[:, alive]
