"""The bridge from a masked network to hardware: params + masks + layer inputs -> one
:class:`~hwcost.types.LayerStatistics` per layer, computed once, which every registered cost model lowers
to its own workloads (``CostModel.lower``).

For a layer with weight matrix ``W (fan_out, fan_in)`` (a fully connected kernel ``(in, out)``
transposed; a convolution's ``(K, R S C)`` filter matrix, one product per output position; a recurrent
layer's matrix, one product per time step, its input ``(B, T, in)`` and its spec's ``out_hw = (T, 1)``) the
statistics are, as means over the batch (and the output positions or steps):

* ``kept_weights``: the sum of the kernel mask, so its gradient reaches every mask score and threshold;
* ``live_inputs``: the columns that still hold a kept weight, :func:`alive_columns` (a compressed model
  drops the others from its input);
* ``broadcasts``: ``sum_j ind(x_j) alive_j``, the nonzero inputs of live columns per product, with
  ``ind`` the nonzero indicator of :func:`activation_indicator`;
* ``weights_read``: ``sum_j ind(x_j) n_j`` with ``n_j`` the kept weights of column ``j``: the nonzero
  multiplies of a machine that skips zero activations;
* ``input_density``: the mean of ``ind`` over the layer's input tensor.

A pruned hidden neuron (``filter`` gate, bias masked) gives an exact zero input to the next layer, so the
gradient of the cost reaches the mask scores and, through ``ind``, the activations themselves (the weights
and biases that produce them). With exact 0/1 masks and ``indicator="exact"`` every statistic is the exact
count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp

from hwcost.cost import NetworkCost, network_cost
from hwcost.types import Array, CostModel, LayerRun, LayerSpec, LayerStatistics, Objective

IndicatorMode = Literal["ste", "soft", "exact"]
"""How nonzero activations are counted: ``"ste"`` the exact count with the relaxation's gradient
(straight-through), ``"soft"`` the relaxation itself, ``"exact"`` the count with no gradient."""


@jax.custom_jvp
def _straight_through_indicator(x: Array, width: Array) -> Array:
    """``x != 0`` with the derivative of ``tanh(|x| / width)`` (``width`` receives no gradient).

    A custom JVP instead of ``soft + stop_gradient(hard - soft)``: the forward pass computes only the
    comparison, and the relaxation's derivative is evaluated only where a gradient is taken (never for
    the network input, which no parameter produces).
    """
    return (x != 0).astype(x.dtype)


@_straight_through_indicator.defjvp
def _straight_through_indicator_jvp(primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> tuple[Array, Array]:
    x, width = primals
    x_dot, _ = tangents
    soft = jnp.tanh(jnp.abs(x) / width)
    return _straight_through_indicator(x, width), jnp.sign(x) * (1.0 - soft * soft) / width * x_dot


def activation_indicator(x: Array, temperature: Array | float, mode: IndicatorMode = "ste") -> Array:
    """Indicator of nonzero activations, x's shape: ``x != 0``, relaxed as ``tanh(|x| / (T s))`` with ``s``
    the mean |x| of the nonzero entries (held constant); see :data:`IndicatorMode`. Tends to ``x != 0`` as
    ``T -> 0``."""
    hard = (x != 0).astype(x.dtype)
    if mode == "exact":
        return hard
    mag = jnp.abs(x)
    scale = jax.lax.stop_gradient(jnp.sum(mag) / jnp.maximum(jnp.sum(hard), 1.0)) + 1e-12
    width = jax.lax.stop_gradient(jnp.asarray(temperature * scale, x.dtype))
    if mode == "ste":
        return _straight_through_indicator(x, width)
    return jnp.tanh(mag / width)


def alive_columns(column_sums: Array, channel_gate: Array | None = None) -> Array:
    """Whether each input column of the matrix still holds a weight, ``sum_out(m) > 0``.

    ``column_sums`` are the mask's sums over its outputs (the last axis); masks lie in [0, 1], so a
    positive sum means some weight of the column is kept. The value is exact for exact or
    straight-through masks; the gradient flows only through the layer's ``channel`` gate, if it has one
    (``gate * alive``): the product relaxation ``1 - prod(1 - m)`` passes almost no gradient and its
    backward pass alone doubled the step time of LeNet-300-100.

    Args:
        column_sums: (in,) for fc, (kh, kw, c) for conv: the mask summed over its last axis.
        channel_gate: the layer's ``channel`` gate, shape (in, 1) or (1, 1, c, 1), if it has one.

    Returns:
        column_sums' shape, 0/1 (times the gate).
    """
    alive = jax.lax.stop_gradient((column_sums > 0).astype(column_sums.dtype))
    if channel_gate is not None:
        alive = jnp.broadcast_to(channel_gate[..., 0], alive.shape) * alive
    return alive


def _broadcast_statistics(ind: Array, alive: Array, column_sums: Array) -> tuple[Array, Array]:
    """Per product, mean over the batch (and output positions): ``(broadcasts, weights read)``.

    Args:
        ind: (B, in) fc (or (B, T, in), one product per step ``t``) or (B, H, W, C) conv input indicators.
        alive: (in,) or (kh, kw, C) live columns (:func:`alive_columns`).
        column_sums: same shape as ``alive``: the mask summed over its outputs.
    """
    if alive.ndim == 1:  # one product per row of inputs: (B, in), or (B, T, in) for a matrix applied every step
        freq = jnp.mean(ind.reshape((-1, alive.shape[0])), axis=0)  # (in,) how often each input is nonzero
        return freq @ alive, freq @ column_sums
    both = jnp.stack([alive, column_sums], axis=-1)  # (kh, kw, C, 2)
    patches = jax.lax.conv_general_dilated(
        ind, both, window_strides=(1, 1), padding="VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )  # (B, out_h, out_w, 2): per patch (im2col column vector), its broadcasts and weights read
    means = jnp.mean(patches, axis=(0, 1, 2))
    return means[0], means[1]


def layer_statistics(
    specs: Sequence[LayerSpec],
    masks: Mapping[str, Mapping[str, Array]],
    layer_inputs: Mapping[str, Array],
    *,
    indicator: IndicatorMode = "ste",
    act_temperature: Array | float = 0.5,
    gates: Mapping[str, Mapping[str, Array]] | None = None,
) -> tuple[LayerStatistics, ...]:
    """The statistics of every layer of a masked network on a batch (module docstring), in forward order.

    Args:
        specs: the layers' geometry (``models.registry.layer_specs(name)``).
        masks: ``{layer: {"kernel": mask}}`` shaped like the kernels, values in [0, 1] (soft,
            straight-through or exact).
        layer_inputs: ``{layer: input activations}`` of the *masked* network on the batch, (B, in) or
            (B, T, in) or (B, H, W, C) (``models.registry.apply_with_layer_inputs``).
        indicator: how nonzero activations are counted (:data:`IndicatorMode`).
        act_temperature: ``T`` of :func:`activation_indicator` (relative to the mean nonzero magnitude).
        gates: optional ``{layer: {"channel": gate}}`` relaxed input gates, so that the live columns get
            their gradient directly (:func:`alive_columns`).
    """
    gates = gates or {}
    out = []
    for spec in specs:
        mask = masks[spec.name]["kernel"]
        column_sums = jnp.sum(mask, axis=-1)
        alive = alive_columns(column_sums, gates.get(spec.name, {}).get("channel"))
        ind = activation_indicator(layer_inputs[spec.name], act_temperature, indicator)
        broadcasts, weights_read = _broadcast_statistics(ind, alive, column_sums)
        out.append(LayerStatistics(jnp.sum(column_sums), jnp.sum(alive), broadcasts, weights_read, jnp.mean(ind), spec))
    return tuple(out)


def dense_statistics(specs: Sequence[LayerSpec]) -> tuple[LayerStatistics, ...]:
    """Every weight kept and every input nonzero: the dense network, in closed form."""
    return tuple(
        LayerStatistics(float(s.num_weights), float(s.fan_in), float(s.fan_in), float(s.num_weights), 1.0, s)
        for s in specs
    )


def floor_statistics(specs: Sequence[LayerSpec]) -> tuple[LayerStatistics, ...]:
    """The dense network's shapes with no weight kept and no input nonzero: a cost no compression of the
    weights and activations goes below (removing whole input columns aside)."""
    return tuple(LayerStatistics(0.0, float(s.fan_in), 0.0, 0.0, 0.0, s) for s in specs)


def lower(model: CostModel, statistics: Sequence[LayerStatistics]) -> tuple[LayerRun, ...]:
    """The network as ``model`` runs it: its lowering of every layer."""
    return tuple(model.lower(layer) for layer in statistics)


def statistics_cost(model: CostModel, hw: Any, statistics: Sequence[LayerStatistics]) -> NetworkCost:
    """Cost of one inference of the network described by ``statistics`` on ``hw``."""
    return network_cost(model, hw, lower(model, statistics))


def relative_cost(
    model: CostModel, hw: Any, statistics: Sequence[LayerStatistics], objective: Objective, reference: Array | float
) -> Array:
    """The objective of ``statistics`` on ``hw`` over ``reference`` (pJ or cycles): a dimensionless cost term."""
    return statistics_cost(model, hw, statistics).objective(objective) / reference
