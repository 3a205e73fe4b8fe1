"""Bad hardware and workload values for every registered cost model, as hypothesis strategies, and the check
that the model's input checks refuse them by name.

For every registered model (:func:`hwcost.registry.all_cost_models`) the leaves of its hardware points
(default and samples, nested dataclasses such as ``smoothing`` included) and of its sample workloads are
found by walking the dataclasses, so a new model is fuzzed without editing this module. A case replaces one
leaf:

* ``must_reject``: NaN, an infinity or a negative number in any numeric leaf; zero in a workload size (every
  size is at least one); a density above 1; zero, a negative number or a fraction in a static integer field
  (``index_bits``, words per read). ``check_hardware`` / ``check_workload`` must raise ``ValueError`` whose
  message names the field (its dotted path).
* ``either``: any finite non-negative number (zero and fractions included, where a model may require
  ``>= 1``; huge and tiny ones too, such as ``1e300`` and ``1e-300``): accepted, or refused with a
  ``ValueError`` naming the field; never another exception. Every accepted value is priced: energy and
  latency finite and non-negative (the checks bound magnitudes, :mod:`hwcost.checks`).
* ``corner``: many leaves of the hardware and of the workload at once, each drawn from the range its check
  accepts on its own (the ends, values of :data:`LADDER`, log-uniform in between): accepted, or refused with a
  ``ValueError`` naming one of them; accepted, the relaxed and the hard model are priced (finite, >= 0), so
  no combination of accepted values (huge sizes with tiny temperatures, say) overflows in float32.
* a workload of a kind the model does not price (another workload type, ``None``, a number, a dict):
  ``TypeError`` or ``ValueError``, never an ``AttributeError`` from deep inside.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st

from hwcost.registry import all_cost_models, cost_model
from hwcost.types import ConvLayer, FcLayer


class Leaf(NamedTuple):
    """One numeric field of a hardware point or workload: dotted ``path``, and whether it is static (an int)."""

    path: str
    static: bool


def leaves(obj: Any, prefix: str = "") -> list[Leaf]:
    """Numeric leaves of a (nested) dataclass; booleans and text are skipped."""
    out = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = prefix + f.name
        if dataclasses.is_dataclass(value):
            out += leaves(value, path + ".")
        elif isinstance(value, bool) or isinstance(value, str):
            continue
        elif isinstance(value, int | float | np.number) or np.ndim(value) == 0:
            out.append(Leaf(path, bool(f.metadata.get("static"))))
    return out


def replace_leaf(obj: Any, path: str, value: Any) -> Any:
    """``obj`` with the leaf at dotted ``path`` replaced (frozen dataclasses rebuilt on the way)."""
    head, _, rest = path.partition(".")
    if not rest:
        return dataclasses.replace(obj, **{head: value})
    return dataclasses.replace(obj, **{head: replace_leaf(getattr(obj, head), rest, value)})


class ApiCase(NamedTuple):
    """One call: ``model.check_hardware`` (``target="hardware"``) or ``check_workload`` on ``obj``, which is
    the model's ``label`` point with ``path`` set to ``value``; ``expect`` is ``must_reject``, ``either`` or
    ``wrong_kind``."""

    model: str
    target: str
    label: str
    path: str
    value: Any
    expect: str

    def describe(self) -> dict[str, Any]:
        """JSON-able summary."""
        value = self.value.changes if isinstance(self.value, Corner) else self.value
        return {"model": self.model, "target": self.target, "label": self.label, "path": self.path,
                "value": repr(value), "expect": self.expect}  # fmt: skip


NEGATIVE = st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=True)
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])
ANY_FINITE = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1e-300, 1e300, 1e-308, 1e-40, 1e38, 2.0**31, 2.0**31 + 1, 2.0**62, 2.0**64]),
    st.floats(0, 1e12, allow_nan=False),
    st.floats(0, 3e38, allow_nan=False),
    st.integers(0, 10**6),
)
WRAPPERS = st.sampled_from([float, np.float64, np.asarray])
"""A Python float, a numpy scalar or a 0-d array: the checks see all three."""


def _wrap(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.tuples(WRAPPERS, value).map(lambda t: t[0](t[1]))


def _is_density(path: str) -> bool:
    return "density" in path.rsplit(".", 1)[-1]


ZERO_ALLOWED = ("padding",)
"""Workload leaves besides the densities for which 0 is a valid value (every other size must be positive)."""


def _must_reject(target: str, leaf: Leaf) -> st.SearchStrategy[Any]:
    if leaf.static:
        return st.one_of(st.integers(max_value=0), st.sampled_from([0.5, 1.5, float("nan")]))
    values = [NON_FINITE, NEGATIVE]
    if target == "workload" and _is_density(leaf.path):
        values.append(st.floats(min_value=1.000001, max_value=1e300))
    elif target == "workload" and leaf.path not in ZERO_ALLOWED:
        values.append(st.just(0.0))
    return _wrap(st.one_of(values))


def _either(leaf: Leaf) -> st.SearchStrategy[Any]:
    if leaf.static:
        return st.integers(0, 64)
    return _wrap(ANY_FINITE)


def _points(model: Any, target: str) -> dict[str, Any]:
    return model.hardware_points() if target == "hardware" else dict(model.sample_workloads())


def model_cases(name: str) -> st.SearchStrategy[ApiCase]:
    """Every kind of case for the registered model ``name``."""
    model = cost_model(name)
    strategies = []
    for target in ("hardware", "workload"):
        for label, point in sorted(_points(model, target).items()):
            for leaf in leaves(point):
                for expect, values in (("must_reject", _must_reject(target, leaf)), ("either", _either(leaf))):
                    strategies.append(values.map(functools.partial(_case, name, target, label, leaf.path, expect)))
    others = [t for t in (FcLayer, ConvLayer) if t not in model.card.workloads]
    wrong = [None, 1.0, {"in_features": 4}, "fc", model.default_hardware]
    wrong += [_sample_of(t) for t in others]
    strategies.append(st.sampled_from(wrong).map(lambda v: ApiCase(name, "workload", "-", "-", v, "wrong_kind")))
    singles, corners = st.one_of(strategies), corner_cases(name)
    # about one case in six is a corner (a plain one_of would draw almost only single leaves)
    return st.integers(0, 5).flatmap(lambda i: corners if i == 0 else singles)


def _case(model: str, target: str, label: str, path: str, expect: str, value: Any) -> ApiCase:
    return ApiCase(model, target, label, path, value, expect)


def _sample_of(kind: type) -> Any:
    if kind is FcLayer:
        return FcLayer(in_features=8.0, out_features=4.0, weight_density=0.5, activation_density=0.5)
    return ConvLayer(in_channels=2.0, out_channels=3.0, kernel_h=3.0, kernel_w=3.0, in_h=8.0, in_w=8.0, out_h=6.0,
                     out_w=6.0, weight_density=0.5, activation_density=0.5)  # fmt: skip


LADDER = (
    0.0, 1.2e-38, 1e-30, 1e-12, 1e-6, 1e-3, 0.01, 0.1, 0.5, 1.0, 2.0, 10.0, 100.0, 1e3, 65536.0, 1e6, 1e9,
    2.0**31, 1e12, 2.0**62, 1e20, 1e30, 3e38,
)  # fmt: skip
"""Values tried on each leaf alone to find the range its check accepts (the ends of the corner draws)."""


def accepted_values(model: Any, target: str, point: Any, leaf: Leaf) -> list[float]:
    """The values of :data:`LADDER` that ``model``'s check accepts at ``leaf`` of ``point``, the other leaves as
    they are."""
    check = model.check_hardware if target == "hardware" else model.check_workload
    out = []
    for value in LADDER:
        try:
            check(replace_leaf(point, leaf.path, value))
        except ValueError:
            continue
        out.append(value)
    return out


class Corner(NamedTuple):
    """A hardware point and a workload with several leaves replaced (``changes``: ``(target, path, value)``)."""

    hardware: Any
    workload: Any
    changes: tuple[tuple[str, str, float], ...]


class Range(NamedTuple):
    """One leaf of a corner's base: ``target`` (hardware or workload), dotted ``path``, the :data:`LADDER` values
    its check accepts on their own (``accepted``) and its ``default``."""

    target: str
    path: str
    accepted: tuple[float, ...]
    default: float


@functools.cache
def corner_bases(name: str) -> tuple[tuple[str, Any, Any, tuple[Range, ...]], ...]:
    """``(label, hardware, workload, ranges)``: the default hardware with the first sample workload of each
    workload type the model prices, and the accepted range of each of their leaves."""
    model = cost_model(name)
    hw = model.default_hardware
    firsts: dict[type, tuple[str, Any]] = {}
    for label, workload in model.sample_workloads().items():
        firsts.setdefault(type(workload), (label, workload))
    bases = []
    for label, workload in firsts.values():
        ranges = []
        for target, point in (("hardware", hw), ("workload", workload)):
            for leaf in leaves(point):
                values = () if leaf.static else tuple(accepted_values(model, target, point, leaf))
                if values:
                    ranges.append(Range(target, leaf.path, values, float(np.asarray(leaf_value(point, leaf.path)))))
        bases.append((f"default+{label}", hw, workload, tuple(ranges)))
    return tuple(bases)


def draw_in_range(r: Range, u: float, choice: int) -> float:
    """A value in ``r``'s accepted range from two random numbers (``u`` in [0, 1), ``choice`` in [0, 4)): an
    end, the default, an accepted ladder value, or log-uniform between the ends."""
    low, high = min(r.accepted), max(r.accepted)
    if choice == 0:
        return low if u < 0.5 else high
    if choice == 1:
        return r.default
    if choice == 2:
        return r.accepted[int(u * len(r.accepted)) % len(r.accepted)]
    positive_low = max(low, 1.2e-38)
    if high <= positive_low:
        return high
    return float(min(high, max(positive_low, np.exp(np.log(positive_low) + u * np.log(high / positive_low)))))


def leaf_value(obj: Any, path: str) -> Any:
    """The leaf of ``obj`` at dotted ``path``."""
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def corner_cases(name: str) -> st.SearchStrategy[ApiCase]:
    """``corner`` cases of the registered model ``name``: its default hardware and the first sample workload of
    one of its workload types, a random subset of their leaves replaced by values drawn from each leaf's
    accepted range (:func:`draw_in_range`)."""

    @st.composite
    def corner(draw: Any) -> ApiCase:
        label, hw, workload, ranges = draw(st.sampled_from(corner_bases(name)))
        changes = []
        for r in ranges:
            if draw(st.booleans()):
                value = draw_in_range(r, draw(st.floats(0, 1, exclude_max=True)), draw(st.integers(0, 3)))
                changes.append((r.target, r.path, value))
                if r.target == "hardware":
                    hw = replace_leaf(hw, r.path, value)
                else:
                    workload = replace_leaf(workload, r.path, value)
        paths = ",".join(f"{t}.{p}" for t, p, _ in changes) or "-"
        return ApiCase(name, "hardware+workload", label, paths, Corner(hw, workload, tuple(changes)), "corner")

    return corner()


def all_api_cases() -> st.SearchStrategy[ApiCase]:
    """Cases of every registered model, the model drawn first."""
    per_model = {m.name: model_cases(m.name) for m in all_cost_models()}
    return st.sampled_from(sorted(per_model)).flatmap(per_model.__getitem__)


def api_problem(case: ApiCase) -> str | None:
    """What the model's check does wrong on ``case`` (``None`` if it behaves as promised)."""
    model = cost_model(case.model)
    if case.expect == "corner":
        return _corner_problem(model, case.value)
    if case.expect == "wrong_kind":
        try:
            model.check_workload(case.value)
        except (TypeError, ValueError) as err:
            return None if str(err) else "refused a workload of the wrong kind with an empty message"
        except Exception as err:  # the finding
            return f"wrong-kind workload raised {type(err).__name__}: {err}"
        return f"accepted a workload of the wrong kind: {type(case.value).__name__}"
    point = _points(model, case.target)[case.label]
    check = model.check_hardware if case.target == "hardware" else model.check_workload
    try:
        bad = replace_leaf(point, case.path, case.value)
        check(bad)
    except ValueError as err:
        if case.path not in str(err):
            return f"ValueError does not name {case.path!r}: {err}"
        return None
    except Exception as err:  # the finding
        return f"{type(err).__name__} instead of ValueError: {err}"
    if case.expect == "must_reject":
        return f"accepted {case.target}.{case.path}={case.value!r}"
    return _priced_problem(model, case, bad)


