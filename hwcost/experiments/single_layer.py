"""One user-given layer on a reference simulator and on the differentiable model, side by side.

The simulator runs the exact matrix; the model sees the layer as its own lowering describes it (the
statistics of :mod:`compress.bridge` from the real matrix and activations: kept weights, live columns,
broadcasts, the kept weights of the broadcast columns). Both are priced with the model's per-action
energies, so the energy gap comes only from the counts.

A convolution on SCNN, DCNN or DCNN-opt (:func:`compare_conv_layer`) runs as it is on the simulator
(weights ``(K, C, R, S)``, activations ``(C, H, W)``, stride, padding); the model sees the
:class:`~hwcost.types.ConvLayer` of the same shape at the tensors' densities and is evaluated with its
hard twin (``model.hard(hw)``, every relaxation exact: the figure to hold against exact counts); the
relaxed model at its default temperature, the one training differentiates (and the ``model`` column of
:func:`compare_layer`), is reported beside it as ``model_relaxed``. A published layer
(:func:`published_layer`, ``"googlenet/inception_3a/3x3"``) gets random tensors with exactly the given
numbers of nonzeros (:func:`archsim.scnn.random_layer`); a layer with filter groups (AlexNet conv2, conv4,
conv5: ``groups=2``) is one group simulated and its counts and cycles multiplied by the number of groups,
which run one after another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from compress import bridge
from hwcost import checks
from hwcost.cost import layer_cost, price_action_counts
from hwcost.experiments.simulators import CONV_SIMULATORS, SIMULATORS, has_simulator, simulate_conv
from hwcost.registry import cost_model
from hwcost.types import ConvLayer, LayerSpec


def hardware_with(hardware: str, overrides: Mapping[str, float]) -> Any:
    """The paper-default hardware of ``hardware`` with data fields replaced (``{"num_pes": 8.0}``), checked
    by the model; ``ValueError`` naming an unknown field and the allowed ones."""
    model = cost_model(hardware)
    hw = model.default_hardware
    fields = [f.name for f in dataclasses.fields(hw) if not f.metadata.get("static")
              and not dataclasses.is_dataclass(getattr(hw, f.name))]  # fmt: skip
    for name in overrides:
        if name not in fields:
            raise ValueError(f"hardware field {name!r} is unknown for {hardware}; allowed: {', '.join(fields)}")
    hw = dataclasses.replace(hw, **{k: float(v) for k, v in overrides.items()})
    model.check_hardware(hw)
    return hw


def compare_layer(hardware: str, weights: np.ndarray, activations: np.ndarray, hw: Any = None) -> dict[str, Any]:
    """Run the simulator and the model of ``hardware`` on one layer ``y = W a``.

    Args:
        hardware: a registered cost model with a reference simulator.
        weights: ``(out_features, in_features)`` matrix (zeros are pruned weights).
        activations: ``(in_features,)`` vector (zeros are zero activations).
        hw: the model's hardware (default: the paper's design point).

    Returns:
        ``{"layer": {...}, "workload": {...}, "summary": [...], "breakdown": [...]}``: ``summary`` one row per
        quantity (``cycles``, ``time_us``, ``energy_uj``) with ``archsim``, ``model``, ``model_over_archsim``;
        ``breakdown`` one row per action with counts and energies (uJ) of both.
    """
    if not has_simulator(hardware):
        raise ValueError(f"hardware={hardware!r} has no reference simulator; allowed: {', '.join(sorted(SIMULATORS))}")
    model = cost_model(hardware)
    hw = model.default_hardware if hw is None else hw
    rows, cols = weights.shape
    spec = LayerSpec("user", "fc", (cols, rows))
    kernel = np.asarray(weights, np.float64).T
    sim = SIMULATORS[hardware](spec, kernel, np.asarray(activations, np.float64), hw)
    masks = {"user": {"kernel": jnp.asarray(kernel != 0, jnp.float32)}}
    (stats,) = bridge.layer_statistics([spec], masks, {"user": jnp.asarray(activations, jnp.float32)[None]},
                                       indicator="exact")  # fmt: skip
    run = model.lower(stats)
    cost = layer_cost(model, hw, run.workload, run.repeats)
    per_action = {k: float(v) for k, v in model.per_action_energy_pj(hw).items()}
    sim_energy = price_action_counts(sim.counts, per_action)
    clock_mhz = float(model.clock_mhz(hw))
    breakdown = [
        {
            "action": key,
            "archsim_count": sim.counts.get(key),
            "model_count": float(cost.counts[key]),
            "count_model_over_archsim": _ratio(float(cost.counts[key]), sim.counts.get(key)),
            "archsim_energy_uj": None if key not in sim_energy else sim_energy[key] * 1e-6,
            "model_energy_uj": float(cost.energy_pj[key]) * 1e-6,
            "energy_pj_per_action": per_action[key],
        }
        for key in cost.counts
    ]
    model_cycles = float(cost.latency_cycles)
    return {
        "layer": {
            "hardware": hardware,
            "out_features": rows,
            "in_features": cols,
            "weight_density": float(np.count_nonzero(weights)) / (rows * cols),
            "activation_density": float(np.count_nonzero(activations)) / cols,
            "clock_mhz": clock_mhz,
            **{k: float(v) for k, v in sim.extras.items()},
        },
        "workload": {f.name: _plain(getattr(run.workload, f.name)) for f in dataclasses.fields(run.workload)},
        "summary": [
            _side_by_side("cycles", sim.cycles, model_cycles),
            _side_by_side("time_us", sim.cycles / clock_mhz, model_cycles / clock_mhz),
            _side_by_side("energy_uj", sum(sim_energy.values()) * 1e-6, float(cost.total_energy_pj) * 1e-6),
        ],
        "breakdown": breakdown,
    }


def _plain(value: Any) -> Any:
    return value if isinstance(value, str) else float(value)


def _ratio(model: float, archsim: float | None) -> float | None:
    return None if not archsim else model / archsim


def _side_by_side(quantity: str, archsim: float, model: float) -> dict[str, Any]:
    return {"quantity": quantity, "archsim": archsim, "model": model, "model_over_archsim": _ratio(model, archsim)}


# --- convolution accelerators ------------------------------------------------------------------------------
CONV_HARDWARE: tuple[str, ...] = tuple(sorted(CONV_SIMULATORS))
"""Cost models whose simulator runs a convolution as it is (:func:`compare_conv_layer`)."""


def conv_layer_names() -> tuple[str, ...]:
    """``"network/layer"`` of every published convolution layer (:func:`models.conv_specs.layer_names`)."""
    from models.conv_specs import layer_names

    return layer_names()


def conv_workload(
    weight_shape: tuple[int, ...],
    activation_shape: tuple[int, ...],
    stride: int,
    padding: int,
    weight_density: float,
    activation_density: float,
    output_density: float,
    name: str = "conv",
) -> ConvLayer:
    """The :class:`~hwcost.types.ConvLayer` of weights ``(K, C, R, S)`` on activations ``(C, H, W)``."""
    k, c, r, s = (int(v) for v in weight_shape)
    _, h, w = (int(v) for v in activation_shape)
    return ConvLayer(
        in_channels=float(c), out_channels=float(k), kernel_h=float(r), kernel_w=float(s),
        in_h=float(h), in_w=float(w),
        out_h=float((h + 2 * padding - r) // stride + 1), out_w=float((w + 2 * padding - s) // stride + 1),
        weight_density=float(weight_density), activation_density=float(activation_density),
        stride=float(stride), padding=float(padding), output_density=float(output_density), name=name,
    )  # fmt: skip


class PublishedLayer(NamedTuple):
    """Random tensors on a published layer shape (one filter group).

    Attributes:
        name: ``"network/layer"``.
        weights: ``(K / groups, C / groups, R, S)``.
        activations: ``(C / groups, H, W)``.
        stride, padding: the layer's.
        output_density: the published density of the layer's output (or the one given).
        groups: filter groups, run one after another.
        weight_density, activation_density: the densities asked for (the tensors hold ``round(d n)`` nonzeros).
        seed: the seed of :func:`archsim.scnn.random_layer`.
    """

    name: str
    weights: np.ndarray
    activations: np.ndarray
    stride: int
    padding: int
    output_density: float
    groups: int
    weight_density: float
    activation_density: float
    seed: int


def published_layer(
    name: str,
    weight_density: float | None = None,
    activation_density: float | None = None,
    output_density: float | None = None,
    seed: int | None = None,
) -> PublishedLayer:
    """Random tensors of the given densities on the shape of the published layer ``name``.

    Densities default to the published ones (:mod:`models.conv_specs`: SCNN Fig. 1); a layer without them
    (SqueezeNet) needs them given. ``ValueError`` naming an unknown layer (and the allowed ones), a density
    outside [0, 1] or a negative seed.
    """
    from archsim import scnn as archsim_scnn
    from models.conv_specs import conv_spec

    spec = conv_spec(name)
    seed = archsim_scnn.SCNN_SEED if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed={seed!r} must be an integer >= 0")
    given = {"weight_density": weight_density, "activation_density": activation_density,
             "output_density": output_density}  # fmt: skip
    values: dict[str, float] = {}
    for field, value in given.items():
        value = getattr(spec, field) if value is None else value
        if value is None:
            flag = field.replace("_", "-")
            raise ValueError(f"{name} has no published {field}; give --{flag} (a fraction in [0, 1])")
        checks.check_fraction(field, value)
        values[field] = float(value)
    k, c = spec.out_channels // spec.groups, spec.filter_channels
    weights, activations = archsim_scnn.random_layer(
        (k, c, *spec.kernel), (c, *spec.in_hw), values["weight_density"], values["activation_density"], seed
    )
    return PublishedLayer(
        spec.name, weights, activations, spec.stride, spec.padding, values["output_density"], spec.groups,
        values["weight_density"], values["activation_density"], int(seed),
    )  # fmt: skip


def _quantities(hardware: str, hw: Any, layer: ConvLayer, counts: dict[str, Any]) -> dict[str, float]:
    """The model's counterparts of the simulator's extras, one filter group (:class:`ConvSimulation`)."""
    from hwcost import dcnn, scnn

    transfer = (float(counts["dram.read_bit"]) + float(counts["dram.write_bit"])) / (
        8.0 * float(hw.dram_bytes_per_cycle)
    )
    if isinstance(hw, scnn.ScnnHardware):
        w = scnn.work(hw, layer)
        busy = float(w.multiply_cycles) + float(w.stall_cycles)
        lanes = float(hw.weight_vector) * float(hw.activation_vector)
        pes = float(hw.pe_rows) * float(hw.pe_cols)
        return {
            "compute_cycles": float(w.compute_cycles),
            "dram_cycles": transfer,
            "stall_cycles": float(w.stall_cycles),
            "barrier_idle_cycles": float(w.barrier_idle_cycles),
            "multiplier_utilisation": float(w.products) / (lanes * busy) if busy else 0.0,
            "pe_idle_fraction": float(w.barrier_idle_cycles) / (pes * float(w.compute_cycles))
            if float(w.compute_cycles) else 0.0,
            "halo_values": float(counts["halo.transfer"]),
            "products": float(w.products),
        }  # fmt: skip
    if isinstance(hw, dcnn.DcnnHardware):
        return {
            "compute_cycles": float(dcnn.pe_cycles(hw, layer)),
            "dram_cycles": transfer,
            "pe_cycles": float(counts["weight_buffer.read"]),
        }
    raise ValueError(f"hardware={hardware!r} is not a convolution accelerator; allowed: {', '.join(CONV_HARDWARE)}")


SCALE_FREE: frozenset[str] = frozenset({"multiplier_utilisation", "pe_idle_fraction", "group_channels",
                                        "output_channel_groups", "spills"})  # fmt: skip
"""Quantities of one filter group that the number of groups does not multiply (ratios, the grouping, flags)."""


def compare_conv_layer(
    hardware: str,
    weights: np.ndarray,
    activations: np.ndarray,
    *,
    stride: int = 1,
    padding: int = 0,
    output_density: float = 1.0,
    groups: int = 1,
    hw: Any = None,
    name: str = "user",
) -> dict[str, Any]:
    """Run the simulator and the model of a convolution accelerator on one layer (module docstring).

    Args:
        hardware: ``scnn``, ``dcnn`` or ``dcnn-opt`` (:data:`CONV_HARDWARE`).
        weights: ``(K, C, R, S)`` (zeros are pruned weights); one filter group.
        activations: ``(C, H, W)`` before padding (zeros are zero activations).
        stride, padding: ``u >= 1``, ``p >= 0``.
        output_density: fraction of nonzero outputs (the next layer's input density), in [0, 1].
        groups: filter groups of the layer: ``weights`` is one group and the counts and cycles are
            multiplied by ``groups`` (the groups run back to back).
        hw: the model's hardware (default: the paper's design point).
        name: the layer's label.

    Returns:
        ``{"layer": {...}, "workload": {...}, "summary": [...], "breakdown": [...]}`` as :func:`compare_layer`:
        ``summary`` one row per quantity (``cycles``, ``time_us``, ``energy_uj``, then the simulator's
        other quantities) with ``archsim``, ``model`` (hard twin), ``model_over_archsim``, ``model_relaxed``
        and ``model_relaxed_over_archsim``; ``breakdown`` one row per action (counts, energies in uJ).
    """
    if hardware not in CONV_SIMULATORS:
        raise ValueError(f"hardware={hardware!r} has no convolution simulator; allowed: {', '.join(CONV_HARDWARE)}")
    model = cost_model(hardware)
    hw = model.default_hardware if hw is None else hw
    hard = model.hard(hw)
    weights = np.asarray(weights)
    activations = np.asarray(activations)
    sim = simulate_conv(hardware, weights, activations, stride, padding, output_density, hw)
    workload = conv_workload(
        weights.shape, activations.shape, stride, padding,
        np.count_nonzero(weights) / weights.size, np.count_nonzero(activations) / activations.size,
        output_density, name,
    )  # fmt: skip
    n = float(groups)
    cost = layer_cost(model, hard, workload, n)
    relaxed = layer_cost(model, hw, workload, n)
    per_action = {k: float(v) for k, v in model.per_action_energy_pj(hw).items()}
    sim_counts = {k: n * v for k, v in sim.counts.items()}
    sim_energy = price_action_counts(sim_counts, per_action)
    clock_mhz = float(model.clock_mhz(hw))

    def scaled(quantities: dict[str, float]) -> dict[str, float]:
        return {k: (v if k in SCALE_FREE else n * v) for k, v in quantities.items()}

    model_q = scaled(_quantities(hardware, hard, workload, model.action_counts(hard, workload)))
    relaxed_q = scaled(_quantities(hardware, hw, workload, model.action_counts(hw, workload)))
    sim_q = scaled(sim.extras)
    cycles = (n * sim.cycles, float(cost.latency_cycles), float(relaxed.latency_cycles))
    energy = (sum(sim_energy.values()) * 1e-6, float(cost.total_energy_pj) * 1e-6,
              float(relaxed.total_energy_pj) * 1e-6)  # fmt: skip
    summary = [
        _conv_row("cycles", *cycles),
        _conv_row("time_us", *(c / clock_mhz for c in cycles)),
        _conv_row("energy_uj", *energy),
        *(_conv_row(key, sim_q[key], model_q[key], relaxed_q[key]) for key in model_q),
    ]
    breakdown = [
        {
            "action": key,
            "archsim_count": sim_counts.get(key),
            "model_count": float(cost.counts[key]),
            "count_model_over_archsim": _ratio(float(cost.counts[key]), sim_counts.get(key)),
            "archsim_energy_uj": None if key not in sim_energy else sim_energy[key] * 1e-6,
            "model_energy_uj": float(cost.energy_pj[key]) * 1e-6,
            "energy_pj_per_action": per_action[key],
        }
        for key in cost.counts
    ]
    k, c = weights.shape[:2]
    layer = {
        "hardware": hardware,
        "name": name,
        "weights_shape": [int(v) for v in weights.shape],
        "activations_shape": [int(v) for v in activations.shape],
        "stride": int(stride),
        "padding": int(padding),
        "out_h": int(workload.out_h),
        "out_w": int(workload.out_w),
        "groups": int(groups),
        "weight_density": float(workload.weight_density),
        "activation_density": float(workload.activation_density),
        "output_density": float(output_density),
        "clock_mhz": clock_mhz,
        **{key: sim.extras[key] for key in sorted(SCALE_FREE & set(sim.extras))},
    }
    if groups > 1:
        layer["note"] = (
            f"one filter group of {groups} simulated ({k} of {k * groups} output channels, {c} of {c * groups} "
            f"input channels); counts, cycles and energy x {groups} (the groups run back to back)"
        )
    return {
        "layer": layer,
        "workload": {f.name: _plain(getattr(workload, f.name)) for f in dataclasses.fields(workload)},
        "summary": summary,
        "breakdown": breakdown,
    }


def _conv_row(quantity: str, archsim: float, model: float, relaxed: float) -> dict[str, Any]:
    return {**_side_by_side(quantity, archsim, model), "model_relaxed": relaxed,
            "model_relaxed_over_archsim": _ratio(relaxed, archsim)}  # fmt: skip
