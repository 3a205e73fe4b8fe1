"""Tests of the SCNN reference simulator (archsim/scnn.py): hand-worked layers, an independent brute-force
implementation of the mechanism compared exactly on random small layers, the polyphase rewrite, input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archsim import eie, scnn

ONE_PE = scnn.ScnnConfig(pe_rows=1, pe_cols=1)


# --- hand-worked layers ------------------------------------------------------------------------------
def test_one_by_one_conv_on_a_two_by_two_plane_by_hand():
    # K=2, C=1, 1x1 kernel, one PE. Activations [[1, 0], [2, 3]]: entries at tile positions 0, 2, 3 (ea = 3,
    # no run of 16 zeros). Weights [5, 7]: ew = 2. Extended region 2x2 = 4 sums per channel:
    # K_c = min(K=2, 8, 1024 // 4) = 2, one group. mult_cycles = ceil(2/4) ceil(3/4) = 1; products = 6.
    # Banks (5 kl + 2 yl + xl) mod 32 (the 2x2 region, made odd: 5): channel 0 -> 0, 2, 3; channel 1 -> 5, 7, 8.
    # With 32 banks all differ: block = max(1, 1) = 1 cycle. One PE owns everything: no halos. Drain: 2*2*2 = 8
    # outputs. DRAM: weights 2 entries * 20 bit = 40 bit; activations 3 * 20 = 60 bit fit the IARAM; outputs
    # 8 * 20 = 160 bit fit the OARAM. Latency max(1, ceil(40 / 400)) = 1.
    w = np.array([5.0, 7.0]).reshape(2, 1, 1, 1)
    a = np.array([[1.0, 0.0], [2.0, 3.0]]).reshape(1, 2, 2)
    r = scnn.simulate(w, a, config=ONE_PE)
    assert (r.cycles, r.compute_cycles, r.stall_cycles, r.barrier_idle_cycles) == (1, 1, 0, 0)
    assert (r.group_channels, r.groups, r.products, r.halo_values, r.dram_cycles) == (2, 1, 6, 0, 1)
    assert r.multiplier_utilisation == 6 / 16 and r.pe_idle_fraction == 0.0
    assert r.counts == {
        "multiplier.multiply": 6,
        "crossbar.transfer": 6,
        "accumulator.update": 6,
        "accumulator.read": 8,
        "halo.transfer": 0,
        "weight_fifo.write": 1,
        "weight_fifo.read": 1,
        "iaram.read": 1,
        "oaram.write": 8,
        "ppu.relu": 8,
        "dram.read_bit": 40,
        "dram.write_bit": 0,
    }
    # With 2 banks: banks 0, 0, 1 (channel 0) and 1, 1, 0 (channel 1: 5, 7, 8) -> three products each:
    # block = max(1, 3) = 3 cycles, 2 of them stalls.
    r2 = scnn.simulate(w, a, config=ONE_PE._replace(banks=2), output_density=0.5)
    assert (r2.cycles, r2.compute_cycles, r2.stall_cycles) == (3, 3, 2)
    assert r2.multiplier_utilisation == 6 / 48
    assert r2.counts["oaram.write"] == 4 and r2.counts["weight_fifo.read"] == 1
    assert r2.group_channels == 2  # 2 * 32 // 4 = 16 > K


def test_halos_of_a_three_by_three_conv_on_four_pes_by_hand():
    # 3x3 kernel on a 4x4 plane, no padding: Ho = Wo = 2. 2x2 PEs, tiles 2x2, extended region 4x4.
    # All outputs (y, x < 2) lie in PE (0, 0)'s tile. PE (i, j)'s extended rows are [2i - 2, 2i + 2):
    # PE (0, 0): 4 valid, 4 owned -> 0 halo; PE (0, 1), (1, 0), (1, 1): 4 valid, 0 owned -> 4 each.
    # 12 halo values per output channel, K = 3 -> 36.
    w = np.ones((3, 1, 3, 3))
    a = np.ones((1, 4, 4))
    cfg = scnn.ScnnConfig(pe_rows=2, pe_cols=2)
    r = scnn.simulate(w, a, config=cfg)
    assert r.halo_values == 36 and r.counts["halo.transfer"] == 36
    # Dense: each PE has ea = 4 (one I-vector), each block ew = 27 (7 F-vectors): 7 cycles per PE, equal
    # PEs -> no barrier idle. Products 4 PEs * 27 * 4 = 432.
    assert r.products == 432 and r.counts["accumulator.update"] == 432 + 36
    assert r.counts["accumulator.read"] == 36 + 3 * 4
    assert r.counts["weight_fifo.write"] == 7 * 4 and r.counts["iaram.read"] == 4
    # K_c = min(3, 8, 1024 // 16 = 64) = 3. Bank (17 kl + 4 yl + xl) mod 32 (region 16, made odd) with
    # yl = ya - r + 2 (ya in {0, 1}, r in {0, 1, 2}): yl = 0, 1, 2, 3 arise 1, 2, 2, 1 times, so position
    # p = 4 yl + xl takes m(yl) m(xl) products, 1 2 2 1 / 2 4 4 2 / 2 4 4 2 / 1 2 2 1 for p = 0..15. Channel 0 fills
    # banks 0..15, channel 1 banks 17..31 and 0, channel 2 banks 2..17 (p = b - 2): at most 4 + 2 = 6 products
    # (e.g. bank 6: p = 6 and p = 4) <= 7 mult cycles. Every PE: block = 7 cycles, no stall; no barrier idle.
    assert r.compute_cycles == 7 and r.stall_cycles == 0 and r.barrier_idle_cycles == 0
    assert r.counts["weight_fifo.read"] == 4 * 7


def test_a_placeholder_sits_sixteen_positions_after_the_previous_entry():
    # One PE, 1x1 kernel, plane 1 x 18 with a single nonzero at x = 17: a run of 17 zeros costs
    # floor(17/16) = 1 placeholder, at position 15 (15 zeros before it). ea = 2, ew = 1, products 2.
    # Extended width 18; with 2 banks both products (x = 15, 17) hit bank 1: block = max(1, 2) = 2.
    # Were the placeholder at 16 the banks would differ and nothing would stall.
    w = np.full((1, 1, 1, 1), 2.0)
    a = np.zeros((1, 1, 18))
    a[0, 0, 17] = 1.0
    r = scnn.simulate(w, a, config=ONE_PE._replace(banks=2))
    assert r.products == 2 and r.compute_cycles == 2 and r.stall_cycles == 1
    r32 = scnn.simulate(w, a, config=ONE_PE)
    assert r32.compute_cycles == 1 and r32.stall_cycles == 0
    # SparseW: all 18 activations are entries: ceil(18/4) = 5 I-vectors.
    rw = scnn.simulate(w, a, config=ONE_PE._replace(sparse_activations=False))
    assert rw.products == 18 and rw.compute_cycles == 5 and rw.counts["iaram.read"] == 5


def test_barrier_idles_the_pes_that_finish_early_and_empty_pes():
    # 1x1 kernel on a 1x3 plane split over 1x4 PEs: tiles of 1 column, PE 3 is empty. Only PE 0 has an
    # activation: it works 1 cycle per group, the other 3 PEs idle 1 cycle each.
    w = np.ones((2, 1, 1, 1))
    a = np.array([[[1.0, 0.0, 0.0]]])
    r = scnn.simulate(w, a, config=scnn.ScnnConfig(pe_rows=1, pe_cols=4))
    assert r.groups == 1 and r.compute_cycles == 1 and r.barrier_idle_cycles == 3
    assert r.pe_idle_fraction == 3 / 4
    assert r.busy_cycles.tolist() == [[1, 0, 0, 0]]


def test_dram_spills_and_latency():
    # One PE with a 1-byte IARAM / OARAM: 3 activation entries * 20 bit = 60 > 8 bit -> read from DRAM;
    # 8 outputs * 20 bit = 160 > 8 -> written. Bits: 40 + 60 read, 160 written; 1 byte per cycle:
    # ceil(260 / 8) = 33 cycles > compute.
    w = np.array([5.0, 7.0]).reshape(2, 1, 1, 1)
    a = np.array([[1.0, 0.0], [2.0, 3.0]]).reshape(1, 2, 2)
    cfg = ONE_PE._replace(iaram_bytes=1, oaram_bytes=1, dram_bytes_per_cycle=1.0)
    r = scnn.simulate(w, a, config=cfg)
    assert r.counts["dram.read_bit"] == 100 and r.counts["dram.write_bit"] == 160
    assert r.dram_cycles == 33 and r.cycles == 33 and r.compute_cycles == 1
    assert scnn.simulate(w, a, config=cfg, output_density=0.0).counts["dram.write_bit"] == 0
    assert scnn.dram_cycles(401, 50.0) == 2 and scnn.dram_cycles(400, 50.0) == 1 and scnn.dram_cycles(0, 0.3) == 0


# --- independent brute-force implementation of the mechanism -------------------------------------------
def _entries(values: list[float], sparse: bool, index_bits: int) -> list[tuple[int, float]]:
    """(position, value) of every stored entry of a flattened block (eie.encode_column's placement)."""
    if not sparse:
        return list(enumerate(values))
    if not any(values):
        return []
    v, z = eie.encode_column(np.asarray(values, dtype=np.float64), index_bits)
    out, pos = [], -1
    for value, zeros in zip(v.tolist(), z.tolist(), strict=True):
        pos += zeros + 1
        out.append((pos, value))
    return out


def reference(w: np.ndarray, a: np.ndarray, u: int, p: int, cfg: scnn.ScnnConfig, density: float = 1.0) -> dict:
    """The mechanism of the module docstring, one product at a time, with explicit bank loads and values."""
    K, C, R, S = w.shape
    _, H, W = a.shape
    Hp, Wp = H + 2 * p, W + 2 * p
    Ho, Wo = (Hp - R) // u + 1, (Wp - S) // u + 1
    ap = [[[0.0] * Wp for _ in range(Hp)] for _ in range(C)]
    for c in range(C):
        for y in range(H):
            for x in range(W):
                ap[c][y + p][x + p] = float(a[c, y, x])
    H2, W2, R2, S2 = math.ceil(Hp / u), math.ceil(Wp / u), math.ceil(R / u), math.ceil(S / u)
    C2 = C * u * u
    a2 = [[[0.0] * W2 for _ in range(H2)] for _ in range(C2)]
    w2 = [[[[0.0] * S2 for _ in range(R2)] for _ in range(C2)] for _ in range(K)]
    for c in range(C):
        for pa in range(u):
            for pb in range(u):
                c2 = c * u * u + pa * u + pb
                for y in range(H2):
                    for x in range(W2):
                        if pa + u * y < Hp and pb + u * x < Wp:
                            a2[c2][y][x] = ap[c][pa + u * y][pb + u * x]
                for k in range(K):
                    for r in range(R2):
                        for s in range(S2):
                            if pa + u * r < R and pb + u * s < S:
                                w2[k][c2][r][s] = float(w[k, c, pa + u * r, pb + u * s])
    Ht, Wt = math.ceil(H2 / cfg.pe_rows), math.ceil(W2 / cfg.pe_cols)
    Eh, Ew = Ht + R2 - 1, Wt + S2 - 1
    Kc = max(1, min(K, cfg.max_group_channels, (cfg.banks * cfg.bank_entries) // (Eh * Ew)))
    G = math.ceil(K / Kc)
    pes = [(i, j) for i in range(cfg.pe_rows) for j in range(cfg.pe_cols)]

    def rows_of(i):
        return range(i * Ht, min((i + 1) * Ht, H2))

    def cols_of(j):
        return range(j * Wt, min((j + 1) * Wt, W2))

    acc = {pe: {} for pe in pes}  # (k, yl, xl) -> partial sum
    busy = [[0] * len(pes) for _ in range(G)]
    tot = dict(products=0, stall=0, mult=0, wf_write=0, iaram=0, ew_sum=0, ea_sum=0)
    for c2 in range(C2):
        for pe in pes:
            tile = [a2[c2][y][x] for y in rows_of(pe[0]) for x in cols_of(pe[1])]
            tot["ea_sum"] += len(_entries(tile, cfg.sparse_activations, cfg.index_bits))
    for g in range(G):
        ks = list(range(g * Kc, min((g + 1) * Kc, K)))
        for c2 in range(C2):
            block = [w2[k][c2][r][s] for k in ks for r in range(R2) for s in range(S2)]
            went = _entries(block, cfg.sparse_weights, cfg.index_bits)
            ew = len(went)
            tot["ew_sum"] += ew
            tot["wf_write"] += math.ceil(ew / cfg.F) * len(pes)
            for n, (i, j) in enumerate(pes):
                tw = len(cols_of(j))
                tile = [a2[c2][y][x] for y in rows_of(i) for x in cols_of(j)]
                aent = _entries(tile, cfg.sparse_activations, cfg.index_bits)
                ea = len(aent)
                tot["iaram"] += math.ceil(ea / cfg.I)
                if ew == 0 or ea == 0:
                    continue
                mult = math.ceil(ew / cfg.F) * math.ceil(ea / cfg.I)
                loads = [0] * cfg.banks
                for wq, wv in went:
                    kl, r, s = wq // (R2 * S2), (wq // S2) % R2, wq % S2
                    for aq, av in aent:
                        y, x = i * Ht + aq // tw, j * Wt + aq % tw  # the activation's plane position
                        yl, xl = (y - i * Ht) - r + R2 - 1, (x - j * Wt) - s + S2 - 1
                        assert 0 <= yl < Eh and 0 <= xl < Ew
                        loads[(kl * ((Eh * Ew) | 1) + yl * Ew + xl) % cfg.banks] += 1
                        key = (ks[kl], yl, xl)
                        acc[(i, j)][key] = acc[(i, j)].get(key, 0.0) + wv * av
                cycles = max(mult, max(loads))
                busy[g][n] += cycles
                tot["stall"] += cycles - mult
                tot["mult"] += mult
                tot["products"] += ew * ea
    # Halos and drain: every valid output of an extended region goes to its owner.
    out = np.zeros((K, Ho, Wo))
    halo = 0
    for i, j in pes:
        for k in range(K):
            for yl in range(Eh):
                for xl in range(Ew):
                    y, x = i * Ht + yl - (R2 - 1), j * Wt + xl - (S2 - 1)
                    if not (0 <= y < Ho and 0 <= x < Wo):
                        continue
                    out[k, y, x] += acc[(i, j)].get((k, yl, xl), 0.0)
                    if not (y in rows_of(i) and x in cols_of(j)):
                        halo += 1
    group_cycles = [max(b) for b in busy]
    compute = sum(group_cycles)
    busy_total = sum(map(sum, busy))
    idle = sum(gc * len(pes) - sum(b) for gc, b in zip(group_cycles, busy, strict=True))
    outputs = K * Ho * Wo
    nz_out = round(outputs * density)
    bits = cfg.value_bits + cfg.index_bits
    read = tot["ew_sum"] * bits + (tot["ea_sum"] * bits if tot["ea_sum"] * bits > len(pes) * cfg.iaram_bytes * 8 else 0)
    write = nz_out * bits if nz_out * bits > len(pes) * cfg.oaram_bytes * 8 else 0
    dram = math.ceil((read + write) / (8 * cfg.dram_bytes_per_cycle))
    return dict(
        output=out,
        cycles=max(compute, dram),
        compute_cycles=compute,
        stall_cycles=tot["stall"],
        barrier_idle_cycles=idle,
        multiplier_utilisation=tot["products"] / (cfg.F * cfg.I * busy_total) if busy_total else 0.0,
        pe_idle_fraction=idle / (len(pes) * compute) if compute else 0.0,
        halo_values=halo,
        products=tot["products"],
        group_channels=Kc,
        groups=G,
        busy_cycles=busy,
        counts={
            "multiplier.multiply": tot["products"],
            "crossbar.transfer": tot["products"],
            "accumulator.update": tot["products"] + halo,
            "accumulator.read": halo + outputs,
            "halo.transfer": halo,
            "weight_fifo.write": tot["wf_write"],
            "weight_fifo.read": tot["mult"],
            "iaram.read": tot["iaram"],
            "oaram.write": nz_out,
            "ppu.relu": outputs,
            "dram.read_bit": read,
            "dram.write_bit": write,
        },
    )


def direct_conv(w: np.ndarray, a: np.ndarray, u: int, p: int) -> np.ndarray:
    """The strided, padded convolution, one output at a time."""
    K, _, R, S = w.shape
    ap = np.pad(a, ((0, 0), (p, p), (p, p)))
    Ho, Wo = (ap.shape[1] - R) // u + 1, (ap.shape[2] - S) // u + 1
    out = np.zeros((K, Ho, Wo))
    for y in range(Ho):
        for x in range(Wo):
            patch = ap[:, u * y : u * y + R, u * x : u * x + S]
            out[:, y, x] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2]))
    return out


