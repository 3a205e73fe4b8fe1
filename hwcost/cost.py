"""Generic evaluation of a :class:`~hwcost.types.CostModel` on layers and whole networks.

Generic code (sweeps, losses, reports) sees only the bundle: it never imports a specific model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from hwcost.types import Array, CostModel, Counts, Scalar, total


class LayerCost(NamedTuple):
    """Cost of one layer: energy breakdown (pJ, keyed like the action counts) and latency (cycles)."""

    energy_pj: Counts
    latency_cycles: Array

    @property
    def total_energy_pj(self) -> Array:
        """Sum of the energy breakdown, pJ."""
        return total(self.energy_pj)


class NetworkCost(NamedTuple):
    """Cost of a network run layer after layer: per-layer breakdown and totals."""

    layers: tuple[LayerCost, ...]

    @property
    def energy_pj(self) -> Array:
        """Total energy over all layers, pJ."""
        return sum((layer.total_energy_pj for layer in self.layers), start=jnp.zeros(()))

    @property
    def latency_cycles(self) -> Array:
        """Total latency, cycles (layers run one after another)."""
        return sum((layer.latency_cycles for layer in self.layers), start=jnp.zeros(()))


def layer_cost(model: CostModel, hw: Any, workload: Any) -> LayerCost:
    """Energy breakdown and latency of one layer on ``hw``."""
    return LayerCost(model.energy_pj(hw, workload), model.latency_cycles(hw, workload))


def network_cost(model: CostModel, hw: Any, layers: Sequence[Any]) -> NetworkCost:
    """Cost of a network given as a sequence of layer workloads; keeps the per-layer breakdown.

    Workloads of one type with equally shaped leaves (the usual case: every layer an ``FcLayer``) are
    stacked and priced in a single ``jax.vmap``-ped evaluation, so a traced network costs one set of
    operations instead of one per layer (the cost term of a training step; the values are the
    per-layer ones). Mixed workloads are priced layer by layer.
    """
    layers = tuple(layers)
    stacked = _stack_workloads(layers)
    if stacked is None:
        return NetworkCost(tuple(layer_cost(model, hw, layer) for layer in layers))
    batched = jax.vmap(lambda workload: layer_cost(model, hw, workload))(stacked)
    return NetworkCost(
        tuple(
            LayerCost({k: v[i] for k, v in batched.energy_pj.items()}, batched.latency_cycles[i])
            for i in range(len(layers))
        )
    )


def _stack_workloads(layers: tuple[Any, ...]) -> Any | None:
    """The workloads stacked leaf by leaf along a new leading axis (``name`` dropped), or ``None`` if
    there are fewer than two or they differ in type, static fields or leaf shapes."""
    if len(layers) < 2 or len({type(layer) for layer in layers}) > 1:
        return None
    unnamed = [
        dataclasses.replace(layer, name="") if "name" in getattr(layer, "__dataclass_fields__", {}) else layer
        for layer in layers
    ]
    structures = [jax.tree.structure(layer) for layer in unnamed]
    if any(structure != structures[0] for structure in structures[1:]):
        return None
    dtype = jnp.result_type(float)
    leaves = [[jnp.asarray(leaf, dtype) for leaf in jax.tree.leaves(layer)] for layer in unnamed]
    if any(leaf.shape != first.shape for row in leaves[1:] for leaf, first in zip(row, leaves[0], strict=True)):
        return None
    return jax.tree.unflatten(structures[0], [jnp.stack(column) for column in zip(*leaves, strict=True)])


def latency_us(model: CostModel, hw: Any, cycles: Array) -> Array:
    """Convert cycles to microseconds with the model's clock."""
    return cycles / model.clock_mhz(hw)


def price_action_counts(counts: Mapping[str, float], per_action_pj: Mapping[str, Scalar]) -> dict[str, float]:
    """Energy (pJ) of exact action counts (e.g. a reference simulator's), priced at a model's per-action
    energies (pJ per action, same ``"component.action"`` keys, e.g. ``hwcost.eie.action_energies_pj``).

    Keys of ``counts`` the model does not price are left out (their energy is unknown), so the energy gap
    between a simulator and a model comes only from the counts. Used by ``hwcost simulate`` and by the
    hardware-aware trainer's exact evaluation.
    """
    return {key: float(count) * float(per_action_pj[key]) for key, count in counts.items() if key in per_action_pj}
