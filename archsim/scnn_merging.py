"""Accumulator updates of SCNN when the products of one multiply cycle that share an output address are
summed in the multiplier array before the crossbar, numpy only, exact integers.

This is our reading of the mechanism by which the Regularity study (Mao et al., "Exploring the Regularity of
Sparse Structure in CNNs", arXiv 1705.08922; CVPR Workshops 2017) finds that coarse-grained sparsity needs fewer
SCNN memory references than fine-grained sparsity; the reference text we hold has only the abstracts, so the
rule below is ours, not the paper's:

* In SCNN's Cartesian product (:mod:`archsim.scnn`, Step 5) one multiply cycle multiplies an F-vector of weight
  entries (consecutive in ``(k, r', s')`` order within one weight block) with an I-vector of activation entries
  (consecutive in ``(y, x)`` order within one PE tile). Product ``W'[k, c', r', s'] A'[c', y, x]`` goes to the
  accumulator address ``(kl, yl, xl)``, ``yl = (y - i Ht) - r' + R' - 1``, ``xl = (x - j Wt) - s' + S' - 1``.
* Products of the same cycle that land on the same address are added in the multiplier array, so the
  accumulator buffer sees one read-modify-write per DISTINCT address per cycle. Weight ``(k, r', s')`` times
  activation ``(y, x)`` and weight ``(k, r', s' + 1)`` times activation ``(y, x + 1)`` meet at one address:
  runs of nonzero weights along a kernel row (what vector and kernel granularity keep) and runs of nonzero
  activations along a row produce such coincidences, scattered fine-grained sparsity fewer.

Everything else is :mod:`archsim.scnn` exactly: the polyphase rewrite (Step 1), the tiles and groups (Steps 2-3),
the run-length entries with their placeholders (Step 4; a placeholder is a zero value at its own position and is
multiplied and accumulated like a nonzero), the split of every block into ``ceil(ew / F)`` F-vectors and every
tile into ``ceil(ea / I)`` I-vectors, and every F-vector of a block meeting every I-vector of the PE's tile of
the same input channel. The halo additions (Step 7) are not products and are not merged; they stay as
:func:`archsim.scnn.simulate` counts them. With ``F = I = 1`` (one product a cycle) nothing merges and the
count equals ``products``.
"""

from __future__ import annotations

import numpy as np

from archsim.scnn import (
    SCNN,
    ScnnConfig,
    ScnnGeometry,
    _check_config,
    _check_layer,
    _geometry,
    _weight_part,
    polyphase,
    run_length_entries,
)

#: Products handled at once, bounding the working memory (about 16 bytes per product).
CHUNK_PRODUCTS = 2**22


def _block_order(blk: np.ndarray, pos: np.ndarray, n_blocks: int, index_bits: int, sparse: bool):
    """``(blk, pos)`` of every entry of every block (placeholders included when ``sparse``), sorted."""
    if sparse:
        _, ph_blk, ph_pos = run_length_entries(blk, pos, n_blocks, index_bits)
        blk, pos = np.concatenate([blk, ph_blk]), np.concatenate([pos, ph_pos])
        order = np.lexsort((pos, blk))
        blk, pos = blk[order], pos[order]
    return blk, pos


