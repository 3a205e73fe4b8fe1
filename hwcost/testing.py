"""The property suite every cost model must pass, as plain functions over a :class:`~hwcost.types.CostModel`.

``tests/hwcost/test_properties.py`` runs :data:`PROPERTIES` over every registered model; an author of a
new model runs :func:`check_all` on it before registering it. Each check walks the model's hardware
points (:meth:`~hwcost.types.CostModel.hardware_points`) and sample workloads and raises
``AssertionError`` naming the model, the case, the quantity and the leaf that broke the promise.

What is checked:

* :func:`check_terms`: counts, per-action energies, energy and latency finite and non-negative, relaxed
  and hard; every counted action priced and every price counted.
* :func:`check_jit_equals_eager`, :func:`check_vmap_equals_loop`, :func:`check_no_retrace`: the model
  is a pure JAX function of its leaves (sweeps over workload leaves and over hardware leaves).
* :func:`check_gradients`: in float64, the forward-mode and the reverse-mode derivative of every count
  and of the latency with respect to every continuous leaf of the workload *and of the hardware* equal
  a central finite difference of the reported value. Whatever the relaxation, a gradient that disagrees
  with the value it belongs to is a defect (a straight-through estimator fails here).
* :func:`check_monotone`: the directions the model declares, on their grids, for the relaxed value,
  its gradient and the hard value.
* :func:`check_dense_limit`: at every density 1 the hard counts equal the model's closed-form dense ones.
* :func:`check_hard_is_exact`: the hard twin calls no relaxation (traced under
  :func:`hwcost.smooth.relaxations_forbidden`) and does not depend on any relaxation temperature;
  :func:`check_relaxed_converges_to_hard`: the relaxed value tends to it as every temperature goes to 0.
* :func:`check_input_checks`: sample inputs pass the model's checks, out-of-range densities and
  non-finite leaves are rejected with a ``ValueError`` naming the field.
* every check runs under strict dtype promotion (no implicit mixing of float widths);
* :func:`check_lowering`: layer statistics lower to a valid workload whose cost is finite, not above the
  dense layer's, and whose gradient in the statistics agrees with finite differences.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.tree_util import keystr, tree_flatten_with_path

from hwcost.cost import energy_pj, network_cost
from hwcost.smooth import Smoothing, relaxations_forbidden
from hwcost.types import CostModel, LayerRun, LayerSpec, LayerStatistics, Monotone, total, unnamed

GRADIENT_RTOL = 1e-4
"""Relative tolerance of a derivative against its finite difference (float64; measured agreement of
smooth models is 1e-7 or better, so a disagreement above this is a defect, not rounding)."""
FD_STEP = 1e-6
"""Central-difference step, relative to ``max(|leaf|, 1)``; retried at a sixteenth for steep relaxations."""


# --- cases ------------------------------------------------------------------------------------------
def cases(model: CostModel) -> Iterator[tuple[str, Any, Any]]:
    """``(label, hw, workload)`` over the model's hardware points and sample workloads (names stripped,
    so that every workload of one type shares one compiled function)."""
    for hw_label, hw in model.hardware_points().items():
        for w_label, workload in model.sample_workloads().items():
            yield f"{model.name}[{hw_label}, {w_label}]", hw, unnamed(workload)


def _outputs(model: CostModel, hw: Any, workload: Any, *, checked: bool = True) -> dict[str, jax.Array]:
    """Every count and the latency of one run (energy is their priced sum, checked separately), from the
    model's ``counts_and_latency``; with ``checked=False`` from its ``action_counts`` and ``latency_cycles``
    evaluated as they are (op by op on concrete inputs), so that jit-versus-eager also checks that the
    joint evaluation agrees with the two functions."""
    if checked:
        counts, latency = model.counts_and_latency(hw, workload)
    else:
        counts, latency = model.action_counts.unchecked(hw, workload), model.latency_cycles.unchecked(hw, workload)
    return {**counts, "latency_cycles": latency}


def _quantity(model: CostModel, hw: Any, workload: Any, name: str) -> jax.Array:
    if name == "energy":
        return total(energy_pj(model, hw, workload))
    if name == "latency":
        return model.latency_cycles(hw, workload)
    return model.action_counts(hw, workload)[name]


def _as_float(tree: Any, dtype: Any) -> Any:
    return jax.tree.map(lambda x: jnp.asarray(x, dtype), tree)


def _leaf_names(tree: Any, prefix: str) -> list[str]:
    return [prefix + keystr(path) for path, _ in tree_flatten_with_path(tree)[0]]


def _smoothings(tree: Any) -> Iterator[Smoothing]:
    if isinstance(tree, Smoothing):
        yield tree
    elif dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        for f in dataclasses.fields(tree):
            yield from _smoothings(getattr(tree, f.name))


def scale_temperatures(tree: Any, factor: float) -> Any:
    """``tree`` with the temperature of every :class:`~hwcost.smooth.Smoothing` in it multiplied by ``factor``."""
    if isinstance(tree, Smoothing):
        return dataclasses.replace(tree, temperature=tree.temperature * factor)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return dataclasses.replace(tree, **{f.name: scale_temperatures(getattr(tree, f.name), factor)
                                            for f in dataclasses.fields(tree)})  # fmt: skip
    return tree


def _density_fields(workload: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(workload) if f.name.endswith("_density")]


def _with_leaf(tree: Any, name: str, value: Any) -> Any:
    """``tree`` with the leaf whose :func:`keystr` path is ``name`` replaced by ``value``."""
    flat, treedef = tree_flatten_with_path(tree)
    names = [keystr(path) for path, _ in flat]
    if name not in names:
        raise AssertionError(f"no leaf {name!r}; leaves: {', '.join(names)}")
    leaves = [value if n == name else leaf for n, leaf in zip(names, (leaf for _, leaf in flat), strict=True)]
    return jax.tree.unflatten(treedef, leaves)


def _close(a: Any, b: Any, rtol: float, what: str) -> None:
    """Every value of ``a`` close to ``b``'s: relative ``rtol``, absolute 1e-7 of the largest value (the
    float32 rounding of a count computed as a difference of larger ones)."""
    largest = max([float(np.max(np.abs(np.asarray(v, np.float64)))) for v in [*a.values(), *b.values()]] + [1e-30])
    for key in a:
        x, y = np.asarray(a[key], np.float64), np.asarray(b[key], np.float64)
        if not np.allclose(x, y, rtol=rtol, atol=1e-7 * largest):
            raise AssertionError(f"{what}: {key} differs: {x} vs {y}")


# --- the properties ---------------------------------------------------------------------------------
def check_terms(model: CostModel) -> None:
    """Counts, per-action energies, energy and latency are finite and >= 0; counts and prices share keys."""
    for label, hw, workload in cases(model):
        for kind, h in (("relaxed", hw), ("hard", model.hard(hw))):
            counts = model.action_counts(h, workload)
            prices = model.per_action_energy_pj(h)
            if set(counts) != set(prices):
                raise AssertionError(
                    f"{label}: counted actions {sorted(set(counts) - set(prices))} have no energy and priced "
                    f"actions {sorted(set(prices) - set(counts))} are never counted"
                )
            values = {**{f"count {k}": v for k, v in counts.items()}, **{f"energy of one {k}": v for k, v in
                      prices.items()}, "latency_cycles": model.latency_cycles(h, workload)}  # fmt: skip
            for name, value in values.items():
                v = np.asarray(value, np.float64)
                if not (np.all(np.isfinite(v)) and np.all(v >= 0)):
                    raise AssertionError(f"{label} ({kind}): {name} = {v} is not finite and >= 0")


def check_jit_equals_eager(model: CostModel) -> None:
    """The jit-compiled model gives the eager values (float32, relative 1e-5)."""
    jitted = jax.jit(lambda h, w: _outputs(model, h, w))
    for label, hw, workload in cases(model):
        eager = _outputs(model, hw, workload, checked=False)
        _close(eager, jitted(hw, workload), 1e-5, f"{label}: jit vs eager")


def _workload_variants(workload: Any) -> list[Any]:
    """Four workloads around ``workload``: density leaves scaled by 0.3..1, other leaves by 0.8..2."""
    out = []
    for k, (density_scale, other_scale) in enumerate(((1.0, 1.0), (0.5, 1.25), (0.8, 0.8), (0.3, 2.0))):
        names = set(_density_fields(workload)) if dataclasses.is_dataclass(workload) else set()
        w = dataclasses.replace(
            workload, **{f.name: jnp.asarray(getattr(workload, f.name), jnp.float32)
                         * (density_scale if f.name in names else other_scale)
                         for f in dataclasses.fields(workload) if not f.metadata.get("static")}
        ) if k else workload  # fmt: skip
        out.append(_as_float(w, jnp.float32))
    return out


def _hardware_variants(hw: Any) -> list[Any]:
    leaves, treedef = jax.tree.flatten(hw)
    return [jax.tree.unflatten(treedef, [jnp.asarray(x, jnp.float32) * s for x in leaves]) for s in (1.0, 1.5, 0.75)]


def _stack(trees: list[Any]) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def check_vmap_equals_loop(model: CostModel) -> None:
    """One ``jit(vmap)`` over stacked workloads, and over stacked hardware, equals a Python loop."""

    def outputs(h: Any, w: Any) -> dict[str, jax.Array]:
        return _outputs(model, h, w)

    over_workloads = jax.jit(jax.vmap(outputs, in_axes=(None, 0)))
    over_hardware = jax.jit(jax.vmap(outputs, in_axes=(0, None)))
    single = jax.jit(outputs)  # the loop: one compiled call per element (jit == eager is its own property)
    for label, hw, workload in cases(model):
        for axis, variants, sweep, one in (
            ("workload", _workload_variants(workload), lambda ws, hw=hw: over_workloads(hw, ws),
             lambda w, hw=hw: single(hw, w)),
            ("hardware", _hardware_variants(hw), lambda hs, workload=workload: over_hardware(hs, workload),
             lambda h, workload=workload: single(h, workload)),
        ):  # fmt: skip
            swept = sweep(_stack(variants))
            for i, v in enumerate(variants):
                _close(one(v), {k: x[i] for k, x in swept.items()}, 1e-4, f"{label}: vmap over {axis} #{i} vs loop")


def check_no_retrace(model: CostModel) -> None:
    """A jit-compiled sweep over workload and hardware leaves traces the model at most once (once per
    hardware and workload structure over all cases)."""
    traces: list[None] = []

    @jax.jit
    def energy(h: Any, w: Any) -> jax.Array:
        traces.append(None)
        return total(energy_pj(model, h, w))

    for label, hw, workload in cases(model):
        before = len(traces)
        hws = _hardware_variants(hw)
        for w in _workload_variants(workload):
            for h in hws:
                energy(h, w).block_until_ready()
        if len(traces) - before > 1:
            raise AssertionError(f"{label}: a sweep over leaf values traced the model {len(traces) - before} times")


def _input_names(tree: Any, prefixes: tuple[str, ...]) -> list[str]:
    """Names of the scalar inputs of a tuple of pytrees, one per element (``name[k]`` inside arrays)."""
    names = [n for part, prefix in zip(tree, prefixes, strict=True) for n in _leaf_names(part, prefix)]
    sizes = [int(np.size(leaf)) for leaf in jax.tree.leaves(tree)]
    return [n if s == 1 else f"{n}[{k}]" for n, s in zip(names, sizes, strict=True) for k in range(s)]


MODES: dict[str, Callable[[Callable], Callable]] = {"forward": jax.jacfwd, "reverse": jax.jacrev}
"""Automatic-differentiation modes the derivative checks compare against finite differences."""

FD_BATCH = 32
"""Points per compiled batch of finite-difference evaluations (one compilation per tree structure, however
many leaves the tree has)."""
ZERO_PROBES = 2
"""Random joint steps of every leaf whose derivative is exactly zero in every mode: the value must not move by
more than the finite-difference check allows any one of them (else each is differenced on its own)."""


class _Derivatives(NamedTuple):
    """Compiled functions of one tree structure (:func:`_derivatives`)."""

    jacobians: Callable[[Any], tuple[Any, ...]]
    values: Callable[[Any, jax.Array], jax.Array]


def _derivatives(outputs: Callable[[Any], dict[str, jax.Array]], modes: tuple[str, ...] = tuple(MODES)) -> _Derivatives:
    """Compiled ``tree -> (x, value, {mode: jacobian})`` of the stacked scalar ``outputs`` (sorted by name)
    over the flattened leaves ``x`` of ``tree``, each Jacobian ``(outputs, inputs)``, and compiled ``(tree,
    points) -> values`` at :data:`FD_BATCH` flattened points (the finite differences). One compilation of each
    per tree structure, shared by every case, leaf and step."""

    def flat(tree: Any) -> tuple[jax.Array, Callable[[jax.Array], jax.Array]]:
        x, unravel = ravel_pytree(tree)
        out_names = sorted(outputs(tree))

        def f(v: jax.Array) -> jax.Array:
            values = outputs(unravel(v))
            return jnp.stack([jnp.asarray(values[k]).reshape(()) for k in out_names])

        return x, f

    def jacobians(tree: Any) -> tuple[Any, ...]:
        x, f = flat(tree)
        return x, f(x), {mode: MODES[mode](f)(x) for mode in modes}

    def values(tree: Any, points: jax.Array) -> jax.Array:
        return jax.vmap(flat(tree)[1])(points)

    return _Derivatives(jax.jit(jacobians), jax.jit(values))


def _values_at(derivatives: _Derivatives, tree: Any, points: np.ndarray) -> np.ndarray:
    """``(points, outputs)``: the outputs at each row of ``points``, :data:`FD_BATCH` rows per compiled call
    (the last batch padded with copies of the first row)."""
    padded = np.concatenate([points, np.repeat(points[:1], -len(points) % FD_BATCH, axis=0)])
    batches = [np.asarray(derivatives.values(tree, padded[k : k + FD_BATCH])) for k in range(0, len(padded), FD_BATCH)]
    return np.concatenate(batches)[: len(points)]


def _finite_differences(
    derivatives: _Derivatives, tree: Any, x: np.ndarray, columns: np.ndarray, scale: float, bounds: np.ndarray
) -> np.ndarray:
    """``(outputs, len(columns))`` finite-difference derivatives in the leaves ``columns`` of ``x`` at ``scale``
    times :data:`FD_STEP` (relative to ``max(|leaf|, 1)``): central, or one-sided second order where a central
    step would leave ``bounds`` (``(2, leaves)``, lower and upper). Two evaluations per leaf."""
    lower, upper = bounds[0][columns], bounds[1][columns]
    at = x[columns]
    step = scale * FD_STEP * np.maximum(np.abs(at), 1.0)
    up_ok, down_ok = at + 2 * step <= upper, at - 2 * step >= lower
    central = up_ok & down_ok
    # the two points of each leaf: x + h and x - h (central), x + h and x + 2h (forward), x - h and x - 2h
    first = np.where(up_ok, step, -step)
    second = np.where(central, -step, 2 * first)
    k, rows = len(columns), np.arange(len(columns))
    points = np.repeat(x[None], 1 + 2 * k, axis=0)
    points[1 + rows, columns] += first
    points[1 + k + rows, columns] += second
    values = _values_at(derivatives, tree, points)
    f0, a, b, h = values[:1], values[1 : 1 + k], values[1 + k :], step[:, None]
    forward, backward = (-3 * f0 + 4 * a - b) / (2 * h), (3 * f0 - 4 * a + b) / (2 * h)
    return np.where(central[:, None], (a - b) / (2 * h), np.where(up_ok[:, None], forward, backward)).T


def _allowance(x: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``(outputs, inputs)`` absolute disagreement allowed between a derivative and its finite difference."""
    return 1e-6 * (np.abs(value)[:, None] + 1.0) / np.maximum(np.abs(x), 1e-2)[None, :]