# (weights shape, activations shape, stride, padding, config overrides, weight density, activation density)
SMALL = [
    ((5, 2, 3, 3), (2, 9, 9), 1, 1, dict(pe_rows=2, pe_cols=3, banks=4, bank_entries=8), 0.5, 0.5),
    ((7, 3, 3, 3), (3, 11, 10), 2, 1, dict(pe_rows=3, pe_cols=2, banks=8, bank_entries=4), 0.4, 0.6),
    ((4, 1, 5, 5), (1, 13, 13), 3, 2, dict(pe_rows=2, pe_cols=2, banks=5, bank_entries=6, F=2, I=3), 0.6, 0.5),
    ((6, 2, 4, 3), (2, 12, 9), 4, 0, dict(pe_rows=2, pe_cols=2, banks=8, bank_entries=2), 0.5, 0.7),
    ((9, 2, 1, 1), (2, 5, 7), 1, 0, dict(pe_rows=4, pe_cols=8, banks=4, bank_entries=1), 0.5, 0.4),
    ((3, 2, 3, 3), (2, 20, 20), 1, 0, dict(pe_rows=1, pe_cols=1, index_bits=2, max_group_channels=2), 0.3, 0.15),
    ((10, 1, 3, 3), (1, 7, 8), 1, 1, dict(pe_rows=2, pe_cols=2, index_bits=2, banks=6, bank_entries=3), 0.2, 0.3),
    ((5, 2, 3, 3), (2, 9, 9), 2, 1, dict(pe_rows=2, pe_cols=3, banks=4, sparse_activations=False), 0.5, 0.5),
    ((5, 2, 3, 3), (2, 9, 9), 2, 1, dict(pe_rows=3, pe_cols=2, banks=4, sparse_weights=False), 0.5, 0.5),
    ((4, 2, 2, 2), (2, 6, 6), 1, 0, dict(pe_rows=2, pe_cols=2, sparse_weights=False, sparse_activations=False), 1, 1),
    ((3, 1, 3, 3), (1, 6, 6), 1, 1, dict(pe_rows=2, pe_cols=2, iaram_bytes=1, oaram_bytes=1), 0.5, 0.5),
    ((2, 1, 3, 3), (1, 5, 5), 1, 0, dict(pe_rows=2, pe_cols=2), 0.0, 0.5),
    ((4, 2, 3, 3), (2, 9, 11), 1, 0, dict(pe_rows=2, pe_cols=3, index_bits=1, banks=7), 0.3, 0.2),
]


