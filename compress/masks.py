"""Pruning masks at every granularity of the Regularity study (Mao et al., arXiv 1705.08922, Fig. 1).

Masks are pytrees shaped like the params: every ``kernel`` leaf gets a 0/1 mask of its own shape,
every other leaf (biases) a mask of ones. Granularities, for a flax conv kernel of shape
``(kernel_h, kernel_w, in_channels, out_channels)``:

* ``element`` (0-D): one weight.
* ``vector`` (1-D): one row of one 2-D kernel, the ``kernel_w`` weights at fixed (row, c, k).
* ``kernel`` (2-D): one whole ``kernel_h x kernel_w`` kernel, at fixed (c, k).
* ``filter`` (3-D): one whole filter, all weights of one output channel k.
* ``channel``: all weights reading one input channel c.

A fully connected kernel of shape ``(in_features, out_features)`` is a conv with a 1x1 kernel: element,
vector and kernel coincide (one weight), filter is one output neuron and channel one input neuron.
Groups are ranked by mean absolute weight (the L1 salience of the Regularity study); at a target
density d the ``round(d * groups)`` most salient groups are kept (at least one).

One more granularity is not a group structure but a balance constraint: ``load_balanced`` (or a
:class:`compress.load_balance.LoadBalanced` value, which sets the PE count, interleaving stride and
per-column balance) keeps ``round(d * weights)`` weights by magnitude with the same number in every PE's
share of interleaved output rows (ESE's load-balance-aware pruning, :mod:`compress.load_balance`; the string
means ESE's 32 PEs per channel, rows interleaved, balanced per share).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from compress.load_balance import LOAD_BALANCED, LoadBalanced, load_balanced_kernel_mask
from hwcost.checks import check_choice, check_fraction

GRANULARITIES: tuple[str, ...] = ("element", "vector", "kernel", "filter", "channel")
"""The group granularities (each prunes whole groups of weights)."""
MASK_GRANULARITIES: tuple[str, ...] = (*GRANULARITIES, LOAD_BALANCED)
"""Every granularity :func:`magnitude_mask` takes by name: the group ones and ``load_balanced``."""
Granularity = str | LoadBalanced

# Axes reduced inside one group, per granularity, for (kh, kw, c, k) conv and (in, out) fc kernels.
_CONV_GROUP_AXES = {"element": (), "vector": (1,), "kernel": (0, 1), "filter": (0, 1, 2), "channel": (0, 1, 3)}
_FC_GROUP_AXES = {"element": (), "vector": (), "kernel": (), "filter": (0,), "channel": (1,)}


def group_axes(kernel_shape: tuple[int, ...], granularity: str) -> tuple[int, ...]:
    """Axes of a kernel that one group spans at ``granularity``."""
    check_choice("granularity", granularity, GRANULARITIES)
    if len(kernel_shape) == 4:
        return _CONV_GROUP_AXES[granularity]
    if len(kernel_shape) == 2:
        return _FC_GROUP_AXES[granularity]
    raise ValueError(f"kernel shape={kernel_shape} is not a 2-D (fc) or 4-D (conv) kernel")


def group_saliency(kernel: jax.Array, granularity: str) -> jax.Array:
    """Mean absolute weight of each group, keepdims (broadcastable against ``kernel``)."""
    axes = group_axes(kernel.shape, granularity)
    return jnp.mean(jnp.abs(kernel), axis=axes, keepdims=True) if axes else jnp.abs(kernel)


def num_groups(kernel_shape: tuple[int, ...], granularity: str) -> int:
    """Number of groups of a kernel at ``granularity``."""
    axes = group_axes(kernel_shape, granularity)
    return int(np.prod([d for i, d in enumerate(kernel_shape) if i not in axes]))


def magnitude_mask(kernel: jax.Array, density: float, granularity: Granularity = "element") -> jax.Array:
    """0/1 mask (kernel's dtype and shape) keeping the most salient groups at the given density.

    Args:
        kernel: weights, (in, out) or (kh, kw, c, k).
        density: fraction of groups kept, in (0, 1]; a Python float (it fixes a static count).
        granularity: one of :data:`MASK_GRANULARITIES` or a :class:`~compress.load_balance.LoadBalanced`.
    """
    check_fraction("density", density, open_low=True)
    if isinstance(granularity, LoadBalanced):
        return load_balanced_kernel_mask(kernel, float(density), granularity)
    check_choice("granularity", granularity, MASK_GRANULARITIES)
    if granularity == LOAD_BALANCED:
        return load_balanced_kernel_mask(kernel, float(density), LoadBalanced())
    saliency = group_saliency(kernel, granularity)
    flat = saliency.reshape(-1)
    keep = max(1, round(float(density) * flat.size))
    # Rank-based selection keeps exactly `keep` groups even with ties.
    order = jnp.argsort(-flat, stable=True)
    kept = jnp.zeros(flat.shape, bool).at[order[:keep]].set(True)
    return jnp.broadcast_to(kept.reshape(saliency.shape), kernel.shape).astype(kernel.dtype)


def _per_layer(value: float | Granularity | Mapping, layer: str, field: str) -> float | Granularity:
    if isinstance(value, Mapping):
        if layer not in value:
            raise ValueError(f"{field} has no entry for layer {layer!r}; given: {', '.join(value)}")
        return value[layer]
    return value


def prune_by_magnitude(
    params: Mapping[str, Mapping[str, jax.Array]],
    densities: float | Mapping[str, float],
    granularity: Granularity | Mapping[str, Granularity] = "element",
) -> dict:
    """Masks shaped like ``params`` keeping, per layer, the most salient groups of each kernel.

    Args:
        params: ``{layer: {"kernel": ..., "bias": ...}}``.
        densities: one density for every layer or ``{layer: density}``, each in (0, 1].
        granularity: one granularity (:data:`MASK_GRANULARITIES` or a
            :class:`~compress.load_balance.LoadBalanced`) for every layer or ``{layer: granularity}``.
    """
    masks = {}
    for layer, leaves in params.items():
        density = _per_layer(densities, layer, "densities")
        gran = _per_layer(granularity, layer, "granularity")
        masks[layer] = {
            name: magnitude_mask(w, float(density), gran) if name == "kernel" else jnp.ones_like(w)
            for name, w in leaves.items()
        }
    return masks


def ones_like_masks(params: Mapping) -> dict:
    """All-ones masks shaped like ``params`` (the dense network)."""
    return jax.tree.map(jnp.ones_like, dict(params))


def apply_masks(params: Mapping, masks: Mapping) -> dict:
    """Element-wise ``params * masks``."""
    return jax.tree.map(lambda p, m: p * m, dict(params), dict(masks))


def kernel_densities(masks_or_params: Mapping[str, Mapping[str, jax.Array]]) -> dict[str, float]:
    """Fraction of nonzeros of each layer's kernel (works on masks and on pruned params)."""
    return {layer: float(jnp.mean(leaves["kernel"] != 0)) for layer, leaves in masks_or_params.items()}


def overall_density(masks_or_params: Mapping[str, Mapping[str, jax.Array]]) -> float:
    """Fraction of nonzero kernel weights over the whole network (biases excluded)."""
    kernels = [leaves["kernel"] for leaves in masks_or_params.values()]
    nonzero = sum(int(jnp.count_nonzero(k)) for k in kernels)
    return nonzero / sum(k.size for k in kernels)