def _mismatches(x: np.ndarray, value: np.ndarray, fd: np.ndarray, jacobians: dict[str, np.ndarray]) -> dict:
    """Per mode, where the derivative disagrees with the finite difference (or is not finite)."""
    atol = _allowance(x, value)
    return {
        mode: ~(np.abs(ad - fd) <= GRADIENT_RTOL * np.maximum(np.abs(ad), np.abs(fd)) + atol) | ~np.isfinite(ad)
        for mode, ad in jacobians.items()
    }


def _unmoved(
    derivatives: _Derivatives, tree: Any, x: np.ndarray, value: np.ndarray, zero: np.ndarray, bounds: np.ndarray
) -> bool:
    """Whether :data:`ZERO_PROBES` random joint steps of the leaves ``zero`` (each of 0.5 to 1 times its
    :data:`FD_STEP`, random sign, inside ``bounds``) move no output by more than the finite-difference check
    allows the leaf of the smallest allowance: then no one of them has a finite difference the check would flag,
    unless the movements of several cancel (a random step makes that a coincidence)."""
    rng = np.random.default_rng(0)
    size = FD_STEP * np.maximum(np.abs(x), 1.0) * rng.uniform(0.5, 1.0, (ZERO_PROBES, len(x)))
    up = rng.random((ZERO_PROBES, len(x))) < 0.5
    up = np.where(x + 2 * size > bounds[1], False, np.where(x - 2 * size < bounds[0], True, up))
    steps = np.where(zero, np.where(up, size, -size), 0.0)
    values = _values_at(derivatives, tree, np.concatenate([x[None], x + steps]))
    allowed = np.min(_allowance(x, value)[None, :, zero] * np.abs(steps[:, None, zero]), axis=2)
    moved = np.abs(values[1:] - values[:1])
    return bool(np.all(np.isfinite(values)) and np.all(moved <= allowed))


