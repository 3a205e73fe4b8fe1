"""The ESE benchmark LSTM (Han et al., "ESE: Efficient Speech Recognition Engine with Sparse LSTM on FPGA",
FPGA'17, arXiv 1612.00694) as a shape spec, and random sparse gate matrices for it.

Provenance (labels of ``shared/reference/papers.md``):

* Google's LSTM with a projection (LSTMP), 2 layers, 1024 cells, 512 projection, on TIMIT:
  [recalled, unverified] (papers.md sec. 3).
* 153 inputs per frame: [recalled, unverified]. V-D consistency: one layer then holds
  ``4 * 1024 * (153 + 512) + 512 * 1024 = 3,248,128`` weights, and ``32 channels x 2 x 0.112 x 3.248e6``
  operations per 82.7 us (press latency, V-S) is the abstract's 282 GOPS, ``32 x 2 x 3.248e6 / 82.7 us`` its
  2.52 TOPS (V-P); the second layer (512 inputs) does not fit these figures, so the throughput concerns the
  first layer.
* Weight density 0.112: V-D, the abstract's ratio 282 GOPS / 2.52 TOPS = 0.1119 (sparse over dense
  operations, dense inputs); papers.md's recollection is 10-11 % (sparsity 88.7 %).
* Frames per utterance: an assumption (``FRAMES``); per-frame figures do not depend on it.

Helpers draw masks the way the two pruning methods leave them: uniformly random (magnitude pruning of
random weights) or load-balanced (ESE's load-balance-aware pruning: the same number of nonzeros in every
PE's share of the matrix, rows ``i mod N``), by keeping the top-``k`` scores of each PE's share.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

GATES = ("i", "f", "g", "o")
"""The gate matrices of an LSTM cell."""
FRAMES = 100
"""Frames per utterance of the benchmark, an assumption (1 s of speech at a 10 ms frame shift)."""
ESE_DENSITY = 0.112
"""Weight density of every matrix, V-D from the abstract (282 GOPS / 2.52 TOPS)."""


class LstmpLayerSpec(NamedTuple):
    """One LSTMP layer: ``input_size`` inputs, ``cell_size`` cells, ``projection_size`` outputs.

    Gate matrices are ``(cell_size, input_size + projection_size)`` over ``[x_t; y_{t-1}]``, the projection
    ``(projection_size, cell_size)``.
    """

    name: str
    input_size: int
    cell_size: int
    projection_size: int

    @property
    def num_weights(self) -> int:
        """Weights of the four gates and the projection (biases and peepholes excluded)."""
        return 4 * self.cell_size * (self.input_size + self.projection_size) + self.projection_size * self.cell_size


class EseLstmSpec(NamedTuple):
    """The ESE benchmark: its layers, weight density and utterance length."""

    layers: tuple[LstmpLayerSpec, ...]
    weight_density: float
    frames: int


ESE_LSTM = EseLstmSpec(
    layers=(
        LstmpLayerSpec("lstm1", 153, 1024, 512),  # [recalled]: 153 inputs, 1024 cells, 512 projection
        LstmpLayerSpec("lstm2", 512, 1024, 512),  # [recalled]: second layer reads the first one's projection
    ),
    weight_density=ESE_DENSITY,
    frames=FRAMES,
)
"""The ESE benchmark LSTMP (module docstring for the provenance of each number)."""


def random_mask(rows: int, cols: int, density: float, rng: np.random.Generator) -> np.ndarray:
    """``(rows, cols)`` boolean mask with exactly ``round(density * rows * cols)`` kept weights, uniformly."""
    keep = round(density * rows * cols)
    flat = np.zeros(rows * cols, dtype=bool)
    flat[rng.choice(rows * cols, size=keep, replace=False)] = True
    return flat.reshape(rows, cols)


def balanced_mask(rows: int, cols: int, density: float, pes: int, rng: np.random.Generator) -> np.ndarray:
    """``(rows, cols)`` mask in which every PE's share (rows ``i mod pes = p``) keeps the same number of weights,
    ``round(density * rows * cols / pes)``, its top-``k`` of uniformly random scores (``rows`` a multiple of
    ``pes``)."""
    if rows % pes:
        raise ValueError(f"pes={pes} must divide rows={rows}; allowed: a divisor of rows")
    share = rows // pes
    keep = round(density * share * cols)
    scores = rng.random((share, pes, cols))  # local row, PE, column: row = local * pes + pe
    per_pe = scores.transpose(1, 0, 2).reshape(pes, share * cols)
    mask = np.zeros_like(per_pe, dtype=bool)
    top = np.argpartition(-per_pe, keep - 1, axis=1)[:, :keep] if keep else np.zeros((pes, 0), dtype=np.int64)
    np.put_along_axis(mask, top, True, axis=1)
    return mask.reshape(pes, share, cols).transpose(1, 0, 2).reshape(rows, cols)


def random_weights(
    layer: LstmpLayerSpec,
    density: float,
    rng: np.random.Generator,
    *,
    balanced_pes: int | None = None,
    scale: float = 0.1,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gate matrices ``{"i", "f", "g", "o"}`` and the projection of ``layer`` at ``density``, Gaussian values
    of standard deviation ``scale`` on a random mask, or a balanced one for ``balanced_pes`` PEs.

    Returns:
        ``(gates, projection)``: ``(C, X + P)`` float64 arrays and a ``(P, C)`` one.
    """

    def matrix(rows: int, cols: int) -> np.ndarray:
        if balanced_pes is None:
            mask = random_mask(rows, cols, density, rng)
        else:
            mask = balanced_mask(rows, cols, density, balanced_pes, rng)
        return np.where(mask, rng.normal(0.0, scale, (rows, cols)), 0.0)

    columns = layer.input_size + layer.projection_size
    gates = {k: matrix(layer.cell_size, columns) for k in GATES}
    return gates, matrix(layer.projection_size, layer.cell_size)


__all__ = [
    "ESE_DENSITY",
    "ESE_LSTM",
    "FRAMES",
    "GATES",
    "EseLstmSpec",
    "LstmpLayerSpec",
    "balanced_mask",
    "random_mask",
    "random_weights",
]
