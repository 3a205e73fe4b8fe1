"""Design search on CG-OoO with the interval model, checked on archsim."""

from __future__ import annotations

import pytest

from archsim.traces import rv64
from hwcost import cgooo
from hwcost.experiments import cgooo_design as cd
from hwcost.experiments import cgooo_validation as cv


@pytest.fixture(scope="module")
def found() -> dict:
    profiles = {"checksum": cgooo.committed_profiles()["checksum"]}
    return cd.search(profiles, power_bound=1.0, steps=25, learning_rate=0.1)


def test_search_lowers_the_objective_within_the_power_bound(found):
    assert found["history"][-1]["objective"] < found["history"][0]["objective"]
    r = found["rounded"]
    assert r["windows"] % 4 == 0 and 1 <= r["skipahead_blocks"] <= r["windows"] - 1
    for name, (lo, hi) in cd.SEARCHED.items():
        assert lo <= found["relaxed"][name] <= hi


def test_design_found_runs_on_archsim_beside_the_authors(found):
    profiles = cgooo.committed_profiles()
    (row,) = cd.check_on_archsim({"checksum": rv64.run(cv.FIXTURE_ELF).trace}, profiles, found["rounded"])
    for label in ("authors", "found"):
        assert row[label]["archsim"]["cycles"] > 0
        assert row[label]["model"]["cycles"] == pytest.approx(row[label]["archsim"]["cycles"], rel=0.05)
    assert row["model_edp_found_over_authors"] == pytest.approx(row["archsim_edp_found_over_authors"], rel=0.05)


def test_the_relaxed_objective_of_a_long_program_is_finite_when_compiled():
    # spmv_csc through the search's design map: the product of eight interpolated times over their references
    # (each about 9e4 cycles) came out inf in float32 once compiled (the factors are now summed in logs)
    import dataclasses

    import jax
    import numpy as np

    long = cgooo.committed_profiles()["spmv_csc"]
    warm = dataclasses.replace(cgooo.DEFAULT_CORE.smoothing, temperature=cd.SEARCH_TEMPERATURE)
    base = dataclasses.replace(cgooo.DEFAULT_CORE, smoothing=warm)
    z = cd._logits(base)
    eager = float(cd.edp_and_power(cd.design(z, base), long)[0])
    compiled = float(jax.jit(lambda z: cd.edp_and_power(cd.design(z, base), long)[0])(z))
    assert np.isfinite(compiled) and compiled == pytest.approx(eager, rel=1e-4)
