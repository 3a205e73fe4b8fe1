"""SqueezeNet v1.0 (Iandola et al., arXiv 1602.07360) with Fire modules, configurable in width.

The default configuration is the released Caffe model, ``DeepScale/SqueezeNet``
``SqueezeNet_v1.0/deploy.prototxt`` (papers.md sec. 10):

* conv1 96@7x7 stride 2 (no padding) -> ReLU -> max-pool 3x3 stride 2;
* Fire modules fire2..fire9, each ``squeeze1x1 -> ReLU -> (expand1x1 -> ReLU) || (expand3x3 pad 1 -> ReLU)``,
  the two expand outputs concatenated on channels (expand1x1 first); max-pool 3x3 stride 2 after fire4 and
  after fire8;
* conv10 1000@1x1 with pad 1 (as in the prototxt) -> ReLU -> global average pool: the logits.

With a (N, 224, 224, 3) input the network has exactly 1,248,424 parameters (weights and biases), the
paper's Table 1 count. The train-time ``drop9`` dropout of the prototxt is omitted (it is the identity at
inference). Pooling follows Caffe, which rounds the output size up (``ceil((H - 3) / 2) + 1``; flax would
round down), so plane sizes match the Caffe model: 227 -> conv1 111 -> 55 -> 27 -> 13.

Layers carry the prototxt names (``conv1``, ``fire2/squeeze1x1``, ``fire2/expand1x1``,
``fire2/expand3x3``, ..., ``conv10``), parameters live at ``params[layer]["kernel"]`` / ``["bias"]``, and
every convolution's input is sown into the ``"inputs"`` collection as ``layer + INPUT_SUFFIX``, like
:mod:`models.lenet` (so :func:`models.lenet.apply_with_layer_inputs` works unchanged).

:func:`squeezenet_mnist` is a width-reduced variant (half width, 3x3 stride-1 conv1, 10 classes) that
trains on 28x28x1 MNIST.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from hwcost.checks import check_int_range, check_positive
from hwcost.types import LayerSpec
from models.lenet import INPUT_SUFFIX

#: Initialiser of every kernel: He normal (every convolution feeds a ReLU). flax's default LeCun normal
#: halves the signal's variance at each of the 18 ReLU layers on the longest path, so the logits of a fresh
#: network are ~0 and training stalls; the prototxt uses Caffe's "xavier" (also variance 1 / fan_in).
KERNEL_INIT = nn.initializers.he_normal()
#: Kernel and stride of every max-pool (prototxt ``pool1``, ``pool4``, ``pool8``).
POOL_KERNEL = 3
POOL_STRIDE = 2


class FireConfig(NamedTuple):
    """Output channels of one Fire module's three convolutions (s1x1, e1x1, e3x3)."""

    squeeze: int
    expand1x1: int
    expand3x3: int


#: fire2..fire9 of SqueezeNet v1.0 (prototxt; papers.md sec. 10 "Fire configs").
V1_0_FIRES: tuple[FireConfig, ...] = (
    FireConfig(16, 64, 64),
    FireConfig(16, 64, 64),
    FireConfig(32, 128, 128),
    FireConfig(32, 128, 128),
    FireConfig(48, 192, 192),
    FireConfig(48, 192, 192),
    FireConfig(64, 256, 256),
    FireConfig(64, 256, 256),
)
#: Parameters of SqueezeNet v1.0, weights and biases (paper Table 1; papers.md sec. 10).
V1_0_PARAMETERS = 1_248_424


class ConvGeometry(NamedTuple):
    """Shape of one convolution of the network: square kernel, symmetric zero padding, planes (H, W)."""

    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    padding: int
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    @property
    def num_weights(self) -> int:
        """Weights of the layer, ``K * C * R * S`` (biases excluded)."""
        return self.out_channels * self.in_channels * self.kernel * self.kernel


