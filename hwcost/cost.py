"""Generic evaluation of a :class:`~hwcost.types.CostModel`: energy, layers and whole networks.

Generic code (sweeps, losses, reports) sees only the contract: it never imports a specific model.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from hwcost.types import (
    Array,
    CostModel,
    Counts,
    LayerRun,
    Objective,
    Scalar,
    check_objective,
    is_concrete,
    total,
    unnamed,
)


def energy_pj(model: CostModel, hw: Any, workload: Any) -> Counts:
    """Energy of one run per action kind, pJ: ``counts[key] * per_action_energy_pj(hw)[key]``.

    Raises:
        KeyError: the model counts an action its energy table does not price.
    """
    return _priced(model.action_counts(hw, workload), model.per_action_energy_pj(hw))


def _priced(counts: Mapping[str, Array], per_action_pj: Mapping[str, Scalar]) -> Counts:
    return {key: count * per_action_pj[key] for key, count in counts.items()}


def price_action_counts(counts: Mapping[str, float], per_action_pj: Mapping[str, Scalar]) -> dict[str, float]:
    """Energy (pJ) of exact action counts (e.g. a reference simulator's), priced at a model's per-action
    energies (pJ per action, same ``"component.action"`` keys).

    Keys of ``counts`` the model does not price are left out (their energy is unknown), so the energy gap
    between a simulator and a model comes only from the counts.
    """
    return {key: float(count) * float(per_action_pj[key]) for key, count in counts.items() if key in per_action_pj}


class LayerCost(NamedTuple):
    """Cost of one layer per inference (its repeats multiplied in).

    Attributes:
        counts: ``{"component.action": count}``, dimensionless.
        energy_pj: ``{"component.action": pJ}``, the same keys.
        latency_cycles: cycles (scalar array).
    """

    counts: Counts
    energy_pj: Counts
    latency_cycles: Array

    @property
    def total_energy_pj(self) -> Array:
        """Sum of the energy breakdown, pJ."""
        return total(self.energy_pj)


class NetworkCost(NamedTuple):
    """Cost of one inference of a network: per-layer breakdown and totals."""

    layers: tuple[LayerCost, ...]

    @property
    def energy_pj(self) -> Array:
        """Total energy over all layers, pJ."""
        return sum((layer.total_energy_pj for layer in self.layers), start=jnp.zeros(()))

    @property
    def latency_cycles(self) -> Array:
        """Total latency, cycles (layers run one after another)."""
        return sum((layer.latency_cycles for layer in self.layers), start=jnp.zeros(()))

    def objective(self, name: Objective) -> Array:
        """The total for ``name``: ``energy_pj`` (pJ) or ``latency_cycles`` (cycles)."""
        return self.energy_pj if check_objective(name) == "energy" else self.latency_cycles


def layer_cost(model: CostModel, hw: Any, workload: Any, repeats: float = 1.0) -> LayerCost:
    """Counts, energy breakdown and latency of ``repeats`` runs of one workload on ``hw``."""
    counts, latency = model.counts_and_latency(hw, workload)
    counts = {k: repeats * v for k, v in counts.items()}
    return LayerCost(counts, _priced(counts, model.per_action_energy_pj(hw)), repeats * latency)


def sum_over_layers(model: CostModel, hw: Any, runs: Sequence[LayerRun]) -> NetworkCost:
    """Cost of layers run one after another; keeps the per-layer breakdown.

    Workloads of one type with equally shaped leaves (the usual case: every layer an ``FcLayer``) are
    stacked and priced in one ``jax.vmap``-ped evaluation, so a traced network costs one set of
    operations instead of one per layer (the cost term of a training step). Mixed workloads are priced
    layer by layer.
    """
    runs = tuple(runs)
    stacked = _stack_workloads(tuple(run.workload for run in runs))
    if stacked is None:
        return NetworkCost(tuple(layer_cost(model, hw, run.workload, run.repeats) for run in runs))
    batched = (_compiled_layer_batch(model) if is_concrete((hw, stacked)) else _layer_batch(model))(hw, stacked)
    return NetworkCost(
        tuple(
            LayerCost(
                {k: run.repeats * v[i] for k, v in batched.counts.items()},
                {k: run.repeats * v[i] for k, v in batched.energy_pj.items()},
                run.repeats * batched.latency_cycles[i],
            )
            for i, run in enumerate(runs)
        )
    )


def network_cost(model: CostModel, hw: Any, runs: Sequence[LayerRun | Any]) -> NetworkCost:
    """Cost of one inference of a network on ``hw``: the model's ``network`` hook if it has one, else
    :func:`sum_over_layers`. ``runs`` are :class:`~hwcost.types.LayerRun` or bare workloads (run once).
    Concrete layers are checked first (:meth:`~hwcost.types.CostModel.check`), so a bad layer raises
    rather than adding into the total."""
    runs = tuple(run if isinstance(run, LayerRun) else LayerRun(run) for run in runs)
    for run in runs:
        if is_concrete((hw, run.workload)):
            model.check(hw, run.workload)
    if model.network is not None:
        return model.network(hw, runs)
    return sum_over_layers(model, hw, runs)


def _layer_batch(model: CostModel) -> Any:
    """``(hw, stacked workloads) -> LayerCost`` with a leading layer axis on every leaf (one run each)."""
    return jax.vmap(lambda hw, workload: layer_cost(model, hw, workload), in_axes=(None, 0))


@functools.cache
def _compiled_layer_batch(model: CostModel) -> Any:
    """:func:`_layer_batch` compiled, kept per model: concrete networks (reports, the command line) are
    priced by one compiled call instead of op by op."""
    return jax.jit(_layer_batch(model))


def _stack_workloads(layers: tuple[Any, ...]) -> Any | None:
    """The workloads stacked leaf by leaf along a new leading axis (``name`` dropped), or ``None`` if
    there are fewer than two or they differ in type, static fields or leaf shapes."""
    if len(layers) < 2 or len({type(layer) for layer in layers}) > 1:
        return None
    bare = [unnamed(layer) for layer in layers]
    structures = [jax.tree.structure(layer) for layer in bare]
    if any(structure != structures[0] for structure in structures[1:]):
        return None
    dtype = jnp.result_type(float)
    leaves = [[jnp.asarray(leaf, dtype) for leaf in jax.tree.leaves(layer)] for layer in bare]
    if any(leaf.shape != first.shape for row in leaves[1:] for leaf, first in zip(row, leaves[0], strict=True)):
        return None
    return jax.tree.unflatten(structures[0], [jnp.stack(column) for column in zip(*leaves, strict=True)])
