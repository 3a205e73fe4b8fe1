import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress import masks as M
from compress import pruning

KEY = jax.random.PRNGKey(0)


@pytest.mark.parametrize(
    ("granularity", "groups"),
    [("element", 5 * 5 * 6 * 8), ("vector", 5 * 6 * 8), ("kernel", 6 * 8), ("filter", 8), ("channel", 6)],
)
def test_conv_granularity_keeps_whole_groups(granularity, groups):
    kernel = jax.random.normal(KEY, (5, 5, 6, 8))
    assert M.num_groups(kernel.shape, granularity) == groups
    mask = M.magnitude_mask(kernel, 0.5, granularity)
    axes = M.group_axes(kernel.shape, granularity)
    per_group = jnp.mean(mask, axis=axes) if axes else mask
    assert set(np.unique(np.asarray(per_group)).tolist()) <= {0.0, 1.0}
    assert int(per_group.sum()) == round(0.5 * groups)


def test_magnitude_mask_keeps_largest():
    kernel = jnp.array([[0.1, -3.0], [2.0, 0.05]])
    np.testing.assert_array_equal(M.magnitude_mask(kernel, 0.5), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(M.magnitude_mask(kernel, 0.5, "filter"), [[0, 1], [0, 1]])


def test_bad_density_and_granularity():
    with pytest.raises(ValueError, match=r"density=0 is outside \(0, 1\]"):
        M.magnitude_mask(jnp.ones((3, 3)), 0.0)
    with pytest.raises(ValueError, match="granularity='block' is unknown"):
        M.magnitude_mask(jnp.ones((3, 3)), 0.5, "block")


def _quadratic_problem():
    params = {"fc": {"kernel": jax.random.normal(KEY, (20, 10)), "bias": jnp.zeros(10)}}
    target = jax.random.normal(jax.random.PRNGKey(1), (20, 10))
    loss = lambda p: jnp.sum((p["fc"]["kernel"] - target) ** 2) + jnp.sum(p["fc"]["bias"] ** 2)
    return params, loss


def test_iterative_pruning_keeps_pruned_weights_exactly_zero():
    params, loss = _quadratic_problem()
    tx = optax.chain(optax.adam(0.05), pruning.magnitude_pruning([(3, 0.5), (10, 0.2)]))
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        updates, state = tx.update(jax.grad(loss)(params), state, params)
        return optax.apply_updates(params, updates), state

    history = []
    for _ in range(40):
        params, state = step(params, state)
        history.append(float(jnp.mean(params["fc"]["kernel"] != 0)))
    masks = pruning.pruning_masks(state)
    assert history[2] == 1.0 and history[5] == pytest.approx(0.5) and history[-1] == pytest.approx(0.2)
    assert bool(jnp.all(params["fc"]["kernel"][masks["fc"]["kernel"] == 0] == 0.0))
    assert M.kernel_densities(masks) == {"fc": pytest.approx(0.2)}


def test_fixed_masks_transform_and_schedule_checks():
    params, loss = _quadratic_problem()
    masks = M.prune_by_magnitude(params, 0.3)
    tx = optax.chain(optax.sgd(0.1), pruning.fixed_masks(masks))
    state = tx.init(params)
    for _ in range(5):
        updates, state = tx.update(jax.grad(loss)(params), state, params)
        params = optax.apply_updates(params, updates)
    assert M.overall_density(params) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="strictly increasing"):
        pruning.magnitude_pruning([(5, 0.5), (5, 0.2)])