def _small(case):
    wshape, ashape, u, p, over, wd, ad = case
    w, a = scnn.random_layer(wshape, ashape, wd, ad, seed=sum(wshape) + 7 * sum(ashape) + u)
    return w, a, u, p, scnn.ScnnConfig(**over)


@pytest.mark.parametrize("case", SMALL, ids=[f"case{i}" for i in range(len(SMALL))])
def test_vectorised_simulator_matches_the_brute_force_reference_exactly(case):
    w, a, u, p, cfg = _small(case)
    ref = reference(w, a, u, p, cfg, density=0.4)
    got = scnn.simulate(w, a, u, p, cfg, output_density=0.4)
    # The reference's functional check: accumulators + halos reproduce the convolution.
    np.testing.assert_array_equal(ref["output"], direct_conv(w, a, u, p))
    assert got.counts == ref["counts"]
    for field in ("cycles", "compute_cycles", "stall_cycles", "barrier_idle_cycles", "halo_values", "products"):
        assert getattr(got, field) == ref[field], field
    assert (got.group_channels, got.groups) == (ref["group_channels"], ref["groups"])
    assert got.busy_cycles.tolist() == ref["busy_cycles"]
    assert got.multiplier_utilisation == ref["multiplier_utilisation"]
    assert got.pe_idle_fraction == ref["pe_idle_fraction"]
    assert all(type(v) is int for v in got.counts.values())


