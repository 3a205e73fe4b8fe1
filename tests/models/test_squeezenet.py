"""SqueezeNet v1.0 in flax: the released model's parameter count and plane sizes, the sown layer inputs,
layer specs, and a width-reduced variant that trains on MNIST-sized input."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from models import lenet
from models import squeezenet as sq

# SqueezeNet paper / papers.md sec. 10, per Fire module: squeeze, expand1x1, expand3x3 parameters (with biases).
FIRE_PARAMETERS = {
    "fire2": (1552, 1088, 9280),
    "fire3": (2064, 1088, 9280),
    "fire4": (4128, 4224, 36992),
    "fire5": (8224, 4224, 36992),
    "fire6": (12336, 9408, 83136),
    "fire7": (18480, 9408, 83136),
    "fire8": (24640, 16640, 147712),
    "fire9": (32832, 16640, 147712),
}


def test_parameter_count_is_the_papers():
    model = sq.SqueezeNet()
    shapes = sq.parameter_shapes(model, (224, 224))
    assert sq.count_parameters(shapes) == sq.V1_0_PARAMETERS == 1_248_424 == sq.num_parameters(model)
    assert sq.count_parameters(shapes["conv1"]) == 14_208
    assert sq.count_parameters(shapes["conv10"]) == 513_000
    for fire, counts in FIRE_PARAMETERS.items():
        layers = ("squeeze1x1", "expand1x1", "expand3x3")
        got = tuple(sq.count_parameters(shapes[f"{fire}/{layer}"]) for layer in layers)
        assert got == counts


def test_plane_sizes_follow_caffe_rounding():
    assert [sq.caffe_pool_out(n) for n in (111, 55, 27)] == [55, 27, 13]
    geometry = {g.name: g for g in sq.conv_geometry(sq.SqueezeNet(), (227, 227))}
    assert geometry["conv1"].out_hw == (111, 111)
    assert geometry["fire2/squeeze1x1"].in_hw == (55, 55)
    assert geometry["fire5/squeeze1x1"].in_hw == (27, 27)
    assert geometry["fire9/expand3x3"].in_hw == (13, 13)
    assert geometry["conv10"].out_hw == (15, 15)  # 1x1 with pad 1, as in the prototxt
    pooled = sq.caffe_max_pool(jnp.arange(2 * 111 * 111 * 3.0).reshape(2, 111, 111, 3))
    assert pooled.shape == (2, 55, 55, 3)


def test_sown_inputs_match_the_geometry_and_layer_specs():
    model = sq.SqueezeNet()
    params = sq.parameter_shapes(model, (227, 227))
    images = jax.ShapeDtypeStruct((2, 227, 227, 3), jnp.float32)
    logits, state = jax.eval_shape(lambda p, x: model.apply({"params": p}, x, mutable=["inputs"]), params, images)
    assert logits.shape == (2, 1000)
    specs = sq.layer_specs(model, (227, 227))
    assert {s.name for s in specs} == {k.removesuffix(lenet.INPUT_SUFFIX) for k in state["inputs"]}
    for spec in specs:
        (sown,) = state["inputs"][spec.name + lenet.INPUT_SUFFIX]
        assert sown.shape == (2, *spec.in_hw, spec.kernel_shape[2])
        assert params[spec.name]["kernel"].shape == spec.kernel_shape
    assert sum(s.num_weights for s in specs) == sq.V1_0_PARAMETERS - sum(s.fan_out for s in specs)


def test_width_multiplier_and_input_checks():
    half = sq.SqueezeNet(width_multiplier=0.5)
    assert half.scaled_fires()[0] == sq.FireConfig(8, 32, 32)
    assert sq.conv_geometry(half)[0].out_channels == 48
    with pytest.raises(ValueError, match=r"input shape=\(1, 28, 28, 3\) is not \(N, H, W, 1\)"):
        sq.squeezenet_mnist().init(jax.random.PRNGKey(0), jnp.zeros((1, 28, 28, 3)))
    with pytest.raises(ValueError, match="input_hw=\\(8, 8\\) is too small"):
        sq.conv_geometry(sq.SqueezeNet(), (8, 8))
    with pytest.raises(ValueError, match="input_hw=\\(6, 6\\) leaves layer conv1 an empty plane"):
        sq.conv_geometry(sq.SqueezeNet(), (6, 6))
    with pytest.raises(ValueError, match="width_multiplier=0 must be > 0"):
        sq.conv_geometry(sq.SqueezeNet(width_multiplier=0.0))


def _he_normal_params(shapes, rng):
    """Parameters drawn like the model's initialiser (He normal kernels, zero biases), without compiling init."""

    def draw(path, leaf):
        if path[-1].key == "bias":
            return jnp.zeros(leaf.shape)
        fan_in = int(np.prod(leaf.shape[:-1]))
        return jnp.asarray(rng.normal(0.0, np.sqrt(2.0 / fan_in), leaf.shape), jnp.float32)

    return jax.tree_util.tree_map_with_path(draw, shapes)


def test_mnist_variant_runs_and_learns():
    model = sq.squeezenet_mnist()
    shapes = sq.parameter_shapes(model, (28, 28))
    assert sq.count_parameters(shapes) == sq.num_parameters(model, (28, 28)) == 184_074
    rng = np.random.default_rng(0)
    params = _he_normal_params(shapes, rng)
    # A learnable 28x28x1 task: class l is a bright 8x8 square at (2l, 2l), plus noise.
    labels = jnp.arange(32) % 10
    images = 0.1 * rng.random((32, 28, 28, 1))
    for i, label in enumerate(np.asarray(labels)):
        images[i, 2 * label : 2 * label + 8, 2 * label : 2 * label + 8, 0] += 1.0
    images = jnp.asarray(images, jnp.float32)

    def loss(p):
        return optax.softmax_cross_entropy_with_integer_labels(model.apply({"params": p}, images), labels).mean()

    opt = optax.adam(3e-3)

    @jax.jit
    def step(p, s):
        value, grads = jax.value_and_grad(loss)(p)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, value

    state = opt.init(params)
    values = []
    for _ in range(25):
        params, state, value = step(params, state)
        values.append(float(value))
    assert values[-1] < 0.7 * values[0]
    logits, inputs = jax.eval_shape(lambda p, x: lenet.apply_with_layer_inputs(model, p, x), params, images[:2])
    assert logits.shape == (2, 10)
    assert {k: v.shape for k, v in inputs.items()} == {
        s.name: (2, *s.in_hw, s.kernel_shape[2]) for s in sq.layer_specs(model, (28, 28))
    }
