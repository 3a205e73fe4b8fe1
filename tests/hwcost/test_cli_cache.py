"""``hwcost simulate cache``: the JSON report per cache, the human tables, truncated traces, and every bad input
refused as one clear line with exit status 2 and no traceback."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from archsim import cache as sim
from archsim.traces import lackey
from hwcost import cache_energy
from hwcost.cli import main
from hwcost.experiments import cache_simulation


def _trace_text() -> str:
    """A small lackey trace: a loop of fetches, a hot stack line, a strided array, a valgrind banner."""
    lines = ["==42== Lackey, an example Valgrind tool", "==42== Command: ./loop"]
    lines += [f" L {0x1FFEFFF3F8 - 8192 * k:x},8" for k in (3, 2, 1)]  # its set's ways 0-2 taken first
    for k in range(3000):
        lines.append(f"I  {0x401000 + 4 * (k % 200):08x},4")
        lines.append(f" L {0x1FFEFFF3F8:x},8")  # one hot line
        if k % 3 == 0:
            lines.append(f" M {0x601000 + 72 * (k % 900):08x},8")
        if k % 4 == 0:
            lines.append(f" S {0x602000 + 64 * (k % 4000):08x},4")
    lines.append("==42== Counted 1 call to main()")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache") / "loop.trace"
    path.write_text(_trace_text())
    return path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hwcost simulate: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_json_has_one_object_per_cache_with_the_promised_keys(trace_file, capsys):
    assert main(["simulate", "cache", "--trace", str(trace_file), "--json"]) == 0
    report = _json(capsys)
    assert report["trace"]["skipped_lines"] == 0 and report["trace"]["valgrind_messages"] == 3
    for cache in ("l1i", "l1d"):
        part = report[cache]
        for key in ("accesses", "hits", "misses", "swaps", "wire_energy_pj"):
            assert key in part, (cache, key)
        assert part["hits"] + part["misses"] == part["accesses"] and part["swaps"] == 0
        assert "wire_energy_saving" not in part
    assert report["geometry"]["nearest_to_farthest_ratio"] > 6


def test_holiswap_json_reports_the_baseline_and_the_saving(trace_file, capsys):
    assert main(["simulate", "cache", "--trace", str(trace_file), "--holiswap", "--json"]) == 0
    report = _json(capsys)
    assert report["cache"]["epoch"] == 128 and report["cache"]["threshold"] == 64
    streams = lackey.line_accesses(lackey.read(trace_file), 64)
    for cache in ("l1i", "l1d"):
        part = report[cache]
        assert 0 <= part["wire_energy_saving"] < 1
        assert part["wire_energy_saving"] == pytest.approx(1 - part["wire_energy_pj"] / part["baseline_wire_energy_pj"])
        plain = sim.simulate(getattr(streams, cache), sim.CacheConfig())
        assert part["misses"] == plain.misses  # HoLiSwap leaves the misses alone
    assert report["l1d"]["swaps"] > 0 and report["l1d"]["wire_energy_saving"] > 0.1  # the hot stack line moved


def test_report_prices_the_exact_counts_with_the_geometry(trace_file):
    config = cache_simulation.cache_config(holiswap=True, epoch=64, threshold=16)
    report = cache_simulation.cache_report(trace_file, config)
    way_pj = np.asarray(cache_energy.way_wire_energy_pj(cache_energy.HOLISWAP_32KB_4WAY, "l1d"))
    part = report["l1d"]
    transfers = np.asarray(part["hits_per_way"]) + np.asarray(part["fills_per_way"]) + np.asarray(
        part["writebacks_per_way"])  # fmt: skip
    swap_pj = np.asarray(cache_energy.swap_with_nearest_energy_pj(cache_energy.HOLISWAP_32KB_4WAY))
    expected = float(transfers @ way_pj) + float(np.asarray(part["swaps_per_way"]) @ swap_pj)
    assert part["wire_energy_pj"] == pytest.approx(expected, rel=1e-9)
    assert part["swap_stall_cycles"] == 4 * part["swaps"]


def test_human_tables_by_default(trace_file, capsys):
    assert main(["simulate", "cache", "--trace", str(trace_file), "--holiswap", "--size-kb", "16", "--ways", "2"]) == 0
    out = capsys.readouterr().out
    assert "16 KB, 2-way, 64-byte lines" in out and "0 incomplete line(s) skipped" in out
    for word in ("wire_energy_saving", "baseline_wire_energy_pj", "l1i_hits_baseline", "distance_mm"):
        assert word in out


def test_truncated_and_gzip_traces(tmp_path, capsys):
    text = _trace_text()
    cut = tmp_path / "cut.trace.gz"
    cut.write_bytes(gzip.compress(text[: len(text) // 2 + 5].encode()))
    assert main(["simulate", "cache", "--trace", str(cut), "--json"]) == 0
    report = _json(capsys)
    assert report["trace"]["skipped_lines"] == 1 and report["trace"]["truncated"]
    assert main(["simulate", "cache", "--trace", str(cut)]) == 0
    assert "1 incomplete line(s) skipped (the trace is truncated)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--size-kb", "24"], "size_kb=24 is not a power of two"),
        (["--size-kb", "1", "--ways", "32"], "size_kb=1 (1024 bytes) is not divisible by ways x line = 32 x 64"),
        (["--ways", "3"], "not divisible by ways x line = 3 x 64"),
        (["--size-kb", "1048576", "--line", "16"], "size_kb=1048576 with line=16 is 67108864 lines; allowed: at most"),
        (["--size-kb", "2097152"], "size_kb=2097152 is outside the allowed range"),
        (["--ways", "0"], "ways=0 is outside the allowed range"),
        (["--line", "48"], "line=48 is not a power of two"),
        (["--line", "-64"], "line=-64 is outside the allowed range"),
        (["--holiswap", "--epoch", "0"], "epoch=0 is outside the allowed range; allowed: E, set accesses per epoch"),
        (["--holiswap", "--threshold", "0"], "threshold=0 is outside the allowed range"),
        (["--holiswap", "--epoch", "16", "--threshold", "17"], "threshold=17 is outside the allowed range; allowed: T"),
        (["--epoch", "64"], "--epoch goes with --holiswap"),
        (["--seed", "-1"], "seed=-1 is outside the allowed range"),
        (["--weights", "w.npy"], "--weights does not apply to hardware='cache'"),
        (["--frames", "3"], "--frames does not apply to hardware='cache'"),
        (["--hw", "num_pes=8"], "--hw does not apply to hardware='cache'"),
    ],
)
def test_bad_options_are_one_clear_line(trace_file, capsys, argv, words):
    assert main(["simulate", "cache", "--trace", str(trace_file), *argv]) == 2
    assert words in _one_error_line(capsys)


def test_bad_trace_files_are_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.trace"
    bad.write_text("I  00401000,4\nprogram output\n L 1000,8\n")
    assert main(["simulate", "cache", "--trace", str(bad)]) == 2
    line = _one_error_line(capsys)
    assert "bad.trace: line 2: 'program output' is not lackey's format" in line and "allowed:" in line
    assert main(["simulate", "cache", "--trace", str(tmp_path / "missing.trace")]) == 2
    assert "not found" in _one_error_line(capsys)
    assert main(["simulate", "cache", "--trace", str(tmp_path)]) == 2
    assert "is a folder" in _one_error_line(capsys)
    damaged = tmp_path / "damaged.gz"
    damaged.write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    assert main(["simulate", "cache", "--trace", str(damaged)]) == 2
    assert "damaged.gz" in _one_error_line(capsys)


def test_trace_is_required_and_cache_options_stay_with_cache(trace_file, capsys):
    with pytest.raises(SystemExit) as info:
        main(["simulate", "cache"])
    assert info.value.code == 2
    assert "--trace" in capsys.readouterr().err
    assert main(["simulate", "eie", "--weights", "w.npy", "--activations", "a.npy", "--holiswap"]) == 2
    assert "--holiswap applies to hardware 'cache'" in _one_error_line(capsys)
    assert main(["simulate", "eie", "--weights", "w.npy", "--activations", "a.npy", "--ways", "-1"]) == 2
    assert "--ways applies to hardware 'cache'" in _one_error_line(capsys)


def test_simulate_help_names_the_cache(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    out = capsys.readouterr().out
    assert "--trace FILE" in out and "--holiswap" in out and "cache: an L1-I and L1-D" in out
