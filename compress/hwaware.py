"""Differentiable compression decisions for hardware-aware training: relaxed masks and cost terms.

Every prunable layer ``l`` carries *mask parameters* (a pytree beside the network params):

* ``threshold``: a scalar magnitude threshold τ_l (units of the layer's mean |w|, held constant under
  the gradient). The element mask is ``1[|w| / mean|w| > τ_l]``, relaxed as
  ``sigmoid((|w| / mean|w| - τ_l) / T)``. This is the threshold of Trained Ternary Quantization
  (Zhu et al., ICLR'17, Δ = t·max|w|) made trainable: its gradient comes from the task loss (through
  the kept weights) and from the cost model (through the weight density). With ``ttq=True`` the same
  threshold is TTQ's traced factor ``t`` and the kept weights are ternarized (:mod:`compress.ttq`).
* one score per *group* for each granularity listed for the layer (``vector``, ``kernel``, ``filter``,
  ``channel`` as in :mod:`compress.masks`; for a fully connected kernel ``(in, out)`` ``filter`` is an
  output neuron and ``channel`` an input neuron). A group's gate is ``1[s > 0]``, relaxed as
  ``sigmoid(s / T)``. A pruned output neuron (``filter``) also masks its bias, so its activation is
  exactly zero downstream (the next layer never broadcasts it).

The layer mask is the product of the element mask and its group gates. Two relaxations are offered:

* ``ste=True``: the forward pass uses the exact hard mask, the backward pass the gradient of the soft
  one (straight-through estimator). The network trained is the network deployed, and the cost term's
  value equals the hard model's at the current masks.
* ``ste=False``: the soft mask is used in the forward pass too; the temperature ``T`` is annealed
  geometrically so that the soft mask converges to the hard one (``T -> 0``); the hard masks are then
  frozen for the finetune phase (:mod:`compress.hwtrain`).

Measured on LeNet-300-100 / MNIST / EIE energy at λ = 1 (3 joint + 3 finetune epochs, archsim on 100
test images): straight-through 2.06 % test error at 0.338 of the dense energy, soft forward 1.67 % at
0.343. Weights near the threshold keep a fractional, trainable presence while T is large instead of
flipping in and out, so the soft forward is the trainer's default (``HwTrainConfig.ste=False``); both
are available. The activation indicators of :mod:`compress.bridge` are straight-through in both
(:meth:`compress.hwtrain.Trainer.cost_of`): activations are not a decision but a count the cost model
needs exactly.

Cost terms (:func:`penalty_loss`, :func:`lagrangian_loss`, :func:`dual_ascent`): the penalised form
``task + λ·cost`` and the constrained form ``cost <= B`` through a Lagrange multiplier updated by
projected dual ascent ``λ <- max(0, λ + η (cost - B))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from compress import ttq as ttq_lib
from compress.masks import GRANULARITIES, group_axes
from hwcost.checks import check_choice, check_non_negative, check_positive

Array = jax.Array
GROUP_GRANULARITIES: tuple[str, ...] = tuple(g for g in GRANULARITIES if g != "element")


class MaskConfig(NamedTuple):
    """Static description of the relaxed masks of one network.

    Attributes:
        groups: ``{layer: (granularity, ...)}`` group gates per layer (possibly empty); layers absent
            from the mapping get no group gates.
        element: learn a per-layer magnitude threshold (element-level pruning) on every layer.
        ste: hard masks in the forward pass with straight-through gradients (see module docstring;
            the trainer's default is the soft forward).
        ttq: ternarize kept weights with :func:`compress.ttq.ternarize` (threshold = TTQ's factor t).
        init_score: initial group score (logit units, > 0 keeps the group).
        init_threshold: initial element threshold τ (units of mean|w|, or of max|w| with ``ttq``).
    """

    groups: Mapping[str, tuple[str, ...]]
    element: bool = True
    ste: bool = True
    ttq: bool = False
    init_score: float = 1.0
    init_threshold: float = 0.0


def check_config(config: MaskConfig, layer_names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the field for an unknown layer or granularity (call outside jit)."""
    for layer, grans in config.groups.items():
        if layer not in layer_names:
            raise ValueError(f"groups has layer={layer!r}; allowed: {', '.join(layer_names)}")
        for g in grans:
            check_choice(f"groups[{layer!r}]", g, GROUP_GRANULARITIES)
    check_non_negative("init_threshold", config.init_threshold)


def gate_shape(kernel_shape: tuple[int, ...], granularity: str) -> tuple[int, ...]:
    """Shape of the gate array of ``granularity`` (the kernel shape with the in-group axes set to 1)."""
    axes = group_axes(kernel_shape, granularity)
    return tuple(1 if i in axes else d for i, d in enumerate(kernel_shape))


def init_mask_params(params: Mapping[str, Mapping[str, Array]], config: MaskConfig) -> dict:
    """Mask parameters ``{layer: {"threshold": (), "<granularity>": gate scores}}``; all groups kept.

    Also holds ``{"scales": {layer: {"w_p", "w_n"}}}`` per layer when ``config.ttq`` (TTQ scales).
    """
    check_config(config, list(params))
    out: dict[str, Any] = {}
    for layer, leaves in params.items():
        shape = tuple(leaves["kernel"].shape)
        entry: dict[str, Array] = {}
        if config.element:
            entry["threshold"] = jnp.asarray(config.init_threshold, jnp.float32)
        for g in config.groups.get(layer, ()):
            entry[g] = jnp.full(gate_shape(shape, g), config.init_score, jnp.float32)
        if config.ttq:
            w = jnp.abs(leaves["kernel"])
            kept = w > config.init_threshold * jnp.max(w)
            mean = jnp.sum(jnp.where(kept, w, 0.0)) / jnp.maximum(jnp.sum(kept), 1)
            entry["w_p"] = mean.astype(jnp.float32)
            entry["w_n"] = mean.astype(jnp.float32)
        out[layer] = entry
    return out


def _straight_through(hard: Array, soft: Array) -> Array:
    """Value of ``hard``, gradient of ``soft``."""
    return soft + jax.lax.stop_gradient(hard - soft)


def _relax(hard: Array, soft: Array, *, ste: bool, exact: bool) -> Array:
    if exact:
        return hard
    return _straight_through(hard, soft) if ste else soft


def element_mask(kernel: Array, threshold: Array, temperature: Array, *, ttq: bool = False) -> tuple[Array, Array]:
    """``(hard, soft)`` element masks of one kernel, each of the kernel's shape.

    The magnitude scale (mean|w|, or max|w| with ``ttq``) is held constant under the gradient, so the
    threshold gradient is the sensitivity of the mask to τ alone.

    Args:
        kernel: weights, any shape.
        threshold: τ (scalar), units of the scale.
        temperature: T (scalar) > 0, units of the scale.
        ttq: measure magnitudes relative to max|w| (TTQ's Δ = t·max|w|) instead of mean|w|.
    """
    w = jnp.abs(kernel)
    scale = jax.lax.stop_gradient(jnp.max(w) if ttq else jnp.mean(w)) + 1e-12
    x = w / scale - threshold
    return (x > 0).astype(kernel.dtype), jax.nn.sigmoid(x / temperature)


def group_gate(scores: Array, temperature: Array) -> tuple[Array, Array]:
    """``(hard, soft)`` gates of group scores: ``1[s > 0]`` and ``sigmoid(s / T)``."""
    return (scores > 0).astype(scores.dtype), jax.nn.sigmoid(scores / temperature)


class LayerMasks(NamedTuple):
    """Relaxed masks of one layer: kernel mask (kernel's shape), bias mask (bias's shape), gates."""

    kernel: Array
    bias: Array
    gates: dict[str, Array]


def layer_masks(
    kernel: Array,
    bias: Array,
    entry: Mapping[str, Array],
    temperature: Array,
    *,
    ste: bool = True,
    exact: bool = False,
    ttq: bool = False,
) -> LayerMasks:
    """Masks of one layer from its mask parameters ``entry`` (see :func:`init_mask_params`).

    Args:
        kernel: (in, out) or (kh, kw, c, k) weights.
        bias: (out,) or (k,) biases.
        entry: the layer's mask parameters.
        temperature: relaxation temperature T > 0 (scalar, may be traced).
        ste: straight-through hard forward (else soft forward).
        exact: return the exact hard masks (no gradient to the mask parameters).
        ttq: thresholds are TTQ factors (relative to max|w|).
    """
    mask = jnp.ones_like(kernel)
    bias_mask = jnp.ones_like(bias)
    gates: dict[str, Array] = {}
    if "threshold" in entry:
        hard, soft = element_mask(kernel, entry["threshold"], temperature, ttq=ttq)
        mask = mask * _relax(hard, soft, ste=ste, exact=exact)
    for g in GROUP_GRANULARITIES:
        if g not in entry:
            continue
        hard, soft = group_gate(entry[g], temperature)
        gate = _relax(hard, soft, ste=ste, exact=exact)
        gates[g] = gate
        mask = mask * gate
        if g == "filter":
            bias_mask = bias_mask * gate.reshape(bias.shape)
    return LayerMasks(mask, bias_mask, gates)


def network_masks(
    params: Mapping[str, Mapping[str, Array]],
    mask_params: Mapping[str, Mapping[str, Array]],
    temperature: Array | float,
    *,
    ste: bool = True,
    exact: bool = False,
    ttq: bool = False,
) -> dict:
    """Masks shaped like ``params`` (``{layer: {"kernel", "bias"}}``), relaxed or exact (``exact=True``)."""
    temperature = jnp.asarray(temperature, jnp.float32)
    out = {}
    for layer, leaves in params.items():
        lm = layer_masks(
            leaves["kernel"], leaves["bias"], mask_params.get(layer, {}), temperature, ste=ste, exact=exact, ttq=ttq
        )
        out[layer] = {"kernel": lm.kernel, "bias": lm.bias}
    return out


def masked_weights(
    params: Mapping[str, Mapping[str, Array]],
    mask_params: Mapping[str, Mapping[str, Array]],
    masks: Mapping[str, Mapping[str, Array]],
    *,
    ttq: bool = False,
    group_gates: Mapping[str, Mapping[str, Array]] | None = None,
) -> dict:
    """The weights the network runs with: ``params * masks``, or ternarized kept weights with ``ttq``.

    With ``ttq`` each kernel becomes ``ternarize(w, w_p, w_n, t)`` (:func:`compress.ttq.ternarize`, traced
    ``t``: the ternarization is the element part of the mask) times the layer's group gates
    ``group_gates[layer]`` (relaxed like the masks, so that the task loss reaches the gate scores too), or
    times ``masks[layer]["kernel"]`` if ``group_gates`` is ``None`` (frozen exact masks).
    """
    out = {}
    for layer, leaves in params.items():
        entry = mask_params.get(layer, {})
        kernel = leaves["kernel"] * masks[layer]["kernel"]
        if ttq and "threshold" in entry:
            w = leaves["kernel"]
            if group_gates is None:
                keep = masks[layer]["kernel"]
            else:
                keep = jnp.ones_like(w)
                for gate in group_gates.get(layer, {}).values():
                    keep = keep * gate
            w_max = jax.lax.stop_gradient(jnp.max(jnp.abs(w)))
            kernel = ttq_lib.ternarize(w / w_max, entry["w_p"], entry["w_n"], entry["threshold"]) * keep
        out[layer] = {"kernel": kernel, "bias": leaves["bias"] * masks[layer]["bias"]}
    return out


def temperature_at(step: Array | int, total_steps: int, start: float, end: float) -> Array:
    """Geometric annealing from ``start`` (step 0) to ``end`` (step ``total_steps``), then constant.

    Args:
        step: optimizer step (may be traced).
        total_steps: annealing length in steps (>= 1).
        start, end: temperatures > 0 (units of the relaxed quantity).
    """
    frac = jnp.clip(jnp.asarray(step, jnp.float32) / max(1, int(total_steps)), 0.0, 1.0)
    return jnp.asarray(start, jnp.float32) * (end / start) ** frac


def check_temperatures(start: float, end: float) -> None:
    """Both temperatures must be > 0."""
    check_positive("temperature_start", start)
    check_positive("temperature_end", end)


# --- cost terms ------------------------------------------------------------------------------------
def penalty_loss(task: Array, cost: Array, lam: Array | float) -> Array:
    """``task + λ·cost`` (penalised form); ``cost`` dimensionless (relative to dense), λ >= 0."""
    return task + lam * cost


def lagrangian_loss(task: Array, cost: Array, lam: Array, budget: Array | float) -> Array:
    """``task + λ·(cost - B)`` (constrained form, λ the Lagrange multiplier, held constant here)."""
    return task + jax.lax.stop_gradient(lam) * (cost - budget)


def dual_ascent(lam: Array, cost: Array, budget: Array | float, lr: Array | float) -> Array:
    """Projected dual ascent on the multiplier: ``max(0, λ + η (cost - B))``.

    Over budget (cost > B) the multiplier grows, under budget it shrinks towards 0.
    """
    return jnp.maximum(0.0, lam + lr * (jax.lax.stop_gradient(cost) - budget))


def hard_densities(masks: Mapping[str, Mapping[str, Array]]) -> dict[str, float]:
    """Kernel density (fraction of nonzero mask entries) per layer, Python floats."""
    return {layer: float(jnp.mean(m["kernel"] != 0)) for layer, m in masks.items()}


def group_summary(mask_params: Mapping[str, Mapping[str, Array]]) -> dict[str, dict[str, Any]]:
    """Per layer: learned threshold and, per granularity, groups kept / total (for reports)."""
    out: dict[str, dict[str, Any]] = {}
    for layer, entry in mask_params.items():
        row: dict[str, Any] = {}
        if "threshold" in entry:
            row["threshold"] = float(entry["threshold"])
        for g in GROUP_GRANULARITIES:
            if g in entry:
                row[f"{g}_kept"] = int(jnp.sum(entry[g] > 0))
                row[f"{g}_total"] = int(entry[g].size)
        out[layer] = row
    return out
