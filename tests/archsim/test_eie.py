"""Tests of the EIE reference simulator (archsim/eie.py): storage format, FIFO timing, counts, checks."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from archsim import eie

PAPER_COLUMN = np.array([0, 0, 1, 2] + [0] * 18 + [3], dtype=np.float64)  # EIE Sec. III-B example


# --- storage format -----------------------------------------------------------------------------------
def test_paper_filler_example_encodes_exactly():
    v, z = eie.encode_column(PAPER_COLUMN, index_bits=4)
    np.testing.assert_array_equal(v, [1, 2, 0, 3])
    np.testing.assert_array_equal(z, [2, 0, 15, 2])


def test_paper_filler_example_in_the_csc_and_the_vectorised_count():
    column = PAPER_COLUMN[:, None]
    csc = eie.encode_csc(column, pes=1, index_bits=4)
    np.testing.assert_array_equal(csc.codebook[:4], [0, 1, 2, 3])
    np.testing.assert_array_equal(csc.v[0], [1, 2, 0, 3])
    np.testing.assert_array_equal(csc.z[0], [2, 0, 15, 2])
    np.testing.assert_array_equal(csc.ptr, [[0, 4]])
    counts = eie.column_counts(column, pes=1, index_bits=4)
    assert counts.nonzeros.tolist() == [[3]] and counts.fillers.tolist() == [[1]]
    np.testing.assert_array_equal(csc.to_dense(), column)


@pytest.mark.parametrize(
    ("zeros", "index_bits", "fillers"),
    [(15, 4, 0), (16, 4, 1), (31, 4, 1), (32, 4, 2), (3, 2, 0), (4, 2, 1), (9, 2, 2), (1, 1, 0), (2, 1, 1)],
)
def test_a_run_of_z_zeros_costs_floor_z_over_2_to_the_b_fillers(zeros, index_bits, fillers):
    column = np.array([0.0] * zeros + [5.0])
    v, z = eie.encode_column(column, index_bits)
    assert v.size == fillers + 1
    assert np.all(z <= 2**index_bits - 1)
    assert eie.column_counts(column[:, None], pes=1, index_bits=index_bits).fillers[0, 0] == fillers


def test_zeros_after_the_last_nonzero_cost_nothing():
    column = np.array([4.0] + [0.0] * 100)
    v, _ = eie.encode_column(column, 4)
    assert v.size == 1
    assert eie.column_counts(column[:, None], pes=1).entries.tolist() == [[1]]
    assert eie.column_counts(np.zeros((100, 1)), pes=1).entries.tolist() == [[0]]


def test_row_i_belongs_to_pe_i_mod_n_and_gaps_are_counted_in_local_rows():
    weights = np.zeros((64, 2))
    weights[5, 0] = 1.0  # PE 1, local row 1
    weights[1 + 4 * 15, 1] = 2.0  # PE 1, local row 15: a run of 15 local zeros, no filler
    counts = eie.column_counts(weights, pes=4, index_bits=4)
    assert counts.nonzeros[:, 0].tolist() == [0, 1, 0, 0]
    assert counts.nonzeros[:, 1].tolist() == [0, 1, 0, 0]
    assert counts.fillers.sum() == 0
    # The same column on one PE sees a run of 61 zeros: 3 fillers.
    assert eie.column_counts(weights[:, 1:], pes=1, index_bits=4).fillers[0, 0] == 3


@pytest.mark.parametrize(("pes", "index_bits", "density"), [(1, 4, 0.05), (4, 2, 0.1), (8, 4, 0.02), (3, 1, 0.3)])
def test_encoding_and_vectorised_count_agree_and_decode_back(pes, index_bits, density):
    rng = np.random.default_rng(pes * 10 + index_bits)
    weights = eie.random_sparse_matrix(97, 23, density, rng)
    dense = weights.to_dense()
    csc = eie.encode_csc(dense, pes=pes, index_bits=index_bits)
    from_code, vectorised = csc.counts(), eie.column_counts(weights, pes=pes, index_bits=index_bits)
    np.testing.assert_array_equal(from_code.nonzeros, vectorised.nonzeros)
    np.testing.assert_array_equal(from_code.fillers, vectorised.fillers)
    np.testing.assert_array_equal(np.diff(csc.ptr, axis=1), vectorised.entries)
    np.testing.assert_array_equal(csc.to_dense(), dense)
    assert all(np.all(z < 2**index_bits) for z in csc.z)


def test_encode_csc_needs_a_16_entry_codebook():
    with pytest.raises(ValueError, match="16 distinct nonzero values; allowed: at most 15"):
        eie.encode_csc(np.arange(1, 17, dtype=float)[:, None], pes=1)
    with pytest.raises(ValueError, match="not in the codebook"):
        eie.encode_csc(np.array([[1.0], [7.0]]), pes=1, codebook=np.r_[0.0, 1.0, np.zeros(14)])


# --- timing -------------------------------------------------------------------------------------------
def _two_pe_fifo_case() -> tuple[np.ndarray, np.ndarray]:
    """2 PEs, 4 columns; per-column work PE0 = [4, 1, 1, 1], PE1 = [1, 1, 1, 4] cycles."""
    weights = np.zeros((8, 4))
    weights[[0, 2, 4, 6], 0] = 1.0  # PE 0 owns the even rows
    weights[1, 0] = 1.0
    weights[[0, 1], 1] = 1.0
    weights[[0, 1], 2] = 1.0
    weights[0, 3] = 1.0
    weights[[1, 3, 5, 7], 3] = 1.0  # PE 1 owns the odd rows
    return weights, np.ones(4)


@pytest.mark.parametrize(("depth", "cycles", "stall"), [(1, 9, 2), (2, 8, 1), (3, 7, 0), (8, 7, 0)])
def test_fifo_stalls_hand_computed(depth, cycles, stall):
    # D=1: b=[0,1,4,5]; PE0 starts [0,4,5,6], PE1 starts [0,1,4,5] -> PE1 ends at 5 + 4 = 9.
    # D=2: b=[0,1,2,4]; PE1 starts column 3 at 4 -> 8.   D>=3: no stall, 7 = each PE's own work.
    weights, activations = _two_pe_fifo_case()
    result = eie.simulate(weights, activations, pes=2, fifo_depth=depth)
    assert result.cycles == cycles
    assert result.broadcast_stall_cycles == stall
    assert result.busy_cycles.tolist() == [7, 7]
    assert result.idle_cycles.tolist() == [cycles - 7, cycles - 7]
    assert result.entries == 14 and result.broadcasts == 4 and result.fillers == 0


def test_single_pe_with_a_long_column_is_never_starved():
    weights = np.zeros((20, 5))
    weights[:, 0] = 1.0
    weights[0, 1:] = 1.0
    for depth in (1, 8):
        assert eie.simulate(weights, np.ones(5), pes=1, fifo_depth=depth).cycles == 24


@pytest.mark.parametrize("depth", [1, 8])
def test_dense_limit_is_cols_times_rows_per_pe(depth):
    pes, rows, cols = 64, 192, 10
    result = eie.simulate(np.ones((rows, cols)), np.ones(cols), pes=pes, fifo_depth=depth)
    assert result.cycles == cols * rows // pes
    assert result.fillers == 0 and result.macs == rows * cols
    assert result.load_balance == 1.0 and result.idle_cycles.sum() == 0
    assert result.ptr_reads == 2 * pes * cols
    # Per PE the 3-entry slices sit at entries 0-2, 3-5, ..., 27-29: words touched 1,1,2,1,1,2,1,1,1,1.
    assert result.spmat_reads == pes * 12


def test_dense_limit_with_uneven_rows_is_set_by_the_busiest_pe():
    result = eie.simulate(np.ones((100, 6)), np.ones(6), pes=64, fifo_depth=1)
    assert result.cycles == 6 * 2  # ceil(100 / 64) rows on PEs 0..35
    assert result.busy_cycles[:36].tolist() == [12] * 36 and result.idle_cycles[36:].tolist() == [6] * 28


def test_one_cycle_per_broadcast_column_floor():
    activations = np.array([0.0, 2.0, 0.0, 1.0, 3.0, 0.0, 5.0])
    for depth in (1, 8):
        result = eie.simulate(np.zeros((130, 7)), activations, pes=64, fifo_depth=depth)
        assert result.cycles == 4 and result.broadcasts == 4
        assert result.entries == 0 and result.spmat_reads == 0 and result.macs == 0
        assert result.busy_cycles.tolist() == [4] * 64


def test_zero_activations_take_no_cycles():
    result = eie.simulate(np.ones((8, 3)), np.zeros(3), pes=4)
    assert result.cycles == 0 and result.broadcasts == 0 and result.ptr_reads == 0
    assert result.act_src_reads == 3


def test_only_broadcast_columns_cost_work():
    weights = np.zeros((4, 3))
    weights[:, 0] = 1.0  # never broadcast: activation 0 is zero
    weights[0, 1] = 1.0
    result = eie.simulate(weights, np.array([0.0, 1.0, 1.0]), pes=1)
    assert result.cycles == 2 and result.entries == 1 and result.stored_entries == 5


def test_spmat_reads_count_64_bit_words_touched():
    # One PE, column slices of 3, 6 and 8 entries at addresses 0-2, 3-8, 9-16 -> words 1 + 2 + 2.
    weights = np.zeros((8, 3))
    weights[:3, 0] = 1.0
    weights[:6, 1] = 1.0
    weights[:8, 2] = 1.0
    assert eie.simulate(weights, np.ones(3), pes=1).spmat_reads == 5
    # Skipping column 1 leaves columns 0 and 2 at their stored addresses: 1 + 2 words.
    assert eie.simulate(weights, np.array([1.0, 0.0, 1.0]), pes=1).spmat_reads == 3


def _reference_cycle_by_cycle(work: np.ndarray, depth: int) -> int:
    """Dense cycle-by-cycle run of the LNZD + FIFOs + PEs; ``work``: (K, pes) cycles per column."""
    n_bcast, pes = work.shape
    fifos = [collections.deque() for _ in range(pes)]
    remaining = [0] * pes
    next_bcast, cycle = 0, 0
    while True:
        for p in range(pes):  # a PE that is free starts its next column, freeing a FIFO slot
            if remaining[p] == 0 and fifos[p]:
                remaining[p] = int(work[fifos[p].popleft(), p])
        if next_bcast < n_bcast and all(len(f) < depth for f in fifos):  # one broadcast per cycle
            for f in fifos:
                f.append(next_bcast)
            next_bcast += 1
            for p in range(pes):  # a free PE can start the new column in the same cycle
                if remaining[p] == 0 and fifos[p]:
                    remaining[p] = int(work[fifos[p].popleft(), p])
        if next_bcast == n_bcast and not any(remaining) and not any(fifos):
            return cycle
        remaining = [max(r - 1, 0) for r in remaining]
        cycle += 1


@pytest.mark.parametrize("seed", range(6))
def test_recurrence_matches_a_cycle_by_cycle_run(seed):
    rng = np.random.default_rng(seed)
    pes = int(rng.integers(1, 6))
    depth = int(rng.integers(1, 5))
    weights = eie.random_sparse_matrix(int(rng.integers(5, 60)), 30, float(rng.uniform(0.02, 0.5)), rng)
    activations = eie.random_activations(30, float(rng.uniform(0.2, 1.0)), rng)
    result = eie.simulate(weights, activations, pes=pes, fifo_depth=depth, index_bits=2)
    work = np.maximum(eie.column_counts(weights, pes, 2).entries[:, activations != 0], 1).T
    assert result.cycles == _reference_cycle_by_cycle(work, depth)


@pytest.mark.parametrize("seed", range(3))
def test_counts_are_consistent(seed):
    rng = np.random.default_rng(100 + seed)
    weights = eie.random_sparse_matrix(150, 70, 0.08, rng)
    activations = eie.random_activations(70, 0.4, rng)
    dense = weights.to_dense()
    result = eie.simulate(weights, activations, pes=8, fifo_depth=2)
    np.testing.assert_array_equal(result.busy_cycles + result.idle_cycles, np.full(8, result.cycles))
    assert np.all(result.idle_cycles >= 0)
    assert result.cycles >= result.busy_cycles.max()
    assert result.macs == np.count_nonzero(dense * activations[None, :]) == result.nonzero_weights
    assert result.entries == result.macs + result.fillers
    assert result.act_dst_reads == result.act_dst_writes == result.entries
    assert result.broadcasts == np.count_nonzero(activations)
    assert result.ptr_reads == 2 * 8 * result.broadcasts
    assert result.entries / 8 <= result.spmat_reads <= result.entries
    counts = result.action_counts()
    assert counts["act_sram.read"] == 70 + result.entries and counts["act_sram.write"] == result.entries
    assert counts["pe.mac"] + counts["pe.filler"] == result.entries
    assert counts["fifo.push"] == 8 * result.broadcasts and counts["pe.cycle"] == 8 * result.cycles
    assert counts["spmat_sram.read"] == result.spmat_reads and counts["ptr_sram.read"] == result.ptr_reads
    assert all(isinstance(v, int) for v in counts.values())
    dense_result = eie.simulate(dense, activations, pes=8, fifo_depth=2)
    assert dense_result.cycles == result.cycles and dense_result.spmat_reads == result.spmat_reads


def test_deeper_fifos_never_slow_down():
    rng = np.random.default_rng(7)
    weights = eie.random_sparse_matrix(256, 200, 0.1, rng)
    activations = eie.random_activations(200, 0.5, rng)
    cycles = [eie.simulate(weights, activations, pes=16, fifo_depth=d).cycles for d in (1, 2, 4, 8, 64)]
    assert cycles == sorted(cycles, reverse=True)
    assert cycles[0] > cycles[-1]


# --- random inputs ------------------------------------------------------------------------------------
def test_random_inputs_have_exact_counts_and_are_reproducible():
    w1 = eie.random_sparse_matrix(300, 200, 0.0412, np.random.default_rng(3))
    w2 = eie.random_sparse_matrix(300, 200, 0.0412, np.random.default_rng(3))
    assert w1.nnz == round(0.0412 * 300 * 200) and w1.shape == (300, 200)
    np.testing.assert_array_equal(w1.to_dense(), w2.to_dense())
    assert np.unique(np.c_[w1.row, w1.col], axis=0).shape[0] == w1.nnz
    assert set(np.unique(w1.value)) <= set(range(-7, 9)) - {0}
    a = eie.random_activations(1000, 0.351, np.random.default_rng(3))
    assert a.shape == (1000,) and np.count_nonzero(a) == 351 and a.min() >= 0


@pytest.mark.parametrize("density", [0.1, 0.5])
def test_random_positions_are_uniform(density):
    rng = np.random.default_rng(5)
    hits = np.zeros((5, 8))
    for _ in range(2000):
        hits += eie.random_sparse_matrix(5, 8, density, rng).to_dense() != 0
    np.testing.assert_allclose(hits / 2000, round(density * 40) / 40, atol=0.05)


def test_benchmark_inputs_are_fixed_per_layer():
    w, a = eie.benchmark_inputs(300, 100, 0.1, 0.5)
    w2, a2 = eie.benchmark_inputs(300, 100, 0.1, 0.5)
    assert w.shape == (100, 300) and a.shape == (300,)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(w.row, w2.row)
    _, a3 = eie.benchmark_inputs(300, 100, 0.1, 0.5, seed=1)
    assert not np.array_equal(a, a3)


# --- input checks -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("weights", "activations", "kwargs", "message"),
    [
        (np.ones(4), np.ones(4), {}, r"weights ndim=1 .* must be 2"),
        (np.ones((2, 2, 2)), np.ones(2), {}, r"weights ndim=3"),
        (np.ones((3, 4)), np.ones(5), {}, r"activations length=5 must equal the weights column count 4"),
        (np.ones((3, 4)), np.ones((4, 1)), {}, r"activations ndim=2"),
        (np.ones((3, 4)), np.ones(4), {"pes": 0}, r"pes=0 is outside \[1, inf\)"),
        (np.ones((3, 4)), np.ones(4), {"pes": 2.5}, r"pes=2.5 must be an integer"),
        (np.ones((3, 4)), np.ones(4), {"fifo_depth": 0}, r"fifo_depth=0 is outside \[1, inf\)"),
        (np.ones((3, 4)), np.ones(4), {"index_bits": 0}, r"index_bits=0 is outside \[1, inf\)"),
        (np.full((3, 4), np.nan), np.ones(4), {}, r"weights contains nan; allowed: finite numbers"),
        (np.ones((3, 4)), np.array([1.0, np.nan, 0, 0]), {}, r"activations contains nan"),
        (np.ones((3, 4)), np.array([1.0, np.inf, 0, 0]), {}, r"activations contains inf"),
    ],
)
def test_bad_input_names_the_field_value_and_range(weights, activations, kwargs, message):
    with pytest.raises(ValueError, match=message):
        eie.simulate(weights, activations, **kwargs)


def test_bad_coo_and_density_are_rejected():
    dup = eie.CooMatrix((2, 2), np.array([0, 0]), np.array([1, 1]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="duplicate"):
        eie.simulate(dup, np.ones(2))
    with pytest.raises(ValueError, match=r"density=1.5 is outside \[0, 1\]"):
        eie.random_sparse_matrix(3, 3, 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"values=.* must be a non-empty list of finite positive numbers"):
        eie.geometric_mean([1.0, 0.0])
