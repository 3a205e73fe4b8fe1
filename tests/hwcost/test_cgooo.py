"""hwcost.cgooo: the property suite, exactness at the profiled grid points, and input checks."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from hwcost import cgooo, testing
from hwcost.types import CostModel, ModelCard


def _programs_only(layer):
    raise TypeError("the core models price programs (CoreProfile), not network layers")


MODEL = CostModel(
    card=ModelCard("cgooo-test", "in-order, OoO and CG-OoO cores", "arXiv 1606.01607", (cgooo.CoreProfile,)),
    per_action_energy_pj=cgooo.per_action_energy_pj,
    action_counts=cgooo.action_counts,
    latency_cycles=cgooo.latency_cycles,
    default_hardware=cgooo.DEFAULT_CORE,
    sample_workloads=cgooo.sample_workloads,
    lower=_programs_only,
    check_hardware=cgooo.check_hardware,
    check_workload=cgooo.check_workload,
    clock_mhz=cgooo.clock_mhz,
    sample_hardware=cgooo.sample_hardware,
    monotone=cgooo.MONOTONE,
    counts_and_latency=cgooo.counts_and_latency,
)


@pytest.mark.parametrize("prop", sorted(set(testing.PROPERTIES) - {"lowering", "dense_limit"}))
def test_model_has_property(prop):
    testing.PROPERTIES[prop](MODEL)


def _hard(hw: cgooo.CoreHardware) -> cgooo.CoreHardware:
    return dataclasses.replace(hw, smoothing=dataclasses.replace(hw.smoothing, hard=True))


@pytest.fixture(scope="module")
def checksum() -> cgooo.CoreProfile:
    return cgooo.committed_profiles()["checksum"]


def test_hard_cycles_at_grid_points_are_the_profiled_sums_plus_the_penalties(checksum):
    # float32: a product of one factor per timing parameter, each exactly 1 at the authors' values
    penalty = checksum.mispredicts * 20.0 + 1.0  # and the last instruction's cycle
    for i, rob in enumerate(cgooo.ROB_GRID):
        hw = _hard(dataclasses.replace(cgooo.OOO_CORE, rob_entries=rob))
        expected = checksum.ooo_rob_cycles[i] + penalty
        assert float(cgooo.latency_cycles(hw, checksum)) == pytest.approx(expected, rel=1e-5)
    for i, h in enumerate(cgooo.HEAD_BUFFER_GRID):
        hw = _hard(dataclasses.replace(cgooo.DEFAULT_CORE, head_buffer_entries=h))
        expected = checksum.cgooo_head_buffer_cycles[i] + penalty
        assert float(cgooo.latency_cycles(hw, checksum)) == pytest.approx(expected, rel=1e-5)
    for i, w in enumerate(cgooo.WIDTH_GRID):
        hw = _hard(dataclasses.replace(cgooo.INO_CORE, width=w))
        assert float(cgooo.latency_cycles(hw, checksum)) == pytest.approx(checksum.ino_cycles[i] + penalty, rel=1e-5)


def test_profiled_interval_times_never_grow_with_a_timing_parameter():
    # every window, width, queue and look-ahead relaxes a constraint of the max-plus recurrence; with the
    # monotone interpolation this is what makes the latency non-increasing in each timing parameter
    for name, profile in cgooo.committed_profiles().items():
        for core, grids in cgooo.TIMING_GRIDS.items():
            for field, _, profile_field in grids:
                values = np.asarray(getattr(profile, profile_field))
                assert np.all(np.diff(values) <= 0.0), (name, core, field, values)


def test_interpolation_is_monotone_between_grid_points_and_smooth_in_the_data():
    grid = (1.0, 2.0, 4.0, 8.0)
    flat_then_steep = np.array([100.0, 100.0, 40.0, 39.0])
    xs = np.linspace(1.0, 8.0, 200)
    with jax.enable_x64(True):  # float64: float32 rounding of exp(log(100)) alone moves by 5e-5
        ys = np.array([float(cgooo.monotone_interpolate(x, grid, flat_then_steep)) for x in xs])
    assert np.all(np.diff(ys) <= 1e-9)
    assert ys[0] == pytest.approx(100.0) and ys[-1] == pytest.approx(39.0)
    for x, y in zip(grid, flat_then_steep, strict=True):
        assert float(cgooo.monotone_interpolate(x, grid, flat_then_steep)) == pytest.approx(y)


def test_local_rf_size_moves_values_between_the_local_and_global_files(checksum):
    counts = {}
    for entries in (0.0, 4.0, 20.0):
        hw = _hard(dataclasses.replace(cgooo.DEFAULT_CORE, local_rf_entries=entries))
        counts[entries] = cgooo.action_counts(hw, checksum)
    assert float(counts[0.0]["local_rf.write"]) == 0.0
    assert float(counts[4.0]["local_rf.write"]) < float(counts[20.0]["local_rf.write"])
    for c in counts.values():
        total = float(c["local_rf.read"]) + float(c["global_rf.read"])
        assert total == pytest.approx(checksum.operands)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"core": "vliw"}, r"core='vliw'.*ino, ooo, cgooo"),
        ({"rob_entries": 1000.0}, r"rob_entries=1000.*\[16, 512\]"),
        ({"width": 0.5}, r"width=0.5"),
        ({"skipahead_blocks": 11.0, "windows": 8.0}, r"skipahead_blocks=11 with windows=8; allowed: at most windows"),
    ],
)
def test_bad_hardware_is_named(change, match):
    with pytest.raises(ValueError, match=match):
        cgooo.check_hardware(dataclasses.replace(cgooo.DEFAULT_CORE, **change))


def test_bad_profiles_are_named(checksum):
    with pytest.raises(ValueError, match=r"loads \+ stores \+ muldiv"):
        cgooo.check_workload(dataclasses.replace(checksum, loads=checksum.instructions))
    with pytest.raises(ValueError, match=r"ooo_rob_cycles has shape \(3,\); allowed: \(7,\)"):
        cgooo.check_workload(dataclasses.replace(checksum, ooo_rob_cycles=np.ones(3)))
    values = cgooo.profile_to_dict(checksum)
    del values["blocks"]
    with pytest.raises(ValueError, match=r"missing: \['blocks'\]"):
        cgooo.profile_from_dict(values)
