"""``hwcost._vectors``: expected vectors of a binomial count against the exact sums, and ``hwcost.conv``'s
polyphase rewriting and phase classes against the simulator's."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import binom

from archsim import scnn as scnn_sim
from hwcost._vectors import vectors
from hwcost.conv import phase_classes, polyphase
from hwcost.smooth import Smoothing
from hwcost.types import ConvLayer


def _exact(n: int, d: float, width: int) -> tuple[float, float]:
    k = np.arange(n + 1)
    p = binom.pmf(k, n, d)
    c = np.ceil(k / width)
    mean = float(np.sum(p * c))
    return mean, float(np.sum(p * c * c)) - mean**2


@pytest.mark.parametrize("width", [2, 4, 8])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 9, 16, 72, 200])
@pytest.mark.parametrize("d", [0.05, 0.3, 0.5, 0.8, 0.99, 1.0])
def test_vectors_of_a_binomial_count(n, d, width):
    mean, var = _exact(n, d, width)
    v = vectors(n * d, float(n), float(width))
    # the Fejer kernel is about V / M entries wide: 1.1 % at V = 4, 2.2 % at V = 8 (worst case: one entry)
    assert float(v.mean) == pytest.approx(mean, rel=0.003 * width, abs=1e-3)
    assert float(v.var) == pytest.approx(var, rel=0.1, abs=0.02)


def test_no_entry_needs_no_vector_and_the_relaxation_converges():
    assert float(vectors(0.0, 5.0, 4.0).mean) == 0.0
    exact = float(vectors(64.0, 64.0, 4.0).mean)
    assert exact == pytest.approx(16.0, rel=2e-3)
    assert float(vectors(64.0, 64.0, 4.0, blur=1e-5).mean) == pytest.approx(exact, rel=1e-6)


def test_vectors_are_monotone_and_continuous_in_the_width():
    dens = jnp.linspace(0.0, 1.0, 101)
    means = jax.vmap(lambda d: vectors(64.0 * d, 64.0, 4.0).mean)(dens)
    assert np.all(np.diff(np.asarray(means)) >= -1e-6)
    widths = jnp.array([3.999, 4.0, 4.001])
    around = np.asarray(jax.vmap(lambda w: vectors(62.79, 62.79, w).mean)(widths))
    assert abs(around[1] - around[0]) < 1e-2 and abs(around[2] - around[1]) < 1e-2


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "size"), [(11, 4, 0, 227), (1, 2, 0, 20), (3, 2, 1, 15), (5, 1, 2, 9)]
)
def test_polyphase_and_phase_classes_agree_with_the_simulator(kernel, stride, padding, size):
    out = (size + 2 * padding - kernel) // stride + 1
    layer = ConvLayer(3.0, 4.0, float(kernel), float(kernel), float(size), float(size), float(out), float(out), 1.0,
                      1.0, stride=float(stride), padding=float(padding))  # fmt: skip
    hard = Smoothing(hard=True)
    w = np.ones((4, 3, kernel, kernel))
    a = np.ones((3, size, size))
    w2, a2 = scnn_sim.polyphase(w, a, stride, padding)
    pp = polyphase(layer, hard)
    assert (float(pp.channels), float(pp.plane_h), float(pp.kernel_h)) == (a2.shape[0], a2.shape[1], w2.shape[2])
    classes = phase_classes(layer, hard)
    taps = (w2 != 0).sum(axis=(0, 2, 3)) / 4  # real taps of each rewritten channel
    expected = sorted(taps.tolist())
    got = sorted(np.repeat(np.asarray(classes.taps), np.asarray(classes.channels).astype(int)).tolist())
    assert got == expected