def _vectors(blk: np.ndarray, part: np.ndarray, n_blocks: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Split every block's entries, in order, into vectors of ``width`` slots.

    Args:
        blk: ``(n,)`` block of each entry, sorted (entries of a block in their stored order).
        part: ``(n,)`` non-negative address part of each entry.
        n_blocks: number of blocks.
        width: ``F`` or ``I``.

    Returns:
        ``(vectors, vector_block)``: ``(V, width)`` int32 address parts (``-1`` in the empty slots of a block's
        last vector) and ``(V,)`` int64 block of each vector, ``V = sum ceil(entries / width)``.
    """
    counts = np.bincount(blk, minlength=n_blocks)
    rank = np.arange(blk.size, dtype=np.int64) - (np.cumsum(counts) - counts)[blk]
    n_vec = -(-counts // width)
    first = np.cumsum(n_vec) - n_vec
    vectors = np.full((int(n_vec.sum()), width), -1, dtype=np.int32)
    vectors[first[blk] + rank // width, rank % width] = part
    return vectors, np.repeat(np.arange(n_blocks, dtype=np.int64), n_vec)


def _weight_vectors(w2: np.ndarray, geo: ScnnGeometry, cfg: ScnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """F-vectors of every weight block ``(g, c')`` (weight part of the address) and the channel ``c'`` of each."""
    k, c2, pr, ps = w2.shape
    kc, g = geo.group_channels, geo.groups
    present = np.zeros((g * kc, c2, pr, ps), dtype=bool)
    present[:k] = (w2 != 0) if cfg.sparse_weights else True
    blocks = present.reshape(g, kc, c2, pr * ps).transpose(0, 2, 1, 3).reshape(g * c2, kc * pr * ps)
    blk, q = (v.astype(np.int64) for v in np.nonzero(blocks))
    blk, q = _block_order(blk, q, g * c2, cfg.index_bits, cfg.sparse_weights)
    vectors, vec_blk = _vectors(blk, _weight_part(q, geo), g * c2, cfg.F)
    return vectors, vec_blk % c2


def _activation_vectors(a2: np.ndarray, geo: ScnnGeometry, cfg: ScnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """I-vectors of every activation tile ``(c', PE)`` (activation part ``yl Ew + xl``) and the channel of each."""
    c2 = a2.shape[0]
    rows, cols, th, tw = cfg.pe_rows, cfg.pe_cols, geo.tile_h, geo.tile_w
    col_sizes = np.asarray(geo.col_sizes, dtype=np.int64)
    present = np.zeros((c2, rows * th, cols * tw), dtype=bool)
    present[:, : geo.plane_h, : geo.plane_w] = (a2 != 0) if cfg.sparse_activations else True
    tiles = present.reshape(c2, rows, th, cols, tw).transpose(0, 1, 3, 2, 4)
    c, i, j, yl, xl = (v.astype(np.int64) for v in np.nonzero(tiles))
    blk = (c * rows + i) * cols + j
    blk, q = _block_order(blk, yl * col_sizes[j] + xl, c2 * cfg.pes, cfg.index_bits, cfg.sparse_activations)
    yl, xl = np.divmod(q, col_sizes[blk % cols])
    vectors, vec_blk = _vectors(blk, yl * geo.ext_w + xl, c2 * cfg.pes, cfg.I)
    return vectors, vec_blk // cfg.pes


def _distinct_per_cycle(w_vec: np.ndarray, a_vec: np.ndarray) -> int:
    """Sum over cycles ``n`` of the distinct addresses ``w_vec[n, f] + a_vec[n, i]`` over the filled slots."""
    valid = (w_vec >= 0)[:, :, None] & (a_vec >= 0)[:, None, :]
    address = np.where(valid, w_vec[:, :, None] + a_vec[:, None, :], -1).reshape(w_vec.shape[0], -1)
    address.sort(axis=1)
    new = (address[:, 1:] != address[:, :-1]) & (address[:, 1:] >= 0)
    return int(new.sum()) + int((address[:, 0] >= 0).sum())


def merged_accumulator_updates(
    weights: np.ndarray,
    activations: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    config: ScnnConfig = SCNN,
) -> int:
    """Accumulator read-modify-writes of the products when same-address products of a cycle are merged.

    The number of distinct accumulator addresses ``(output channel, local row, local col)`` per multiply cycle,
    summed over every cycle of every group, input channel and PE (module docstring for the rule, which is our
    reading, not the Regularity paper's text). It is at most ``products`` (``accumulator.update`` of
    :func:`archsim.scnn.simulate` less its ``halo_values``) and equals it when ``F = I = 1``; the halo
    additions are not included. Vectorised: per input channel the cycles are every F-vector of every group's
    weight block with every I-vector of every PE's tile, handled :data:`CHUNK_PRODUCTS` products at a time.

    Args:
        weights: ``(K, C, R, S)`` real array (zeros are pruned weights).
        activations: ``(C, H, W)`` real array before padding (zeros are skipped).
        stride: ``u >= 1``.
        padding: ``p >= 0`` zeros on every side.
        config: the design point (default Table 3 of the SCNN paper, :data:`archsim.scnn.SCNN`).

    Returns:
        Merged accumulator updates, a dimensionless int.

    Raises:
        ValueError: naming the field, its value and what is allowed, for bad input.
    """
    cfg = _check_config(config)
    w, a, u, p = _check_layer(weights, activations, stride, padding)
    geo = _geometry(w.shape, a.shape, u, p, cfg)
    w2, a2 = polyphase(w != 0, a != 0, u, p)
    w_vec, w_chan = _weight_vectors(w2, geo, cfg)
    a_vec, a_chan = _activation_vectors(a2, geo, cfg)
    order = np.argsort(w_chan, kind="stable")
    w_vec, w_chan = w_vec[order], w_chan[order]
    c2 = geo.channels
    n_w = np.bincount(w_chan, minlength=c2)
    n_a = np.bincount(a_chan, minlength=c2)
    w_first, a_first = np.cumsum(n_w) - n_w, np.cumsum(n_a) - n_a
    per_cycle = cfg.F * cfg.I
    max_cycles = max(1, CHUNK_PRODUCTS // per_cycle)
    total = 0
    w_idx: list[np.ndarray] = []
    a_idx: list[np.ndarray] = []
    pending = 0

    def flush() -> int:
        if not w_idx:
            return 0
        wi, ai = np.concatenate(w_idx), np.concatenate(a_idx)
        w_idx.clear()
        a_idx.clear()
        return _distinct_per_cycle(w_vec[wi], a_vec[ai])

    for c in np.nonzero((n_w > 0) & (n_a > 0))[0]:
        a_range = np.arange(a_first[c], a_first[c] + n_a[c])
        for a0 in range(0, int(n_a[c]), max_cycles):
            a_part = a_range[a0 : a0 + max_cycles]
            step = max(1, max_cycles // a_part.size)
            for w0 in range(int(w_first[c]), int(w_first[c] + n_w[c]), step):
                w_part = np.arange(w0, min(w0 + step, int(w_first[c] + n_w[c])))
                if pending + w_part.size * a_part.size > max_cycles:
                    total += flush()
                    pending = 0
                w_idx.append(np.repeat(w_part, a_part.size))
                a_idx.append(np.tile(a_part, w_part.size))
                pending += w_part.size * a_part.size
    return total + flush()
