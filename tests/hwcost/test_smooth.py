import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwcost import smooth

X = jnp.array([-2.3, -0.7, 0.0, 0.2, 1.3, 3.7, 7.0])


@pytest.mark.parametrize(
    ("relaxed", "hard"),
    [
        (lambda x, t: smooth.smooth_relu(x, t), lambda x: jnp.maximum(x, 0)),
        (lambda x, t: smooth.soft_floor(x + 0.013, t), lambda x: jnp.floor(x + 0.013)),
        (lambda x, t: smooth.soft_ceil(x + 0.013, t), lambda x: jnp.ceil(x + 0.013)),
        (lambda x, t: smooth.soft_round(x + 0.013, t), lambda x: jnp.round(x + 0.013)),
        (lambda x, t: smooth.soft_step(x - 0.05, t), lambda x: (x - 0.05 > 0).astype(jnp.float32)),
        (lambda x, t: smooth.smooth_maximum(x, 1.0 - x, t), lambda x: jnp.maximum(x, 1.0 - x)),
        (lambda x, t: smooth.smooth_minimum(x, 1.0 - x, t), lambda x: jnp.minimum(x, 1.0 - x)),
    ],
)
def test_relaxation_converges_to_hard_version(relaxed, hard):
    errors = [float(jnp.max(jnp.abs(relaxed(X, t) - hard(X)))) for t in (0.3, 0.03, 0.003)]
    assert errors[-1] < 1e-2
    assert errors[-1] < errors[0]


def test_smooth_max_is_upper_bound_and_converges():
    x = jnp.array([[1.0, 4.0, 3.9], [0.0, -1.0, 2.0]])
    for t in (1.0, 0.1, 0.01):
        assert np.all(np.asarray(smooth.smooth_max(x, t)) >= np.asarray(jnp.max(x, -1)) - 1e-6)
    np.testing.assert_allclose(smooth.smooth_max(x, 1e-3), jnp.max(x, -1), atol=1e-2)


def test_hard_flag_gives_exact_values():
    np.testing.assert_array_equal(smooth.soft_ceil(X, 0.1, hard=True), jnp.ceil(X))
    np.testing.assert_array_equal(smooth.smooth_max(X, 0.1, hard=True), jnp.max(X))


def test_relaxations_have_nonzero_gradient_between_integers():
    g = jax.vmap(jax.grad(lambda x: smooth.soft_floor(x, 0.2)))(jnp.linspace(0.1, 2.9, 15))
    assert np.all(np.asarray(g) > 0)


@pytest.mark.parametrize(
    ("relaxed", "hard"),
    [(smooth.smooth_maximum_relative, jnp.maximum), (smooth.smooth_minimum_relative, jnp.minimum)],
)
def test_relative_extrema_are_scale_free_bounded_and_converge(relaxed, hard):
    a = jnp.array([0.0, 0.0, 1.0, 2.0, 3.0, 1e-3, 5.0])
    b = jnp.array([0.0, 2.0, 1.0, 1.9, 0.3, 2e-3, 50.0])
    exact = hard(a, b)
    for t in (0.1, 0.01):
        value = relaxed(a, b, t)
        # homogeneous of degree 1, within a factor 2**t of the exact value, exactly 0 at (0, 0)
        np.testing.assert_allclose(relaxed(7.0 * a, 7.0 * b, t), 7.0 * value, rtol=1e-6)
        assert np.all(np.abs(np.asarray(value) - np.asarray(exact)) <= (2.0**t - 1.0) * np.asarray(exact) + 1e-7)
        assert float(value[0]) == 0.0
    np.testing.assert_allclose(relaxed(a, b, 1e-4), exact, rtol=1e-4)
    np.testing.assert_array_equal(relaxed(a, b, 0.1, hard=True), exact)
    grads = jax.vmap(jax.grad(relaxed, argnums=(0, 1, 2)), in_axes=(0, 0, None))(a, b, 0.1)
    assert all(np.all(np.isfinite(g)) for g in grads)
