"""CSC slice statistics (hwcost/_csc.py) against exact enumeration and exact sums."""

import itertools
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwcost import _csc


def _column_entries(bits, span: int) -> tuple[int, int]:
    """``(nonzeros, fillers)`` of one slice pattern: a run of ``z`` zeros before a nonzero costs ``z // span``."""
    nonzeros, fillers, run = 0, 0, 0
    for b in bits:
        if b:
            nonzeros, fillers, run = nonzeros + 1, fillers + run // span, 0
        else:
            run += 1
    return nonzeros, fillers


def _brute_force_moments(rows: int, density: float, index_bits: int) -> tuple[float, float, float, float]:
    """Exact ``(E[entries], E[fillers], Cov[nonzeros, fillers], Var[entries])`` over all 2**rows patterns."""
    span = 2**index_bits
    moments = np.zeros(6)  # E[1], E[n], E[f], E[n f], E[e], E[e**2]
    for bits in itertools.product((0, 1), repeat=rows):
        nnz, fillers = _column_entries(bits, span)
        prob = density**nnz * (1 - density) ** (rows - nnz)
        e = nnz + fillers
        moments += prob * np.array([1.0, nnz, fillers, nnz * fillers, e, e * e])
    _, n, f, nf, e, e2 = moments
    return e, f, nf - n * f, e2 - e * e


def _exact_sums(n: int, u: float) -> list[float]:
    """``sum_k w(k) exp(-u k)`` for the weights of :class:`hwcost._csc.GeometricSums`, in exact rationals of
    the rounded ``exp(-u)``."""
    a = Fraction(float(np.exp(-u)))
    ks = range(1, n + 1)
    return [
        float(sum(w(k) * a**k for k in ks)) for w in (lambda k: 1, lambda k: k, lambda k: n - k, lambda k: k * (n - k))
    ]


