"""Tests of the merged accumulator updates (archsim/scnn_merging.py): a brute-force loop over cycles on the small
layers of the simulator's own tests (strides 1-4, padding, placeholders, dense variants), the bounds, and a
hand-worked layer where contiguous weights and activations merge."""

from __future__ import annotations

import numpy as np
import pytest

from archsim import scnn
from archsim.scnn_merging import merged_accumulator_updates
from tests.archsim.test_scnn import SMALL, _entries, _small


def brute_force_merged(w: np.ndarray, a: np.ndarray, u: int, p: int, cfg: scnn.ScnnConfig) -> tuple[int, int]:
    """``(merged, products)``: one multiply cycle at a time, the set of addresses its products hit."""
    w2, a2 = scnn.polyphase(w, a, u, p)
    geo = scnn.geometry(w.shape, a.shape, u, p, cfg)
    r2, s2 = geo.kernel_h, geo.kernel_w
    merged = products = 0
    for g in range(geo.groups):
        ks = range(g * geo.group_channels, min((g + 1) * geo.group_channels, geo.K))
        for c2 in range(geo.channels):
            block = [float(w2[k, c2, r, s]) for k in ks for r in range(r2) for s in range(s2)]
            went = [q for q, _ in _entries(block, cfg.sparse_weights, cfg.index_bits)]
            for i in range(cfg.pe_rows):
                for j in range(cfg.pe_cols):
                    ys = range(i * geo.tile_h, min((i + 1) * geo.tile_h, geo.plane_h))
                    xs = range(j * geo.tile_w, min((j + 1) * geo.tile_w, geo.plane_w))
                    tile = [float(a2[c2, y, x]) for y in ys for x in xs]
                    aent = [q for q, _ in _entries(tile, cfg.sparse_activations, cfg.index_bits)]
                    for f0 in range(0, len(went), cfg.F):
                        for i0 in range(0, len(aent), cfg.I):
                            hit = set()
                            for wq in went[f0 : f0 + cfg.F]:
                                kl, r, s = wq // (r2 * s2), (wq // s2) % r2, wq % s2
                                for aq in aent[i0 : i0 + cfg.I]:
                                    yl, xl = aq // len(xs), aq % len(xs)
                                    hit.add((kl, yl - r + r2 - 1, xl - s + s2 - 1))
                                    products += 1
                            merged += len(hit)
    return merged, products


@pytest.mark.parametrize("case", SMALL, ids=[f"case{i}" for i in range(len(SMALL))])
def test_merged_updates_match_a_brute_force_loop_over_cycles(case):
    w, a, u, p, cfg = _small(case)
    merged, products = brute_force_merged(w, a, u, p, cfg)
    sim = scnn.simulate(w, a, u, p, cfg)
    assert products == sim.products
    assert merged_accumulator_updates(w, a, u, p, cfg) == merged


@pytest.mark.parametrize("case", SMALL, ids=[f"case{i}" for i in range(len(SMALL))])
def test_merged_updates_are_at_most_the_product_updates_and_equal_them_with_one_product_a_cycle(case):
    w, a, u, p, cfg = _small(case)
    sim = scnn.simulate(w, a, u, p, cfg)
    merged = merged_accumulator_updates(w, a, u, p, cfg)
    assert merged <= sim.counts["accumulator.update"] - sim.halo_values == sim.products
    assert merged >= sim.counts["weight_fifo.read"]  # every cycle hits at least one address
    scalar = cfg._replace(F=1, I=1)
    assert merged_accumulator_updates(w, a, u, p, scalar) == scnn.simulate(w, a, u, p, scalar).products


def test_contiguous_weights_and_activations_merge_by_hand():
    # K = C = 1, kernel 1x2 with both weights nonzero: one F-vector (s = 0, 1) with F = 2. Activations 1x3, all
    # nonzero, I = 2: I-vectors (x = 0, 1) and (x = 2). One PE, extended region 1 x (3 + 2 - 1) = 1 x 4,
    # column xl = x - s + 1. Cycle 1: (s, x) = (0, 0) -> 1, (0, 1) -> 2, (1, 0) -> 0, (1, 1) -> 1: 3 distinct of 4.
    # Cycle 2: (0, 2) -> 3, (1, 2) -> 2: 2 distinct. Merged 5 of 6 products.
    cfg = scnn.ScnnConfig(pe_rows=1, pe_cols=1, F=2, I=2)
    w = np.ones((1, 1, 1, 2))
    a = np.ones((1, 1, 3))
    assert scnn.simulate(w, a, config=cfg).products == 6
    assert merged_accumulator_updates(w, a, config=cfg) == 5
    # The same weights with a gap (s = 0, 2 of a 1x3 kernel) never meet in one cycle's I-vector pair.
    w_gap = np.array([1.0, 0.0, 1.0]).reshape(1, 1, 1, 3)
    a_wide = np.ones((1, 1, 4))
    sim = scnn.simulate(w_gap, a_wide, config=cfg)
    assert merged_accumulator_updates(w_gap, a_wide, config=cfg) == sim.products == 8


def test_contiguous_kernels_merge_more_than_scattered_weights_at_equal_density():
    cfg = scnn.ScnnConfig(pe_rows=2, pe_cols=2)
    rng = np.random.default_rng(0)
    a = rng.integers(1, 5, size=(4, 12, 12)).astype(float)
    dense_kernels = np.zeros((8, 4, 3, 3))
    dense_kernels[:, :2] = 1.0  # whole kernels kept: density 0.5
    scattered = np.zeros(dense_kernels.size)
    scattered[rng.choice(scattered.size, scattered.size // 2, replace=False)] = 1.0
    scattered = scattered.reshape(dense_kernels.shape)
    ratios = []
    for w in (dense_kernels, scattered):
        ratios.append(merged_accumulator_updates(w, a, 1, 1, cfg) / scnn.simulate(w, a, 1, 1, cfg).products)
    assert ratios[0] < ratios[1]


def test_chunking_does_not_change_the_count(monkeypatch):
    w, a, u, p, cfg = _small(SMALL[5])
    whole = merged_accumulator_updates(w, a, u, p, cfg)
    monkeypatch.setattr("archsim.scnn_merging.CHUNK_PRODUCTS", 2 * cfg.F * cfg.I)
    assert merged_accumulator_updates(w, a, u, p, cfg) == whole
    monkeypatch.setattr("archsim.scnn_merging.CHUNK_PRODUCTS", 1)
    assert merged_accumulator_updates(w, a, u, p, cfg) == whole


def test_bad_input_is_rejected_naming_the_field():
    with pytest.raises(ValueError, match="stride"):
        merged_accumulator_updates(np.ones((1, 1, 1, 1)), np.ones((1, 2, 2)), stride=0)
    with pytest.raises(ValueError, match="config"):
        merged_accumulator_updates(np.ones((1, 1, 1, 1)), np.ones((1, 2, 2)), config=None)
    with pytest.raises(ValueError, match="channels"):
        merged_accumulator_updates(np.ones((1, 2, 1, 1)), np.ones((1, 2, 2)))
    assert merged_accumulator_updates(np.zeros((1, 1, 1, 1)), np.ones((1, 2, 2))) == 0
