"""Pruning schedules as optax gradient transformations; the masks live in the optimizer state.

Chain them after the optimizer, e.g. ``optax.chain(optax.adam(1e-3), magnitude_pruning(schedule))``.
On a pruning step the transformation recomputes the masks from the current weights and emits
``-params`` for every pruned weight, so that ``optax.apply_updates`` lands it on exactly zero; on every
other step it zeroes the updates of pruned weights. A pruned weight therefore stays exactly zero
through training, and the masks are checkpointed with the optimizer state (DESIGN.md section 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from compress.masks import Granularity, ones_like_masks, prune_by_magnitude
from hwcost.checks import check_fraction, check_int_range


class PruningState(NamedTuple):
    """Optimizer state of a pruning transformation: the current masks and the step count."""

    masks: Any
    count: jax.Array


def _masked_updates(updates: Any, masks: Any, params: Any) -> Any:
    return jax.tree.map(lambda u, m, p: jnp.where(m > 0, u, -p), updates, masks, params)


def fixed_masks(masks: Mapping | None = None) -> optax.GradientTransformation:
    """Keep the given masks: pruned weights receive updates that put (and keep) them at zero.

    ``masks=None`` keeps every weight until masks are set in the state (:func:`replace_masks`): a
    trainer that learns its masks first and freezes them later.
    """
    masks = None if masks is None else dict(masks)

    def init(params: Any) -> PruningState:
        return PruningState(ones_like_masks(params) if masks is None else masks, jnp.zeros((), jnp.int32))

    def update(updates: Any, state: PruningState, params: Any = None) -> tuple[Any, PruningState]:
        if params is None:
            raise ValueError("fixed_masks needs params: call tx.update(grads, state, params)")
        return _masked_updates(updates, state.masks, params), PruningState(state.masks, state.count + 1)

    return optax.GradientTransformation(init, update)


def magnitude_pruning(
    schedule: Sequence[tuple[int, float | Mapping[str, float]]],
    granularity: Granularity | Mapping[str, Granularity] = "element",
) -> optax.GradientTransformation:
    """Iterative magnitude pruning: at each ``(step, densities)`` of ``schedule`` prune to ``densities``.

    Args:
        schedule: increasing steps (optimizer updates counted from 0) with the density (fraction of
            groups kept, in (0, 1]) to prune to at that step, one for all layers or per layer.
        granularity: see :mod:`compress.masks` (``"load_balanced"`` or a
            :class:`~compress.load_balance.LoadBalanced` for ESE's load-balance-aware pruning); one for all
            layers or per layer.
    """
    steps = [int(step) for step, _ in schedule]
    for i, (step, densities) in enumerate(schedule):
        check_int_range(f"schedule[{i}].step", step, 0)
        values = densities.values() if isinstance(densities, Mapping) else [densities]
        for v in values:
            check_fraction(f"schedule[{i}].density", v, open_low=True)
    if steps != sorted(set(steps)):
        raise ValueError(f"schedule steps={steps} must be strictly increasing")

    def init(params: Any) -> PruningState:
        return PruningState(ones_like_masks(params), jnp.zeros((), jnp.int32))

    def update(updates: Any, state: PruningState, params: Any = None) -> tuple[Any, PruningState]:
        if params is None:
            raise ValueError("magnitude_pruning needs params: call tx.update(grads, state, params)")
        masks = state.masks
        for step, densities in schedule:
            masks = jax.lax.cond(
                state.count == step,
                lambda p, d=densities: prune_by_magnitude(p, d, granularity),
                lambda p, m=masks: m,
                params,
            )
        return _masked_updates(updates, masks, params), PruningState(masks, state.count + 1)

    return optax.GradientTransformation(init, update)


def pruning_masks(opt_state: Any) -> Any:
    """The masks held by the (first) pruning transformation inside an optimizer state."""
    if isinstance(opt_state, PruningState):
        return opt_state.masks
    if isinstance(opt_state, tuple | list):
        for inner in opt_state:
            found = pruning_masks(inner)
            if found is not None:
                return found
    return None


def replace_masks(opt_state: Any, masks: Any) -> Any:
    """``opt_state`` with the masks of its (first) pruning transformation replaced by ``masks`` (e.g. to
    freeze the masks a hardware-aware trainer learned); ``ValueError`` if it holds none."""
    if isinstance(opt_state, PruningState):
        return opt_state._replace(masks=masks)
    if isinstance(opt_state, tuple | list):
        for i, inner in enumerate(opt_state):
            if pruning_masks(inner) is not None:
                replaced = replace_masks(inner, masks)
                items = [*opt_state[:i], replaced, *opt_state[i + 1 :]]
                return type(opt_state)(*items) if hasattr(opt_state, "_fields") else type(opt_state)(items)
    raise ValueError("the optimizer state holds no pruning transformation (chain fixed_masks into it)")