def _derivative_problems(
    derivatives: _Derivatives, tree: Any, outputs: Callable, prefixes: tuple[str, ...]
) -> list[str]:
    """Entries where a derivative disagrees with the finite difference at the step and (retried for the leaves
    where it does) at a sixteenth of it. Leaves whose derivative is exactly zero in every mode are first probed
    together (:func:`_unmoved`) and differenced one by one only if the value moves with them."""
    x, value, jacobians = jax.tree.map(np.asarray, derivatives.jacobians(tree))
    is_density = np.asarray(
        [n.rsplit(".", 1)[-1].split("[")[0].endswith("_density") for n in _input_names((tree,), ("",))]
    )
    bounds = np.stack([np.where(is_density, 0.0, -np.inf), np.where(is_density, 1.0, np.inf)])
    zero = np.logical_and.reduce([np.all(ad == 0, axis=0) for ad in jacobians.values()])
    fd = np.zeros((len(value), len(x)))
    if zero.sum() > ZERO_PROBES and _unmoved(derivatives, tree, x, value, zero, bounds):
        columns = np.flatnonzero(~zero)
    else:
        columns = np.arange(len(x))
    if columns.size:
        fd[:, columns] = _finite_differences(derivatives, tree, x, columns, 1.0, bounds)
    bad = _mismatches(x, value, fd, jacobians)
    retry_columns = np.flatnonzero(np.logical_or.reduce([where.any(axis=0) for where in bad.values()]))
    if retry_columns.size:
        finer = fd.copy()
        finer[:, retry_columns] = _finite_differences(derivatives, tree, x, retry_columns, 1.0 / 16, bounds)
        retry = _mismatches(x, value, finer, jacobians)
        bad = {mode: bad[mode] & retry[mode] for mode in bad}
    out_names, in_names = sorted(jax.eval_shape(outputs, tree)), _input_names(tree, prefixes)
    return [
        f"d {out_names[i]} / d {in_names[j]}: {mode} mode {jacobians[mode][i, j]:.6g}, finite difference {fd[i, j]:.6g}"
        for mode, where in bad.items()
        for i, j in zip(*np.nonzero(where), strict=True)
    ]


