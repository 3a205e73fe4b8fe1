"""The L1 cache simulator against an independent LRU reference written as simply as possible, HoLiSwap's
swaps (miss counts unchanged, hot lines moved to way 0), energy pricing, hot-line shares and config errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archsim.cache import CacheConfig, check_config, simulate
from archsim.traces import lackey
from archsim.traces.lackey import LineStream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"


def reference_lru(lines, writes, sets, ways):
    """(misses, write-backs) of an LRU, write-allocate, write-back cache: one list per set, oldest first."""
    cache = [[] for _ in range(sets)]
    misses = writebacks = 0
    for x, w in zip(lines, writes, strict=True):
        s = cache[x % sets]
        for entry in s:
            if entry[0] == x:
                s.remove(entry)
                s.append(entry)
                entry[1] = entry[1] or w
                break
        else:
            misses += 1
            if len(s) == ways:
                writebacks += s.pop(0)[1]
            s.append([x, w])
    return misses, writebacks


def reference_holiswap_hits_per_way(lines, sets, ways, epoch, threshold):
    """Hits per physical way of HoLiSwap with linear counters, written out plainly: each resident line is
    ``[line, way, hits]`` in a per-set list, oldest first."""
    cache = [[] for _ in range(sets)]
    accesses = [0] * sets
    hits_per_way = [0] * ways
    for x in lines:
        s = cache[x % sets]
        found = [entry for entry in s if entry[0] == x]
        if found:
            entry = found[0]
            s.remove(entry)
            s.append(entry)
            hits_per_way[entry[1]] += 1
            entry[2] += 1
            in_w0 = [e for e in s if e[1] == 0]
            if entry[2] >= threshold and entry[1] != 0 and entry[2] > in_w0[0][2]:
                in_w0[0][1], entry[1] = entry[1], 0
        else:
            if len(s) == ways:
                way = s.pop(0)[1]
            else:
                way = len(s)
            s.append([x, way, 0])
        accesses[x % sets] += 1
        if accesses[x % sets] == epoch:
            accesses[x % sets] = 0
            for entry in s:
                entry[2] = 0
    return hits_per_way


def local_trace(rng, n, footprint, hot_share=0.5):
    """Line accesses with locality: a share of them to a few hot lines, the rest spread over ``footprint``."""
    hot_lines = rng.integers(0, footprint, size=8)
    hot = rng.random(n) < hot_share
    lines = np.where(hot, hot_lines[rng.integers(0, 8, size=n)], rng.integers(0, footprint, size=n))
    return LineStream(line=lines.astype(np.int64), is_write=rng.random(n) < 0.3)


CONFIGS = [
    CacheConfig(),
    CacheConfig(size_bytes=1024, ways=4, line_bytes=64),
    CacheConfig(size_bytes=512, ways=2, line_bytes=32),
    CacheConfig(size_bytes=256, ways=1, line_bytes=16),
    CacheConfig(size_bytes=2048, ways=8, line_bytes=64),
    CacheConfig(size_bytes=256, ways=4, line_bytes=64),  # one set: fully associative
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.size_bytes}B-{c.ways}w-{c.line_bytes}B")
def test_misses_and_writebacks_equal_the_reference_on_random_traces(config):
    rng = np.random.default_rng(config.size_bytes + config.ways)
    swaps = 0
    for footprint in (16, 200, 5000):
        stream = local_trace(rng, 4000, footprint)
        expected = reference_lru(stream.line.tolist(), stream.is_write.tolist(), config.sets, config.ways)
        for holiswap, log_counters, epoch, threshold in ((False, True, 128, 64), (True, True, 128, 64),
                                                         (True, False, 16, 4), (True, True, 8, 1)):  # fmt: skip
            result = simulate(stream, CacheConfig(**{**config.__dict__, "holiswap": holiswap,
                              "log_counters": log_counters, "epoch": epoch, "threshold": threshold}))  # fmt: skip
            assert (result.misses, result.writebacks) == expected
            assert result.hits + result.misses == result.accesses == 4000
            assert result.hits_per_way.sum() == result.hits
            assert result.fills_per_way.sum() == result.misses
            assert result.reads + result.writes == result.accesses
            swaps += result.swaps
    assert swaps > 0 or config.ways == 1  # the comparison covered caches that swapped


@pytest.mark.parametrize(("epoch", "threshold"), [(128, 64), (16, 4), (8, 1), (32, 16)])
def test_hits_per_way_equal_a_plain_holiswap_reference_with_linear_counters(epoch, threshold):
    rng = np.random.default_rng(epoch)
    config = CacheConfig(size_bytes=1024, ways=4, line_bytes=64, holiswap=True, log_counters=False, epoch=epoch,
                         threshold=threshold)  # fmt: skip
    stream = local_trace(rng, 6000, 60, hot_share=0.7)
    result = simulate(stream, config)
    assert result.swaps > 0
    expected = reference_holiswap_hits_per_way(stream.line.tolist(), config.sets, config.ways, epoch, threshold)
    assert result.hits_per_way.tolist() == expected


LACKEY_TEXT = "".join(
    f"I  {0x400000 + 4 * (k % 300):08x},4\n"
    + (f" L {0x7FF000 + 8 * (k % 37):08x},8\n" if k % 2 else "")
    + (f" M {0x601000 + 64 * (k % 700) + 60:08x},8\n" if k % 5 == 0 else "")  # spans two lines
    + (f" S {0x602000 + 4096 * (k % 11):08x},4\n" if k % 7 == 0 else "")  # one set, many tags
    for k in range(5000)
)


def _check_against_reference(streams, config):
    for name in ("l1i", "l1d"):
        stream = getattr(streams, name)
        expected = reference_lru(stream.line.tolist(), stream.is_write.tolist(), config.sets, config.ways)
        for holiswap in (False, True):
            result = simulate(stream, CacheConfig(**{**config.__dict__, "holiswap": holiswap}))
            assert (result.misses, result.writebacks) == expected, name


def test_misses_equal_the_reference_on_a_lackey_trace(tmp_path):
    path = tmp_path / "small.trace"
    path.write_text("==7== Lackey\n" + LACKEY_TEXT)
    config = CacheConfig(size_bytes=4096, ways=4, line_bytes=64, epoch=32, threshold=8)
    streams = lackey.line_accesses(lackey.read(path), config.line_bytes)
    assert len(streams.l1d) > 5000
    _check_against_reference(streams, config)


def test_misses_equal_the_reference_on_the_committed_fixture_traces():
    paths = sorted(FIXTURES.glob("*.lackey.gz"))
    if not paths:
        pytest.skip(f"no lackey fixtures in {FIXTURES}")
    small = CacheConfig(size_bytes=2048, ways=2, line_bytes=32, epoch=32, threshold=8)  # many more misses
    for path in paths:
        _check_against_reference(lackey.line_accesses(lackey.read(path), 64), CacheConfig())
        _check_against_reference(lackey.line_accesses(lackey.read(path), small.line_bytes), small)


def hot_line_stream():
    """Set 0 of a 4-set cache filled with lines A, B, C, D (ways 0-3), then D hit three times for each hit
    of A."""
    a, b, c, d = 0, 4, 8, 12
    lines = [a, b, c, d] + [d, d, d, a] * 1000
    return LineStream(line=np.asarray(lines, dtype=np.int64), is_write=np.zeros(len(lines), dtype=bool))


def test_hot_line_is_swapped_into_way_0_and_its_hits_move_there():
    stream = hot_line_stream()
    base = CacheConfig(size_bytes=1024, ways=4, line_bytes=64)
    plain = simulate(stream, base)
    assert plain.swaps == 0 and plain.hits_per_way[3] == 3000 and plain.hits_per_way[0] == 1000
    linear = simulate(stream, CacheConfig(**{**base.__dict__, "holiswap": True, "log_counters": False}))
    # D reaches 64 hits in the first epoch (A has at most 22), moves to way 0 and A to way 3; A never
    # reaches 64 hits in an epoch of 128 accesses again, so there is exactly one swap
    assert linear.swaps == 1 and linear.swaps_per_way.tolist() == [0, 0, 0, 1]
    # way 0: A's 21 hits before the swap, then D's other 2,936; way 3: D's first 64, then A's other 979
    assert linear.hits_per_way.tolist() == [21 + 2936, 0, 0, 64 + 979]
    assert linear.misses == plain.misses == 4
    assert linear.swap_stall_cycles == 4
    for seed in range(3):
        log = simulate(stream, CacheConfig(**{**base.__dict__, "holiswap": True, "seed": seed}))
        assert log.swaps >= 1 and log.misses == 4
        assert log.hits_per_way[0] > 0.9 * 3000


def test_logarithmic_counters_are_reproducible_from_the_seed():
    stream = local_trace(np.random.default_rng(3), 5000, 100, hot_share=0.6)
    config = CacheConfig(size_bytes=1024, holiswap=True, epoch=64, threshold=8)
    first, again = simulate(stream, config), simulate(stream, config)
    assert first.hits_per_way.tolist() == again.hits_per_way.tolist() and first.swaps == again.swaps


def test_wire_energy_prices_hits_fills_writebacks_and_swaps():
    stream = local_trace(np.random.default_rng(5), 3000, 80)
    energies, swap_costs = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 10.0, 20.0, 30.0])
    config = CacheConfig(size_bytes=1024, holiswap=True, epoch=32, threshold=4)
    result = simulate(stream, config, way_energy_pj=energies, swap_energy_pj=swap_costs)
    transfers = result.hits_per_way + result.fills_per_way + result.writebacks_per_way
    np.testing.assert_array_equal(result.wire_energy_pj_per_way, transfers * energies)
    assert result.swap_energy_pj == float(result.swaps_per_way @ swap_costs)
    assert result.wire_energy_pj == pytest.approx(float(transfers @ energies) + result.swap_energy_pj)
    assert np.array_equal(result.accesses_per_way, result.hits_per_way + result.fills_per_way)
    assert simulate(stream, config).wire_energy_pj is None
    with pytest.raises(ValueError, match=r"way_energy_pj shape=\(3,\) must be \(ways,\) = \(4,\)"):
        simulate(stream, config, way_energy_pj=[1.0, 2.0, 3.0])


def test_lines_serving_a_share_of_accesses():
    lines = [1] * 60 + [2] * 25 + [3] * 10 + [4] * 5
    result = simulate(LineStream(line=np.asarray(lines), is_write=np.zeros(100, dtype=bool)))
    assert result.distinct_lines == 4
    assert result.lines_serving(0.6) == (1, 0.25)
    assert result.lines_serving(0.61) == (2, 0.5)
    assert result.lines_serving(0.95) == (3, 0.75)
    assert result.lines_serving(1.0) == (4, 1.0)
    with pytest.raises(ValueError, match=r"share=0 is outside the allowed range; allowed: a fraction in \(0, 1\]"):
        result.lines_serving(0)


def test_empty_stream():
    result = simulate(LineStream(line=np.zeros(0, dtype=np.int64), is_write=np.zeros(0, dtype=bool)))
    assert result.accesses == result.misses == result.hits == 0 and result.lines_serving(0.5) == (0, 0.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"size_bytes": 24576}, "size_bytes=24576 is not a power of two"),
        ({"size_bytes": 512, "ways": 16}, "size_bytes=512 is not divisible by ways x line_bytes = 16 x 64"),
        ({"ways": 3}, "size_bytes=32768 is not divisible by ways x line_bytes = 3 x 64"),
        ({"line_bytes": 48}, "line_bytes=48 is not a power of two"),
        ({"size_bytes": 2**30, "line_bytes": 32}, "= 33554432 lines is more than the simulator holds"),
        ({"ways": 0}, r"ways=0 is outside the allowed range; allowed: \[1, "),
        ({"epoch": 0}, r"epoch=0 is outside the allowed range; allowed: E, set accesses per epoch, in \[1, "),
        ({"threshold": 0}, r"threshold=0 is outside the allowed range; allowed: T, .* in \[1, epoch=128\]"),
        ({"threshold": 200}, r"threshold=200 is outside the allowed range; allowed: T, .* in \[1, epoch=128\]"),
        ({"epoch": 2.5}, "epoch=2.5 is not an integer"),
        ({"seed": -1}, "seed=-1 is outside the allowed range"),
        ({"swap_stall_cycles": -2}, "swap_stall_cycles=-2 is outside the allowed range"),
        ({"holiswap": "yes"}, "holiswap='yes'"),
    ],
)
def test_bad_config_names_the_field_its_value_and_what_is_allowed(fields, message):
    with pytest.raises(ValueError, match=message):
        check_config(CacheConfig(**fields))


def test_bad_streams_are_refused():
    with pytest.raises(ValueError, match="line=-3 is negative"):
        simulate(LineStream(line=np.asarray([1, -3]), is_write=np.zeros(2, dtype=bool)))
    with pytest.raises(ValueError, match="line length=2 and is_write length=1 must be equal"):
        simulate(LineStream(line=np.asarray([1, 2]), is_write=np.zeros(1, dtype=bool)))
