"""The contract every cost model fits, and the pytree types it is written in.

* Hardware descriptions and workloads are frozen dataclasses registered as JAX pytrees
  (:func:`pytree_dataclass`). Continuous quantities are data leaves (traceable, vmappable,
  differentiable); structural values are static fields declared with :func:`static_field`.
* A workload type describes one kind of work: :class:`FcLayer` (a matrix-vector product),
  :class:`ConvLayer` (a convolution); a model brings its own type for other kinds of work (an LSTM
  layer, a program, a memory access stream) and plugs in the same way.
* A cost model is a :class:`CostModel`: per-action energies ``hw -> {"component.action": pJ}``,
  action counts ``(hw, workload) -> {"component.action": count}`` and latency
  ``(hw, workload) -> cycles``, its paper-default hardware, sample workloads that cover its regimes,
  the monotone directions it promises, and a lowering from the statistics of a masked network layer
  (:class:`LayerStatistics`) to its workload. Energy is not written per model: it is counts times
  per-action energy (:func:`hwcost.cost.energy_pj`), the split of Accelergy (Wu et al., ICCAD'19),
  so a reference simulator's exact counts are priced with the same table.
* Whole networks are sequences of :class:`LayerRun` (a workload and how many times it runs per
  inference); a model whose network is not a plain sum over layers supplies a ``network`` hook.

No pytree dataclass here has logic in ``__init__``/``__post_init__``: pytree unflattening rebuilds
instances through the constructor. Input checks are part of the contract: a :class:`CostModel`'s
``action_counts``, ``latency_cycles`` and ``energy_pj`` run :meth:`CostModel.check` whenever their inputs
are concrete (outside ``jit``, ``vmap`` and ``grad``); under a transformation, call ``model.check(hw,
workload)`` on the concrete values before tracing them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, Protocol, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

if TYPE_CHECKING:
    from hwcost.cost import NetworkCost

Array = jax.Array
Scalar = float | Array
T = TypeVar("T")
HwT = TypeVar("HwT")
WorkloadT = TypeVar("WorkloadT")
HwT_contra = TypeVar("HwT_contra", contravariant=True)
WorkloadT_contra = TypeVar("WorkloadT_contra", contravariant=True)
WorkloadT_co = TypeVar("WorkloadT_co", covariant=True)

Counts = dict[str, Array]
"""Action counts keyed ``"component.action"`` (e.g. ``"spmat_sram.read"``), dimensionless."""

Objective = Literal["energy", "latency"]
"""What a training or search minimises: energy (pJ) or latency (cycles) of one inference."""
OBJECTIVES: tuple[Objective, ...] = ("energy", "latency")


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


# --- workloads ---------------------------------------------------------------------------------------
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
    """Workload of one convolution layer, ``out[k, y, x] = sum_{c,r,s} W[k, c, r, s] A_p[c, u y + r, u x + s]``
    with ``A_p`` the input padded by ``padding`` zeros on every side and ``u`` the stride.

    Attributes:
        in_channels, out_channels: C and K.
        kernel_h, kernel_w: R and S.
        in_h, in_w: input plane size H x W, before padding.
        out_h, out_w: output plane size, ``(H + 2 padding - R) // stride + 1`` (given, so that sweeps can
            relax it).
        weight_density: fraction of nonzero weights, in [0, 1].
        activation_density: fraction of nonzero input activations (of the unpadded input), in [0, 1].
        stride: u >= 1 (the same in both directions).
        padding: zeros added on every side of the input plane, >= 0.
        output_density: fraction of nonzero outputs after the activation function (the next layer's input
            density), in [0, 1]; a machine that writes its outputs compressed stores this fraction.
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
    stride: Scalar = 1.0
    padding: Scalar = 0.0
    output_density: Scalar = 1.0
    name: str = static_field(default="conv")


class LayerRun(NamedTuple, Generic[WorkloadT]):
    """One layer of a network as a cost model runs it: a workload and its runs per inference.

    Attributes:
        workload: the model's workload (e.g. :class:`FcLayer`).
        repeats: how many times it runs per inference (1 for a fully connected layer on EIE;
            ``out_h * out_w`` for a convolution that EIE runs as one matrix-vector product per output
            position). A Python float.
    """

    workload: WorkloadT
    repeats: float = 1.0


