"""Load-balance-aware pruning (ESE Sec. 3): exact per-PE counts, density, utilisation, magnitude order within
each PE share, jit, the masks/pruning granularity, and the input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress import load_balance as LB
from compress import masks as M
from compress import pruning

KEY = jax.random.PRNGKey(0)


def _random(shape, seed=0):
    return jax.random.normal(jax.random.PRNGKey(seed), shape)


def _pe_counts_numpy(mask, num_pes, stride=1):
    """Reference per-PE count: loop over rows."""
    counts = np.zeros(num_pes, int)
    for i, row in enumerate(np.asarray(mask)):
        counts[(i // stride) % num_pes] += int(np.count_nonzero(row))
    return counts


@pytest.mark.parametrize(
    ("shape", "num_pes", "stride", "density"),
    [((64, 16), 8, 1, 0.25), ((64, 16), 8, 4, 0.1), ((30, 7), 4, 1, 0.3), ((10, 9), 3, 2, 0.5), ((5, 3), 8, 1, 0.4)],
)
def test_every_pe_keeps_the_same_number_of_weights(shape, num_pes, stride, density):
    matrix = _random(shape)
    mask = LB.load_balanced_mask(matrix, density, num_pes, stride=stride)
    counts = _pe_counts_numpy(mask, num_pes, stride)
    total = round(density * shape[0] * shape[1])
    assert counts.sum() == total
    np.testing.assert_array_equal(np.asarray(LB.pe_nonzeros(mask, num_pes, stride=stride)), counts)
    # Most even split: PEs whose share is not kept whole differ by at most one, the extra ones go first.
    sizes = np.bincount(LB.pe_of_rows(shape[0], num_pes, stride), minlength=num_pes) * shape[1]
    np.testing.assert_array_equal(counts, LB.balanced_counts(sizes, total))
    partial = counts[counts < sizes]
    assert partial.size == 0 or partial.max() - partial.min() <= 1
    assert np.all(counts <= sizes)


def test_equal_shares_split_exactly_with_the_extra_weights_on_the_first_pes():
    mask = LB.load_balanced_mask(_random((32, 10)), 0.5 + 3 / 320, 8)  # K = 163 = 8 * 20 + 3
    np.testing.assert_array_equal(_pe_counts_numpy(mask, 8), [21, 21, 21, 20, 20, 20, 20, 20])


def test_uneven_rows_fill_the_small_shares_first_when_they_are_full():
    # 10 rows on 4 PEs: PEs 0, 1 own 3 rows, PEs 2, 3 own 2; cols 1 -> sizes 3, 3, 2, 2. K = 9.
    mask = LB.load_balanced_mask(_random((10, 1)), 0.9, 4)
    np.testing.assert_array_equal(_pe_counts_numpy(mask, 4), [3, 2, 2, 2])
    np.testing.assert_array_equal(LB.balanced_counts([3, 3, 2, 2], 10), [3, 3, 2, 2])
    np.testing.assert_array_equal(LB.balanced_counts([5, 1, 5], 7), [3, 1, 3])
    np.testing.assert_array_equal(LB.balanced_counts([5, 1, 5], 8), [4, 1, 3])


@pytest.mark.parametrize("density", [0.0, 0.013, 0.1, 0.5, 0.77, 1.0])
def test_density_is_the_requested_one(density):
    shape = (48, 20)
    mask = LB.load_balanced_mask(_random(shape), density, 5)
    assert int(mask.sum()) == round(density * shape[0] * shape[1])
    assert set(np.unique(np.asarray(mask)).tolist()) <= {0.0, 1.0}
    assert mask.dtype == jnp.float32 and mask.shape == shape


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_balanced_utilisation_is_one_where_magnitude_pruning_is_not(seed):
    # Rows of unequal importance (as trained LSTM gate rows are): magnitude pruning loads some PEs more.
    matrix = _random((256, 64), seed) * jnp.exp(_random((256, 1), seed + 10))
    density = 0.125  # K = 2048, divisible by the 16 PEs
    balanced = LB.pe_load(LB.load_balanced_mask(matrix, density, 16), 16)
    magnitude = LB.pe_load(M.magnitude_mask(matrix.T, density).T, 16)
    assert float(balanced.utilisation) == 1.0
    assert int(balanced.max) == int(balanced.mean) == 2048 // 16
    assert float(magnitude.utilisation) < 0.9
    assert float(magnitude.mean) == float(balanced.mean)


def test_per_column_balance_equalises_every_pe_column_slice():
    matrix = _random((64, 12)) * jnp.exp(_random((64, 1), 5))
    mask = LB.load_balanced_mask(matrix, 0.25, 8, per_column=True)  # 8 rows per PE, 2 of each column kept
    per_column = np.asarray(LB.pe_nonzeros(mask, 8, per_column=True))
    np.testing.assert_array_equal(per_column, np.full((8, 12), 2))
    load = LB.pe_load(mask, 8)
    assert float(load.utilisation) == 1.0 and float(load.column_utilisation) == 1.0
    per_matrix = LB.pe_load(LB.load_balanced_mask(matrix, 0.25, 8), 8)
    assert float(per_matrix.utilisation) == 1.0 and float(per_matrix.column_utilisation) < 1.0


@pytest.mark.parametrize(("stride", "per_column"), [(1, False), (3, False), (1, True)])
def test_keeps_the_largest_weights_within_each_pe_share(stride, per_column):
    matrix = np.asarray(_random((40, 6), 3))
    num_pes = 4
    mask = np.asarray(LB.load_balanced_mask(jnp.asarray(matrix), 0.3, num_pes, stride=stride, per_column=per_column))
    pe = LB.pe_of_rows(40, num_pes, stride)
    slices = [(pe == p)[:, None] & (np.arange(6) == j)[None, :] for p in range(num_pes) for j in range(6)]
    if not per_column:
        slices = [(pe == p)[:, None] & np.ones((1, 6), bool) for p in range(num_pes)]
    for share in slices:
        kept, dropped = np.abs(matrix[share & (mask > 0)]), np.abs(matrix[share & (mask == 0)])
        if kept.size and dropped.size:
            assert kept.min() > dropped.max()


def test_ties_are_broken_by_position():
    mask = LB.load_balanced_mask(jnp.ones((4, 3)), 0.5, 2)  # PE 0: rows 0, 2; PE 1: rows 1, 3
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_works_under_jit_with_the_same_result():
    matrix = _random((30, 11), 4)
    jitted = jax.jit(LB.load_balanced_mask, static_argnums=(1, 2), static_argnames=("stride", "per_column"))
    for kwargs in ({}, {"stride": 2}, {"per_column": True}):
        np.testing.assert_array_equal(jitted(matrix, 0.2, 4, **kwargs), LB.load_balanced_mask(matrix, 0.2, 4, **kwargs))
    load = jax.jit(LB.pe_load, static_argnums=(1,))(jitted(matrix, 0.2, 4), 4)
    assert int(load.counts.sum()) == round(0.2 * 30 * 11)


def test_nan_weight_is_the_smallest_under_jit():
    matrix = jnp.array([[3.0, jnp.nan], [1.0, 2.0]])
    mask = jax.jit(LB.load_balanced_mask, static_argnums=(1, 2))(matrix, 0.5, 1)
    np.testing.assert_array_equal(mask, [[1, 0], [0, 1]])


def test_kernel_mask_balances_output_neurons_of_fc_and_conv_kernels():
    fc = _random((20, 16))  # flax (in, out): rows of W are the 16 output neurons
    mask = LB.load_balanced_kernel_mask(fc, 0.25, LB.LoadBalanced(num_pes=4))
    assert mask.shape == fc.shape
    np.testing.assert_array_equal(LB.pe_nonzeros(mask.T, 4), [20, 20, 20, 20])
    conv = _random((3, 3, 4, 8))
    cmask = LB.load_balanced_kernel_mask(conv, 0.5, LB.LoadBalanced(num_pes=2))
    np.testing.assert_array_equal(LB.pe_nonzeros(LB.kernel_matrix(cmask), 2), [72, 72])


def test_load_balanced_granularity_in_masks_and_pruning_schedule():
    params = {
        "fc1": {"kernel": _random((30, 64)) * jnp.exp(_random((1, 64), 7)), "bias": jnp.zeros(64)},
        "fc2": {"kernel": _random((64, 10), 8), "bias": jnp.zeros(10)},
    }
    masks = M.prune_by_magnitude(params, 0.25, M.LOAD_BALANCED)  # ESE default: 32 PEs
    np.testing.assert_array_equal(LB.pe_nonzeros(masks["fc1"]["kernel"].T, 32), np.full(32, 15))
    np.testing.assert_array_equal(masks["fc1"]["bias"], np.ones(64))
    spec = {"fc1": LB.LoadBalanced(num_pes=8), "fc2": "element"}
    masks = M.prune_by_magnitude(params, 0.25, spec)
    np.testing.assert_array_equal(LB.pe_nonzeros(masks["fc1"]["kernel"].T, 8), np.full(8, 60))

    target = _random((30, 64), 9)
    loss = lambda p: jnp.sum((p["fc1"]["kernel"] - target) ** 2)
    tx = optax.chain(optax.sgd(0.1), pruning.magnitude_pruning([(0, 0.5), (3, 0.125)], LB.LoadBalanced(num_pes=8)))
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        updates, state = tx.update(jax.grad(loss)(params), state, params)
        return optax.apply_updates(params, updates), state

    for _ in range(6):
        params, state = step(params, state)
    kernel = params["fc1"]["kernel"]
    np.testing.assert_array_equal(LB.pe_nonzeros(kernel.T, 8), np.full(8, 30))
    np.testing.assert_array_equal(pruning.pruning_masks(state)["fc1"]["kernel"] != 0, kernel != 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: LB.load_balanced_mask(jnp.ones(5), 0.5, 2), r"matrix ndim=1 \(shape \(5,\)\) must be 2"),
        (lambda: LB.load_balanced_mask(jnp.ones((2, 2, 2)), 0.5, 2), "matrix ndim=3"),
        (lambda: LB.load_balanced_mask(jnp.ones((4, 4)), 0.5, 0), r"num_pes=0 is outside \[1, inf\]"),
        (lambda: LB.load_balanced_mask(jnp.ones((4, 4)), 0.5, 2.5), r"num_pes=2.5 must be an integer in \[1, inf\]"),
        (lambda: LB.load_balanced_mask(jnp.ones((4, 4)), 0.5, 2, stride=0), r"stride=0 is outside \[1, inf\]"),
        (lambda: LB.load_balanced_mask(jnp.ones((4, 4)), 1.5, 2), r"density=1.5 is outside \[0, 1\]"),
        (lambda: LB.load_balanced_mask(jnp.ones((4, 4)), -0.1, 2), r"density=-0.1 must be >= 0; allowed: \[0, 1\]"),
        (lambda: LB.load_balanced_mask(jnp.ones((4, 4)), float("nan"), 2), r"density=nan is not finite; allowed"),
        (lambda: LB.load_balanced_mask(jnp.array([[1.0, jnp.nan]]), 0.5, 2), "matrix=nan is not finite"),
        (lambda: LB.pe_nonzeros(jnp.ones(3), 2), "mask ndim=1"),
        (
            lambda: M.magnitude_mask(jnp.ones((3, 3)), 0.5, "balanced"),
            "granularity='balanced' is unknown.*load_balanced",
        ),
    ],
)
def test_bad_input_names_field_value_and_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()