def test_the_small_cases_cover_the_corner_cases():
    seen = set()
    for case in SMALL:
        w, a, u, p, cfg = _small(case)
        geo = scnn.geometry(w.shape, a.shape, u, p, cfg)
        r = scnn.simulate(w, a, u, p, cfg)
        seen.add(f"stride{u}")
        seen |= {"padding"} if p else set()
        seen |= {"k_not_divisible"} if geo.K % geo.group_channels else set()
        seen |= {"empty_pe"} if 0 in geo.row_sizes or 0 in geo.col_sizes else set()
        partial = geo.plane_h % geo.tile_h or geo.plane_w % geo.tile_w
        seen |= {"partial_tile"} if partial else set()
        seen |= {"stall"} if r.stall_cycles else set()
        seen |= {"halo"} if r.halo_values else set()
        seen |= {"spill"} if r.counts["dram.write_bit"] else set()
        seen |= {"several_groups"} if geo.groups > 1 else set()
        no_placeholders = scnn.simulate(w, a, u, p, cfg._replace(index_bits=30))
        seen |= {"placeholders"} if r.products != no_placeholders.products else set()
    assert seen >= {
        "stride1", "stride2", "stride3", "stride4", "padding", "k_not_divisible", "empty_pe", "partial_tile",
        "stall", "halo", "spill", "several_groups", "placeholders",
    }  # fmt: skip