def scaled(channels: int, width_multiplier: float) -> int:
    """``channels * width_multiplier`` rounded to the nearest integer, at least 1."""
    return max(1, round(channels * width_multiplier))


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output size of a convolution (rounded down, as Caffe and XLA do)."""
    return (size + 2 * padding - kernel) // stride + 1


def caffe_pool_out(size: int, kernel: int = POOL_KERNEL, stride: int = POOL_STRIDE) -> int:
    """Output size of an unpadded Caffe max-pool: ``ceil((size - kernel) / stride) + 1``."""
    return -(-(size - kernel) // stride) + 1


def caffe_max_pool(x: jax.Array, kernel: int = POOL_KERNEL, stride: int = POOL_STRIDE) -> jax.Array:
    """Max-pool of an (N, H, W, C) array with Caffe's rounded-up output size (right/bottom padded with -inf)."""
    pads = []
    for size in x.shape[1:3]:
        out = caffe_pool_out(size, kernel, stride)
        pads.append((0, (out - 1) * stride + kernel - size))
    return nn.max_pool(x, (kernel, kernel), strides=(stride, stride), padding=tuple(pads))


class SqueezeNet(nn.Module):
    """SqueezeNet v1.0 (module docstring). Input (N, H, W, in_channels); output (N, num_classes) logits.

    Attributes:
        num_classes: output channels of conv10 (not scaled by the width multiplier).
        in_channels: channels of the input image (checked against the input).
        width_multiplier: factor on conv1's and every Fire module's channels (rounded, at least 1).
        conv1_features, conv1_kernel, conv1_stride: the first convolution (unpadded).
        fires: base channel counts of fire2, fire3, ... (before the width multiplier).
        pool_after: layers followed by a 3x3 stride-2 max-pool (``"conv1"`` or ``"fireN"``).
        classifier_padding: zero padding of the 1x1 conv10 (1 in the prototxt).
    """

    num_classes: int = 1000
    in_channels: int = 3
    width_multiplier: float = 1.0
    conv1_features: int = 96
    conv1_kernel: int = 7
    conv1_stride: int = 2
    fires: tuple[FireConfig, ...] = V1_0_FIRES
    pool_after: tuple[str, ...] = ("conv1", "fire4", "fire8")
    classifier_padding: int = 1

    def scaled_fires(self) -> tuple[FireConfig, ...]:
        """The Fire configurations after the width multiplier."""
        w = self.width_multiplier
        return tuple(FireConfig(*(scaled(c, w) for c in fire)) for fire in self.fires)

    def _conv(
        self, x: jax.Array, name: str, features: int, kernel: int, stride: int = 1, padding: int = 0
    ) -> jax.Array:
        self.sow("inputs", name + INPUT_SUFFIX, x)
        pad = ((padding, padding), (padding, padding))
        conv = nn.Conv(
            features, (kernel, kernel), strides=(stride, stride), padding=pad, kernel_init=KERNEL_INIT, name=name
        )
        return nn.relu(conv(x))

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ValueError(f"input shape={x.shape} is not (N, H, W, {self.in_channels})")
        x = self._conv(
            x, "conv1", scaled(self.conv1_features, self.width_multiplier), self.conv1_kernel, self.conv1_stride
        )
        if "conv1" in self.pool_after:
            x = caffe_max_pool(x)
        for index, fire in enumerate(self.scaled_fires()):
            module = f"fire{index + 2}"
            s = self._conv(x, f"{module}/squeeze1x1", fire.squeeze, 1)
            e1 = self._conv(s, f"{module}/expand1x1", fire.expand1x1, 1)
            e3 = self._conv(s, f"{module}/expand3x3", fire.expand3x3, 3, padding=1)
            x = jnp.concatenate([e1, e3], axis=-1)
            if module in self.pool_after:
                x = caffe_max_pool(x)
        x = self._conv(x, "conv10", self.num_classes, 1, padding=self.classifier_padding)
        return jnp.mean(x, axis=(1, 2))


def squeezenet_mnist(num_classes: int = 10, width_multiplier: float = 0.5) -> SqueezeNet:
    """A Fire-module network for 28x28x1 MNIST: v1.0's layout at ``width_multiplier`` of its channels,
    conv1 3x3 stride 1 (ours: the 7x7 stride-2 stem would leave a 1x1 plane after the third pool), and an
    unpadded conv10. Planes: 28 -> conv1 26 -> 13 -> 6 -> 3; 184,074 parameters at width 0.5 (at 0.25 the
    squeeze layers have 4 channels, which a fresh network can leave almost all zero)."""
    return SqueezeNet(
        num_classes=num_classes,
        in_channels=1,
        width_multiplier=width_multiplier,
        conv1_kernel=3,
        conv1_stride=1,
        classifier_padding=0,
    )


