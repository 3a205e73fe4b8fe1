"""A valid ``hwcost train`` report and hypothesis strategies for JSON that is not one (for ``hwcost report``)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from hwcost.cli.report import BEST_KEYS, REPORT_KEYS, ROW_KEYS

VALID_REPORT: dict[str, Any] = {
    "model": "lenet300", "hardware": "eie", "objective": "energy", "exact_source": "archsim", "exact_unit": "pJ",
    "dense_exact": 1.0e6,
    "rows": [
        {"point": "dense", "kind": "dense", "test_error_pct": 1.5, "exact_rel_dense": 1.0, "exact": 1.0e6},
        {"point": "lambda-0.1", "kind": "joint", "test_error_pct": 1.6, "exact_rel_dense": 0.2, "exact": 2.0e5},
        {"point": "magnitude-0.1", "kind": "magnitude", "test_error_pct": 1.7, "exact_rel_dense": 0.4, "exact": 4.0e5},
    ],
    "best_ratio_vs_magnitude": {"ratio": 2.0, "baseline_error_pct": 1.7, "baseline_cost": 4.0e5,
                                "joint_error_pct": 1.6, "joint_cost": 2.0e5},
    "dominance_vs_deep_compression": {"baseline_error_pct": 1.8, "baseline_cost": 5.0e5, "ratio": 2.5},
    "points": {},
}  # fmt: skip
"""A report as ``hwcost train`` writes it (``hwcost report`` prints it, exit 0)."""

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)  # fmt: skip


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, none of which is a report (every report has all of :data:`REPORT_KEYS`)."""
    values = st.recursive(
        _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
        max_leaves=12,
    )  # fmt: skip
    return values.filter(lambda v: not (isinstance(v, dict) and all(k in v for k in REPORT_KEYS)))


def _wrong_values(kind: type | tuple[type, ...]) -> st.SearchStrategy[Any]:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    candidates: list[Any] = [None, True, [], {}, [1.0], {"a": 1}]
    if str not in kinds:
        candidates += ["text", ""]
    if int not in kinds and float not in kinds:
        candidates += [0, 1.5]
    else:
        candidates += [10**400, -(10**400)]  # a JSON integer no float holds (no report has one)
    if list in kinds:
        candidates += [[], [1, 2], [None], [[]], ["row"]]

    def wrong(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, kinds) or isinstance(v, list):  # every list here is bad rows
            return True
        return isinstance(v, int) and abs(v) > 1e308

    return st.sampled_from(candidates).filter(wrong)


def broken_reports() -> st.SearchStrategy[dict[str, Any]]:
    """:data:`VALID_REPORT` with one required key (top level, of a row, of the best-ratio summary) left out or
    given a value of the wrong type (or a number beyond what a float holds)."""
    places: list[tuple[tuple[Any, ...], str, type | tuple[type, ...]]] = []
    places += [((), key, kind) for key, kind in REPORT_KEYS.items()]
    for i in range(len(VALID_REPORT["rows"])):
        places += [(("rows", i), key, kind) for key, kind in ROW_KEYS.items()]
    places += [(("best_ratio_vs_magnitude",), key, kind) for key, kind in BEST_KEYS.items()]
    places += [(("dominance_vs_deep_compression",), "ratio", (int, float))]

    def build(place: tuple[tuple[Any, ...], str, Any], value: Any, drop: bool) -> dict[str, Any]:
        report = copy.deepcopy(VALID_REPORT)
        node: Any = report
        for step in place[0]:
            node = node[step]
        if drop:
            del node[place[1]]
        else:
            node[place[1]] = value
        return report

    optional = ("dominance_vs_deep_compression",)  # its ratio may be null or absent (no joint point as accurate)
    return st.sampled_from(places).flatmap(
        lambda p: st.tuples(
            st.just(p),
            _wrong_values(p[2]).filter(lambda v: v is not None or p[0] != optional),
            st.just(False) if p[0] == optional else st.booleans(),
        ).map(lambda t: build(*t))
    )
