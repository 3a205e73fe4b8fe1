"""The bridge from a compressed network to hardware workloads: params + masks + layer inputs -> workloads.

For each layer (``models.lenet.LayerSpec``) it builds one workload the registered cost models price:

* **fully connected** layer, kernel ``(in, out)``: an :class:`~hwcost.types.FcLayer` (``W`` of EIE is the
  transposed kernel, ``(out, in)``), with

  - ``weight_density`` = mean of the (soft) kernel mask, so its gradient reaches every mask score and
    threshold (group gates included: a gate's share of the mean is its group's size);
  - ``activation_density`` = the fraction of nonzero input activations that EIE actually broadcasts:
    mean over the batch and the inputs of ``ind(x_j) * alive_j``, where ``ind`` is the indicator
    ``x != 0`` with the gradient of ``tanh(|x| / (T_a · s))`` (straight-through, the default; ``s`` the
    mean magnitude of the nonzero inputs, held constant; ``ste=False`` uses the soft value too) and
    ``alive_j`` is 1 when column ``j`` of ``W`` still holds a weight (:func:`alive_columns`). An input
    whose column is empty has nothing to multiply, so the compressed model drops it from the input (it
    is never broadcast); with a ``channel`` gate ``alive_j`` is the gate itself. A pruned hidden neuron
    (``filter`` gate, bias masked) gives an exact zero input to the next layer. The gradient of the
    cost therefore reaches the mask scores and, through ``ind``, the activations themselves (the
    weights and biases that produce them).

* **convolution** ``(kh, kw, c, k)`` on EIE is lowered to matrix-vector products, one per output
  position (im2col): ``W`` is the ``(k, kh·kw·c)`` filter matrix and the input vector the receptive-field
  patch at that position; ``FcLayer(in=kh·kw·c, out=k)`` with ``repeats = out_h·out_w``. Its activation
  density is the mean over positions and batch of the patches' nonzero indicators times the alive
  columns (one depthwise convolution of the indicator map with the alive map). Cost models with a
  native :class:`~hwcost.types.ConvLayer` (``conv_lowering="conv"``) get the convolution as is.

A network is a :class:`LoweredNetwork` (workloads + repeats). :func:`network_cost_value` prices it with any
registered :class:`~hwcost.types.CostModel` (energy in pJ or latency in cycles, repeats multiplied in) and
:func:`relative_cost` divides by the dense network's cost on the same hardware (every weight kept, every
activation nonzero), a dimensionless cost term.

Hard twin: ``exact=True`` with exact 0/1 masks gives the exact densities (``ind`` = ``x != 0``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwcost.checks import check_choice
from hwcost.cost import network_cost
from hwcost.types import Array, ConvLayer, CostModel, FcLayer, total

OBJECTIVES: tuple[str, ...] = ("energy", "latency")
DENSITY_FLOOR = 1e-6
DENSITY_CEILING = 0.99
"""Densities handed to a cost model are mapped affinely onto [DENSITY_FLOOR, DENSITY_CEILING], away from
the ends where closed-form cost models are steepest (the EIE load-imbalance term grows like
sqrt(broadcast columns), and the empty-slice probability ``(1 - d)**rows`` of a layer with fewer rows than PEs
is steep at weight density 1); the EIE energy's derivative in weight density also turns negative above about
0.995 for a 300 x 100 layer, which would stall the thresholds of a dense start (measured), hence a ceiling
of 0.99.
Only relaxed (differentiable) workloads are mapped; exact ones (``exact=True``: the hard twin, the dense
reference) carry the exact densities."""


@jax.custom_vjp
def finite_cotangent(x: Array) -> Array:
    """Identity whose backward pass replaces non-finite cotangents by 0.

    Placed between the bridge and the cost model: if a model returns a NaN or infinite derivative for
    one workload field (a singular point), only that field's gradient is dropped, instead of poisoning
    every parameter the field depends on (e.g. a whole kernel's task gradient).
    """
    return x


def _finite_fwd(x: Array) -> tuple[Array, None]:
    return x, None


def _finite_bwd(_: None, g: Array) -> tuple[Array]:
    return (jnp.where(jnp.isfinite(g), g, 0.0),)


finite_cotangent.defvjp(_finite_fwd, _finite_bwd)


def _floor(density: Array) -> Array:
    return DENSITY_FLOOR + (DENSITY_CEILING - DENSITY_FLOOR) * density


CONV_LOWERINGS: tuple[str, ...] = ("matvec", "conv")
WEIGHT_DENSITIES: tuple[str, ...] = ("broadcast", "stored")
_NO_BROADCAST_COLUMNS = 1e-3
"""Broadcast count (columns) below which the broadcast density fades into the stored one (relaxed path)."""


def _broadcast_density(broadcasts: Array, weights_read: Array, stored: Array, rows: int, *, exact: bool) -> Array:
    """Kept-weight density of the broadcast columns, ``weights_read / (broadcasts * rows)``.

    With no broadcast it is the stored density (exact path: a ``where``; relaxed path: both sums are
    padded by ``1e-3`` columns of the stored density, so the value and its gradient stay finite at 0).
    """
    if exact:
        safe = jnp.where(broadcasts > 0, broadcasts, 1.0)
        return jnp.where(broadcasts > 0, weights_read / (safe * rows), stored)
    eps = _NO_BROADCAST_COLUMNS
    return (weights_read + eps * stored * rows) / ((broadcasts + eps) * rows)


class LoweredNetwork(NamedTuple):
    """Workloads of a network, one per layer in forward order, and how many times each runs.

    Attributes:
        layers: tuple of workloads (:class:`FcLayer` or :class:`ConvLayer`).
        repeats: tuple of Python floats, matrix-vector products per inference (1 for fc layers,
            ``out_h·out_w`` for a convolution lowered to mat-vecs).
    """

    layers: tuple[Any, ...]
    repeats: tuple[float, ...]


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


def activation_indicator(x: Array, temperature: Array | float, *, ste: bool = True, exact: bool = False) -> Array:
    """Indicator of nonzero activations, relaxed: ``tanh(|x| / (T·s))`` with ``s`` the mean |x| of the
    nonzero entries (held constant), x's shape.

    ``ste=True``: value ``x != 0`` exactly, gradient of the relaxation. ``exact=True``: ``x != 0``.
    Tends to ``x != 0`` as T -> 0.
    """
    hard = (x != 0).astype(x.dtype)
    if exact:
        return hard
    mag = jnp.abs(x)
    scale = jax.lax.stop_gradient(jnp.sum(mag) / jnp.maximum(jnp.sum(hard), 1.0)) + 1e-12
    width = temperature * scale
    if ste:
        return _straight_through_indicator(x, jax.lax.stop_gradient(jnp.asarray(width, x.dtype)))
    return jnp.tanh(mag / width)


def alive_columns(column_sums: Array, channel_gate: Array | None = None) -> Array:
    """Whether each input column of the matrix still holds a weight, ``sum_out(m) > 0``.

    ``column_sums`` are the mask's sums over its outputs (the last axis); masks lie in [0, 1], so a
    positive sum means some weight of the column is kept. Taking the sums (which the weight density
    needs anyway) instead of a separate ``any(m != 0)`` saves one pass over the mask per step.
    The value is exact for exact or straight-through masks; the gradient flows only through the
    layer's ``channel`` gate, if it has one (``gate * alive``): the product relaxation
    ``1 - prod(1 - m)`` passes almost no gradient and its backward pass alone doubled the step time
    of LeNet-300-100.

    Args:
        column_sums: (in,) for fc, (kh, kw, c) for conv: the mask summed over its last axis.
        channel_gate: the layer's ``channel`` gate, shape (in, 1) or (1, 1, c, 1), if it has one.

    Returns:
        column_sums' shape, 0/1 (times the gate).
    """
    alive = jax.lax.stop_gradient((column_sums > 0).astype(column_sums.dtype))
    if channel_gate is not None:
        gate = jnp.broadcast_to(channel_gate[..., 0], alive.shape)
        alive = gate * alive
    return alive


def _broadcast_statistics(ind: Array, alive: Array, column_sums: Array) -> tuple[Array, Array]:
    """Per mat-vec, mean over the batch (and output positions): ``(broadcasts, weights read)``.

    ``broadcasts = sum_j ind_j alive_j`` (nonzero inputs of live columns: EIE's broadcast count ``M``) and
    ``weights read = sum_j ind_j column_sums_j`` (the kept weights of the broadcast columns: EIE's
    nonzero multiplies), exact means over the batch for exact indicators and masks.

    Args:
        ind: (B, in) fc or (B, H, W, C) conv input indicators.
        alive: (in,) or (kh, kw, C) live columns (:func:`alive_columns`).
        column_sums: same shape as ``alive``: the mask summed over its outputs.

    Returns:
        two scalars, columns and weights per mat-vec.
    """
    if alive.ndim == 1:
        freq = jnp.mean(ind.reshape((ind.shape[0], -1)), axis=0)  # (in,) how often each input is nonzero
        return freq @ alive, freq @ column_sums
    both = jnp.stack([alive, column_sums], axis=-1)  # (kh, kw, C, 2)
    patches = jax.lax.conv_general_dilated(
        ind, both, window_strides=(1, 1), padding="VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )  # (B, out_h, out_w, 2): per patch (im2col column vector), its broadcasts and weights read
    means = jnp.mean(patches, axis=(0, 1, 2))
    return means[0], means[1]


def lower_network(
    specs: Sequence[Any],
    masks: Mapping[str, Mapping[str, Array]],
    layer_inputs: Mapping[str, Array],
    *,
    act_temperature: Array | float = 0.5,
    ste: bool = True,
    exact: bool = False,
    gates: Mapping[str, Mapping[str, Array]] | None = None,
    conv_lowering: str = "matvec",
    weight_density: str = "broadcast",
    effective_shape: bool = True,
) -> LoweredNetwork:
    """Workloads of a masked network on a batch.

    Args:
        specs: ``models.lenet.layer_specs(name)`` (name, kind, kernel shape, in/out plane sizes).
        masks: ``{layer: {"kernel": mask}}`` shaped like the kernels, values in [0, 1] (soft,
            straight-through or exact).
        layer_inputs: ``{layer: input activations}`` of the *masked* network on the batch, (B, in) or
            (B, H, W, C) (``models.lenet.apply_with_layer_inputs``).
        act_temperature: T_a of :func:`activation_indicator` (relative to the mean nonzero magnitude).
        ste: straight-through activation indicator (exact value, relaxed gradient).
        exact: exact indicators (the hard twin; pass exact masks too).
        gates: optional ``{layer: {"channel": gate, "filter": gate}}`` (relaxed group gates), so that
            the live rows and columns get their gradient directly (see :func:`alive_columns`).
        conv_lowering: ``"matvec"`` (EIE: one mat-vec per output position) or ``"conv"`` (ConvLayer).
        weight_density: what the mat-vec workloads' weight density describes. ``"broadcast"``: the kept
            weights of the columns actually broadcast over the number of broadcasts (EIE reads only the
            columns of nonzero activations, Sec. III-C), ``sum_j f_j n_j / (M out)`` with ``f_j`` how often
            input ``j`` is nonzero and ``n_j`` its column's kept weights; the model's nonzero multiplies
            ``M out d`` are then exactly the mean of the real ones. A trained network keeps more weights in
            the columns of often-active inputs (LeNet-300-100 at λ = 1: 1.4x its average density), which a
            uniform density misses (the hard model was 0.72 of archsim's multiplies on its first layer).
            ``"stored"``: kept weights over all (live) columns, for cost models that store or stream the
            whole matrix. Convolutions lowered to ``ConvLayer`` always carry the stored density.
        effective_shape: describe each matrix by its live columns (mat-vec workloads): ``in_features`` =
            live columns, densities within them. Pruned inputs are then removed from the matrix the model
            sees, as a compressed model stores it, instead of being averaged into a uniform density over
            all columns (with structured pruning the broadcast columns are exactly the live ones, whose
            weight density is higher than the average). The number of broadcasts (in x activation
            density) and of nonzeros are the same either way. Rows keep their full count (pruned rows
            stay interleaved over the PEs, as archsim runs them; besides, the EIE model's gradient is
            NaN for a traced ``out_features`` below the number of PEs, measured with LeNet's 10-row layer).
    """
    check_choice("conv_lowering", conv_lowering, CONV_LOWERINGS)
    check_choice("weight_density", weight_density, WEIGHT_DENSITIES)
    gates = gates or {}
    # Per layer, four reductions; everything after them is elementwise and done once for all layers
    # (a network's scalar bookkeeping as (L,) arrays: a few operations per step instead of a few per layer).
    raw, fan_in, fan_out, native_conv = [], [], [], []
    for spec in specs:
        mask = masks[spec.name]["kernel"]
        column_sums = jnp.sum(mask, axis=-1)
        alive = alive_columns(column_sums, gates.get(spec.name, {}).get("channel"))
        ind = activation_indicator(layer_inputs[spec.name], act_temperature, ste=ste, exact=exact)
        broadcasts, weights_read = _broadcast_statistics(ind, alive, column_sums)
        raw.append(jnp.stack([jnp.sum(column_sums), jnp.sum(alive), broadcasts, weights_read]))
        fan_in.append(float(np.prod(spec.kernel_shape[:-1])))
        fan_out.append(float(spec.kernel_shape[-1]))
        native_conv.append(spec.kind == "conv" and conv_lowering == "conv")
    kept, live, broadcasts, weights_read = jnp.stack(raw).T  # (L,) each
    rows = np.asarray(fan_out)
    matvec = ~np.asarray(native_conv)
    # mat-vec workloads described by their live columns (effective_shape), native convolutions whole
    in_features = jnp.where(matvec & effective_shape, jnp.maximum(live, 1.0), np.asarray(fan_in))
    activation = broadcasts / in_features
    density = kept / (in_features * rows)
    if weight_density == "broadcast":
        density = jnp.where(matvec, _broadcast_density(broadcasts, weights_read, density, rows, exact=exact), density)
    if not exact:
        density, activation = finite_cotangent(_floor(density)), finite_cotangent(_floor(activation))
        in_features = finite_cotangent(in_features)
    layers, repeats = [], []
    for i, spec in enumerate(specs):
        if native_conv[i]:
            kh, kw, c, k = spec.kernel_shape
            layers.append(
                ConvLayer(
                    float(c), float(k), float(kh), float(kw), float(spec.in_hw[0]), float(spec.in_hw[1]),
                    float(spec.out_hw[0]), float(spec.out_hw[1]), density[i], activation[i], name=spec.name,
                )
            )  # fmt: skip
            repeats.append(1.0)
            continue
        layers.append(FcLayer(in_features[i], fan_out[i], density[i], activation[i], name=spec.name))
        repeats.append(1.0 if spec.kind == "fc" else float(spec.out_hw[0] * spec.out_hw[1]))
    return LoweredNetwork(tuple(layers), tuple(repeats))


def dense_network(specs: Sequence[Any], **lowering: str) -> LoweredNetwork:
    """The dense reference: every weight kept and every activation nonzero (``lowering``: the
    ``conv_lowering`` and ``weight_density`` of :func:`lower_network`)."""
    masks = {}
    inputs = {}
    for spec in specs:
        masks[spec.name] = {"kernel": jnp.ones(spec.kernel_shape, jnp.float32)}
        if spec.kind == "fc":
            inputs[spec.name] = jnp.ones((1, spec.kernel_shape[0]), jnp.float32)
        else:
            inputs[spec.name] = jnp.ones((1, *spec.in_hw, spec.kernel_shape[2]), jnp.float32)
    return lower_network(specs, masks, inputs, exact=True, **lowering)


def floor_network(specs: Sequence[Any], **lowering: str) -> LoweredNetwork:
    """The cost floor: weight and activation densities 0 (what no compression can go below)."""
    dense = dense_network(specs, **lowering)
    return LoweredNetwork(
        tuple(type(w)(**{**_fields(w), "weight_density": 0.0, "activation_density": 0.0}) for w in dense.layers),
        dense.repeats,
    )


def _fields(workload: Any) -> dict[str, Any]:
    return {f: getattr(workload, f) for f in workload.__dataclass_fields__}


class NetworkCostValue(NamedTuple):
    """Energy (pJ) and latency (cycles) of one inference, with the per-layer breakdown.

    Attributes:
        energy_pj: scalar, pJ.
        latency_cycles: scalar, cycles.
        layer_energy_pj: per layer ``{"component.action": pJ}`` (repeats multiplied in).
        layer_latency_cycles: per layer scalar cycles (repeats multiplied in).
    """

    energy_pj: Array
    latency_cycles: Array
    layer_energy_pj: tuple[dict[str, Array], ...]
    layer_latency_cycles: tuple[Array, ...]

    def objective(self, name: str) -> Array:
        """``energy_pj`` for ``"energy"``, ``latency_cycles`` for ``"latency"``."""
        return self.energy_pj if name == "energy" else self.latency_cycles


def network_cost_value(model: CostModel, hw: Any, lowered: LoweredNetwork) -> NetworkCostValue:
    """Price a lowered network with ``model`` on ``hw`` (layers run one after another)."""
    cost = network_cost(model, hw, lowered.layers)
    pairs = list(zip(cost.layers, lowered.repeats, strict=True))
    energies = tuple({k: r * v for k, v in lc.energy_pj.items()} for lc, r in pairs)
    latencies = tuple(r * lc.latency_cycles for lc, r in pairs)
    energy = sum((total(e) for e in energies), start=jnp.zeros(()))
    latency = sum(latencies, start=jnp.zeros(()))
    return NetworkCostValue(energy, latency, energies, latencies)


def relative_cost(
    model: CostModel, hw: Any, lowered: LoweredNetwork, objective: str, dense: LoweredNetwork | Array | float
) -> Array:
    """Cost of ``lowered`` over the cost of ``dense`` on the same hardware (dimensionless scalar).

    ``dense`` is the dense network, or a reference cost already evaluated (pJ or cycles, a float or a
    scalar array: e.g. the dense network's cost on real data, :meth:`compress.hwtrain.Trainer.reference_cost`).
    """
    check_choice("objective", objective, OBJECTIVES)
    value = network_cost_value(model, hw, lowered).objective(objective)
    ref = network_cost_value(model, hw, dense).objective(objective) if isinstance(dense, LoweredNetwork) else dense
    return value / ref
