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
  ``>= 1``): accepted, or refused with a ``ValueError`` naming the field; never another exception. An
  accepted value (zero, or between :data:`PRICED_FROM` and :data:`PRICED_UP_TO`) is priced: energy and
  latency finite and non-negative.
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
        return {"model": self.model, "target": self.target, "label": self.label, "path": self.path,
                "value": repr(self.value), "expect": self.expect}  # fmt: skip


NEGATIVE = st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=True)
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])
ANY_FINITE = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1e-300, 1e300]), st.floats(0, 1e12, allow_nan=False), st.integers(0, 10**6)
)
WRAPPERS = st.sampled_from([float, np.float64, np.asarray])
"""A Python float, a numpy scalar or a 0-d array: the checks see all three."""


def _wrap(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.tuples(WRAPPERS, value).map(lambda t: t[0](t[1]))


def _is_density(path: str) -> bool:
    return "density" in path.rsplit(".", 1)[-1]


def _must_reject(target: str, leaf: Leaf) -> st.SearchStrategy[Any]:
    if leaf.static:
        return st.one_of(st.integers(max_value=0), st.sampled_from([0.5, 1.5, float("nan")]))
    values = [NON_FINITE, NEGATIVE]
    if target == "workload" and _is_density(leaf.path):
        values.append(st.floats(min_value=1.000001, max_value=1e300))
    elif target == "workload":
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
    return st.one_of(strategies)


def _case(model: str, target: str, label: str, path: str, expect: str, value: Any) -> ApiCase:
    return ApiCase(model, target, label, path, value, expect)


def _sample_of(kind: type) -> Any:
    if kind is FcLayer:
        return FcLayer(in_features=8.0, out_features=4.0, weight_density=0.5, activation_density=0.5)
    return ConvLayer(in_channels=2.0, out_channels=3.0, kernel_h=3.0, kernel_w=3.0, in_h=8.0, in_w=8.0, out_h=6.0,
                     out_w=6.0, weight_density=0.5, activation_density=0.5)  # fmt: skip


def all_api_cases() -> st.SearchStrategy[ApiCase]:
    """Cases of every registered model, the model drawn first."""
    per_model = {m.name: model_cases(m.name) for m in all_cost_models()}
    return st.sampled_from(sorted(per_model)).flatmap(per_model.__getitem__)


def api_problem(case: ApiCase) -> str | None:
    """What the model's check does wrong on ``case`` (``None`` if it behaves as promised)."""
    model = cost_model(case.model)
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
    size = abs(float(np.asarray(case.value)))
    if size == 0 or PRICED_FROM <= size <= PRICED_UP_TO:
        return _priced_problem(model, case, bad)
    return None


PRICED_FROM, PRICED_UP_TO = 1e-6, 1e9
"""Accepted values of this size (or zero) are priced too: energy and latency must be finite and >= 0. Others
are not: the models compute in float32, and sizes the checks accept beyond its range (``in_features=1e300``,
``word_bits=1e-308``) come out NaN."""


def _priced_problem(model: Any, case: ApiCase, accepted: Any) -> str | None:
    from hwcost.types import total

    hw = accepted if case.target == "hardware" else model.default_hardware
    workloads = [accepted] if case.target == "workload" else list(model.sample_workloads().values())[:1]
    for workload in workloads:
        energy = float(total(model.energy_pj(hw, workload)))
        latency = float(model.latency_cycles(hw, workload))
        if not (np.isfinite(energy) and np.isfinite(latency) and energy >= 0 and latency >= 0):
            return f"accepted {case.target}.{case.path}={case.value!r}, priced energy={energy} latency={latency}"
    return None


__all__ = ["ApiCase", "all_api_cases", "api_problem", "leaves", "model_cases", "replace_leaf"]
