"""Expected maxima of n i.i.d. variables (hwcost/_order_stats.py)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import ndtr

from hwcost import _order_stats


def _exact_expected_max_normal(n: int) -> float:
    """E[max of n standard normals] = integral of 1 - Phi(x)**n for x > 0 minus that of Phi(x)**n below."""
    x = np.linspace(-10.0, 10.0, 200_001)
    cdf = ndtr(x) ** n
    return float(np.trapezoid(np.where(x > 0, 1.0 - cdf, -cdf), x))


def test_blom_is_within_5_percent_of_the_exact_expected_maximum():
    for n in (2, 8, 64, 256):
        np.testing.assert_allclose(_order_stats.expected_max_normal(float(n)), _exact_expected_max_normal(n), rtol=0.05)
    assert float(_order_stats.expected_max_normal(1.0)) == 0.0


def test_skewed_maximum_limits():
    n = jnp.array([1.0, 2.0, 8.0, 64.0, 256.0])
    np.testing.assert_allclose(
        _order_stats.expected_max_skewed(0.0, n), _order_stats.expected_max_normal(n), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_array_equal(_order_stats.expected_max_skewed(jnp.array([-1.0, 0.5, 2.0, 4.0]), 1.0), 0.0)
    # positive skew lengthens the upper tail: the expected maximum of 64 grows with the skewness
    values = [float(_order_stats.expected_max_skewed(g, 64.0)) for g in (-1.0, 0.0, 1.0, 2.0, 3.0, 4.0)]
    assert all(a < b for a, b in itertools.pairwise(values))


def test_skewed_maximum_is_never_below_the_mean():
    g = jnp.linspace(-1.0, 4.0, 51)[:, None]
    n = jnp.geomspace(1.0, 300.0, 40)[None, :]
    assert np.all(np.asarray(_order_stats.expected_max_skewed(g, n)) >= 0.0)


def test_skewness_clip_converges_to_the_hard_clip():
    g = jnp.linspace(-3.0, 7.0, 101)
    hard = _order_stats.clip_skewness(g, 0.1, hard=True)
    np.testing.assert_array_equal(hard, jnp.clip(g, -1.0, 4.0))
    errors = [float(jnp.max(jnp.abs(_order_stats.clip_skewness(g, t) - hard))) for t in (0.1, 0.01, 0.001)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-3
    assert np.all(np.isfinite(jax.vmap(jax.grad(lambda x: _order_stats.clip_skewness(x, 0.1)))(g)))
