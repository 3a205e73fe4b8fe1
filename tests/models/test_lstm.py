"""The row-sequential MNIST LSTM(P): parameter names and shapes, the cell equations against a numpy reference,
forward shapes, independent pruning of the gate matrices, and a tiny training run that lowers the loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from compress import load_balance as LB
from compress.masks import apply_masks, prune_by_magnitude
from compress.training import cross_entropy, train
from models import lstm
from models.datasets import load_mnist, subset


@pytest.mark.parametrize(("cells", "projection"), [(128, None), (32, 16)])
def test_parameter_names_and_shapes(cells, projection):
    params = lstm.init_params(lstm.make_model(cell_size=cells, projection_size=projection))
    p = cells if projection is None else projection
    expected = {name: {"kernel": (28 + p, cells), "bias": (cells,)} for name in lstm.GATES}
    if projection is not None:
        expected["projection"] = {"kernel": (cells, projection)}
    expected["classifier"] = {"kernel": (p, 10), "bias": (10,)}
    assert jax.tree.map(jnp.shape, params) == expected
    np.testing.assert_array_equal(params["gate_f"]["bias"], np.ones(cells))
    np.testing.assert_array_equal(params["gate_i"]["bias"], np.zeros(cells))
    hardware = lstm.gate_matrices(params)
    assert list(hardware) == [*lstm.GATES, *(["projection"] if projection else [])]
    assert hardware["gate_o"].shape == (cells, 28 + p)
    if projection:
        assert hardware["projection"].shape == (projection, cells)


def _reference_logits(params, images, projection):
    """The LSTMP equations of the module docstring, one gate matrix at a time, in float64 numpy."""
    P = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    x = np.asarray(images, np.float64).reshape(len(images), 28, 28)
    n = P["gate_i"]["bias"].size
    p = P["classifier"]["kernel"].shape[0]
    c, y = np.zeros((len(x), n)), np.zeros((len(x), p))
    for t in range(28):
        xy = np.concatenate([x[:, t], y], axis=1)
        gate = {g: xy @ P[g]["kernel"] + P[g]["bias"] for g in lstm.GATES}
        c = sig(gate["gate_f"]) * c + sig(gate["gate_i"]) * np.tanh(gate["gate_g"])
        m = sig(gate["gate_o"]) * np.tanh(c)
        y = m @ P["projection"]["kernel"] if projection else m
    return y @ P["classifier"]["kernel"] + P["classifier"]["bias"]


@pytest.mark.parametrize("projection", [None, 12])
def test_forward_matches_the_cell_equations(projection):
    model = lstm.make_model(cell_size=20, projection_size=projection)
    params = lstm.init_params(model, seed=1)
    images = jax.random.uniform(jax.random.PRNGKey(2), (3, 28, 28, 1))
    logits = model.apply({"params": params}, images)
    assert logits.shape == (3, 10)
    np.testing.assert_allclose(logits, _reference_logits(params, images, projection), rtol=1e-4, atol=1e-5)
    assert model.apply({"params": params}, images[..., 0]).shape == (3, 10)


def test_each_gate_matrix_is_pruned_on_its_own():
    model = lstm.make_model("lstmp")
    params = lstm.init_params(model)
    params["gate_g"]["kernel"] = params["gate_g"]["kernel"] * 10.0  # a global ranking would keep only gate_g
    densities = {"gate_i": 0.1, "gate_f": 0.1, "gate_g": 0.1, "gate_o": 0.1, "projection": 0.2, "classifier": 1.0}
    masks = prune_by_magnitude(params, densities, LB.LoadBalanced(num_pes=8))
    for name in lstm.GATES:
        hardware = masks[name]["kernel"].T  # (cells, 28 + 64) rows on PEs
        assert int(hardware.sum()) == round(0.1 * hardware.size)
        counts = np.asarray(LB.pe_nonzeros(hardware, 8))
        assert counts.max() - counts.min() <= 1
    assert int(masks["projection"]["kernel"].sum()) == round(0.2 * 128 * 64)
    logits = model.apply({"params": apply_masks(params, masks)}, jnp.ones((2, 28, 28, 1)))
    assert logits.shape == (2, 10) and bool(jnp.all(jnp.isfinite(logits)))


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="model='gru' is unknown; allowed: lstm, lstmp"):
        lstm.make_model("gru")
    with pytest.raises(ValueError, match=r"cell_size=0 is outside \[1, inf\]"):
        lstm.make_model(cell_size=0)
    with pytest.raises(ValueError, match=r"projection_size=2.5 must be an integer"):
        lstm.make_model(projection_size=2.5)


def test_a_few_hundred_examples_lower_the_loss():
    data = subset(load_mnist(), 384, 0)
    model = lstm.make_model(cell_size=32)
    params = lstm.init_params(model)
    images, labels = jnp.asarray(data.train_images), jnp.asarray(data.train_labels)
    before = float(cross_entropy(model.apply({"params": params}, images), labels))
    result = train(model, params, data, optax.adam(1e-2), epochs=4, batch_size=64, progress=False)
    after = float(cross_entropy(model.apply({"params": result.params}, images), labels))
    assert after < 0.8 * before, (before, after)
    assert result.epoch_losses[-1] < result.epoch_losses[0]
