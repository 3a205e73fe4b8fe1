"""One user-given layer on a reference simulator and on the differentiable model, side by side.

The simulator runs the exact matrix; the model sees the layer as its own lowering describes it (the
statistics of :mod:`compress.bridge` from the real matrix and activations: kept weights, live columns,
broadcasts, the kept weights of the broadcast columns). Both are priced with the model's per-action
energies, so the energy gap comes only from the counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from compress import bridge
from hwcost.cost import layer_cost, price_action_counts
from hwcost.experiments.simulators import SIMULATORS, has_simulator
from hwcost.registry import cost_model
from hwcost.types import LayerSpec


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