def test_paper_example_column_stores_one_filler_for_eighteen_zeros():
    # EIE Sec. III-B: [0, 0, 1, 2, eighteen 0s, 3] -> v = [1, 2, 0, 3]: three nonzeros and one filler.
    column = [0, 0, 1, 1] + [0] * 18 + [1]
    assert _column_entries(column, 16) == (3, 1)
    # The model's filler count of a single nonzero at local row j is floor(j / 16): as d -> 0 the
    # expected fillers of a 23-row slice per nonzero are sum_j floor(j / 16) / 23 = 7 / 23 (rows 16..22).
    with jax.enable_x64(True):
        d = 1e-9
        per_nonzero = float(_csc.expected_fillers(23.0, d) / (23.0 * d))
    np.testing.assert_allclose(per_nonzero, sum(j // 16 for j in range(23)) / 23, rtol=1e-7)


@pytest.mark.parametrize(
    ("rows", "density", "index_bits"),
    [(6, 0.3, 1), (9, 0.15, 2), (12, 0.1, 2), (10, 0.5, 3), (7, 0.2, 2), (12, 0.05, 2), (11, 0.3, 2), (13, 0.15, 3)],
)
def test_entries_fillers_and_covariance_are_exact(rows, density, index_bits):
    entries, fillers, cov, _ = _brute_force_moments(rows, density, index_bits)
    with jax.enable_x64(True):
        moments = _csc.filler_moments(float(rows), density, index_bits)
        np.testing.assert_allclose(_csc.expected_entries(float(rows), density, index_bits), entries, rtol=1e-12)
        np.testing.assert_allclose([moments.fillers, moments.covariance], [fillers, cov], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize(
    ("rows", "density", "index_bits"), [(7, 0.2, 2), (12, 0.1, 2), (12, 0.05, 2), (11, 0.3, 2), (13, 0.15, 3)]
)
def test_entries_variance_is_within_12_percent_of_the_exact_one(rows, density, index_bits):
    # an approximation (module docstring of hwcost._csc): the blend of the renewal and few-filler forms
    *_, var = _brute_force_moments(rows, density, index_bits)
    with jax.enable_x64(True):
        model = _csc.slice_entries(float(rows), density, index_bits).entries_var
    np.testing.assert_allclose(model, var, rtol=0.12)


def test_entries_variance_is_exact_without_fillers():
    # r <= L: e is Binomial(r, d)
    with jax.enable_x64(True):
        for rows, d in ((1.0, 0.3), (9.0, 0.07), (16.0, 0.5), (16.0, 1.0), (5.0, 0.0)):
            np.testing.assert_allclose(_csc.slice_entries(rows, d, 4).entries_var, rows * d * (1 - d), rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 16, 255])
@pytest.mark.parametrize("u", [0.0, 1e-9, 1e-4, 0.3, 0.5, 0.7, 1.9, 2.1, 5.0, 40.0])
def test_geometric_sums_are_exact_in_float64(n, u):
    with jax.enable_x64(True):
        got = _csc.geometric_sums(float(n), u)
    np.testing.assert_allclose(np.asarray(got), _exact_sums(n, u), rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("density", [1e-7, 1e-5, 1e-4, 1e-3, 0.02, 0.5, 0.999])
@pytest.mark.parametrize("rows", [17.0, 64.0, 137.0, 4096.0])
def test_fillers_stay_accurate_in_float32_down_to_small_densities(rows, density):
    # no density clip: float32 agrees with the exact sum (of the float32-rounded density) to 1e-6
    d32 = float(np.float32(density))
    span = 16
    x = Fraction(1) - Fraction(d32)
    exact = float(
        Fraction(d32) * sum((Fraction(rows) - k * span) * x ** (k * span) for k in range(1, int(rows) // span + 1))
    )
    got = float(_csc.expected_fillers(jnp.float32(rows), jnp.float32(density)))
    assert got >= 0.0
    np.testing.assert_allclose(got, exact, rtol=1e-6, atol=1e-30)


def test_statistics_are_finite_and_non_negative_with_finite_gradients_at_the_ends():
    rows = jnp.array([0.0, 0.5, 1.0, 2.0, 15.0, 16.0, 17.0, 100.0])

    def flat(d):
        s = _csc.slice_entries(rows, d, 4)
        return jnp.concatenate([s.entries, s.entries_var, s.fillers, s.p_empty])

    for d in (0.0, 1e-6, 0.5, 1.0 - 1e-6, 1.0):
        values = flat(jnp.float32(d))
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
        assert np.all(np.isfinite(jax.jacfwd(flat)(jnp.float32(d))))


def test_empty_slice_probability_at_density_one():
    np.testing.assert_allclose(float(_csc.empty_slice_probability(0.0, 1.0)), 1.0)
    np.testing.assert_allclose(float(_csc.empty_slice_probability(1.0, 1.0)), 0.0)
    assert np.isfinite(jax.grad(lambda d: _csc.empty_slice_probability(0.5, d))(1.0))


def test_empty_slice_probability_is_continuous_where_no_rows_meet_density_one():
    """``(1 - d)**r`` alone jumps from 1 to 0 between ``r = 0`` and ``r = 1e-7`` at ``d = 1``: a relaxed row
    split left with 1.2e-7 rows by rounding (XLA's unoptimised CPU code) priced EIE's Spmat reads of a
    6-row layer on 7 PEs 14.6% above the exact count."""
    rows = jnp.array([0.0, 1e-7, 1e-4, 0.3, 0.7, 1.0 - 1e-4, 1.0, 1.0 + 1e-4, 2.0, 5.5])
    for d in (1.0, 1.0 - 1e-6, 0.5, 0.0):
        p = np.asarray(_csc.empty_slice_probability(rows, jnp.float32(d)), np.float64)
        assert np.all(np.abs(np.diff(p[:3])) < 1e-3) and np.all(np.abs(np.diff(p[5:8])) < 1e-3), (d, p)
        assert np.all(np.diff(p) <= 0.0), (d, p)  # more rows, less likely empty
        np.testing.assert_allclose(p[[0, 6, 8, 9]], (1.0 - d) ** np.array([0.0, 1.0, 2.0, 5.5]), atol=1e-6)
    # continuous in the density too, at a fraction of a row
    at = [float(_csc.empty_slice_probability(0.3, d)) for d in (1.0 - 1e-6, 1.0)]
    assert abs(at[0] - at[1]) < 1e-5, at


def test_eie_counts_of_a_layer_with_fewer_rows_than_pes_do_not_depend_on_rounding():
    import dataclasses

    from hwcost import eie
    from hwcost.types import FcLayer

    hw = dataclasses.replace(eie.EIE_64PE_45NM, num_pes=7.0)
    for d in (1.0 - 1e-6, 1.0):
        layer = FcLayer(500.0, 6.0, d, 0.5)
        relaxed = float(eie.action_counts(hw, layer)["spmat_sram.read"])
        hard = float(eie.action_counts(eie.COST_MODEL.hard(hw), layer)["spmat_sram.read"])
        np.testing.assert_allclose(relaxed, hard, rtol=1e-4)
