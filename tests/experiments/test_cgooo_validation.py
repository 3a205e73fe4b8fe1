"""The core profile of a trace and the core models against archsim on the committed RV64IM fixture."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from archsim import cgooo as sim
from archsim import cores
from archsim.traces import rv64
from hwcost import cgooo
from hwcost.experiments import cgooo_validation as cv
from hwcost.experiments import core_profile


@pytest.fixture(scope="module")
def fixture_trace() -> rv64.Trace:
    return rv64.run(cv.FIXTURE_ELF).trace


@pytest.fixture(scope="module")
def row(fixture_trace) -> dict:
    return cv.validate_program("checksum", fixture_trace)


def test_committed_sample_profile_is_the_profile_of_the_fixture(fixture_trace):
    fresh = cgooo.profile_to_dict(core_profile.profile(fixture_trace, cores.prepare(fixture_trace), name="checksum"))
    committed = cgooo.profile_to_dict(cgooo.committed_profiles()["checksum"])
    assert fresh.keys() == committed.keys()
    for key, value in fresh.items():
        assert np.allclose(value, committed[key], rtol=1e-12) if key != "name" else value == committed[key], key


def test_the_model_prices_with_archsims_table_of_the_authors_energies():
    # the same source (miladm/CG-OoO base.yaml) in both packages, which may not import each other
    assert cgooo.ACCESS_PJ == dict(cores.AUTHOR_ENERGY.access_pj)
    assert cgooo.LEAKAGE_PJ_PER_CYCLE == dict(cores.AUTHOR_ENERGY.leakage_pj_per_cycle)


def test_model_counts_what_archsim_counts_and_its_cycles_are_close(row):
    for core in cgooo.CORES:
        assert row[f"{core}_count_mismatches"] == {}
        assert abs(row[core]["cycles_error"]) < 0.02, core
        assert abs(row[core]["energy_error"]) < 0.01, core
    assert row["archsim"]["energy_gap_closed"] == pytest.approx(row["model"]["energy_gap_closed"], abs=0.01)


def test_in_order_interval_time_is_archsim_on_a_dependence_chain_with_a_miss():
    # a cold L1-I (the line from memory), a load missing to memory, four dependent adds, a not-taken branch:
    # one interval, no mispredictions
    n = 6
    cls = np.array([rv64.LOAD, *[rv64.ALU] * 4, rv64.BRANCH], np.int8)
    trace = rv64.Trace(
        pc=np.arange(n, dtype=np.int64) * 4 + 0x1000, op=np.zeros(n, np.int16), cls=cls,
        rd=np.array([5, 5, 5, 5, 5, -1], np.int8), rs1=np.array([10, 5, 5, 5, 5, 5], np.int8),
        rs2=np.full(n, -1, np.int8), taken=np.zeros(n, bool), target=np.array([*[-1] * 5, 0x2000], np.int64),
        mem_address=np.array([0x80000, *[-1] * 5], np.int64), mem_size=np.array([8, *[0] * 5], np.int8),
    )  # fmt: skip
    p = cores.prepare(trace)
    profile = core_profile.profile(trace, p)
    assert profile.mispredicts == 0.0
    hard = dataclasses.replace(cgooo.INO_CORE, smoothing=dataclasses.replace(cgooo.INO_CORE.smoothing, hard=True))
    assert float(cgooo.latency_cycles(hard, profile)) == pytest.approx(sim.simulate_ino(p).cycles, rel=1e-6)


def test_validate_cgooo_on_the_command_line(capsys, monkeypatch):
    from hwcost.cli import main

    monkeypatch.setattr(cv, "DESIGN_POINTS", cv.DESIGN_POINTS[:2])
    assert main(["validate", "cgooo", "--size", "fixture", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("CG-OoO") and "checksum" in text and "paper 64% / 1.9x" in text
    assert main(["validate", "cgooo", "--size", "fixture", "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    (program,) = report["programs"]
    assert program["name"] == "checksum"
    for core in cgooo.CORES:
        for source in ("archsim", "model"):
            assert program[core][source]["cycles"] > 0 and program[core][source]["energy_pj"] > 0
    assert 0.0 < report["energy_gap_closed"] < 1.5 and report["edp_inverse_over_ooo"] > 0.0
    assert report["summary"]["design_points"]["evaluated"] == 2
    with pytest.raises(SystemExit) as stop:
        main(["validate", "cgooo", "--size", "huge"])
    assert stop.value.code == 2 and "invalid choice: 'huge'" in capsys.readouterr().err


def test_simulate_cpu_on_the_command_line(tmp_path, capsys):
    from hwcost.cli import main

    assert main(["simulate", "cpu", "--trace", str(cv.FIXTURE_ELF), "--core", "inorder", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["quantity"]: row for row in report["summary"]}
    assert rows["cycles"]["archsim"] == 10607 and abs(rows["cycles"]["model_over_archsim"] - 1.0) < 0.01
    assert {"cycles", "ipc", "energy_uj"} <= set(rows)
    counted = {row["action"]: row for row in report["breakdown"]}
    assert counted["ino_rf.read"]["archsim_count"] == counted["ino_rf.read"]["model_count"]
    saved = rv64.save_trace(tmp_path / "checksum.npz", rv64.run(cv.FIXTURE_ELF).trace)
    assert main(["simulate", "cpu", "--trace", str(saved), "--core", "cgooo", "--hw", "head_buffer_entries=8"]) == 0
    assert "head_buffer_entries=8" in capsys.readouterr().out
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not a zip")
    for argv, message in (
        (["--trace", str(tmp_path / "junk.npz"), "--core", "ooo"], "junk.npz"),
        (["--trace", str(saved), "--core", "ooo", "--hw", "clock_mhz=100"], "clock_mhz"),
        (["--trace", str(saved), "--core", "ooo", "--hw", "head_buffer_entries=8"], "not a parameter of the ooo"),
        (["--trace", str(saved), "--core", "ooo", "--hw", "rob_entries=2000"], "rob_entries=2000"),
        (["--trace", str(saved)], "--core"),
    ):
        assert main(["simulate", "cpu", *argv]) == 2
        assert message in capsys.readouterr().err