# --- the statistics a lowering sees ------------------------------------------------------------------
class LayerSpec(NamedTuple):
    """Geometry of one layer of a network, readable without the network's framework.

    ``kind`` is ``"fc"`` (kernel shape ``(in_features, out_features)``) or ``"conv"`` (kernel shape
    ``(kernel_h, kernel_w, in_channels, out_channels)``, stride 1, VALID padding).
    """

    name: str
    kind: Literal["fc", "conv"]
    kernel_shape: tuple[int, ...]
    in_hw: tuple[int, int] = (1, 1)
    out_hw: tuple[int, int] = (1, 1)

    @property
    def num_weights(self) -> int:
        """Number of weights (biases excluded)."""
        n = 1
        for d in self.kernel_shape:
            n *= d
        return n

    @property
    def fan_in(self) -> int:
        """Inputs of one matrix-vector product: ``in_features``, or ``kernel_h * kernel_w * in_channels``."""
        return self.num_weights // self.kernel_shape[-1]

    @property
    def fan_out(self) -> int:
        """Outputs of one matrix-vector product (matrix rows): ``out_features`` or ``out_channels``."""
        return self.kernel_shape[-1]

    @property
    def positions(self) -> int:
        """Output positions, ``out_h * out_w`` (1 for a fully connected layer)."""
        return self.out_hw[0] * self.out_hw[1]


@pytree_dataclass
class LayerStatistics:
    """Statistics of one layer of a masked network on a batch: what every lowering is computed from.

    The weight matrix of a layer is ``W (fan_out, fan_in)`` (for a convolution its filter matrix, one
    column per receptive-field element). All values are means over the batch (and the output positions
    of a convolution) and differentiable in the masks and activations that produce them.

    Attributes:
        kept_weights: sum of the kernel mask (kept weights; fractional for soft masks).
        live_inputs: input columns of ``W`` that still hold a kept weight (a compressed model drops the
            others from its input).
        broadcasts: nonzero inputs of live columns per matrix-vector product (EIE's broadcast count).
        weights_read: kept weights in the columns of those nonzero inputs, per matrix-vector product
            (the nonzero multiplies of a machine that skips zero activations).
        input_density: fraction of nonzero entries of the layer's input tensor, in [0, 1].
        spec: the layer's geometry (static).
    """

    kept_weights: Scalar
    live_inputs: Scalar
    broadcasts: Scalar
    weights_read: Scalar
    input_density: Scalar
    spec: LayerSpec = static_field()

    def stored_density(self) -> Array:
        """Kept weights over all ``fan_in * fan_out`` weights, in [0, 1]."""
        return jnp.asarray(self.kept_weights) / float(self.spec.num_weights)


# --- the contract ------------------------------------------------------------------------------------
class ActionCountsFn(Protocol[HwT_contra, WorkloadT_contra]):
    """``(hw, workload) -> {"component.action": count}``: expected counts of one run, dimensionless."""

    def __call__(self, hw: HwT_contra, workload: WorkloadT_contra, /) -> Counts: ...


class PerActionEnergyFn(Protocol[HwT_contra]):
    """``hw -> {"component.action": pJ}``: energy of one action of each kind, pJ."""

    def __call__(self, hw: HwT_contra, /) -> Mapping[str, Scalar]: ...


class LatencyFn(Protocol[HwT_contra, WorkloadT_contra]):
    """``(hw, workload) -> cycles``: expected latency of one run, a scalar array."""

    def __call__(self, hw: HwT_contra, workload: WorkloadT_contra, /) -> Array: ...


class LoweringFn(Protocol[WorkloadT_co]):
    """``LayerStatistics -> LayerRun``: how the model runs one layer of a masked network."""

    def __call__(self, layer: LayerStatistics, /) -> LayerRun[WorkloadT_co]: ...


class NetworkFn(Protocol):
    """``(hw, runs) -> NetworkCost``: a whole network, for models that are not a plain sum over layers
    (e.g. a machine that overlaps one layer's work with the next, or keeps activations on chip)."""

    def __call__(self, hw: Any, runs: Sequence[LayerRun[Any]], /) -> NetworkCost: ...


class Monotone(NamedTuple):
    """A direction a model promises: ``quantity`` does not decrease (``increasing``) or does not
    increase as the leaf at ``path`` grows, the other leaves fixed.

    Attributes:
        quantity: ``"energy"`` (total pJ), ``"latency"`` (cycles) or an action key.
        path: ``"workload.<field>"`` or ``"hardware.<field>"`` (dots for nested fields).
        increasing: the direction.
        grid: values of the leaf the property suite walks through, in order.
    """

    quantity: str
    path: str
    increasing: bool = True
    grid: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)