def check_gradients(model: CostModel) -> None:
    """Forward and reverse derivatives of every count and the latency w.r.t. every continuous leaf of the
    workload and the hardware equal central finite differences of the reported value (float64)."""

    def outputs(tree: tuple[Any, Any]) -> dict[str, jax.Array]:
        return _outputs(model, *tree)

    with jax.enable_x64(True):
        derivatives = _derivatives(outputs)
        for label, hw, workload in cases(model):
            tree = _as_float((hw, workload), jnp.float64)
            problems = _derivative_problems(derivatives, tree, outputs, ("hardware", "workload"))
            if problems:
                raise AssertionError(f"{label}: gradients disagree with the values:\n  " + "\n  ".join(problems))


def _along(model: CostModel, path: str, quantities: tuple[str, ...]) -> tuple[Callable, Callable]:
    """Compiled ``(grid, hw, workload) -> (values, slopes)`` and ``-> values``, each ``(len(grid),
    len(quantities))``, of ``quantities`` along ``grid`` of the leaf at ``path``. The slopes are one
    forward-mode pass (the leaf is a scalar), so every quantity along one path shares one compilation per
    hardware and workload structure."""
    part, _, field = path.partition(".")
    if part not in ("workload", "hardware"):
        raise AssertionError(f"{model.name}: monotone path {path!r} must start with workload. or hardware.")

    def q(value: jax.Array, h: Any, workload: Any) -> jax.Array:
        if part == "workload":
            workload = _with_leaf(workload, "." + field, value)
        else:
            h = _with_leaf(h, "." + field, value)
        return jnp.stack([_quantity(model, h, workload, name) for name in quantities])

    def values(grid: jax.Array, h: Any, workload: Any) -> jax.Array:
        return jax.vmap(lambda v: q(v, h, workload))(grid)

    def along(grid: jax.Array, h: Any, workload: Any) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(lambda v: jax.jvp(lambda u: q(u, h, workload), (v,), (jnp.ones_like(v),)))(grid)

    return jax.jit(along), jax.jit(values)


