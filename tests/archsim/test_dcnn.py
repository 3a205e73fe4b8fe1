"""Tests of the dense baselines DCNN / DCNN-opt (archsim/dcnn.py): closed forms, gating, DRAM spills, checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archsim import dcnn, eie, scnn


def brute_force_pairs(w: np.ndarray, a: np.ndarray, u: int, p: int) -> int:
    """Nonzero (weight, activation) multiplies of the direct convolution, one at a time."""
    K, C, R, S = w.shape
    ap = np.pad(a, ((0, 0), (p, p), (p, p)))
    Ho, Wo = (ap.shape[1] - R) // u + 1, (ap.shape[2] - S) // u + 1
    n = 0
    for k in range(K):
        for c in range(C):
            for r in range(R):
                for s in range(S):
                    if w[k, c, r, s] == 0:
                        continue
                    for y in range(Ho):
                        for x in range(Wo):
                            n += ap[c, u * y + r, u * x + s] != 0
    return int(n)


def test_a_dense_layer_by_hand():
    # K=5, C=3, 3x3 kernel on 10x10, padding 1: Ho = Wo = 10, Hto = Wto = ceil(10/8) = 2. Per output:
    # ceil(5/4) ceil(3/4) 9 = 18 cycles; busiest PE 2*2*18 = 72; all PEs 100*18 = 1800.
    # Multiplies 5*3*9*100 = 13500. Weights 135 * 16 = 2160 bit, ceil(2160/400) = 6 DRAM cycles.
    # Input stationary: 5 PE rows own 2 output rows each, window 2 + 3 - 1 = 4 padded rows: 20 rows,
    # 20 columns, ceil(3/4) = 1 channel group: 400 activation vectors read.
    w, a = np.ones((5, 3, 3, 3)), np.ones((3, 10, 10))
    r = dcnn.simulate(w, a, 1, 1)
    assert (r.cycles, r.compute_cycles, r.pe_cycles, r.dram_cycles, r.spills) == (72, 72, 1800, 6, False)
    assert r.counts == {
        "multiplier.multiply": 13500,
        "multiplier.gated": 0,
        "adder.add": 13500,
        "weight_buffer.read": 1800,
        "activation_sram.read": 400,
        "accumulator.update": 7200,
        "sram.write": 500,
        "dram.read_bit": 2160,
        "dram.write_bit": 0,
    }
    # DCNN-opt: the padding zeros are gated. A 10x10 plane of ones padded by 1: tap (r, s) sees
    # (10 - |r-1|) (10 - |s-1|) ones, (9 + 10 + 9)^2 = 784 over the 9 taps, times K C = 15: 11760.
    # Compressed weights: 45 entries per channel, 135 * 20 = 2700 bit.
    opt = dcnn.simulate(w, a, 1, 1, dcnn.DCNN_OPT)
    assert opt.counts["multiplier.multiply"] == 11760 == brute_force_pairs(w, a, 1, 1)
    assert opt.counts["multiplier.gated"] == 13500 - 11760 and opt.counts["adder.add"] == 13500
    assert opt.counts["dram.read_bit"] == 2700 and opt.cycles == r.cycles


def brute_force_window_vectors(c: int, h: int, w: int, r: int, s: int, u: int, p: int, pe: int = 8) -> int:
    """Input vectors the PEs read once each: the bounding box of each PE's window in the padded plane."""
    ho, wo = (h + 2 * p - r) // u + 1, (w + 2 * p - s) // u + 1
    tile_h, tile_w = -(-ho // pe), -(-wo // pe)
    total = 0
    for i in range(pe):
        for j in range(pe):
            rows = range(i * tile_h, min((i + 1) * tile_h, ho))
            cols = range(j * tile_w, min((j + 1) * tile_w, wo))
            if rows and cols:
                box_h = u * (rows[-1] - rows[0]) + r
                box_w = u * (cols[-1] - cols[0]) + s
                total += box_h * box_w
    return -(-c // 4) * total


ODD_GEOMETRIES = (
    (3, 227, 227, 11, 11, 4, 0), (5, 9, 13, 3, 3, 2, 1), (6, 3, 3, 5, 5, 1, 2), (4, 20, 7, 1, 3, 3, 0),
    (9, 64, 64, 2, 2, 5, 1), (1, 1, 1, 1, 1, 1, 0), (13, 17, 100, 7, 1, 1, 3),
)  # fmt: skip
"""(C, H, W, R, S, stride, padding) of convolutions whose windows meet tile, border and stride edge cases."""


@pytest.mark.parametrize(("c", "h", "w", "r", "s", "u", "p"), ODD_GEOMETRIES)
def test_input_stationary_reads_each_window_vector_once(c, h, w, r, s, u, p):
    res = dcnn.simulate(np.ones((2, c, r, s)), np.ones((c, h, w)), u, p)
    assert res.counts["activation_sram.read"] == brute_force_window_vectors(c, h, w, r, s, u, p)


@pytest.mark.parametrize(
    ("wshape", "ashape", "u", "p"),
    [
        ((96, 3, 11, 11), (3, 227, 227), 4, 0),
        ((256, 96, 5, 5), (96, 27, 27), 1, 2),
        ((7, 5, 3, 3), (5, 9, 13), 2, 1),
        ((3, 2, 1, 1), (2, 3, 3), 1, 0),
    ],
)
def test_dense_closed_forms(wshape, ashape, u, p):
    k, c, r, s = wshape
    w, a = np.ones(wshape, dtype=np.float32), np.ones(ashape, dtype=np.float32)
    ho, wo = (ashape[1] + 2 * p - r) // u + 1, (ashape[2] + 2 * p - s) // u + 1
    res = dcnn.simulate(w, a, u, p)
    per = math.ceil(k / 4) * math.ceil(c / 4) * r * s
    assert res.compute_cycles == math.ceil(ho / 8) * math.ceil(wo / 8) * per
    assert res.pe_cycles == ho * wo * per and (res.out_h, res.out_w) == (ho, wo)
    assert res.counts["multiplier.multiply"] == res.counts["adder.add"] == k * c * r * s * ho * wo
    assert res.counts["accumulator.update"] == 4 * res.pe_cycles and res.counts["sram.write"] == k * ho * wo
    assert res.counts["dram.read_bit"] == k * c * r * s * 16
    if wshape[0] == 96:  # AlexNet conv1: 7*7*24*121
        assert res.compute_cycles == 142296


@pytest.mark.parametrize(("u", "p", "wd", "ad"), [(1, 0, 0.5, 0.5), (2, 1, 0.4, 0.6), (3, 2, 0.7, 0.3), (4, 1, 1, 1)])
def test_dcnn_opt_multiplies_are_the_nonzero_pairs(u, p, wd, ad):
    w, a = scnn.random_layer((6, 3, 5, 4), (3, 14, 17), wd, ad, seed=u + p)
    opt = dcnn.simulate(w, a, u, p, dcnn.DCNN_OPT)
    dense = dcnn.simulate(w, a, u, p)
    assert opt.counts["multiplier.multiply"] == brute_force_pairs(w, a, u, p) == dcnn.nonzero_pairs(w, a, u, p)
    total = dense.counts["multiplier.multiply"]
    assert opt.counts["multiplier.multiply"] + opt.counts["multiplier.gated"] == total
    assert opt.cycles == dense.cycles and opt.compute_cycles == dense.compute_cycles  # DCNN-opt is as fast


def test_dcnn_opt_reads_run_length_compressed_weights():
    w, a = scnn.random_layer((6, 4, 3, 3), (4, 9, 9), 0.15, 0.5, seed=11)
    cfg = dcnn.DcnnConfig(optimized=True, index_bits=2)
    entries = sum(eie.encode_column(w[:, c].reshape(-1), 2)[0].size for c in range(4))  # order (k, r, s)
    assert entries > np.count_nonzero(w)  # placeholders present
    assert dcnn.simulate(w, a, 1, 1, cfg).counts["dram.read_bit"] == entries * 18


def test_activations_spill_exactly_past_the_sram():
    # C=1, 4x4 input, one 1x1 filter: (16 + 16) values * 16 bit = 512 bit = 64 byte.
    # Input nonzeros at positions 0 and 7 (a run of 6 zeros: 1 placeholder at index_bits=2).
    w = np.ones((1, 1, 1, 1))
    a = np.zeros((1, 4, 4))
    a.reshape(-1)[[0, 7]] = 3.0
    fits = dcnn.simulate(w, a, config=dcnn.DcnnConfig(sram_bytes=64))
    assert not fits.spills and fits.counts["dram.read_bit"] == 16 and fits.counts["dram.write_bit"] == 0
    spill = dcnn.simulate(w, a, config=dcnn.DcnnConfig(sram_bytes=63))
    assert spill.spills
    assert spill.counts["dram.read_bit"] == 16 + 16 * 16 and spill.counts["dram.write_bit"] == 16 * 16
    # DCNN-opt: weights 1 entry, input 2 nonzeros + 1 placeholder, output round(16 * 0.3) = 5, 18 bit each.
    opt = dcnn.simulate(w, a, config=dcnn.DcnnConfig(sram_bytes=63, optimized=True, index_bits=2), output_density=0.3)
    assert opt.counts["dram.read_bit"] == (1 + 3) * 18 and opt.counts["dram.write_bit"] == 5 * 18
    slow = dcnn.simulate(w, a, config=dcnn.DcnnConfig(sram_bytes=63, dram_bytes_per_cycle=0.5))
    assert slow.dram_cycles == math.ceil((272 + 256) / 4) == slow.cycles > slow.compute_cycles


W_OK = np.ones((2, 3, 3, 3))
A_OK = np.ones((3, 5, 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(weights=np.ones((2, 3, 3))), "weights ndim=3"),
        (dict(activations=np.ones((3, 5, 5, 1))), "activations ndim=4"),
        (dict(activations=np.ones((2, 5, 5))), "weights input channels C=3"),
        (dict(stride=0), "stride=0"),
        (dict(padding=0.5), "padding=0.5"),
        (dict(activations=np.ones((3, 2, 5))), "output plane Ho x Wo=0 x 3"),
        (dict(weights=np.full((2, 3, 3, 3), -np.inf)), "weights contains -inf"),
        (dict(activations=np.ones((3, 5, 5), dtype=np.complex64)), "activations dtype=complex64"),
        (dict(output_density=-0.1), "output_density=-0.1"),
        (dict(config=dcnn.DcnnConfig(I=0)), "config.I=0"),
        (dict(config=dcnn.DcnnConfig(optimized="yes")), "config.optimized='yes'"),
        (dict(config=scnn.SCNN), "must be a DcnnConfig"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(kwargs, message):
    args = dict(weights=W_OK, activations=A_OK, stride=1, padding=0) | kwargs
    with pytest.raises(ValueError, match=r"allowed|must|outside") as info:
        dcnn.simulate(**args)
    assert message in str(info.value)
