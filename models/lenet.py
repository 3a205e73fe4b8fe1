"""LeNet-300-100 and LeNet-5 as used by Deep Compression (Han et al., ICLR'16, Tables 2 and 3).

* LeNet-300-100: fully connected 784-300-100-10 with ReLU (266,200 weights; "266K").
* LeNet-5, Caffe variant: conv 20@5x5 -> max-pool 2 -> conv 50@5x5 -> max-pool 2 -> fc 500 + ReLU ->
  fc 10 (430,500 weights, 431,080 with biases; "431K"). As in Caffe's ``lenet_train_test.prototxt``
  there is no nonlinearity after the convolutions.

Layers carry the paper's names (``ip1``, ``conv1``, ...), so parameters live at
``params[layer]["kernel"]`` / ``["bias"]``. Each layer's input is sown into the ``"inputs"``
collection, so activation densities can be measured (:func:`apply_with_layer_inputs`).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from hwcost.checks import check_choice
from hwcost.types import LayerSpec

INPUT_SUFFIX = "_input"


class LeNet300100(nn.Module):
    """784-300-100-10 multilayer perceptron (LeCun et al. 1998; Deep Compression Table 2)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape((x.shape[0], -1))
        for name, width in (("ip1", 300), ("ip2", 100)):
            self.sow("inputs", name + INPUT_SUFFIX, x)
            x = nn.relu(nn.Dense(width, name=name)(x))
        self.sow("inputs", "ip3" + INPUT_SUFFIX, x)
        return nn.Dense(10, name="ip3")(x)


class LeNet5(nn.Module):
    """Caffe LeNet-5 (Deep Compression Table 3). Input (N, 28, 28, 1)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        self.sow("inputs", "conv1" + INPUT_SUFFIX, x)
        x = nn.Conv(20, (5, 5), padding="VALID", name="conv1")(x)
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
        self.sow("inputs", "conv2" + INPUT_SUFFIX, x)
        x = nn.Conv(50, (5, 5), padding="VALID", name="conv2")(x)
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
        x = x.reshape((x.shape[0], -1))
        self.sow("inputs", "ip1" + INPUT_SUFFIX, x)
        x = nn.relu(nn.Dense(500, name="ip1")(x))
        self.sow("inputs", "ip2" + INPUT_SUFFIX, x)
        return nn.Dense(10, name="ip2")(x)


MODELS: dict[str, type[nn.Module]] = {"lenet300": LeNet300100, "lenet5": LeNet5}

LAYER_SPECS: dict[str, tuple[LayerSpec, ...]] = {
    "lenet300": (
        LayerSpec("ip1", "fc", (784, 300)),
        LayerSpec("ip2", "fc", (300, 100)),
        LayerSpec("ip3", "fc", (100, 10)),
    ),
    "lenet5": (
        LayerSpec("conv1", "conv", (5, 5, 1, 20), in_hw=(28, 28), out_hw=(24, 24)),
        LayerSpec("conv2", "conv", (5, 5, 20, 50), in_hw=(12, 12), out_hw=(8, 8)),
        LayerSpec("ip1", "fc", (800, 500)),
        LayerSpec("ip2", "fc", (500, 10)),
    ),
}


def make_model(name: str) -> nn.Module:
    """The flax module for ``name`` (``lenet300`` or ``lenet5``)."""
    check_choice("model", name, tuple(MODELS))
    return MODELS[name]()


def layer_specs(name: str) -> tuple[LayerSpec, ...]:
    """Layer shapes of model ``name``, in forward order."""
    check_choice("model", name, tuple(LAYER_SPECS))
    return LAYER_SPECS[name]


def init_params(name: str, seed: int = 0) -> dict:
    """Freshly initialised parameters of model ``name`` (flax default initialisers)."""
    model = make_model(name)
    return model.init(jax.random.PRNGKey(seed), jnp.zeros((1, 28, 28, 1)))["params"]


def apply_with_layer_inputs(
    model: nn.Module, params: dict, images: jax.Array
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Forward pass returning the logits and each layer's input activations, keyed by layer name."""
    logits, state = model.apply({"params": params}, images, mutable=["inputs"])
    inputs = {key.removesuffix(INPUT_SUFFIX): value[0] for key, value in state["inputs"].items()}
    return logits, inputs