def _price(model: Any, hw: Any, workload: Any) -> str | None:
    from hwcost.types import total

    energy = float(total(model.energy_pj(hw, workload)))
    latency = float(model.latency_cycles(hw, workload))
    if np.isfinite(energy) and np.isfinite(latency) and energy >= 0 and latency >= 0:
        return None
    return f"priced energy={energy} latency={latency}"


def _corner_problem(model: Any, corner: Corner) -> str | None:
    if not corner.changes:
        return None
    try:
        model.check(corner.hardware, corner.workload)
    except ValueError as err:
        if not any(path in str(err) for _, path, _ in corner.changes):
            return f"ValueError names none of the changed leaves: {err}"
        return None
    except Exception as err:  # the finding
        return f"{type(err).__name__} instead of ValueError: {err}"
    changed = ", ".join(f"{t}.{p}={v!r}" for t, p, v in corner.changes)
    for hw, kind in ((corner.hardware, "relaxed"), (model.hard(corner.hardware), "hard")):
        problem = _price(model, hw, corner.workload)
        if problem is not None:
            return f"accepted {changed}; the {kind} model {problem}"
    return None


def _priced_problem(model: Any, case: ApiCase, accepted: Any) -> str | None:
    hw = accepted if case.target == "hardware" else model.default_hardware
    workloads = [accepted] if case.target == "workload" else list(model.sample_workloads().values())[:1]
    for workload in workloads:
        problem = _price(model, hw, workload)
        if problem is not None:
            return f"accepted {case.target}.{case.path}={case.value!r}, {problem}"
    return None


__all__ = [
    "ApiCase",
    "Corner",
    "Range",
    "all_api_cases",
    "api_problem",
    "corner_bases",
    "corner_cases",
    "draw_in_range",
    "leaves",
    "model_cases",
    "replace_leaf",
]