def _monotone_groups(model: CostModel) -> dict[tuple[str, tuple[float, ...]], list[Monotone]]:
    """The model's :class:`~hwcost.types.Monotone` declarations grouped by path and grid."""
    groups: dict[tuple[str, tuple[float, ...]], list[Monotone]] = {}
    for decl in model.monotone:
        groups.setdefault((decl.path, tuple(decl.grid)), []).append(decl)
    return groups


def check_monotone(model: CostModel) -> None:
    """Every declared :class:`~hwcost.types.Monotone` direction holds on its grid: relaxed value, relaxed
    derivative (automatic differentiation) and hard value."""
    for (path, grid_values), decls in _monotone_groups(model).items():
        grid = jnp.asarray(grid_values, jnp.float32)
        along, values_along = _along(model, path, tuple(decl.quantity for decl in decls))
        for label, hw, workload in cases(model):
            relaxed_all, slopes_all = (np.asarray(a, np.float64) for a in along(grid, hw, workload))
            hard_all = np.asarray(values_along(grid, model.hard(hw), workload), np.float64)
            for k, decl in enumerate(decls):
                _check_direction(label, decl, grid_values, relaxed_all[:, k], slopes_all[:, k], hard_all[:, k])


def _check_direction(
    label: str, decl: Monotone, grid: tuple[float, ...], relaxed: np.ndarray, slopes: np.ndarray, hard: np.ndarray
) -> None:
    """``AssertionError`` naming the first step where ``decl``'s direction fails along ``grid``."""
    sign = 1.0 if decl.increasing else -1.0
    scale = max(float(np.max(np.abs(relaxed))), 1e-30)
    for kind, values in (("relaxed", relaxed), ("hard", hard)):
        steps = sign * np.diff(values)
        if np.any(steps < -1e-6 * scale):
            i = int(np.argmin(steps))
            raise AssertionError(
                f"{label}: {kind} {decl.quantity} is not {'increasing' if decl.increasing else 'decreasing'}"
                f" in {decl.path}: {values[i]:.8g} at {grid[i]:g} -> {values[i + 1]:.8g} at {grid[i + 1]:g}"
            )
    if np.any(sign * slopes < -1e-6 * scale) or not np.all(np.isfinite(slopes)):
        i = int(np.argmin(np.nan_to_num(sign * slopes, nan=-np.inf)))
        raise AssertionError(
            f"{label}: d {decl.quantity} / d {decl.path} = {slopes[i]:.6g} at {grid[i]:g} has the wrong sign"
        )


