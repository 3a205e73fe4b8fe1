"""Core abstractions shared by every cost model.

* Hardware parameters and layer workloads are frozen dataclasses registered as JAX pytrees
  (:func:`pytree_dataclass`). Continuous quantities are data leaves (traceable, vmappable,
  differentiable); structural values are static fields declared with :func:`static_field`.
* A cost model is a :class:`CostModel` bundle of pure functions with one signature
  ``(hw, workload)``: ``action_counts`` (dimensionless, keys ``"component.action"``),
  ``energy_pj`` (counts times per-action energy, same keys) and ``latency_cycles``.
* Whole networks are tuples of layer workloads; see :mod:`hwcost.cost`.

No dataclass here has logic in ``__init__``/``__post_init__``: pytree unflattening rebuilds
instances through the constructor. Input checks live in :mod:`hwcost.checks`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

import jax
import jax.numpy as jnp

Array = jax.Array
Scalar = float | Array
T = TypeVar("T")


def static_field(**kwargs: Any) -> Any:
    """A dataclass field that is pytree metadata (hashable, not traced): structural integers, names."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **kwargs)


def pytree_dataclass(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass registered as a pytree.

    Fields declared with :func:`static_field` become metadata (part of the treedef, so a change
    recompiles); every other field is a data leaf.
    """
    cls = dataclasses.dataclass(frozen=True)(cls)
    fields = dataclasses.fields(cls)
    data = [f.name for f in fields if not f.metadata.get("static", False)]
    meta = [f.name for f in fields if f.metadata.get("static", False)]
    return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)


@pytree_dataclass
class FcLayer:
    """Workload of one fully connected layer (a matrix-vector product ``y = W a``).

    ``W`` has shape ``(out_features, in_features)``: rows are outputs, columns are inputs.
    Shapes are data leaves (floats are fine) so that sweeps can vmap over layer sizes.

    Attributes:
        in_features: number of input activations (matrix columns), dimensionless.
        out_features: number of outputs (matrix rows), dimensionless.
        weight_density: fraction of nonzero weights, in [0, 1].
        activation_density: fraction of nonzero input activations, in [0, 1].
        name: label used in reports.
    """

    in_features: Scalar
    out_features: Scalar
    weight_density: Scalar
    activation_density: Scalar
    name: str = static_field(default="fc")


@pytree_dataclass
class ConvLayer:
    """Workload of one convolution layer (stride and padding folded into the output size).

    Attributes:
        in_channels, out_channels: C and K.
        kernel_h, kernel_w: R and S.
        out_h, out_w: output plane size (after stride/padding).
        weight_density: fraction of nonzero weights, in [0, 1].
        activation_density: fraction of nonzero input activations, in [0, 1].
        in_h, in_w: input plane size.
        name: label used in reports.
    """

    in_channels: Scalar
    out_channels: Scalar
    kernel_h: Scalar
    kernel_w: Scalar
    in_h: Scalar
    in_w: Scalar
    out_h: Scalar
    out_w: Scalar
    weight_density: Scalar
    activation_density: Scalar
    name: str = static_field(default="conv")


Counts = dict[str, Array]
"""Action counts keyed ``"component.action"`` (e.g. ``"spmat_sram.read"``), dimensionless."""


class CostModel(NamedTuple):
    """The bundle of pure functions every hardware cost model exports.

    Attributes:
        name: short identifier (``"eie"``, ``"memory"``, ...).
        action_counts: ``(hw, workload) -> {"component.action": count}``, dimensionless.
        energy_pj: ``(hw, workload) -> {"component.action": energy}``, pJ, same keys as the counts.
        latency_cycles: ``(hw, workload) -> cycles`` (scalar array).
        default_hardware: the paper's design point (its docstring cites the table it reproduces).
        example_workload: ``() -> workload`` at an interior point, used by the property suite and docs.
        clock_mhz: ``hw -> clock frequency`` in MHz, to turn cycles into time at report edges.
        hard: ``(hw) -> hw`` returning the same hardware with exact (non-relaxed) evaluation, so
            every model offers the hard value beside the relaxed one.
    """

    name: str
    action_counts: Callable[[Any, Any], Counts]
    energy_pj: Callable[[Any, Any], Counts]
    latency_cycles: Callable[[Any, Any], Array]
    default_hardware: Any
    example_workload: Callable[[], Any]
    clock_mhz: Callable[[Any], Scalar]
    hard: Callable[[Any], Any]


def total(terms: Mapping[str, Array]) -> Array:
    """Sum of a dict of named terms (energies or counts)."""
    return sum(terms.values(), start=jnp.zeros(()))
