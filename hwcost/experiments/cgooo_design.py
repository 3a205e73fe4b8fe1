"""Design search on CG-OoO's continuous parameters with the interval model (:mod:`hwcost.cgooo`): gradient descent
for the least energy-delay product under a power bound, and archsim (:mod:`archsim.cgooo`) at the point found
beside the authors' configuration (:data:`SEARCH_TEMPERATURE` on the search's relaxation).

The objective over a set of programs is the geometric mean of ``EDP = energy x cycles`` (the relaxed model),
subject to an average power ``energy / (cycles / clock)`` no higher than ``power_bound`` times the authors'
configuration's on every program (a quadratic penalty on ``log(P / P_bound)`` above zero). Searched: the width,
the head-buffer entries, the Skipahead look-ahead, the block windows, the local-RF entries, the load and store
queues, the global registers and the block ROB, each through a logistic map onto its allowed range
(:data:`SEARCHED`; Skipahead at most ``windows - 1``). Adam (optax) on the logits; the point found is rounded to
what archsim takes (integers, the windows to a multiple of the 4 windows of a cluster) and run through both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from archsim.traces import rv64
from hwcost import cgooo
from hwcost.experiments.cgooo_validation import model_run, simulate

SEARCHED: dict[str, tuple[float, float]] = {
    "width": (1.0, 8.0),
    "head_buffer_entries": (1.0, 16.0),
    "windows": (8.0, 32.0),
    "local_rf_entries": (1.0, 60.0),
    "lq_entries": (16.0, 128.0),
    "sq_entries": (8.0, 64.0),
    "global_rf_entries": (96.0, 512.0),
    "block_rob_entries": (8.0, 64.0),
}
"""Searched parameters and their ranges (the model's allowed ranges, :data:`hwcost.cgooo._RANGES`); Skipahead is
searched as a share of ``min(windows - 1, 11)`` (the profiled grid's last point)."""
PENALTY_WEIGHT = 100.0
"""Weight of the squared log-power excess in the objective."""
SEARCH_TEMPERATURE = 1.0
"""Temperature of the integer rounding during the search, in entries: at the model's default 0.05 the rounding is
a staircase whose gradient vanishes at every integer; at 1 it is close to the identity, so the descent follows
the interpolated model between integers (the point found is rounded and checked exactly)."""


def _unit(z: jax.Array) -> jax.Array:
    return jax.nn.sigmoid(z)


def _skipahead_top(windows: jax.Array) -> jax.Array:
    """The largest Skipahead allowed: ``windows - 1`` (the older blocks in flight), and the grid's last point."""
    return jnp.minimum(windows - 1.0, cgooo.SKIPAHEAD_GRID[-1])


def design(z: Mapping[str, jax.Array], base: cgooo.CoreHardware = cgooo.DEFAULT_CORE) -> cgooo.CoreHardware:
    """The CG-OoO design of logits ``z`` (one per :data:`SEARCHED` name and ``"skipahead_share"``)."""
    values = {name: lo + (hi - lo) * _unit(z[name]) for name, (lo, hi) in SEARCHED.items()}
    values["skipahead_blocks"] = 1.0 + (_skipahead_top(values["windows"]) - 1.0) * _unit(z["skipahead_share"])
    return dataclasses.replace(base, **values)


def _logits(hw: cgooo.CoreHardware) -> dict[str, jax.Array]:
    """The logits of ``hw`` (inverse of :func:`design`)."""

    def logit(p: float) -> jax.Array:
        p = min(max(p, 1e-3), 1.0 - 1e-3)
        return jnp.asarray(math.log(p / (1.0 - p)))

    z = {name: logit((float(getattr(hw, name)) - lo) / (hi - lo)) for name, (lo, hi) in SEARCHED.items()}
    top = float(_skipahead_top(jnp.asarray(float(hw.windows))))
    z["skipahead_share"] = logit((float(hw.skipahead_blocks) - 1.0) / (top - 1.0))
    return z


def edp_and_power(hw: cgooo.CoreHardware, profile: cgooo.CoreProfile) -> tuple[jax.Array, jax.Array]:
    """Energy-delay product (pJ x cycles) and average power (pJ per cycle) of one program."""
    counts, cycles = cgooo.counts_and_latency(hw, profile)
    table = cgooo.per_action_energy_pj(hw)
    energy = sum((counts[k] * table[k] for k in counts), start=jnp.zeros(()))
    return energy * cycles, energy / cycles


def search(
    profiles: Mapping[str, cgooo.CoreProfile], power_bound: float = 1.0, steps: int = 300, learning_rate: float = 0.05
) -> dict:
    """Gradient descent from the authors' configuration (module docstring): the design found (relaxed and
    rounded), its model EDP and power per program relative to the authors' configuration, and the objective's
    history (every 10 steps)."""
    names = sorted(profiles)
    warm = dataclasses.replace(cgooo.DEFAULT_CORE.smoothing, temperature=SEARCH_TEMPERATURE)
    base = dataclasses.replace(cgooo.DEFAULT_CORE, smoothing=warm)
    for profile in profiles.values():
        cgooo.check_workload(profile)
    authors = dataclasses.replace(base, smoothing=dataclasses.replace(base.smoothing, hard=True))
    reference = {n: [float(x) for x in edp_and_power(authors, profiles[n])] for n in names}

    def objective(z: dict[str, jax.Array]) -> jax.Array:
        hw = design(z, base)
        total = jnp.zeros(())
        for n in names:
            edp, power = edp_and_power(hw, profiles[n])
            total = total + jnp.log(edp / reference[n][0]) / len(names)
            excess = jax.nn.relu(jnp.log(power / (power_bound * reference[n][1])))
            total = total + PENALTY_WEIGHT * excess**2
        return total

    optimizer = optax.adam(learning_rate)
    z = _logits(base)
    state = optimizer.init(z)
    step = jax.jit(jax.value_and_grad(objective))
    history = []
    for i in range(steps):
        value, grad = step(z)
        updates, state = optimizer.update(grad, state)
        z = optax.apply_updates(z, updates)
        if i % 10 == 0:
            history.append({"step": i, "objective": float(value)})
    found = design(z, base)
    relaxed = {name: float(getattr(found, name)) for name in (*SEARCHED, "skipahead_blocks")}

    def hard_objective(values: Mapping[str, int]) -> float:
        hw = dataclasses.replace(authors, **{k: float(v) for k, v in values.items()})
        total = 0.0
        for n in names:
            edp, power = (float(x) for x in edp_and_power(hw, profiles[n]))
            total += math.log(edp / reference[n][0]) / len(names)
            total += PENALTY_WEIGHT * max(0.0, math.log(power / (power_bound * reference[n][1]))) ** 2
        return total

    point = rounded(relaxed, hard_objective)
    return {"power_bound": power_bound, "steps": steps, "relaxed": relaxed, "rounded": point,
            "objective_relaxed": float(objective(z)), "objective_rounded": hard_objective(point),
            "history": history, "reference": {"edp": {n: r[0] for n, r in reference.items()}}}  # fmt: skip


def _archsim_point(values: Mapping[str, int]) -> dict[str, int]:
    """``values`` made a design both take: windows at least 8, Skipahead in ``[1, min(windows - 1, 11)]``."""
    out = dict(values)
    out["windows"] = max(8, out["windows"])
    top = min(out["windows"] - 1, int(cgooo.SKIPAHEAD_GRID[-1]))
    out["skipahead_blocks"] = min(max(out["skipahead_blocks"], 1), top)
    return out


def rounded(values: Mapping[str, float], objective: Callable[[Mapping[str, int]], float]) -> dict[str, int]:
    """The design archsim takes nearest ``values``: each parameter in turn set to the integer below or above it
    (the windows to the multiple of 4 below or above: the windows of a cluster), keeping the one with the lower
    hard-model ``objective``, starting from the nearest integers."""
    point = _archsim_point(
        {name: round(v) for name, v in values.items()} | {"windows": 4 * round(values["windows"] / 4)}
    )
    for name, v in values.items():
        step = 4 if name == "windows" else 1
        below = step * math.floor(v / step)
        options = [_archsim_point({**point, name: x}) for x in (below, below + step)]
        point = min(options, key=objective)
    return point


def check_on_archsim(traces: Mapping[str, rv64.Trace], profiles: Mapping[str, cgooo.CoreProfile],
                     found: Mapping[str, int]) -> list[dict]:  # fmt: skip
    """Per program: archsim's and the model's (hard twin) cycles, energy and EDP at the rounded design found and
    at the authors' configuration. archsim prices its counts with the model's per-access energies at each design
    (the authors' table holds their sizes only), so both sides use the same size and width scaling."""
    rows = []
    for name, trace in traces.items():
        row: dict = {"name": name}
        prepared = None
        for label, changes in (("authors", {}), ("found", dict(found))):
            result, prepared = simulate(trace, "cgooo", changes, prepared)
            hw = dataclasses.replace(cgooo.DEFAULT_CORE, **{k: float(v) for k, v in changes.items()})
            table = cgooo.per_action_energy_pj(hw)
            leak = {f"{k}.leakage": result.cycles * v for k, v in result.structures.items()}
            counts = {**result.counts, **leak}
            energy = float(sum(counts[k] * float(table[k]) for k in table))
            cycles, model_energy, _ = model_run(profiles[name], "cgooo", {k: float(v) for k, v in changes.items()})
            row[label] = {
                "archsim": {"cycles": result.cycles, "energy_pj": energy, "edp": energy * result.cycles},
                "model": {"cycles": cycles, "energy_pj": model_energy, "edp": model_energy * cycles},
            }
        for source in ("archsim", "model"):
            row[f"{source}_edp_found_over_authors"] = row["found"][source]["edp"] / row["authors"][source]["edp"]
            power = [row[k][source]["energy_pj"] / row[k][source]["cycles"] for k in ("found", "authors")]
            row[f"{source}_power_found_over_authors"] = power[0] / power[1]
        rows.append(row)
    return rows