def _at_density_one(workload: Any) -> Any:
    return dataclasses.replace(workload, **{name: 1.0 for name in _density_fields(workload)})


def check_dense_limit(model: CostModel) -> None:
    """At every density 1 the hard model's counts equal its closed-form dense counts (relative 1e-5)."""
    if model.dense_limit is None:
        return
    for label, hw, workload in cases(model):
        dense = _at_density_one(workload)
        h = model.hard(hw)
        counts = model.action_counts(h, dense)
        expected = model.dense_limit(h, dense)
        _close({k: counts[k] for k in expected}, dict(expected), 1e-5, f"{label}: dense limit")


def check_hard_is_exact(model: CostModel) -> None:
    """``hard(hw)`` calls no relaxation and its values do not depend on any relaxation temperature."""
    compiled = jax.jit(lambda a, b: _outputs(model, a, b))
    for label, hw, workload in cases(model):
        h = model.hard(hw)
        try:
            with relaxations_forbidden():
                jax.eval_shape(lambda a, b: _outputs(model, a, b), h, workload)
        except RuntimeError as err:
            raise AssertionError(f"{label}: the hard model is not exact: {err}") from None
        if not list(_smoothings(h)):
            continue
        base = compiled(h, workload)
        for factor in (0.25, 4.0):
            other = compiled(scale_temperatures(h, factor), workload)
            for key in base:
                if not np.array_equal(np.asarray(base[key]), np.asarray(other[key])):
                    raise AssertionError(f"{label}: hard {key} changes with the relaxation temperature (x{factor})")