class ModelCard(NamedTuple):
    """What a reader needs to know about a model before using it.

    Attributes:
        name: registry key (``"eie"``).
        title: one line (``"EIE sparse inference engine, 64 PEs, 45 nm"``).
        source: the paper it follows (authors, venue, section / table).
        workloads: the workload types it prices.
    """

    name: str
    title: str
    source: str
    workloads: tuple[type, ...]


@dataclasses.dataclass(frozen=True)
class CostModel(Generic[HwT, WorkloadT]):
    """The contract every hardware cost model fits (one module per model exports one of these).

    Attributes:
        card: name, title, source and workload types (:class:`ModelCard`).
        per_action_energy_pj: ``hw -> {"component.action": pJ}`` per action (the energy table).
        action_counts: ``(hw, workload) -> {"component.action": count}`` per run, the same keys.
        latency_cycles: ``(hw, workload) -> cycles`` per run.
        default_hardware: the paper's design point (its docstring cites the table it reproduces).
        sample_workloads: ``() -> {label: workload}`` covering the model's regimes, at which the
            property suite checks every promise.
        lower: how the model runs one layer of a masked network (:class:`LoweringFn`).
        check_hardware, check_workload: input checks raising ``ValueError`` that names the field, its
            value and what is allowed (:meth:`check` runs both, and runs on every concrete call).
        clock_mhz: ``hw -> MHz``, to turn cycles into time at report edges.
        sample_hardware: ``() -> {label: hw}``, hardware points besides the default (e.g. a relaxed,
            non-integer PE count) at which the suite checks the model too.
        monotone: the directions the model promises (:class:`Monotone`).
        dense_limit: ``(hw, workload) -> {key: count}``: closed-form counts at every density 1 (the
            dense machine), checked against ``action_counts`` of the hard model.
        network: optional hook pricing a whole network (:class:`NetworkFn`); ``None``: layers run one
            after another and their costs add.
        counts_and_latency: ``(hw, workload) -> (counts, cycles)``, both in one evaluation, for a model
            whose counts and latency share their intermediate statistics (one copy of them in a compiled
            graph, and its derivatives, instead of two); ``None``: the two functions called in turn. The
            property suite checks that it agrees with them.

    The relaxed model (``hw`` as given) is smooth, and its gradient is the derivative of the value it
    reports; ``hwcost.smooth.harden(hw)`` evaluates every relaxation exactly (:attr:`hard`).

    ``action_counts`` and ``latency_cycles`` as stored on the bundle are the model's functions behind
    :meth:`check`: called with concrete values, a bad hardware or workload raises before anything is
    computed (a traced call is checked by the caller, once, on the concrete values).
    """

    card: ModelCard
    per_action_energy_pj: PerActionEnergyFn[HwT]
    action_counts: ActionCountsFn[HwT, WorkloadT]
    latency_cycles: LatencyFn[HwT, WorkloadT]
    default_hardware: HwT
    sample_workloads: Callable[[], Mapping[str, WorkloadT]]
    lower: LoweringFn[WorkloadT]
    check_hardware: Callable[[HwT], None]
    check_workload: Callable[[WorkloadT], None]
    clock_mhz: Callable[[HwT], Scalar]
    sample_hardware: Callable[[], Mapping[str, HwT]] | None = None
    monotone: tuple[Monotone, ...] = ()
    dense_limit: Callable[[HwT, WorkloadT], Mapping[str, Scalar]] | None = None
    network: NetworkFn | None = None
    counts_and_latency: Callable[[HwT, WorkloadT], tuple[Counts, Array]] | None = None

    def __post_init__(self) -> None:
        if self.counts_and_latency is None or getattr(_unchecked(self.counts_and_latency), "in_turn", False):
            object.__setattr__(self, "counts_and_latency", _in_turn(self.action_counts, self.latency_cycles))
        for field in ("action_counts", "latency_cycles", "counts_and_latency"):
            object.__setattr__(self, field, _checked(self, _unchecked(getattr(self, field))))

    @property
    def name(self) -> str:
        """The registry key, ``card.name``."""
        return self.card.name

    def check(self, hw: HwT, workload: WorkloadT) -> None:
        """Raise ``TypeError`` for a hardware or workload of the wrong type, ``ValueError`` naming the field,
        its value and what is allowed for a bad value; call outside ``jit`` (values must be concrete)."""
        hw_type = type(self.default_hardware)
        if not isinstance(hw, hw_type):
            raise TypeError(f"hardware={type(hw).__name__} is not {self.name}'s; allowed: {hw_type.__name__}")
        if not isinstance(workload, self.card.workloads):
            allowed = ", ".join(t.__name__ for t in self.card.workloads)
            raise TypeError(f"workload={type(workload).__name__} is not priced by {self.name}; allowed: {allowed}")
        self.check_hardware(hw)
        self.check_workload(workload)

    def energy_pj(self, hw: HwT, workload: WorkloadT) -> Counts:
        """Energy per action kind of one run, pJ: counts times per-action energy (:func:`hwcost.cost.energy_pj`)."""
        from hwcost.cost import energy_pj

        return energy_pj(self, hw, workload)

    def hard(self, hw: HwT) -> HwT:
        """The same hardware with every relaxation evaluated exactly (:func:`hwcost.smooth.harden`)."""
        from hwcost.smooth import harden

        return harden(hw)

    def hardware_points(self) -> dict[str, HwT]:
        """The default hardware and the sample hardware points, by label."""
        points = {"default": self.default_hardware}
        if self.sample_hardware is not None:
            points.update(self.sample_hardware())
        return points


