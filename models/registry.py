"""The trainable models: one registry from which the trainer, the baselines and the command line take every
model they can train.

A :class:`TrainableModel` is what generic training code needs of a network, and nothing else:

* ``make()``: the flax module (its parameters are ``{layer: {"kernel", "bias"}}``, one entry per matrix);
* ``specs``: the layers' geometry for the bridge to hardware (:class:`~hwcost.types.LayerSpec`, forward order;
  a matrix applied at several positions, a convolution's output positions or a recurrent layer's time steps,
  has ``out_hw`` with that many positions, so every lowering multiplies its cost by them);
* ``apply_with_layer_inputs(module, params, images)``: logits and ``{layer: input}``, the input each matrix
  multiplies (:func:`models.lenet.apply_with_layer_inputs`: every module here sows them the same way);
* ``init(seed)``: fresh parameters;
* ``default_groups``: the group gates the hardware-aware trainer learns unless told otherwise;
* ``dense_epochs``: epochs of the cached dense baseline; ``default_lambdas``: the default λ sweep of
  ``hwcost train``.

A new model is one :func:`register` call; nothing downstream names a model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import flax.linen as nn
import jax

from hwcost.checks import check_choice
from hwcost.types import LayerSpec
from models import lenet, lstm

Forward = Callable[[nn.Module, Any, jax.Array], tuple[jax.Array, dict[str, jax.Array]]]


class TrainableModel(NamedTuple):
    """One trainable network (module docstring)."""

    name: str
    make: Callable[[], nn.Module]
    specs: tuple[LayerSpec, ...]
    apply_with_layer_inputs: Forward
    init: Callable[[int], dict]
    default_groups: Mapping[str, tuple[str, ...]]
    dense_epochs: int
    default_lambdas: tuple[float, ...]


def feedforward_groups(specs: tuple[LayerSpec, ...]) -> dict[str, tuple[str, ...]]:
    """Group gates of a feed-forward network: the input neurons of the first layer (``channel``: pixels) if it
    is fully connected, and every hidden neuron (``filter`` of every layer but the last, whose outputs are the
    classes): the decisions that remove broadcast activations."""
    groups: dict[str, tuple[str, ...]] = {}
    for i, spec in enumerate(specs):
        g = (("channel",) if i == 0 and spec.kind == "fc" else ()) + (("filter",) if i < len(specs) - 1 else ())
        groups[spec.name] = g
    return groups


def lstm_groups(specs: tuple[LayerSpec, ...]) -> dict[str, tuple[str, ...]]:
    """Group gates of the LSTM: the input columns of every matrix (``channel``: a pixel or a recurrent output
    that matrix no longer reads, so it is not broadcast to it), and the cells through the cell-candidate gate
    (``filter`` on ``gate_g``: with its row and bias removed ``g = 0``, so ``c_t = 0`` and the cell's output is
    exactly zero at every step, never broadcast). Rows of the sigmoid gates are not gated: a removed row gives
    ``sigmoid(0) = 1/2``, not zero."""
    return {s.name: ("channel", "filter") if s.name == "gate_g" else ("channel",) for s in specs}


def _lenet(name: str, dense_epochs: int, lambdas: tuple[float, ...]) -> TrainableModel:
    specs = lenet.layer_specs(name)
    return TrainableModel(name, lambda: lenet.make_model(name), specs, lenet.apply_with_layer_inputs,
                          lambda seed: lenet.init_params(name, seed), feedforward_groups(specs), dense_epochs,
                          lambdas)  # fmt: skip


def _lstm(name: str, dense_epochs: int, lambdas: tuple[float, ...]) -> TrainableModel:
    specs = lstm.layer_specs(lstm.make_model(name))
    return TrainableModel(name, lambda: lstm.make_model(name), specs, lenet.apply_with_layer_inputs,
                          lambda seed: lstm.init_params(lstm.make_model(name), seed), lstm_groups(specs),
                          dense_epochs, lambdas)  # fmt: skip


TRAINABLE: dict[str, TrainableModel] = {}
"""Model name -> :class:`TrainableModel`, in registration order."""


def register(model: TrainableModel) -> TrainableModel:
    """Add ``model`` to :data:`TRAINABLE` (a name is registered once)."""
    if model.name in TRAINABLE:
        raise ValueError(f"model={model.name!r} is already registered")
    TRAINABLE[model.name] = model
    return model


# LeNet-300-100's energy at λ = 1 already removes four fifths of it; LeNet-5's latency needs larger λ (its first
# layer's convolution dominates and its input pixels are fixed). The LSTM's ESE cost is set by its broadcast
# columns (every column costs a cycle however sparse), which only whole columns and cells remove.
register(_lenet("lenet300", 20, (0.1, 0.25, 0.5, 1.0)))
register(_lenet("lenet5", 12, (0.5, 1.0, 2.0, 4.0)))
register(_lstm("lstm", 3, (0.25, 0.5, 1.0, 2.0)))


def names() -> tuple[str, ...]:
    """The registered model names."""
    return tuple(TRAINABLE)


def trainable(name: str) -> TrainableModel:
    """The registered model ``name`` (``ValueError`` naming the allowed ones otherwise)."""
    check_choice("model", name, names())
    return TRAINABLE[name]


def make_model(name: str) -> nn.Module:
    """The flax module of model ``name``."""
    return trainable(name).make()


def layer_specs(name: str) -> tuple[LayerSpec, ...]:
    """Layer shapes of model ``name``, in forward order."""
    return trainable(name).specs


def init_params(name: str, seed: int = 0) -> dict:
    """Freshly initialised parameters of model ``name``."""
    return trainable(name).init(seed)


def apply_with_layer_inputs(
    module: nn.Module, params: Any, images: jax.Array
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Logits and each layer's input (:func:`models.lenet.apply_with_layer_inputs`; every registered module sows
    its layer inputs the same way)."""
    return lenet.apply_with_layer_inputs(module, params, images)


def default_groups(name: str) -> dict[str, tuple[str, ...]]:
    """The default group gates of model ``name`` (a fresh dict)."""
    return dict(trainable(name).default_groups)


__all__ = [
    "TRAINABLE",
    "TrainableModel",
    "apply_with_layer_inputs",
    "default_groups",
    "feedforward_groups",
    "init_params",
    "layer_specs",
    "lstm_groups",
    "make_model",
    "names",
    "register",
    "trainable",
]