def check_relaxed_converges_to_hard(model: CostModel) -> None:
    """With every temperature divided by 10^4 the relaxed values are within 1e-3 of the hard ones."""
    for label, hw, workload in cases(model):
        cold = _outputs(model, scale_temperatures(hw, 1e-4), workload)
        _close(cold, _outputs(model, model.hard(hw), workload), 1e-3, f"{label}: relaxed at T/1e4 vs hard")


def _expect_value_error(check: Callable[[Any], None], value: Any, field: str, what: str) -> None:
    try:
        check(value)
    except ValueError as err:
        if field not in str(err):
            raise AssertionError(f"{what}: the error {str(err)!r} does not name {field!r}") from None
        return
    raise AssertionError(f"{what}: accepted")


class _OtherWorkload:
    """A workload type no model prices."""


def check_input_checks(model: CostModel) -> None:
    """Sample inputs pass the model's checks; densities outside [0, 1] and non-finite leaves are rejected
    with a ``ValueError`` naming the field, by the check and by every concrete call of the bundle; a
    workload of a type the model does not price is a ``TypeError``."""
    for label, hw, workload in cases(model):
        model.check(hw, workload)
        for name in _density_fields(workload):
            for bad in (1.5, -0.1, float("nan")):
                bad_workload = dataclasses.replace(workload, **{name: bad})
                _expect_value_error(model.check_workload, bad_workload, name, f"{label}: {name}={bad}")
                for call in (model.action_counts, model.latency_cycles, model.energy_pj):
                    _expect_value_error(lambda w, call=call, hw=hw: call(hw, w), bad_workload, name,
                                        f"{label}: {getattr(call, '__name__', 'call')} at {name}={bad}")  # fmt: skip
        try:
            model.latency_cycles(hw, _OtherWorkload())
        except TypeError:
            pass
        else:
            raise AssertionError(f"{label}: a workload of another type is accepted")
        for path in _leaf_names(hw, ""):
            field = path.rsplit(".", 1)[-1]
            _expect_value_error(model.check_hardware, _with_leaf(hw, path, float("nan")), field,
                                f"{label}: hardware{path}=nan")  # fmt: skip


SAMPLE_SPECS: tuple[LayerSpec, ...] = (
    LayerSpec("fc", "fc", (300, 100)),
    LayerSpec("conv", "conv", (5, 5, 20, 50), in_hw=(12, 12), out_hw=(8, 8)),
)
"""Layer geometries on which :func:`check_lowering` lowers statistics (a LeNet fc and conv layer)."""