def is_concrete(tree: Any) -> bool:
    """Whether no leaf of ``tree`` is being traced (by ``jit``, ``vmap``, ``grad``, ...)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _unchecked(fn: Callable) -> Callable:
    return getattr(fn, "unchecked", fn)


def _in_turn(action_counts: Callable, latency_cycles: Callable) -> Callable:
    """``(hw, workload) -> (counts, cycles)`` from the two functions (rebuilt when either is replaced)."""
    counts, latency = _unchecked(action_counts), _unchecked(latency_cycles)

    def counts_and_latency(hw: Any, workload: Any) -> tuple[Counts, Array]:
        return counts(hw, workload), latency(hw, workload)

    counts_and_latency.in_turn = True  # type: ignore[attr-defined]
    return counts_and_latency


def _checked(model: CostModel, fn: Callable) -> Callable:
    """``fn(hw, workload)`` preceded by ``model.check`` when both are concrete, and then run compiled (one
    compilation per input structure, kept for the next call: a model's graph is evaluated far faster
    compiled than op by op); traced inputs go to ``fn`` as they are. ``.unchecked`` is ``fn``.

    Python scalars and weakly typed leaves are passed as numpy arrays, so that a Python ``0.5`` and a
    ``np.float64(0.5)`` or ``jnp.float32(0.5)`` in the same leaf share one compilation: only a change of
    shape, of the array's kind (float, int, bool) or of a static field compiles again; the workload's
    ``name`` is dropped (:func:`unnamed`)."""
    compiled = jax.jit(fn)

    def checked(hw: Any, workload: Any) -> Any:
        if is_concrete((hw, workload)):
            model.check(hw, workload)
            return compiled(*_strongly_typed((hw, unnamed(workload))))
        return fn(hw, workload)

    checked.unchecked = fn  # type: ignore[attr-defined]
    checked.__doc__, checked.__name__ = fn.__doc__, getattr(fn, "__name__", "checked")
    return checked


def unnamed(workload: Any) -> Any:
    """``workload`` with its ``name`` (a static label, so part of a compilation's key) set to ``""``."""
    if dataclasses.is_dataclass(workload) and "name" in {f.name for f in dataclasses.fields(workload)}:
        return dataclasses.replace(workload, name="")
    return workload


def _strongly_typed(tree: Any) -> Any:
    """Python scalars and weakly typed arrays as numpy arrays; JAX arrays of a definite type stay where they
    are (no copy off the device)."""
    return jax.tree.map(lambda x: x if isinstance(x, jax.Array) and not x.weak_type else np.asarray(x), tree)


def total(terms: Mapping[str, Array]) -> Array:
    """Sum of a dict of named terms (energies or counts)."""
    return sum(terms.values(), start=jnp.zeros(()))


def check_objective(objective: str) -> Objective:
    """``objective`` if it is ``"energy"`` or ``"latency"``; ``ValueError`` naming it otherwise."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r} is unknown; allowed: {', '.join(OBJECTIVES)}")
    return objective  # type: ignore[return-value]
