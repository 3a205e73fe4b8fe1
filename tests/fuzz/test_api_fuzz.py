"""Fuzzed library API: every registered cost model's ``check_hardware`` and ``check_workload`` refuse bad
fields (NaN, infinities, negatives, zero sizes, densities outside [0, 1], bad static integers) with a
``ValueError`` naming the field, and nothing else escapes (:mod:`tests.fuzz.api_cases`)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from hwcost.registry import names
from tests.fuzz import api_cases

FUZZ = settings(
    derandomize=True, max_examples=150, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip


@pytest.mark.parametrize("name", names())
def test_checks_of_each_registered_model_refuse_bad_fields_by_name(name):
    @FUZZ
    @given(api_cases.model_cases(name))
    def fuzz(case):
        problem = api_cases.api_problem(case)
        assert problem is None, f"{case.describe()}: {problem}"

    fuzz()


def test_every_model_has_leaves_to_fuzz():
    from hwcost.registry import all_cost_models

    for model in all_cost_models():
        assert api_cases.leaves(model.default_hardware), model.name
        assert all(api_cases.leaves(w) for w in model.sample_workloads().values()), model.name


CORNERS_PER_BASE = 1500
"""Random combinations per model and workload type, priced in one vectorized call (a few seconds per model)."""


@pytest.mark.parametrize("name", names())
def test_every_accepted_combination_of_extreme_values_prices_finite(name):
    """Many leaves at once at the ends of their accepted ranges (huge sizes with tiny temperatures, the largest
    energies with the most PEs, ...): whatever the model's checks accept, its relaxed and hard energy and
    latency are finite and non-negative in float32 (the checks bound magnitudes, :mod:`hwcost.checks`)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from hwcost.registry import cost_model
    from hwcost.types import total

    model = cost_model(name)
    rng = np.random.default_rng(0)
    for label, hw0, workload0, ranges in api_cases.corner_bases(name):
        hws, workloads, rows = [], [], []
        for _ in range(CORNERS_PER_BASE):
            hw, workload, row = hw0, workload0, {}
            for r in ranges:
                if rng.random() < 0.7:
                    row[r.path] = value = api_cases.draw_in_range(r, rng.random(), int(rng.integers(4)))
                    if r.target == "hardware":
                        hw = api_cases.replace_leaf(hw, r.path, value)
                    else:
                        workload = api_cases.replace_leaf(workload, r.path, value)
            try:
                model.check(hw, workload)
            except ValueError:
                continue
            hws.append(hw)
            workloads.append(workload)
            rows.append(row)
        assert len(rows) > CORNERS_PER_BASE // 4, f"{name} {label}: the checks refuse almost every combination"
        stack = lambda trees: jax.tree.map(lambda *xs: jnp.asarray(np.asarray(xs, np.float32)), *trees)
        hw_batch, workload_batch = stack(hws), stack(workloads)
        for kind, batch in (("relaxed", hw_batch), ("hard", model.hard(hw_batch))):

            def price(h, w):
                return total(model.energy_pj(h, w)), model.latency_cycles(h, w)

            energy, latency = (np.asarray(x) for x in jax.jit(jax.vmap(price))(batch, workload_batch))
            bad = ~(np.isfinite(energy) & np.isfinite(latency) & (energy >= 0) & (latency >= 0))
            assert not bad.any(), (
                f"{name} {label}, {kind} model: {int(bad.sum())} of {len(rows)} accepted combinations price "
                f"energy={energy[bad][0]} latency={latency[bad][0]}, e.g. {rows[int(np.flatnonzero(bad)[0])]}"
            )