def sample_statistics(spec: LayerSpec, weight_density: float, input_density: float) -> LayerStatistics:
    """Statistics of a layer whose weights and inputs are uniformly ``*_density`` nonzero (every column live)."""
    fan_in = float(spec.fan_in)
    broadcasts = fan_in * input_density
    return LayerStatistics(
        kept_weights=weight_density * spec.num_weights,
        live_inputs=fan_in,
        broadcasts=broadcasts,
        weights_read=broadcasts * weight_density * spec.fan_out,
        input_density=input_density,
        spec=spec,
    )


def check_lowering(model: CostModel) -> None:
    """Statistics lower to a valid workload of the model; a sparse layer costs no more than the dense one;
    reverse-mode derivatives in the statistics (what training back-propagates) agree with finite differences
    (float64; forward mode of the model itself is :func:`check_gradients`' job)."""
    hw = model.default_hardware
    with jax.enable_x64(True):
        hw64 = _as_float(hw, jnp.float64)

    def lowered_cost(tree: tuple[LayerStatistics]) -> dict[str, jax.Array]:
        cost = network_cost(model, hw64, [model.lower(tree[0])])
        return {"energy_pj": cost.energy_pj, "latency_cycles": cost.latency_cycles}

    derivatives = _derivatives(lowered_cost, modes=("reverse",))
    for spec in SAMPLE_SPECS:
        dense_run = model.lower(sample_statistics(spec, 1.0, 1.0))
        sparse_run = model.lower(sample_statistics(spec, 0.1, 0.3))
        for run in (dense_run, sparse_run):
            if not isinstance(run, LayerRun) or not isinstance(run.workload, model.card.workloads):
                raise AssertionError(f"{model.name}: lowering {spec.kind} gave {run!r}, not a LayerRun of a "
                                     f"{' or '.join(t.__name__ for t in model.card.workloads)}")  # fmt: skip
            model.check_workload(run.workload)
        dense, sparse = network_cost(model, hw, [dense_run]), network_cost(model, hw, [sparse_run])
        for objective in ("energy", "latency"):
            d, s = float(dense.objective(objective)), float(sparse.objective(objective))
            if not (np.isfinite(s) and 0.0 <= s <= d):
                raise AssertionError(f"{model.name}: lowered sparse {spec.kind} {objective} {s} vs dense {d}")
        with jax.enable_x64(True):
            tree = _as_float((sample_statistics(spec, 0.1, 0.3),), jnp.float64)
            problems = _derivative_problems(derivatives, tree, lowered_cost, ("statistics",))
            if problems:
                raise AssertionError(f"{model.name}: lowered {spec.kind}: " + "; ".join(problems))


PROPERTIES: Mapping[str, Callable[[CostModel], None]] = {
    "terms": check_terms,
    "jit_equals_eager": check_jit_equals_eager,
    "vmap_equals_loop": check_vmap_equals_loop,
    "no_retrace": check_no_retrace,
    "gradients": check_gradients,
    "monotone": check_monotone,
    "dense_limit": check_dense_limit,
    "hard_is_exact": check_hard_is_exact,
    "relaxed_converges_to_hard": check_relaxed_converges_to_hard,
    "input_checks": check_input_checks,
    "lowering": check_lowering,
}
"""Every property, by name (the test suite parametrizes over these and the registry)."""


def check_all(model: CostModel) -> None:
    """Run every property on ``model``; the first broken promise raises ``AssertionError``."""
    for check in PROPERTIES.values():
        check(model)


def _strict(check: Callable[[CostModel], None]) -> Callable[[CostModel], None]:
    """``check`` under strict dtype promotion: a model mixes no float widths implicitly (a float32 sweep stays
    float32, a float64 gradient check float64)."""

    @functools.wraps(check)
    def strict(model: CostModel) -> None:
        with jax.numpy_dtype_promotion("strict"):
            check(model)

    return strict


PROPERTIES = {name: _strict(check) for name, check in PROPERTIES.items()}
