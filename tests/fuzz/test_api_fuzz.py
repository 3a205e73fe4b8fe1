"""Fuzzed library API: every registered cost model's ``check_hardware`` and ``check_workload`` refuse bad
fields (NaN, infinities, negatives, zero sizes, densities outside [0, 1], bad static integers) with a
``ValueError`` naming the field, and nothing else escapes (:mod:`tests.fuzz.api_cases`)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from hwcost.registry import names
from tests.fuzz import api_cases

FUZZ = settings(
    derandomize=True, max_examples=300, deadline=None, database=None,
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