def conv_geometry(model: SqueezeNet, input_hw: tuple[int, int] = (224, 224)) -> tuple[ConvGeometry, ...]:
    """Every convolution of ``model`` on an ``input_hw`` (H, W) image, in forward order (pure Python)."""
    check_positive("width_multiplier", model.width_multiplier)
    for field in ("num_classes", "in_channels", "conv1_features", "conv1_kernel", "conv1_stride"):
        check_int_range(field, getattr(model, field), 1)
    check_int_range("classifier_padding", model.classifier_padding, 0)
    layers: list[ConvGeometry] = []
    hw = tuple(int(d) for d in input_hw)

    def add(name: str, c: int, k: int, kernel: int, stride: int = 1, padding: int = 0) -> None:
        out = tuple(conv_out(d, kernel, stride, padding) for d in hw)
        if min(out) < 1:
            raise ValueError(f"input_hw={tuple(input_hw)} leaves layer {name} an empty plane {out}")
        layers.append(ConvGeometry(name, c, k, kernel, stride, padding, hw, out))

    def pool() -> None:
        nonlocal hw
        hw = tuple(caffe_pool_out(d) for d in hw)
        if min(hw) < 1:
            raise ValueError(f"input_hw={tuple(input_hw)} is too small: a max-pool leaves an empty plane")

    channels = scaled(model.conv1_features, model.width_multiplier)
    add("conv1", model.in_channels, channels, model.conv1_kernel, model.conv1_stride)
    hw = layers[-1].out_hw
    if "conv1" in model.pool_after:
        pool()
    for index, fire in enumerate(model.scaled_fires()):
        module = f"fire{index + 2}"
        add(f"{module}/squeeze1x1", channels, fire.squeeze, 1)
        add(f"{module}/expand1x1", fire.squeeze, fire.expand1x1, 1)
        add(f"{module}/expand3x3", fire.squeeze, fire.expand3x3, 3, padding=1)
        channels = fire.expand1x1 + fire.expand3x3
        if module in model.pool_after:
            pool()
    add("conv10", channels, model.num_classes, 1, padding=model.classifier_padding)
    return tuple(layers)


def num_parameters(model: SqueezeNet, input_hw: tuple[int, int] = (224, 224)) -> int:
    """Weights plus biases of ``model``, from its geometry (the count does not depend on ``input_hw``)."""
    return sum(g.num_weights + g.out_channels for g in conv_geometry(model, input_hw))


def layer_specs(model: SqueezeNet, input_hw: tuple[int, int] = (224, 224)) -> tuple[LayerSpec, ...]:
    """Layer shapes of ``model`` as :class:`hwcost.types.LayerSpec`, in forward order.

    ``kernel_shape`` is the flax kernel ``(R, S, C, K)`` and ``in_hw`` / ``out_hw`` are the true input and
    output planes. ``LayerSpec`` has no stride or padding: it describes stride-1 VALID convolutions, which
    every 1x1 layer here is. The expand3x3 layers (pad 1), conv1 (stride 2 in v1.0) and conv10 (pad 1 in
    v1.0) are not: a consumer that rebuilds receptive fields as stride-1 VALID windows of the sown input
    sees ``(H - 2) x (W - 2)`` windows of a padded layer (no border windows) and every stride-1 window of a
    strided one (the mean over windows is what it estimates either way), while ``positions`` is the true
    output count. Use :func:`conv_geometry` for the exact stride and padding.
    """
    return tuple(
        LayerSpec(g.name, "conv", (g.kernel, g.kernel, g.in_channels, g.out_channels), g.in_hw, g.out_hw)
        for g in conv_geometry(model, input_hw)
    )


def init_params(model: SqueezeNet, seed: int = 0, input_hw: tuple[int, int] = (224, 224)) -> dict:
    """Freshly initialised parameters of ``model`` (He-normal kernels, zero biases; one (1, H, W, C) sample)."""
    sample = jnp.zeros((1, *input_hw, model.in_channels))
    return jax.jit(model.init)(jax.random.PRNGKey(seed), sample)["params"]


def parameter_shapes(model: SqueezeNet, input_hw: tuple[int, int] = (224, 224)) -> dict:
    """Shapes of ``model``'s parameters without computing them (``jax.eval_shape`` of the initialiser)."""
    sample = jax.ShapeDtypeStruct((1, *input_hw, model.in_channels), jnp.float32)
    shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x), sample)
    return shapes["params"]


def count_parameters(params: dict) -> int:
    """Number of scalars in a parameter tree (arrays or ``ShapeDtypeStruct``s)."""
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(params))
