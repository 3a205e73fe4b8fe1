import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compress import sharing


def test_compression_rate_example_of_eq1():
    # Deep Compression Sec. 3, Eq. 1 example: 16 weights of 32 bits shared by 4 clusters (Fig. 3):
    # 16x32 / (4x32 + 2x16) = 3.2 (4 centroids of 32 bits plus 16 indices of 2 bits).
    assert sharing.compression_rate(16, 32, 4) == pytest.approx(3.2)
    assert 16 * 32 / (4 * 32 + 2 * 16) == pytest.approx(3.2)


def test_linear_init_spans_the_weight_range():
    values = np.array([-0.5, 0.1, 0.2, 1.5], np.float32)
    np.testing.assert_allclose(sharing.linear_init(values, 5), [-0.5, 0.0, 0.5, 1.0, 1.5])


def test_kmeans_recovers_separated_clusters_and_keeps_zeros():
    rng = np.random.default_rng(0)
    centres = np.array([-1.0, -0.3, 0.4, 1.2])
    kernel = (centres[rng.integers(0, 4, (40, 30))] + 1e-3 * rng.standard_normal((40, 30))).astype(np.float32)
    kernel[rng.random(kernel.shape) < 0.5] = 0.0
    layer = sharing.share_kernel(kernel, bits=2)  # 3 centroids + the zero code
    assert layer.codebook.shape == (3,) and layer.codes.shape == kernel.shape
    assert np.all((layer.codes == 0) == (kernel == 0))
    shared = np.asarray(sharing.decode_kernel(layer.codebook, layer.codes))
    assert np.all(shared[kernel == 0] == 0)
    more = sharing.share_kernel(kernel, bits=3)  # 7 centroids >= 4 clusters: error becomes tiny
    assert np.abs(np.asarray(sharing.decode_kernel(more.codebook, more.codes)) - kernel).max() < 0.01


def test_centroid_gradient_is_sum_of_cluster_weight_gradients():
    """Eq. 3: autodiff through codebook[code] gives each centroid the sum of its cluster's gradients."""
    rng = np.random.default_rng(1)
    kernel = rng.standard_normal((12, 7)).astype(np.float32)
    kernel[rng.random(kernel.shape) < 0.4] = 0.0
    layer = sharing.share_kernel(kernel, bits=3)
    x = jnp.asarray(rng.standard_normal((5, 12)), jnp.float32)
    target = jnp.asarray(rng.standard_normal((5, 7)), jnp.float32)

    def loss_of_weights(w):
        return jnp.sum((jnp.tanh(x @ w) - target) ** 2)

    def loss_of_codebook(cb):
        return loss_of_weights(sharing.decode_kernel(cb, layer.codes))

    w = sharing.decode_kernel(layer.codebook, layer.codes)
    weight_grad = jax.grad(loss_of_weights)(w)
    via_autodiff = jax.grad(loss_of_codebook)(jnp.asarray(layer.codebook))
    # Independent sum over clusters, written as an explicit loop.
    by_loop = np.zeros(layer.codebook.size, np.float64)
    for c, g in zip(layer.codes.reshape(-1), np.asarray(weight_grad).reshape(-1), strict=True):
        if c > 0:
            by_loop[c - 1] += g
    np.testing.assert_allclose(via_autodiff, by_loop, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sharing.centroid_gradient(weight_grad, layer.codes, 7), by_loop, rtol=1e-5, atol=1e-6)


def test_transform_keeps_pruned_weights_zero():
    params = {"ip": {"kernel": np.array([[0.0, 1.0], [2.0, 0.0]], np.float32), "bias": np.zeros(2, np.float32)}}
    shared = sharing.share_weights(params, {"ip": 1})
    trainable = sharing.trainable_params(params, shared)
    weights = sharing.shared_weights({"ip": shared["ip"].codes})(trainable)
    np.testing.assert_allclose(weights["ip"]["kernel"], [[0.0, 1.5], [1.5, 0.0]])


@pytest.mark.parametrize("bits", [0, 17, 2.5])
def test_bad_bits(bits):
    with pytest.raises(ValueError, match="bits"):
        sharing.share_kernel(np.ones((2, 2), np.float32), bits)
