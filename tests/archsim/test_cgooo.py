"""The three core models of archsim.cgooo (in-order, out-of-order, CG-OoO) over the same traces: hand-built
traces whose cycle counts are derived by hand in the comments, the ordering of the cores, determinism, count
identities, the energy identity, and named errors for bad parameters and malformed traces; then the
committed RV64IM fixture and, with the cross compiler, one small kernel of the program set."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import cgooo, cores
from archsim.traces import rv64

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "riscv"
PERFECT = cores.SharedConfig(perfect_icache=True, perfect_dcache=True)
PERFECT_I = cores.SharedConfig(perfect_icache=True)
CORES = ("ino", "ooo", "cgooo")


def make_trace(rows: list[dict]) -> rv64.Trace:
    """A trace from rows with keys cls (a class name), rd, rs1, rs2, taken, target, addr; pcs 4 apart from 0x1000
    unless a row gives ``pc``."""
    n = len(rows)
    pc = np.zeros(n, np.int64)
    for i, r in enumerate(rows):
        pc[i] = r.get("pc", 0x1000 + 4 * i)
    cls = np.array([rv64.CLASSES.index(r["cls"]) for r in rows], np.int8)
    mem = np.isin(cls, (rv64.LOAD, rv64.STORE))
    return rv64.Trace(
        pc=pc,
        op=np.zeros(n, np.int16),
        cls=cls,
        rd=np.array([r.get("rd", -1) for r in rows], np.int8),
        rs1=np.array([r.get("rs1", -1) for r in rows], np.int8),
        rs2=np.array([r.get("rs2", -1) for r in rows], np.int8),
        taken=np.array([r.get("taken", r["cls"] == "jump") for r in rows], bool),
        target=np.array([r.get("target", -1) for r in rows], np.int64),
        mem_address=np.where(mem, np.array([r.get("addr", -1) for r in rows], np.int64), -1),
        mem_size=np.where(mem, 8, 0).astype(np.int8),
    )


def run_all(trace: rv64.Trace, shared: cores.SharedConfig = PERFECT) -> dict[str, cores.CoreResult]:
    return cgooo.simulate_all(trace, shared)


def test_dependency_chain_takes_one_cycle_per_link_on_every_core():
    # k dependent ALU ops: i0 dispatches in cycle 0, issues in 1, completes in 2; i_j issues in j + 1 and
    # completes in j + 2; the last commits in k + 1, so the run takes k + 2 cycles on every core.
    k = 10
    rows = [{"cls": "alu", "rd": 5, "rs1": 5 if i else -1} for i in range(k)]
    for name, r in run_all(make_trace(rows)).items():
        assert r.cycles == k + 2, name
        assert r.instructions == k
        assert r.commit_cycles + sum(r.stalls.values()) == r.cycles


def test_independent_work_is_limited_by_the_width():
    # 12 independent ALU ops, 4-wide: groups of 4 dispatch in cycles 0, 1, 2, issue in 1, 2, 3 and commit in
    # 2, 3, 4: 5 cycles. CG-OoO: one block; its head buffer (4) lets i4 issue once i0..i3 have (cycle 2), and
    # the block commits after its last completion (cycle 4): also 5.
    rows = [{"cls": "alu", "rd": 1 + i % 31} for i in range(12)]
    for name, r in run_all(make_trace(rows)).items():
        assert r.cycles == 5, name
        assert r.ipc == pytest.approx(12 / 5)
    # width 2: 6 dispatch cycles, issue in 1..6, last commit 7: 8 cycles (in-order and out-of-order alike)
    narrow = dataclasses.replace(PERFECT, width=2)
    for name in ("ino", "ooo"):
        assert run_all(make_trace(rows), narrow)[name].cycles == 8


def test_mispredicted_branch_costs_the_penalty_after_it_resolves():
    # i0: a taken branch, cold predictor (weakly not-taken) and cold BTB: mispredicted. It issues in 1 and
    # completes in 2; the next instruction enters 20 cycles later (22), issues in 23, completes and commits in
    # 24: 25 cycles. Cycles 3..21 (19) wait for the redirect.
    rows = [{"cls": "branch", "rs1": 0, "rs2": 0, "taken": True, "target": 0x1008},
            {"cls": "alu", "rd": 1, "pc": 0x1008}]  # fmt: skip
    for name, r in run_all(make_trace(rows)).items():
        assert r.cycles == 25, name
        assert r.stalls["branch_mispredict"] == 19, name
    penalty = dataclasses.replace(PERFECT, mispredict_penalty_cycles=5)
    assert run_all(make_trace(rows), penalty)["ooo"].cycles == 10


def test_predicted_branch_costs_nothing():
    # A loop branch taken 20 times, then not taken: after warm-up the predictor and BTB are right.
    rows = []
    for it in range(21):
        rows.append({"cls": "alu", "rd": 5, "rs1": 5, "pc": 0x1000})
        rows.append({"cls": "branch", "rs1": 5, "rs2": 0, "taken": it < 20, "target": 0x1000, "pc": 0x1004})
    p = cores.prepare(make_trace(rows), PERFECT)
    assert sum(p.mispredicted) <= 3
    assert p.counts["bpred.read"] == 21 and p.counts["btb.search"] == 21


def test_load_miss_goes_to_memory():
    # One cold load: it misses L1, L2 and L3 and takes the memory latency (100): issue 1, complete 101,
    # commit 101, 102 cycles, the 100 executing cycles counted as a data-cache miss. A second load to the same
    # line afterwards hits the L1 (3 cycles).
    rows = [{"cls": "load", "rd": 5, "rs1": 10, "addr": 0x10000}]
    for name, r in run_all(make_trace(rows), PERFECT_I).items():
        assert r.cycles == 102, name
        assert r.stalls["dcache_miss"] == 100
        assert r.counts["memory.read"] == 1 and r.counts["l2.read"] == 1 and r.counts["l1d.read"] == 1
    p = cores.prepare(make_trace(rows * 2), PERFECT_I)
    assert p.data_level == [3, 0] and p.latency == [100, 3]


def test_out_of_order_cores_overlap_independent_misses():
    # i0 load A (miss, 100), i1 add depending on i0, i2 load B (another line, miss). In order, i2 issues after
    # i1 (cycle 101) and completes in 201: 202 cycles. Out of order (and in CG-OoO's head buffer), i2 issues in
    # cycle 1 with i0 and completes in 101; i1 completes in 102: 103 cycles.
    rows = [{"cls": "load", "rd": 5, "rs1": 10, "addr": 0x10000}, {"cls": "alu", "rd": 6, "rs1": 5},
            {"cls": "load", "rd": 7, "rs1": 10, "addr": 0x90000}]  # fmt: skip
    r = run_all(make_trace(rows), PERFECT_I)
    assert r["ino"].cycles == 202
    assert r["ooo"].cycles == 103
    assert r["cgooo"].cycles == 103


def test_skipahead_limits_cgooo_across_blocks():
    # Block 0: i0 load A (miss, issue 1, complete 101), i1 add on i0 (issue 101), i2 a jump (cold BTB:
    # mispredicted; issue 1, complete 2, redirect 22). Block 1: i3 load B (miss), dispatched in 22.
    # Skipahead 5: block 1 issues in 23 beside block 0's unissued add, completes in 123: 124 cycles (as OoO).
    # Skipahead 1: block 1 waits until block 0 has issued everything (101), issues in 102: 203 cycles.
    # In order: the jump issues after the add (101), the redirect comes at 122, i3 completes in 223: 224.
    rows = [{"cls": "load", "rd": 5, "rs1": 10, "addr": 0x10000}, {"cls": "alu", "rd": 6, "rs1": 5},
            {"cls": "jump", "target": 0x100C}, {"cls": "load", "rd": 7, "rs1": 10, "addr": 0x90000}]  # fmt: skip
    tr = make_trace(rows)
    assert cgooo.simulate_cgooo(tr, shared=PERFECT_I).cycles == 124
    assert cgooo.simulate_cgooo(tr, cgooo.CGOoOConfig(skipahead_blocks=1), shared=PERFECT_I).cycles == 203
    assert cgooo.simulate_ooo(tr, shared=PERFECT_I).cycles == 124
    assert cgooo.simulate_ino(tr, shared=PERFECT_I).cycles == 224


def test_few_block_windows_stall_cgooo_dispatch():
    # Block 0: a load miss, an add on it (issues in 101), a not-taken branch; then 10 blocks of an ALU op and
    # a not-taken branch (the cold predictor says not taken: no mispredictions). With 4 windows, block 4 needs
    # block 0's window, free once the add has issued: it enters in cycle 102 at the earliest.
    nt = {"cls": "branch", "rs1": 0, "rs2": 0, "taken": False, "target": 0x8000}
    rows = [{"cls": "load", "rd": 5, "rs1": 10, "addr": 0x10000}, {"cls": "alu", "rd": 6, "rs1": 5}, dict(nt)]
    for _ in range(10):
        rows += [{"cls": "alu", "rd": 7}, dict(nt)]
    tr = make_trace(rows)
    assert sum(cores.prepare(tr, PERFECT_I).mispredicted) == 0
    few = cgooo.CGOoOConfig(windows=4, windows_per_cluster=4, skipahead_blocks=4)
    small = cgooo.simulate_cgooo(tr, few, shared=PERFECT_I)
    default = cgooo.simulate_cgooo(tr, shared=PERFECT_I)
    # block 4 waits from cycle 1 (after blocks 0..3 entered in cycle 0) to 102
    assert small.dispatch_stalls["window_full"] >= 100 and default.dispatch_stalls["window_full"] == 0
    assert small.cycles >= default.cycles
    rob = cgooo.simulate_cgooo(tr, cgooo.CGOoOConfig(block_rob_entries=2), shared=PERFECT_I)
    assert rob.dispatch_stalls["block_rob_full"] >= 100


def test_static_schedule_moves_independent_work_to_the_head():
    # i0 load A (miss), i1..i4 a chain of adds on it, i5 load B (another line, miss). In trace order the head
    # buffer (4) fills with i1..i4 once i0 issues; i5 enters only when i1 issues (101), issues in 102 and
    # completes in 202: 203 cycles. Scheduled, i5 (earliest start 0) moves up behind i0, issues in cycle 1 and
    # completes in 101 while the chain ends in 105: 106 cycles, as OoO.
    rows = [{"cls": "load", "rd": 5, "rs1": 10, "addr": 0x10000}]
    rows += [{"cls": "alu", "rd": 5, "rs1": 5} for _ in range(4)]
    rows += [{"cls": "load", "rd": 9, "rs1": 10, "addr": 0x90000}]
    tr = make_trace(rows)
    p = cores.prepare(tr, PERFECT_I)
    assert cgooo.simulate_cgooo(p).cycles == 203
    assert cgooo.simulate_cgooo(p, cgooo.CGOoOConfig(static_schedule=True)).cycles == 106
    assert cgooo.simulate_ooo(p).cycles == 106
    assert cgooo.schedule_blocks(p, cgooo.blocks(p)).latency == [100, 100, 1, 1, 1, 1]


def test_static_schedule_is_a_valid_reordering(fixture_trace):
    p = cores.prepare(fixture_trace)
    block = cgooo.blocks(p)
    q = cgooo.schedule_blocks(p, block)
    assert sorted(zip(block, p.latency, p.cls, strict=True)) == sorted(zip(block, q.latency, q.cls, strict=True))
    for i in range(q.n):
        assert all(j < i for j in q.producers[i])
        assert q.mem_producer[i] < i
        if q.cls[i] in (rv64.BRANCH, rv64.JUMP):
            assert i == q.n - 1 or block[i + 1] != block[i]
    assert q.mispredicted == p.mispredicted and q.group == p.group
    a = cgooo.simulate_cgooo(p)
    b = cgooo.simulate_cgooo(p, cgooo.CGOoOConfig(static_schedule=True))
    assert a.counts == b.counts or {k for k in a.counts if a.counts[k] != b.counts[k]} <= {"cluster_wire.traversal"}


def test_local_and_global_values():
    # i0 writes x5, read only inside its block (i1): local. i1 writes x6, read by i3 in the next block: global.
    rows = [{"cls": "alu", "rd": 5}, {"cls": "alu", "rd": 6, "rs1": 5},
            {"cls": "branch", "rs1": 0, "rs2": 0, "taken": False, "target": 0x2000},
            {"cls": "alu", "rd": 7, "rs1": 6}]  # fmt: skip
    p = cores.prepare(make_trace(rows), PERFECT)
    block = cgooo.blocks(p)
    assert block == [0, 0, 0, 1]
    # i3's x7 has no reader at all: local too. The branch reads only x0, which is no register read.
    assert cgooo.local_values(p, block, 20) == [True, False, False, True]
    assert cgooo.local_values(p, block, 0) == [False, False, False, False]
    r = cgooo.simulate_cgooo(p)
    assert r.counts["local_rf.read"] == 1 and r.counts["local_rf.write"] == 2
    assert r.counts["global_rf.write"] == 1 and r.counts["global_rf.read"] == 1
    assert r.counts["head_buffer.cam_search"] == 2 * 1 + 1 * 12  # own window per local, all 12 per global
    assert r.counts["block_rob.read"] == r.counts["block_rob.write"] == 2


@st.composite
def random_traces(draw: st.DrawFn) -> rv64.Trace:
    """Short random traces over 8 registers: ALU, MUL, DIV, loads and stores over near and far lines, and
    forward branches taken or not."""
    rows, pc = [], 0x1000
    for _ in range(draw(st.integers(1, 60))):
        k = draw(st.sampled_from(("alu", "alu", "mul", "div", "load", "store", "branch")))
        r = {"cls": k, "pc": pc, "rs1": draw(st.integers(0, 7))}
        if k in ("alu", "mul", "div", "load"):
            r["rd"] = draw(st.integers(1, 7))
        if k in ("alu", "mul", "div", "store", "branch"):
            r["rs2"] = draw(st.integers(0, 7))
        if k in ("load", "store"):
            r["addr"] = draw(st.integers(0, 63)) * 64 * draw(st.sampled_from((1, 4096)))
        step = 4
        if k == "branch":
            r["taken"], r["target"] = draw(st.booleans()), pc + 8
            step = 8 if r["taken"] else 4
        rows.append(r)
        pc += step
    return make_trace(rows)


@settings(max_examples=60, deadline=None)
@given(random_traces())
def test_out_of_order_is_never_slower_than_in_order(trace):
    r = cgooo.simulate_all(trace)
    assert r["ooo"].cycles <= r["ino"].cycles
    for name in CORES:
        assert r[name].commit_cycles + sum(r[name].stalls.values()) == r[name].cycles
        assert r[name].cycles >= -(-r[name].instructions // 4) + 2  # width 4, one dispatch and one issue cycle


@pytest.fixture(scope="module")
def fixture_trace() -> rv64.Trace:
    return rv64.run(FIXTURES / "checksum.elf").trace


@pytest.fixture(scope="module")
def fixture_results(fixture_trace) -> dict[str, cores.CoreResult]:
    return cgooo.simulate_all(fixture_trace)


def test_cores_order_on_the_fixture(fixture_results):
    r = fixture_results
    assert r["ooo"].cycles <= r["ino"].cycles
    assert r["cgooo"].cycles <= r["ino"].cycles
    for name in CORES:
        assert r[name].instructions == 8077
        assert r[name].commit_cycles + sum(r[name].stalls.values()) == r[name].cycles
        assert set(r[name].stalls) == set(cores.STALL_CAUSES)
        assert set(r[name].dispatch_stalls) == set(cores.DISPATCH_STALL_CAUSES)
    assert r["ino"].dispatch_stalls["rs_full"] == 0 and r["ino"].dispatch_stalls["window_full"] > 0


def test_deterministic(fixture_trace, fixture_results):
    again = cgooo.simulate_all(fixture_trace)
    for name in CORES:
        assert again[name] == fixture_results[name]


def test_counts_are_consistent(fixture_trace, fixture_results):
    n = fixture_trace.pc.size
    loads = int((fixture_trace.cls == rv64.LOAD).sum())
    stores = int((fixture_trace.cls == rv64.STORE).sum())
    writers = int((fixture_trace.rd > 0).sum())
    ino, ooo, cg = fixture_results["ino"].counts, fixture_results["ooo"].counts, fixture_results["cgooo"].counts
    assert ino["ino_rob.read"] == ino["ino_rob.write"] == n
    assert ooo["rob.read"] == ooo["rob.write"] == ooo["rs.read"] == ooo["rs.write"] == n
    assert ooo["prf.write"] == ooo["rat.write"] == ooo["rs.cam_search"] == writers
    assert ooo["lq.write"] == ooo["sq.cam_search"] == loads and ooo["sq.write"] == ooo["lq.cam_search"] == stores
    assert cg["block_window.write"] == cg["block_window.read"] == cg["head_buffer.read"] == n
    assert cg["local_rf.write"] + cg["global_rf.write"] == writers
    assert cg["local_rf.read"] + cg["global_rf.read"] == ooo["prf.read"] == ino["ino_rf.read"]
    assert cg["global_rat.write"] == cg["global_rf.write"]
    assert cg["block_rob.read"] == max(cgooo.blocks(cores.prepare(fixture_trace))) + 1
    for c in (ino, ooo, cg):
        assert c["l1d.read"] == loads and c["l1d.write"] == stores
        assert c["alu.op"] + c["muldiv.op"] == n
        assert c["l1d.read"] + c["l1d.write"] + c["l1i.read"] >= c["l2.read"] >= c["l3.read"] >= c["memory.read"]


def test_energy_is_counts_times_the_table(fixture_results):
    table = cores.AUTHOR_ENERGY
    for r in fixture_results.values():
        e = cores.energy_pj(r)
        for key, count in r.counts.items():
            if key in table.access_pj:
                assert e[key] == count * table.access_pj[key]
        for name, k in r.structures.items():
            assert e[f"{name}.leakage"] == r.cycles * k * table.leakage_pj_per_cycle[name]
        assert e["total"] == pytest.approx(sum(v for key, v in e.items() if key != "total"))
    e = {k: cores.energy_pj(r)["total"] for k, r in fixture_results.items()}
    assert e["ino"] < e["cgooo"] < e["ooo"]
    closure = cgooo.energy_gap_closure(e["ino"], e["ooo"], e["cgooo"])
    assert 0 < closure < 1


def test_energy_refuses_an_unknown_count_key(fixture_results):
    r = dataclasses.replace(fixture_results["ooo"], counts={"rob.reed": 1})
    with pytest.raises(KeyError, match=r"rob\.reed"):
        cores.energy_pj(r)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (cgooo.OoOConfig(rob_entries=0), r"rob_entries=0 .*\[1, "),
        (cgooo.OoOConfig(prf_entries=20), r"prf_entries=20"),
        (cgooo.InOConfig(window_entries=-3), r"window_entries=-3"),
        (cgooo.CGOoOConfig(windows=10), r"windows=10 .*multiple of windows_per_cluster=4"),
        (cgooo.CGOoOConfig(skipahead_blocks=13), r"skipahead_blocks=13"),
        (cgooo.CGOoOConfig(head_buffer_entries=2.5), r"head_buffer_entries=2.5 is not an integer"),
        (cgooo.CGOoOConfig(static_schedule=1), r"static_schedule=1; allowed: True or False"),
    ],
)
def test_bad_core_config_is_named(config, match):
    with pytest.raises(ValueError, match=match):
        cgooo.check_config(config)


@pytest.mark.parametrize(
    ("shared", "match"),
    [
        (cores.SharedConfig(width=0), r"width=0 .*\[1, 64\]"),
        (cores.SharedConfig(btb_entries=1000), r"btb_entries=1000 is not a power of two"),
        (cores.SharedConfig(l2_latency_cycles=2), r"non-decreasing"),
        (cores.SharedConfig(l1d_bytes=3000), r"l1d_bytes=3000"),
        (cores.SharedConfig(perfect_icache=1), r"perfect_icache=1"),
    ],
)
def test_bad_shared_config_is_named(shared, match):
    trace = make_trace([{"cls": "alu", "rd": 1}])
    with pytest.raises(ValueError, match=match):
        cgooo.simulate_ooo(trace, shared=shared)


def test_malformed_trace_is_named():
    good = make_trace([{"cls": "alu", "rd": 1}, {"cls": "load", "rd": 2, "addr": 64}])
    cases = [
        (good._replace(rd=np.array([40, 2], np.int8)), r"trace.rd\[0\] = 40"),
        (good._replace(rd=np.array([0, 2], np.int8)), r"trace.rd\[0\] = 0"),
        (good._replace(cls=np.array([1, 9], np.int8)), r"trace.cls\[1\] = 9"),
        (good._replace(mem_address=np.array([-1, -1])), r"trace.mem_address\[1\] = -1"),
        (good._replace(taken=np.zeros(3, bool)), r"trace.taken has shape \(3,\)"),
        (good._replace(pc=np.zeros(0, np.int64)), r"0 instructions"),
    ]
    for trace, match in cases:
        with pytest.raises(ValueError, match=match):
            cgooo.simulate_ino(trace)


def test_prepared_trace_with_another_config_is_refused():
    p = cores.prepare(make_trace([{"cls": "alu", "rd": 1}]), PERFECT)
    with pytest.raises(ValueError, match="shared config differs"):
        cgooo.simulate_ooo(p, shared=cores.SharedConfig())


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None, reason="riscv64-unknown-elf-gcc not installed")
def test_program_set_kernel_orders_the_cores():
    from archsim.traces import rv64_build

    trace = rv64.load_trace(rv64_build.instruction_trace("pointer_chase", small=True))
    r = cgooo.simulate_all(trace)
    assert r["ooo"].cycles <= r["cgooo"].cycles <= r["ino"].cycles
    e = {k: cores.energy_pj(v)["total"] for k, v in r.items()}
    assert e["ino"] < e["cgooo"] < e["ooo"]