# --- polyphase decomposition ---------------------------------------------------------------------------
@pytest.mark.parametrize(("u", "p", "r", "s"), [(1, 0, 3, 3), (2, 1, 3, 3), (3, 2, 5, 4), (4, 0, 11, 11), (2, 0, 1, 2)])
def test_polyphase_rewrite_reproduces_the_strided_convolution(u, p, r, s):
    rng = np.random.default_rng(u * 100 + p * 10 + r)
    w = rng.integers(-3, 4, size=(4, 3, r, s)).astype(np.float64)
    a = rng.integers(-3, 4, size=(3, 23, 19)).astype(np.float64)
    w2, a2 = scnn.polyphase(w, a, u, p)
    ho, wo = scnn.output_shape(w.shape, a.shape, u, p)
    assert w2.shape == (4, 3 * u * u, -(-r // u), -(-s // u))
    assert a2.shape == (3 * u * u, -(-(23 + 2 * p) // u), -(-(19 + 2 * p) // u))
    r2, s2 = w2.shape[2:]
    stride1 = np.zeros((4, ho, wo))
    for dr in range(r2):
        for ds in range(s2):
            stride1 += np.einsum("kc,cyx->kyx", w2[:, :, dr, ds], a2[:, dr : dr + ho, ds : ds + wo])
    np.testing.assert_array_equal(stride1, direct_conv(w, a, u, p))
    # Nonzero pairs landing on valid outputs: the same count in both forms.
    pairs1 = sum(
        int(np.einsum("kc,cyx->", (w2[:, :, dr, ds] != 0) * 1, (a2[:, dr : dr + ho, ds : ds + wo] != 0) * 1))
        for dr in range(r2)
        for ds in range(s2)
    )
    ap = np.pad(a, ((0, 0), (p, p), (p, p))) != 0
    direct = 0
    for dr in range(r):
        for ds in range(s):
            live = ap[:, dr : dr + u * (ho - 1) + 1 : u, ds : ds + u * (wo - 1) + 1 : u].sum(axis=(1, 2))
            direct += int(((w[:, :, dr, ds] != 0) * live[None, :]).sum())
    assert pairs1 == direct


def test_products_are_the_nonzero_pairs_per_channel_without_placeholders():
    # No run reaches 2**10 zeros: products = sum over c' of nonzero weights x nonzero activations of c'.
    w, a = scnn.random_layer((16, 6, 3, 3), (6, 20, 20), 0.4, 0.5, seed=3)
    for u, p in ((1, 1), (2, 1), (3, 0)):
        r = scnn.simulate(w, a, u, p, scnn.ScnnConfig(index_bits=10))
        w2, a2 = scnn.polyphase(w, a, u, p)
        expect = int((np.count_nonzero(w2, axis=(0, 2, 3)) * np.count_nonzero(a2, axis=(1, 2))).sum())
        assert r.products == expect


# --- run-length entries ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("index_bits", "density"), [(4, 0.05), (2, 0.3), (1, 0.5), (4, 0.9)])
def test_run_length_entries_agree_with_the_eie_filler_count_and_placement(index_bits, density):
    rng = np.random.default_rng(index_bits)
    mask = rng.random((40, 300)) < density
    blk, pos = np.nonzero(mask)
    entries, ph_blk, ph_pos = scnn.run_length_entries(blk, pos, 40, index_bits)
    counts = eie.column_counts(mask.T.astype(np.float64), pes=1, index_bits=index_bits)
    np.testing.assert_array_equal(entries, counts.entries[0])
    for b in range(0, 40, 7):
        expect = [q for q, v in _entries(mask[b].astype(float).tolist(), True, index_bits) if v == 0]
        assert ph_pos[ph_blk == b].tolist() == expect


def test_sparse_variants_equal_scnn_when_their_dense_operand_has_no_zeros():
    w, _ = scnn.random_layer((12, 5, 3, 3), (5, 15, 15), 0.4, 1.0, seed=5)
    _, a = scnn.random_layer((12, 5, 3, 3), (5, 15, 15), 1.0, 0.4, seed=6)
    dense_a = np.ones((5, 15, 15))
    dense_w = np.ones((12, 5, 3, 3))
    for weights, acts, variant in ((w, dense_a, scnn.SCNN_SPARSE_W), (dense_w, a, scnn.SCNN_SPARSE_A)):
        both, one = scnn.simulate(weights, acts), scnn.simulate(weights, acts, config=variant)  # padding 0: no zeros
        assert both.counts == one.counts and both.cycles == one.cycles and both.stall_cycles == one.stall_cycles
        np.testing.assert_array_equal(both.busy_cycles, one.busy_cycles)
    # Dense operands cost more entries: never fewer products.
    assert scnn.simulate(w, a, 1, 1, scnn.SCNN_SPARSE_W).products >= scnn.simulate(w, a, 1, 1).products


def test_a_mid_size_layer_keeps_the_invariants():
    w, a = scnn.random_layer((64, 48, 3, 3), (48, 28, 28), 0.35, 0.45)
    r = scnn.simulate(w, a, 1, 1, output_density=0.5)
    cfg = r.config
    assert set(r.counts) == set(scnn.COUNT_KEYS)
    assert r.compute_cycles == int(r.group_cycles.sum()) and r.busy_cycles.shape == (r.groups, cfg.pes)
    assert r.barrier_idle_cycles == int((r.group_cycles[:, None] - r.busy_cycles).sum())
    assert r.products <= cfg.F * cfg.I * int(r.busy_cycles.sum())
    assert 0 < r.multiplier_utilisation <= 1 and 0 <= r.pe_idle_fraction < 1
    assert r.counts["weight_fifo.read"] + r.stall_cycles == int(r.busy_cycles.sum())
    assert r.counts["oaram.write"] == round(64 * 28 * 28 * 0.5)
    assert r.cycles >= r.compute_cycles and r.time_us() == r.cycles / 1000.0


def test_random_layer_has_exact_densities_and_is_deterministic():
    w, a = scnn.random_layer((8, 3, 5, 5), (3, 17, 19), 0.37, 0.5)
    assert np.count_nonzero(w) == round(0.37 * w.size) and np.count_nonzero(a) == round(0.5 * a.size)
    assert np.all(a >= 0) and w.shape == (8, 3, 5, 5) and a.shape == (3, 17, 19)
    w2, a2 = scnn.random_layer((8, 3, 5, 5), (3, 17, 19), 0.37, 0.5)
    np.testing.assert_array_equal(w, w2)
    np.testing.assert_array_equal(a, a2)
    w3, _ = scnn.random_layer((8, 3, 5, 5), (3, 17, 19), 0.37, 0.5, seed=1)
    assert not np.array_equal(w, w3)


# --- input checks --------------------------------------------------------------------------------------
W_OK = np.ones((2, 3, 3, 3))
A_OK = np.ones((3, 5, 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(weights=np.ones((2, 3, 3))), "weights ndim=3"),
        (dict(activations=np.ones((3, 5))), "activations ndim=2"),
        (dict(activations=np.ones((4, 5, 5))), "weights input channels C=3"),
        (dict(stride=0), "stride=0"),
        (dict(stride=1.5), "stride=1.5"),
        (dict(stride=True), "stride=True"),
        (dict(padding=-1), "padding=-1"),
        (dict(padding=1.0), "padding=1.0"),
        (dict(weights=np.ones((2, 3, 7, 3))), "output plane Ho x Wo=-1 x 3"),
        (dict(activations=np.full((3, 5, 5), np.nan)), "activations contains nan"),
        (dict(weights=np.full((2, 3, 3, 3), np.inf)), "weights contains inf"),
        (dict(weights=np.ones((2, 3, 3, 3), dtype=complex)), "weights dtype=complex128"),
        (dict(activations=np.array([[["a"]]])), "activations dtype=<U1"),
        (dict(weights=np.ones((0, 3, 3, 3))), "weights shape=(0, 3, 3, 3)"),
        (dict(output_density=1.5), "output_density=1.5"),
        (dict(config=scnn.ScnnConfig(F=0)), "config.F=0"),
        (dict(config=scnn.ScnnConfig(dram_bytes_per_cycle=0.0)), "config.dram_bytes_per_cycle=0.0"),
        (dict(config=scnn.ScnnConfig(sparse_weights=1)), "config.sparse_weights=1"),
        (dict(config=(8, 8)), "must be an ScnnConfig"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(kwargs, message):
    args = dict(weights=W_OK, activations=A_OK, stride=1, padding=0) | kwargs
    with pytest.raises(ValueError, match=r"allowed|must|outside") as info:
        scnn.simulate(**args)
    assert message in str(info.value)


def test_geometry_and_random_layer_check_their_input():
    with pytest.raises(ValueError, match="activation_shape C=4"):
        scnn.geometry((2, 3, 3, 3), (4, 5, 5))
    with pytest.raises(ValueError, match=r"weight_density=1\.2"):
        scnn.random_layer((2, 3, 3, 3), (3, 5, 5), 1.2, 0.5)
    geo = scnn.geometry((96, 3, 11, 11), (3, 227, 227), stride=4)
    assert (geo.channels, geo.plane_h, geo.kernel_h, geo.tile_h, geo.out_h) == (48, 57, 3, 8, 55)
    assert (geo.group_channels, geo.groups, geo.row_sizes[-1]) == (8, 12, 1)
