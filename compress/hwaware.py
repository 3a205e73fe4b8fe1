"""Differentiable compression decisions for hardware-aware training: relaxed masks and cost terms.

Every prunable layer carries its decisions (:class:`LayerDecisions`, a pytree beside the network params):

* ``threshold``: a magnitude threshold τ (units of the layer's mean |w|, held constant under the
  gradient). The element mask is ``1[|w| / mean|w| > τ]``, relaxed as ``sigmoid((|w| / mean|w| - τ) / T)``.
  This is the threshold of Trained Ternary Quantization (Zhu et al., ICLR'17, Δ = t·max|w|) made
  trainable: its gradient comes from the task loss (through the kept weights) and from the cost model
  (through the weight density). With ``ttq`` the threshold is TTQ's factor ``t`` (max|w| units) and the
  kept weights are ternarized with the learned scales ``W_p``, ``W_n`` (:mod:`compress.ttq`).
* ``gates``: one score per *group* for each granularity chosen for the layer (``vector``, ``kernel``,
  ``filter``, ``channel`` as in :mod:`compress.masks`; for a fully connected kernel ``(in, out)``
  ``filter`` is an output neuron and ``channel`` an input neuron). A group's gate is ``1[s > 0]``,
  relaxed as ``sigmoid(s / T)``. A pruned output neuron (``filter``) also masks its bias, so its
  activation is exactly zero downstream (the next layer never broadcasts it).

The layer mask is the product of the element mask and its group gates, in one of three modes
(:data:`MaskMode`): ``"soft"`` (the relaxation in the forward pass; ``T`` is annealed so that it
converges to the hard mask), ``"ste"`` (the exact mask forward, the relaxation's gradient backward:
the network trained is the network deployed) and ``"exact"`` (the hard mask, no gradient).

Cost terms (:func:`lagrangian_loss`, :func:`dual_ascent`): ``task + λ (cost - B)``, the penalised form
``task + λ cost`` at ``B = 0`` with λ fixed, and the constrained form ``cost <= B`` with λ a Lagrange
multiplier updated by projected dual ascent ``λ <- max(0, λ + η (cost - B))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp

from compress import ttq as ttq_lib
from compress.masks import GRANULARITIES, group_axes
from hwcost.checks import check_choice, check_non_negative, check_positive

Array = jax.Array
GROUP_GRANULARITIES: tuple[str, ...] = tuple(g for g in GRANULARITIES if g != "element")
MaskMode = Literal["soft", "ste", "exact"]
MASK_MODES: tuple[MaskMode, ...] = ("soft", "ste", "exact")


class MaskConfig(NamedTuple):
    """Static description of the relaxed masks of one network.

    Attributes:
        groups: ``{layer: (granularity, ...)}`` group gates per layer; layers absent get none.
        element: learn a per-layer magnitude threshold (element-level pruning) on every layer.
        mode: ``"soft"`` or ``"ste"`` during training (:data:`MaskMode`).
        ttq: ternarize kept weights (the threshold is TTQ's factor ``t``).
        init_score: initial group score (logit units, > 0 keeps the group).
        init_threshold: initial element threshold τ (units of mean|w|, or of max|w| with ``ttq``).
    """

    groups: Mapping[str, tuple[str, ...]]
    element: bool = True
    mode: MaskMode = "soft"
    ttq: bool = False
    init_score: float = 1.0
    init_threshold: float = 0.0


class LayerDecisions(NamedTuple):
    """The trainable compression decisions of one layer.

    Attributes:
        threshold: element threshold τ, scalar, or ``None`` (no element pruning).
        gates: ``{granularity: scores}``, each shaped like the kernel with the in-group axes set to 1.
        scales: TTQ's ``{"w_p": (), "w_n": ()}`` (network-weight units) with ``ttq``, else ``None``.
    """

    threshold: Array | None
    gates: dict[str, Array]
    scales: dict[str, Array] | None = None


def check_config(config: MaskConfig, layer_names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the field for an unknown layer, granularity or mode (call outside jit)."""
    for layer, grans in config.groups.items():
        if layer not in layer_names:
            raise ValueError(f"groups has layer={layer!r}; allowed: {', '.join(layer_names)}")
        for g in grans:
            check_choice(f"groups[{layer!r}]", g, GROUP_GRANULARITIES)
    check_choice("mode", config.mode, MASK_MODES)
    check_non_negative("init_threshold", config.init_threshold)


def gate_shape(kernel_shape: tuple[int, ...], granularity: str) -> tuple[int, ...]:
    """Shape of the gate array of ``granularity`` (the kernel shape with the in-group axes set to 1)."""
    axes = group_axes(kernel_shape, granularity)
    return tuple(1 if i in axes else d for i, d in enumerate(kernel_shape))


def init_decisions(params: Mapping[str, Mapping[str, Array]], config: MaskConfig) -> dict[str, LayerDecisions]:
    """Initial decisions per layer: every group kept, thresholds at ``init_threshold``; with ``ttq`` the
    scales of :func:`compress.ttq.init_ttq` (mean magnitude on each side of the threshold)."""
    check_config(config, list(params))
    scales = ttq_lib.init_ttq(params, list(params), t=config.init_threshold)["scales"] if config.ttq else {}
    out = {}
    for layer, leaves in params.items():
        shape = tuple(leaves["kernel"].shape)
        out[layer] = LayerDecisions(
            threshold=jnp.asarray(config.init_threshold, jnp.float32) if config.element else None,
            gates={
                g: jnp.full(gate_shape(shape, g), config.init_score, jnp.float32) for g in config.groups.get(layer, ())
            },
            scales={k: jnp.asarray(v, jnp.float32) for k, v in scales[layer].items()} if config.ttq else None,
        )
    return out


def _relax(hard: Array, soft: Array, mode: MaskMode) -> Array:
    if mode == "exact":
        return hard
    if mode == "ste":
        return soft + jax.lax.stop_gradient(hard - soft)
    return soft


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
    """Masks of one layer.

    Attributes:
        kernel: the full mask, the kernel's shape (element mask times group gates).
        bias: the bias mask, the bias's shape (the ``filter`` gates).
        gates: ``{granularity: gate}`` of the layer's group gates (relaxed like the masks).
        groups: the product of the group gates, broadcastable to the kernel (what multiplies the
            ternarized kernel with ``ttq``).
    """

    kernel: Array
    bias: Array
    gates: dict[str, Array]
    groups: Array

    @classmethod
    def frozen(cls, kernel: Array, bias: Array) -> LayerMasks:
        """Fixed exact masks (the finetune phase): every decision is in the kernel mask itself."""
        return cls(kernel, bias, {}, kernel)


def layer_masks(kernel: Array, bias: Array, decisions: LayerDecisions, temperature: Array, mode: MaskMode,
                *, ttq: bool = False) -> LayerMasks:  # fmt: skip
    """Masks of one layer from its decisions at temperature ``T`` (scalar, may be traced) in ``mode``.

    Args:
        kernel: (in, out) or (kh, kw, c, k) weights.
        bias: (out,) or (k,) biases.
        decisions: the layer's :class:`LayerDecisions`.
        temperature: relaxation temperature T > 0.
        mode: :data:`MaskMode`.
        ttq: thresholds are TTQ factors (relative to max|w|).
    """
    groups = jnp.ones((1,) * kernel.ndim, kernel.dtype)
    bias_mask = jnp.ones_like(bias)
    gates: dict[str, Array] = {}
    for g in GROUP_GRANULARITIES:
        if g in decisions.gates:
            gate = _relax(*group_gate(decisions.gates[g], temperature), mode)
            gates[g] = gate
            groups = groups * gate
            if g == "filter":
                bias_mask = bias_mask * gate.reshape(bias.shape)
    mask = jnp.broadcast_to(groups, kernel.shape)
    if decisions.threshold is not None:
        mask = mask * _relax(*element_mask(kernel, decisions.threshold, temperature, ttq=ttq), mode)
    return LayerMasks(mask, bias_mask, gates, groups)


def network_masks(
    params: Mapping[str, Mapping[str, Array]],
    decisions: Mapping[str, LayerDecisions],
    temperature: Array | float,
    mode: MaskMode,
    *,
    ttq: bool = False,
) -> dict[str, LayerMasks]:
    """:class:`LayerMasks` of every layer (layers without decisions are kept whole)."""
    temperature = jnp.asarray(temperature, jnp.float32)
    none = LayerDecisions(None, {})
    return {
        layer: layer_masks(leaves["kernel"], leaves["bias"], decisions.get(layer, none), temperature, mode, ttq=ttq)
        for layer, leaves in params.items()
    }


def kernel_and_bias_masks(masks: Mapping[str, LayerMasks]) -> dict[str, dict[str, Array]]:
    """``{layer: {"kernel", "bias"}}`` masks shaped like the params (the layout of :mod:`compress.pruning`)."""
    return {layer: {"kernel": m.kernel, "bias": m.bias} for layer, m in masks.items()}


def masked_weights(
    params: Mapping[str, Mapping[str, Array]],
    decisions: Mapping[str, LayerDecisions],
    masks: Mapping[str, LayerMasks],
    *,
    ttq: bool = False,
) -> dict:
    """The weights the network runs with: ``params * masks``; with ``ttq`` the ternarized kernels
    ``ternarize(w / max|w|, W_p, W_n, t)`` (:func:`compress.ttq.ternarize`, traced ``t``: the
    ternarization is the element part of the mask) times the product of the layer's group gates."""
    out = {}
    for layer, leaves in params.items():
        m = masks[layer]
        kernel = leaves["kernel"] * m.kernel
        d = decisions.get(layer)
        if ttq and d is not None and d.threshold is not None:
            w = leaves["kernel"]
            w_max = jax.lax.stop_gradient(jnp.max(jnp.abs(w))) + 1e-12
            kernel = ttq_lib.ternarize(w / w_max, d.scales["w_p"], d.scales["w_n"], d.threshold) * m.groups
        out[layer] = {"kernel": kernel, "bias": leaves["bias"] * m.bias}
    return out


def temperature_at(step: Array | int, total_steps: int, start: float, end: float) -> Array:
    """Geometric annealing from ``start`` (step 0) to ``end`` (step ``total_steps``), then constant."""
    frac = jnp.clip(jnp.asarray(step, jnp.float32) / max(1, int(total_steps)), 0.0, 1.0)
    return jnp.asarray(start, jnp.float32) * (end / start) ** frac


def check_temperatures(start: float, end: float) -> None:
    """Both temperatures must be > 0."""
    check_positive("temperature_start", start)
    check_positive("temperature_end", end)


def project_thresholds(decisions: Mapping[str, LayerDecisions]) -> dict[str, LayerDecisions]:
    """Element thresholds kept >= 0: below 0 every weight is kept and the relaxed gradient, which lives near
    the threshold, vanishes, so a threshold pushed negative early (by an undertrained task loss) would never
    come back."""
    return {
        layer: d._replace(threshold=None if d.threshold is None else jnp.maximum(d.threshold, 0.0))
        for layer, d in decisions.items()
    }


# --- cost terms ------------------------------------------------------------------------------------
def lagrangian_loss(task: Array, cost: Array, lam: Array, budget: Array | float) -> Array:
    """``task + λ·(cost - B)`` (λ held constant here); ``B = 0`` and a fixed λ give the penalised form."""
    return task + jax.lax.stop_gradient(lam) * (cost - budget)


def dual_ascent(lam: Array, cost: Array, budget: Array | float, lr: Array | float) -> Array:
    """Projected dual ascent on the multiplier: ``max(0, λ + η (cost - B))``; over budget λ grows."""
    return jnp.maximum(0.0, lam + lr * (jax.lax.stop_gradient(cost) - budget))


def group_summary(decisions: Mapping[str, LayerDecisions]) -> dict[str, dict[str, Any]]:
    """Per layer: learned threshold and, per granularity, groups kept / total (for reports)."""
    out: dict[str, dict[str, Any]] = {}
    for layer, d in decisions.items():
        row: dict[str, Any] = {}
        if d.threshold is not None:
            row["threshold"] = float(d.threshold)
        for g, scores in d.gates.items():
            row[f"{g}_kept"] = int(jnp.sum(scores > 0))
            row[f"{g}_total"] = int(scores.size)
        out[layer] = row
    return out
