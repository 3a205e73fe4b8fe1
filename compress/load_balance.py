"""Load-balance-aware pruning (ESE, Han et al., FPGA'17, arXiv 1612.00694, Sec. 3).

An ESE (like an EIE) processing element owns interleaved rows of each weight matrix: with ``N`` PEs, row
``i`` of the hardware matrix ``W`` (``(rows, cols) = (out_features, in_features)``) belongs to PE
``(i // stride) mod N``. ``stride = 1`` is the EIE/ESE interleaving (EIE Sec. III-C, the convention of
``archsim.eie`` and ``hwcost.eie``: PE ``p`` owns rows ``p, p + N, p + 2N, ...``); a larger stride hands out
blocks of ``stride`` consecutive rows, and ``stride = ceil(rows / N)`` gives contiguous blocks. The PEs work
in parallel, so the busiest one sets the cycle count. Ordinary magnitude pruning leaves the PEs' shares (the
submatrices of the rows each owns) with unequal numbers of nonzeros; load-balance-aware pruning prunes every
share to the same number of nonzeros, by magnitude within the share.

**What the paper balances.** ESE's abstract (V-P) names the method; the body text was not found in the
project's reference material (``shared/reference/papers.md`` section 3 has the abstract only). As recalled
from ESE Sec. 3 and its figure of an 8x8 matrix on 4 PEs [recalled, unverified]: the matrix is divided into
one submatrix per PE and every submatrix is pruned to the same sparsity, i.e. the balance is per matrix (per
PE share), not per column; ESE's activation FIFOs absorb the column-to-column imbalance, as in EIE. That is
the default here (``per_column=False``). ESE's PEs synchronise per input element (a public summary, V-S), so
``per_column=True`` offers the stricter variant too: every (PE, column) slice keeps the same number of
nonzeros, which balances every broadcast column and needs no FIFO to reach full utilisation.

**Exact counts.** The matrix keeps ``K = round(density * rows * cols)`` weights (Python's ``round``, halves
to even). The groups (PE shares, or (PE, column) slices with ``per_column``) get the most even split of
``K`` that their sizes allow: with ``L`` the smallest level such that ``sum_g min(size_g, L) >= K``, group
``g`` keeps ``min(size_g, L - 1)`` weights, and the remaining ``K - sum_g min(size_g, L - 1)`` weights go one
each to the groups with ``size_g >= L``, lowest group index first (PE index; with ``per_column`` the index
is ``col * N + pe``, so the extra weights also spread over the PEs). So every group that is not kept whole
keeps ``L`` or ``L - 1`` weights; when ``N`` divides ``rows`` (all shares equal) the PEs keep
``floor(K / N)`` or ``ceil(K / N)`` weights and the first ``K mod N`` PEs get the extra one. When ``N`` does
not divide ``rows`` the PEs own ``ceil(rows / N)`` or ``floor(rows / N)`` rows (``stride = 1``); at
densities where the smaller shares cannot hold ``L`` weights they are kept whole and the rest is split
evenly over the larger shares (still the smallest possible maximum). A PE that owns no row keeps nothing.

Within a group the ``k`` largest-magnitude weights are kept; equal magnitudes are broken by position, the
entry earlier in row-major order of ``W`` kept first. A NaN weight counts as the smallest magnitude (under
``jit``; outside ``jit`` a NaN in the matrix is a ``ValueError``).

Flax kernels are stored ``(in_features, out_features)`` (a conv ``(kh, kw, c, k)``, run as the im2col matrix
``(k, kh * kw * c)``); :func:`kernel_matrix` turns them into ``W`` and :func:`load_balanced_kernel_mask`
returns the mask in the kernel's own layout. The granularity :class:`LoadBalanced` (or the string
``"load_balanced"``) plugs this into :func:`compress.masks.magnitude_mask` and so into
:func:`compress.masks.prune_by_magnitude` and the optax pruning schedules of :mod:`compress.pruning`.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwcost.checks import check_finite, check_int_range, check_range, check_size

LOAD_BALANCED = "load_balanced"
"""Name of the load-balance-aware granularity in :mod:`compress.masks` (ESE's 32 PEs per channel)."""

ESE_PES_PER_CHANNEL = 32
"""PEs per ESE channel: "each channel is configured with 32 PEs" (ESE Sec. 4, a public reading note of the
paper, V-S; shared/reference/papers.md "ESE (additions to section 3)")."""


@dataclasses.dataclass(frozen=True)
class LoadBalanced:
    """The load-balance-aware pruning granularity: ``num_pes`` PEs, row ``i`` on PE ``(i // stride) mod
    num_pes``, balanced per PE share (``per_column=False``, ESE) or per (PE, column) slice."""

    num_pes: int = ESE_PES_PER_CHANNEL
    stride: int = 1
    per_column: bool = False


def check_partition(num_pes: int, stride: int = 1) -> None:
    """``ValueError`` naming the field unless ``num_pes`` and ``stride`` are integers >= 1."""
    check_int_range("num_pes", num_pes, 1)
    check_int_range("stride", stride, 1)
    check_size("num_pes", num_pes)
    check_size("stride", stride)


def _check_matrix(matrix: jax.Array | np.ndarray) -> None:
    ndim = np.ndim(matrix)
    if ndim != 2:
        raise ValueError(f"matrix ndim={ndim} (shape {np.shape(matrix)}) must be 2 (rows = out, cols = in)")
    if not isinstance(matrix, jax.core.Tracer):
        check_finite("matrix", np.asarray(matrix))


def pe_of_rows(rows: int, num_pes: int, stride: int = 1) -> np.ndarray:
    """``(rows,)`` int: the PE owning each row, ``(i // stride) mod num_pes``."""
    check_partition(num_pes, stride)
    return (np.arange(rows) // int(stride)) % int(num_pes)


def _groups(shape: tuple[int, int], num_pes: int, stride: int, per_column: bool) -> tuple[np.ndarray, int]:
    """Flat (row-major) group id of every entry and the number of groups."""
    rows, cols = shape
    pe = pe_of_rows(rows, num_pes, stride)
    if per_column:
        return (np.arange(cols)[None, :] * num_pes + pe[:, None]).reshape(-1), num_pes * cols
    return np.repeat(pe, cols), num_pes


def balanced_counts(sizes: np.ndarray | list[int], keep: int) -> np.ndarray:
    """The most even split of ``keep`` items over groups of the given sizes (module docstring: every group
    keeps ``min(size, L)`` or ``min(size, L - 1)``, extra items to the lowest group indices)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    check_int_range("keep", keep, 0, int(sizes.sum()))
    if keep == 0:
        return np.zeros_like(sizes)
    low, high = 1, int(sizes.max())  # smallest level L with sum(min(sizes, L)) >= keep
    while low < high:
        mid = (low + high) // 2
        if np.minimum(sizes, mid).sum() >= keep:
            high = mid
        else:
            low = mid + 1
    counts = np.minimum(sizes, low - 1)
    extra = keep - int(counts.sum())
    counts[np.flatnonzero(sizes >= low)[:extra]] += 1
    return counts


def load_balanced_mask(
    matrix: jax.Array,
    density: float,
    num_pes: int,
    *,
    stride: int = 1,
    per_column: bool = False,
) -> jax.Array:
    """0/1 mask (``matrix``'s shape and dtype; ``float32`` for integer input) keeping the same number of the
    largest-magnitude weights in every PE's share of ``matrix`` (counts and ties: module docstring).

    Args:
        matrix: ``(rows, cols) = (out_features, in_features)`` weights (the hardware orientation; flax
            kernels: :func:`load_balanced_kernel_mask`).
        density: fraction of weights kept, in [0, 1]; a Python number (it fixes static counts).
        num_pes: number of PEs ``N`` (integer >= 1), static.
        stride: rows handed out together; row ``i`` is on PE ``(i // stride) mod N`` (default 1: EIE/ESE).
        per_column: balance every (PE, column) slice instead of every PE share.

    Pure and jit-able with ``density``, ``num_pes``, ``stride`` and ``per_column`` static
    (``jax.jit(load_balanced_mask, static_argnums=(1, 2), static_argnames=("stride", "per_column"))``).
    """
    _check_matrix(matrix)
    check_range("density", density, 0, 1)
    check_partition(num_pes, stride)
    rows, cols = matrix.shape
    total = rows * cols
    groups, num_groups = _groups((rows, cols), int(num_pes), int(stride), bool(per_column))
    sizes = np.bincount(groups, minlength=num_groups)
    counts = balanced_counts(sizes, round(float(density) * total))
    # Sorted by (group, -|w|, position) the groups lie in consecutive runs; the first counts[g] entries of
    # group g's run are kept. The order of groups is static, so only the permutation is computed.
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sorted_groups = np.sort(groups, kind="stable")
    keep_sorted = np.arange(total) - starts[sorted_groups] < counts[sorted_groups]
    magnitude = jnp.abs(jnp.asarray(matrix)).reshape(-1)
    _, _, order = jax.lax.sort(
        (jnp.asarray(groups, jnp.int32), -magnitude, jnp.arange(total, dtype=jnp.int32)), num_keys=3
    )
    dtype = matrix.dtype if jnp.issubdtype(matrix.dtype, jnp.floating) else jnp.float32
    kept = jnp.zeros(total, dtype).at[order].set(jnp.asarray(keep_sorted, dtype))
    return kept.reshape(rows, cols)


def kernel_matrix(kernel: jax.Array) -> jax.Array:
    """The hardware matrix ``W`` ``(out, in)`` of a flax kernel: ``(in, out)`` transposed, or a conv kernel
    ``(kh, kw, c, k)`` as its im2col matrix ``(k, kh * kw * c)``."""
    if kernel.ndim == 2:
        return kernel.T
    if kernel.ndim == 4:
        return kernel.reshape(-1, kernel.shape[-1]).T
    raise ValueError(f"kernel shape={kernel.shape} is not a 2-D (fc) or 4-D (conv) kernel")


def load_balanced_kernel_mask(kernel: jax.Array, density: float, spec: LoadBalanced | None = None) -> jax.Array:
    """:func:`load_balanced_mask` of a flax kernel (rows = output neurons or channels), in the kernel's layout."""
    spec = LoadBalanced() if spec is None else spec
    mask = load_balanced_mask(
        kernel_matrix(kernel), density, spec.num_pes, stride=spec.stride, per_column=spec.per_column
    )
    return mask.T.reshape(kernel.shape)


class PeLoad(NamedTuple):
    """Per-PE nonzero counts of one mask and what they mean for the PEs' utilisation.

    Attributes:
        counts: ``(N,)`` nonzeros of each PE's share.
        max: the busiest PE's nonzeros (the cycles of an ideal FIFO-buffered pass over the matrix).
        mean: nonzeros per PE (over all ``N`` PEs, those owning no row included).
        utilisation: ``mean / max`` (1 when the mask is empty): the PE utilisation of the pass.
        column_utilisation: ``sum_j mean_p c[p, j] / sum_j max_p c[p, j]`` over the per-column counts
            ``c``: the utilisation when the PEs synchronise at every column (no FIFO); 1 for an empty mask.
    """

    counts: jax.Array
    max: jax.Array
    mean: jax.Array
    utilisation: jax.Array
    column_utilisation: jax.Array


def pe_nonzeros(mask: jax.Array, num_pes: int, *, stride: int = 1, per_column: bool = False) -> jax.Array:
    """Nonzeros of ``mask`` ``(rows, cols)`` per PE, ``(N,)``, or per PE and column, ``(N, cols)``."""
    if np.ndim(mask) != 2:
        raise ValueError(f"mask ndim={np.ndim(mask)} (shape {np.shape(mask)}) must be 2 (rows = out, cols = in)")
    pe = jnp.asarray(pe_of_rows(mask.shape[0], num_pes, stride))
    nonzero = (jnp.asarray(mask) != 0).astype(jnp.int32)
    per_pe = jnp.zeros((int(num_pes), mask.shape[1]), jnp.int32).at[pe].add(nonzero)
    return per_pe if per_column else per_pe.sum(axis=1)


def pe_load(mask: jax.Array, num_pes: int, *, stride: int = 1) -> PeLoad:
    """Per-PE nonzero counts of ``mask`` ``(rows, cols)`` with max, mean and utilisation (:class:`PeLoad`)."""
    per_column = pe_nonzeros(mask, num_pes, stride=stride, per_column=True)
    counts = per_column.sum(axis=1)
    busiest, mean = counts.max(), counts.mean()
    column_max = per_column.max(axis=0).sum()
    utilisation = jnp.where(busiest > 0, mean / jnp.maximum(busiest, 1), 1.0)
    column_utilisation = jnp.where(column_max > 0, counts.sum() / (int(num_pes) * jnp.maximum(column_max, 1)), 1.0)
    return PeLoad(counts, busiest, mean, utilisation, column_utilisation)
