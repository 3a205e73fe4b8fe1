import jax
import jax.numpy as jnp
import pytest

from models import lenet


@pytest.mark.parametrize(
    ("name", "weights", "with_bias"), [("lenet300", 266_200, 266_610), ("lenet5", 430_500, 431_080)]
)
def test_parameter_counts_match_deep_compression_tables(name, weights, with_bias):
    params = lenet.init_params(name)
    kernels = sum(p["kernel"].size for p in params.values())
    assert kernels == weights == sum(s.num_weights for s in lenet.layer_specs(name))
    assert sum(x.size for x in jax.tree.leaves(params)) == with_bias
    for spec in lenet.layer_specs(name):
        assert params[spec.name]["kernel"].shape == spec.kernel_shape


@pytest.mark.parametrize("name", ["lenet300", "lenet5"])
def test_forward_shapes_and_sown_inputs(name):
    model = lenet.make_model(name)
    params = lenet.init_params(name)
    logits, inputs = lenet.apply_with_layer_inputs(model, params, jnp.ones((2, 28, 28, 1)))
    assert logits.shape == (2, 10)
    assert set(inputs) == {s.name for s in lenet.layer_specs(name)}
    assert inputs[lenet.layer_specs(name)[-1].name].shape[0] == 2


def test_unknown_model_is_clear_error():
    with pytest.raises(ValueError, match="model='vgg' is unknown"):
        lenet.make_model("vgg")
