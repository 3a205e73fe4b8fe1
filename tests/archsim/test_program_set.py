"""The trace program set: committed lackey fixtures, the kernels against their Python re-computations, and the
build-run-trace pipeline end to end where gcc and valgrind are installed."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from archsim.traces import program_set as ps

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "traces"
MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())
HAVE_GCC = shutil.which("gcc") is not None and shutil.which("nm") is not None
HAVE_VALGRIND = shutil.which("valgrind") is not None
# Lackey's line formats (valgrind 3.19, lackey/lk_main.c): "I  addr,size", " L addr,size", " S ...", " M ...".
LACKEY_LINE = re.compile(r"^(?:==\d+==.*|I  [0-9a-f]+,\d+|\s[LSM] [0-9a-f]+,\d+)$")


def test_every_program_has_a_committed_small_fixture():
    assert sorted(MANIFEST["traces"]) == sorted(ps.trace_file_name(n, "small") for n in ps.names())


@pytest.mark.parametrize("name", sorted(MANIFEST["traces"]))
def test_fixture_sha256_matches_its_manifest(name):
    entry = MANIFEST["traces"][name]
    path = FIXTURES / name
    assert path.stat().st_size == entry["trace_bytes"] <= 300_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["trace_sha256"]


@pytest.mark.parametrize("name", sorted(MANIFEST["traces"]))
def test_fixture_parses_as_lackey_and_its_counts_match_the_manifest(name):
    entry = MANIFEST["traces"][name]
    with gzip.open(FIXTURES / name, "rt") as f:
        lines = f.read().splitlines()
    bad = [line for line in lines if not LACKEY_LINE.match(line)]
    assert bad == []
    assert lines[0].startswith("==") and "Lackey" in lines[0]
    kinds = {k: sum(1 for line in lines if line[:2] in (k, f" {k[0]}")) for k in ("I ", "L", "S", "M")}
    total = entry["total"]
    assert (kinds["I "], kinds["L"], kinds["S"], kinds["M"]) == (
        total["instructions"], total["loads"], total["stores"], total["modifies"]
    )  # fmt: skip
    marker = f" S {entry['marker_address']:08x},8"
    assert lines.count(marker) == 2
    summary = ps.summarize_lackey((line.encode() for line in lines), entry["marker_address"])
    assert summary.records_sha256 == entry["records_sha256"]
    assert summary.kernel._asdict() | {"records": summary.kernel.records} == entry["kernel"]
    assert summary.kernel.instructions > 0.5 * summary.total.instructions  # the kernel dominates


@pytest.mark.parametrize("name", sorted(MANIFEST["traces"]))
def test_fixture_reads_with_the_lackey_reader_where_present(name):
    if importlib.util.find_spec("archsim.traces.lackey") is None:
        pytest.skip("archsim.traces.lackey is not present")
    from archsim.traces import lackey

    entry = MANIFEST["traces"][name]
    trace = lackey.read(FIXTURES / name)
    total = entry["total"]
    assert trace.counts() == {
        "I": total["instructions"], "L": total["loads"], "S": total["stores"], "M": total["modifies"]
    }  # fmt: skip
    assert trace.valgrind_messages == entry["valgrind_lines"] and not trace.truncated


@pytest.mark.parametrize("name", ps.names())
def test_python_recomputation_equals_the_recorded_native_checksum(name):
    entry = MANIFEST["traces"][ps.trace_file_name(name, "small")]
    assert ps.reference_checksum(name, "small") == entry["native_checksum"]


def test_spmv_recomputation_is_the_product_with_the_committed_weights():
    m = ps.load_fc1()
    assert m.shape == (300, 784)
    assert len(m.values) == round(0.08 * 300 * 784)  # Deep Compression Table 2: ip1 8%
    assert np.all(m.values != 0) and m.values.dtype == np.int64
    assert 0.97 < m.meta["test_accuracy_int16_ip1"] <= 1.0
    # The same fold over y = W x, here with a dense float64 product of the dequantised matrix.
    c = ps.source_constants("spmv_csc", "small")
    w = np.zeros(m.shape)
    for j in range(m.shape[1]):
        w[m.row_idx[m.col_ptr[j] : m.col_ptr[j + 1]], j] = m.values[m.col_ptr[j] : m.col_ptr[j + 1]] * m.scale
    gen = ps.xorshift64(c["SEED"])
    ys = []
    for _ in range(c["BATCH"]):
        x = np.array([(r >> 32) & 255 if r & 3 == 0 else 0 for r in (next(gen) for _ in range(784))], float)
        ys.extend(np.rint(w @ x / m.scale).astype(np.int64).tolist())
    assert ps.fold(ys) == ps.reference_checksum("spmv_csc", "small")


def test_sort_recomputation_folds_the_sorted_keys():
    c = ps.source_constants("sort", "small")
    assert c["N"] == 512 and ps.source_constants("sort", "full")["N"] == 4096
    keys = np.array([r >> 32 for r, _ in zip(ps.xorshift64(c["SEED"]), range(c["N"]), strict=False)], np.uint64)
    assert ps.fold(np.sort(keys).tolist()) == ps.reference_checksum("sort", "small")


def test_xorshift64_and_fold_known_values():
    # xorshift64 (13, 7, 17) from 1: 1 ^ 1<<13 = 8193; 8193 ^ 8193>>7 = 8257; 8257 ^ 8257<<17.
    assert next(ps.xorshift64(1)) == 8257 ^ (8257 << 17)
    assert ps.fold([]) == ps.FNV_OFFSET
    assert ps.fold([0]) == (ps.FNV_OFFSET * ps.FNV_PRIME) % 2**64
    assert ps.fold([-1]) == ps.fold([2**64 - 1])


def test_weights_header_holds_the_committed_matrix():
    text = ps.weights_header_text()
    m = ps.load_fc1()
    assert f"#define FC1_NNZ {len(m.values)}" in text
    assert f"fc1_values[{len(m.values)}]" in text and f"fc1_col_ptr[{m.shape[1] + 1}]" in text


@pytest.mark.skipif(not HAVE_GCC, reason="gcc or nm not installed (make tools)")
@pytest.mark.parametrize("name", ["spmv_csc", "sort", "hash_table"])
def test_native_checksum_equals_the_python_recomputation(name, tmp_path):
    exe = ps.build_native(name, "small", tmp_path)
    assert ps.run_native(exe) == ps.reference_checksum(name, "small")


@pytest.mark.skipif(not (HAVE_GCC and HAVE_VALGRIND), reason="gcc or valgrind not installed (make tools)")
def test_trace_small_program_end_to_end_and_reuse_the_cache(tmp_path):
    first = ps.trace("sort", "small", tmp_path)
    entry = MANIFEST["traces"][ps.trace_file_name("sort", "small")]
    assert not first.cached and first.checksum == first.reference_checksum == entry["native_checksum"]
    assert first.trace.is_file() and hashlib.sha256(first.trace.read_bytes()).hexdigest() == first.trace_sha256
    if first.tools == MANIFEST["tools"]:  # the records are reproducible with the same tools
        assert first.summary.records_sha256 == entry["records_sha256"]
    again = ps.trace("sort", "small", tmp_path)
    assert again.cached and again.key == first.key and again.summary == first.summary


def test_committed_full_traces_are_sized_for_the_simulators():
    # Sizing rule of the program set: a native lackey trace of 0.3 to 3 million records, at most about 2
    # million dynamic instructions per kernel (also on RV64IM, whose emulator is pure Python), SMALL about 10x less.
    results = json.loads((ROOT / "benchmarks" / "results" / "traces.json").read_text())
    rows = {(r["program"], r["variant"]): r for r in results["lackey_traces"]}
    for name in ps.names():
        full, small = rows[name, "full"], rows[name, "small"]
        assert 300_000 <= full["total"]["records"] <= 3_000_000
        assert full["kernel"]["instructions"] <= 2_000_000
        assert 5 <= full["kernel"]["instructions"] / small["kernel"]["instructions"] <= 15
        assert full["native_checksum"] == full["reference_checksum"]
    for r in results.get("riscv", []):
        assert r["instructions"] <= 2_000_000 and r["checksum"] == rows[r["program"], r["variant"]]["native_checksum"]


def test_cache_key_changes_with_variant_and_tools():
    tools = {"gcc": "gcc 1", "valgrind": "valgrind-1"}
    keys = {ps.cache_key("sort", v, t) for v in ps.VARIANTS for t in (tools, {**tools, "gcc": "gcc 2"})}
    assert len(keys) == 4


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ps.TRACE_DIR_ENV, str(tmp_path))
    assert ps.default_cache_dir() == tmp_path
    monkeypatch.delenv(ps.TRACE_DIR_ENV)
    assert ps.default_cache_dir() == ROOT / ".cache" / "traces"


def test_missing_tool_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ps.ToolMissingError, match=r"valgrind is not on PATH.*make tools"):
        ps.find_tool("valgrind")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ps.program("quicksort"), r"program='quicksort': allowed one of spmv_csc, gemm"),
        (lambda: ps.source_constants("sort", "tiny"), r"variant='tiny': allowed one of full, small"),
        (lambda: next(ps.xorshift64(0)), r"state=0: allowed a nonzero 64-bit"),
    ],
)
def test_bad_input_names_field_value_and_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_summarize_rejects_a_line_that_is_not_lackey():
    with pytest.raises(ValueError, match=r"line 2 = b'garbage'"):
        ps.summarize_lackey([b"I  00401000,4\n", b"garbage\n"])
