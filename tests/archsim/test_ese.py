"""archsim.ese: the LSTMP numerics, the schedule's cycle rules on hand-checkable layers, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from archsim import eie as eie_sim
from archsim import ese as sim


def _layer(rng, x_size=6, cells=8, proj=4, density=0.5):
    def matrix(rows, cols):
        return np.where(rng.random((rows, cols)) < density, rng.normal(0, 0.5, (rows, cols)), 0.0)

    return sim.LstmWeights({k: matrix(cells, x_size + proj) for k in sim.GATES}, matrix(proj, cells))


def _numpy_lstm(weights, inputs, y0):
    """An independent LSTMP in numpy (logistic sigmoid as 1 / (1 + e^-z))."""

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    y, c, out = y0, np.zeros(weights.projection.shape[1]), []
    for x in inputs:
        xy = np.concatenate([x, y])
        z = {k: weights.gates[k] @ xy for k in sim.GATES}
        c = sig(z["f"]) * c + sig(z["i"]) * np.tanh(z["g"])
        y = weights.projection @ (sig(z["o"]) * np.tanh(c))
        out.append(y)
    return np.asarray(out)


def test_ese_outputs_equal_an_independent_lstmp():
    rng = np.random.default_rng(0)
    w = _layer(rng)
    x, y0 = rng.normal(size=(5, 6)), rng.normal(size=4)
    result = sim.simulate(w, x, pes=4, initial_projection=y0)
    np.testing.assert_allclose(result.output, _numpy_lstm(w, x, y0), rtol=1e-12, atol=1e-12)


def test_ese_products_are_eie_products_and_frames_add_the_elementwise_latency():
    rng = np.random.default_rng(1)
    w = _layer(rng, x_size=12, cells=16, proj=8, density=0.3)
    x, y0 = rng.normal(size=(2, 12)), rng.normal(size=8)
    result = sim.simulate(w, x, pes=4, fifo_depth=2, initial_projection=y0, elementwise_latency_cycles=5)
    xy = np.concatenate([x[0], y0])
    for k, gate in enumerate(sim.GATES):
        assert result.product_cycles[0, k] == eie_sim.simulate(w.gates[gate], xy, pes=4, fifo_depth=2).cycles
    assert np.all(result.compute_cycles == result.product_cycles.sum(axis=1) + 10)
    assert result.cycles == result.frame_cycles.sum()
    assert np.all(result.busy_cycles + result.idle_cycles == result.cycles)
    assert result.elementwise_cycles == 2 * 5 * 4  # 5 groups of ceil(16 / 4) cycles per frame


def test_ese_zero_initial_state_broadcasts_no_recurrent_column_in_frame_zero():
    rng = np.random.default_rng(2)
    w = _layer(rng, x_size=6, cells=8, proj=4, density=1.0)
    result = sim.simulate(w, rng.normal(size=(2, 6)), pes=4)
    # frame 0: four gates x 6 input columns + 8 cells; frame 1: four gates x 10 columns + 8 cells
    assert result.broadcasts == 4 * 6 + 8 + 4 * 10 + 8
    assert result.macs == 4 * 8 * 6 + 4 * 8 + 4 * 8 * 10 + 4 * 8


def test_ese_dense_counts_are_closed_form():
    rng = np.random.default_rng(3)
    w = _layer(rng, x_size=6, cells=8, proj=4, density=1.0)
    frames, pes = 3, 4
    result = sim.simulate(w, rng.normal(size=(frames, 6)), pes=pes, initial_projection=np.ones(4), num_channels=2)
    macs = 4 * 8 * 10 + 4 * 8
    assert result.macs == frames * macs and result.fillers == 0
    columns = 4 * 10 + 8
    assert result.stored_bits == macs * 16 + pes * columns * 16
    assert result.counts["dram.bit"] == frames * result.stored_bits / 2
    assert result.counts["fifo.push"] == frames * pes * columns
    # dense: every PE has 2 rows of each gate and 1 row of the projection, no stall possible beyond 2 per column
    assert result.product_cycles[0, 0] == 10 * 2 and result.product_cycles[0, 4] == 8 * 1


def test_ese_frame_waits_for_the_weight_stream_when_dram_is_narrow():
    rng = np.random.default_rng(4)
    w = _layer(rng)
    x, y0 = rng.normal(size=(2, 6)), rng.normal(size=4)
    result = sim.simulate(w, x, pes=4, initial_projection=y0, dram_bits_per_cycle=1)
    assert result.transfer_cycles == result.stored_bits
    assert np.all(result.frame_cycles == result.stored_bits)
    assert np.all(result.compute_cycles < result.frame_cycles)


def test_ese_paper_layer_runs_in_seconds():
    """A smoke run on the paper's layer shape at 11 % density (1024 cells, 512 projection, 153 inputs)."""
    rng = np.random.default_rng(5)

    def matrix(rows, cols):
        return np.where(rng.random((rows, cols)) < 0.112, 1.0, 0.0)

    w = sim.LstmWeights({k: matrix(1024, 665) for k in sim.GATES}, matrix(512, 1024))
    result = sim.simulate(w, rng.normal(size=(2, 153)), initial_projection=np.ones(512))
    assert 0.5 < result.pe_utilisation < 1.0
    assert result.frame_cycles[0] == result.frame_cycles[1]  # same broadcast pattern, same schedule


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda w: sim.LstmWeights({k: w.gates[k] for k in "ifg"}, w.projection), r"gates=\['f', 'g', 'i'\]"),
        (lambda w: sim.LstmWeights({**w.gates, "o": w.gates["o"][:4]}, w.projection), r"gates\['o'\] rows=4"),
        (lambda w: sim.LstmWeights({**w.gates, "f": w.gates["f"][:, :9]}, w.projection), r"gates columns=\[9, 10\]"),
        (lambda w: sim.LstmWeights({**w.gates, "g": np.full((8, 10), np.nan)}, w.projection), r"gates\['g'\].*nan"),
        (lambda w: sim.LstmWeights(w.gates, w.projection[:, :, None]), r"projection shape=\(4, 8, 1\)"),
    ],
)
def test_ese_refuses_bad_weights_naming_the_field(change, match):
    w = change(_layer(np.random.default_rng(6)))
    with pytest.raises(ValueError, match=match):
        sim.simulate(w, np.ones((1, 6)), pes=4)


def test_ese_refuses_a_pe_count_that_does_not_divide_the_cells():
    with pytest.raises(ValueError, match=r"pes=3 must divide cell_size=8"):
        sim.simulate(_layer(np.random.default_rng(7)), np.ones((1, 6)), pes=3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pes": 0}, "pes=0"),
        ({"fifo_depth": 1.5}, "fifo_depth=1.5"),
        ({"elementwise_latency_cycles": -1}, "elementwise_latency_cycles=-1"),
    ],
)
def test_ese_refuses_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sim.simulate(_layer(np.random.default_rng(8)), np.ones((1, 6)), **kwargs)


def test_ese_refuses_bad_inputs():
    w = _layer(np.random.default_rng(9))
    with pytest.raises(ValueError, match=r"inputs shape=\(1, 5\) must be \(frames, 6\)"):
        sim.simulate(w, np.ones((1, 5)), pes=4)
    with pytest.raises(ValueError, match="inputs contains nan"):
        sim.simulate(w, np.full((1, 6), np.nan), pes=4)
