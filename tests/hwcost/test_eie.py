"""The EIE cost model (hwcost/eie.py): limits, exact special cases, gradients against central differences.

The registry-wide properties (finite non-negative terms, jit, vmap, gradients at the sample points,
monotonicity, the dense limit, hard twin, input checks) run in ``test_properties.py``; the comparison with
the cycle-level simulator in ``tests/validation``.
"""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from hwcost import cost, eie, smooth
from hwcost.types import FcLayer, total

HW = eie.EIE_64PE_45NM
HARD = eie.COST_MODEL.hard(HW)
GRADIENT_RTOL = 1e-6
"""Derivative against a central difference in float64 (measured agreement 1e-8 or better)."""


def _f64(tree):
    return jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), tree)


def _energy(hw, layer):
    return total(cost.energy_pj(eie.COST_MODEL, hw, layer))


def _central_difference(f, x, h):
    """Fourth-order central difference (the relaxed row steps are steep: a second-order one is off by
    ``h**2 f'''(x) / 6``, 2e-5 relative at 200 PEs and h = 1e-4)."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12.0 * h)


# --- exact special cases ---------------------------------------------------------------------------------
def test_density_one_gives_the_dense_counts_and_latency():
    # every PE holds 10 rows: 10 cycles per column, no imbalance (the latency is capped at M * rows)
    layer = FcLayer(1024.0, 640.0, 1.0, 1.0)
    for hw, rtol in ((HARD, 0.0), (HW, 1e-5)):
        counts = eie.action_counts(hw, layer)
        assert float(counts["pe.mac"]) == 1024 * 640 and float(counts["act_sram.write"]) == 1024 * 640
        assert float(counts["pe.filler"]) == 0.0
        np.testing.assert_allclose(eie.latency_cycles(hw, layer), 1024 * 10, rtol=rtol)


def test_dense_layer_with_fewer_rows_than_pes_matches_archsim_exactly():
    # LeNet's 10-row output layer at density 1: 10 PEs hold one row, 54 hold none and read no Spmat word,
    # yet every PE spends one cycle per broadcast column.
    from archsim.eie import simulate

    weights = np.ones((10, 100), np.float32)
    activations = np.zeros(100, np.float32)
    activations[:40] = 1.0
    sim = simulate(weights, activations, pes=64, fifo_depth=8, index_bits=4)
    layer = FcLayer(100.0, 10.0, 1.0, 0.4)
    for hw in (HARD, HW):
        counts = eie.action_counts(hw, layer)
        assert {k: float(v) for k, v in counts.items()} == {k: float(v) for k, v in sim.action_counts().items()}
        assert float(eie.latency_cycles(hw, layer)) == sim.cycles


def test_no_broadcast_costs_no_cycle():
    for hw, out in itertools.product((HW, HARD), (1.0, 10.0, 64.0, 65.0, 1000.0)):
        layer = FcLayer(300.0, out, 0.1, 0.0)
        assert float(eie.latency_cycles(hw, layer)) == 0.0
        assert all(float(v) == 0.0 for k, v in eie.action_counts(hw, layer).items() if k != "act_sram.read")


def test_single_pe_latency_is_the_expected_work_for_few_columns():
    # one PE: no imbalance, the latency is M E[w] exactly (relaxed and hard)
    hw = dataclasses.replace(HW, num_pes=1.0)
    mean, _ = eie.column_work_moments(24.0, 0.2)
    for columns, h in itertools.product((1.0, 3.0, 8.0), (hw, eie.COST_MODEL.hard(hw))):
        latency = eie.latency_cycles(h, FcLayer(columns * 10, 24.0, 0.2, 0.1))
        np.testing.assert_allclose(latency, columns * mean, rtol=1e-6)


def _exact_max_of_sums(rows: int, density: float, columns: int, pes: int, index_bits: int = 4) -> float:
    """Exact E[max over ``pes`` PEs of the sum of ``columns`` column works], every PE with ``rows`` rows:
    the per-column pmf of ``w = max(1, entries)`` by enumeration, convolved ``columns`` times."""
    span = 2**index_bits
    pmf = np.zeros(rows + 2)
    for bits in itertools.product((0, 1), repeat=rows):
        entries, run = 0, 0
        for b in bits:
            if b:
                entries, run = entries + 1 + run // span, 0
            else:
                run += 1
        pmf[max(entries, 1)] += density ** sum(bits) * (1 - density) ** (rows - sum(bits))
    sums = np.array([1.0])
    for _ in range(columns):
        sums = np.convolve(sums, pmf)
    return float(np.sum(1.0 - np.minimum(np.cumsum(sums), 1.0) ** pes))


@pytest.mark.parametrize(
    ("rows", "density", "columns", "pes"),
    [(3, 0.2, 3, 64), (5, 0.1, 2, 64), (6, 0.6, 8, 64), (4, 0.3, 5, 16), (2, 0.3, 1, 64), (8, 0.05, 4, 8)],
)
def test_few_column_latency_is_within_5_percent_of_the_exact_expected_maximum(rows, density, columns, pes):
    # With at most D broadcast columns no broadcast waits, and the latency is max_p of the per-PE sums.
    hw = dataclasses.replace(HW, num_pes=float(pes))
    layer = FcLayer(float(columns * 10), float(rows * pes), density, 0.1)
    exact = _exact_max_of_sums(rows, density, columns, pes)
    for h in (hw, eie.COST_MODEL.hard(hw)):
        np.testing.assert_allclose(eie.latency_cycles(h, layer), exact, rtol=0.05)


def test_relaxed_counts_equal_the_hard_ones_on_integer_shapes():
    # the relaxed busiest rows are within (1 - tanh(5)) / 2 = 4.5e-5 rows of ceil(out / N) at T = 0.1
    # (measured: every count within 1.3e-5 of the hard one, relative to its largest value in the sweep);
    # the latency differs by the soft minima and maxima as well (measured 3e-4)
    outs = jnp.arange(1.0, 300.0)

    @jax.jit  # one compilation per smoothing (the hard twin is a static field), shared by the sweep
    def outputs(h, layers):
        return jax.vmap(lambda w: {**eie.action_counts(h, w), "latency": eie.latency_cycles(h, w)})(layers)

    for pes, wd in itertools.product((1.0, 7.0, 64.0, 200.0), (0.05, 0.5, 1.0)):
        hw = dataclasses.replace(HW, num_pes=pes)
        layers = FcLayer(jnp.full_like(outs, 500.0), outs, jnp.full_like(outs, wd), jnp.full_like(outs, 0.5))
        relaxed, hard = outputs(hw, layers), outputs(eie.COST_MODEL.hard(hw), layers)
        for key, value in relaxed.items():
            rtol = 1e-3 if key in ("latency", "pe.cycle") else 2e-5
            scale = float(np.max(hard[key]))
            np.testing.assert_allclose(value, hard[key], rtol=rtol, atol=rtol * scale, err_msg=f"{key}, {pes} PEs")


def test_hard_and_relaxed_latency_agree_on_table_iii_shapes():
    for layer in (
        FcLayer(9216.0, 4096.0, 0.09, 0.351),
        FcLayer(4096.0, 1000.0, 0.25, 0.375),
        FcLayer(4096.0, 600.0, 0.1, 1.0),
        FcLayer(600.0, 8791.0, 0.11, 1.0),
    ):
        np.testing.assert_allclose(eie.latency_cycles(HW, layer), eie.latency_cycles(HARD, layer), rtol=1e-4)


# --- directions the property suite does not declare -------------------------------------------------------
def test_latency_shrinks_with_more_pes():
    layer = FcLayer(4096.0, 4096.0, 0.09, 0.35)
    pes = (16.0, 32.0, 64.0, 128.0)
    latencies = [float(eie.latency_cycles(dataclasses.replace(HW, num_pes=n), layer)) for n in pes]
    assert all(a > b for a, b in itertools.pairwise(latencies))


def test_latency_is_continuous_and_increasing_in_activation_density_down_to_one_column():
    # 0.5 .. 60 broadcast columns across the blend from the no-stall form to the large-M terms
    ads = jnp.geomspace(0.5 / 300, 0.2, 200)
    lat = np.asarray(jax.vmap(lambda ad: eie.latency_cycles(HW, FcLayer(300.0, 1000.0, 0.1, ad)))(ads))
    assert np.all(np.diff(lat) > 0)
    assert np.max(np.diff(lat) / lat[1:]) < 0.05


def test_latency_never_exceeds_every_row_an_entry_and_is_at_least_the_mean_work():
    wd = jnp.array([0.02, 0.3, 0.9, 0.99, 0.999, 1.0])
    for out, ad in ((1000.0, 0.4), (64.0, 0.05), (10.0, 0.9)):
        layers = FcLayer(jnp.full_like(wd, 2000.0), jnp.full_like(wd, out), wd, jnp.full_like(wd, ad))
        m = 2000.0 * ad
        for hw, rtol in ((HW, 1e-4), (HARD, 1e-6)):  # relaxed: the busiest rows are 4.5e-5 above ceil(out / N)
            lat = np.asarray(jax.vmap(lambda w, hw=hw: eie.latency_cycles(hw, w))(layers))
            work = np.asarray(jax.vmap(lambda w, hw=hw: eie.latency_terms(hw, w)["work"])(layers))
            assert np.all(lat <= m * max(np.ceil(out / 64), 1.0) * (1 + rtol)) and np.all(lat >= work)


# --- gradients --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pes", [64.0, 200.0, 50.5])
def test_gradients_in_pe_count_and_rows_equal_central_differences(pes):
    # 4096 x 1000, d = 0.1, activation 0.4: a straight-through staircase gave -37.2 cycles/PE against +0.86
    with jax.enable_x64(True):
        hw = _f64(dataclasses.replace(HW, num_pes=pes))

        def lat(n, out):
            return eie.latency_cycles(dataclasses.replace(hw, num_pes=n), FcLayer(4096.0, out, 0.1, 0.4))

        def energy(n, out):
            return _energy(dataclasses.replace(hw, num_pes=n), FcLayer(4096.0, out, 0.1, 0.4))

        for f in (lat, energy):
            n, out = jnp.float64(pes), jnp.float64(1000.0)
            atol = 1e-9 * float(f(n, out))  # on the plateaus d latency / d out is 1e-40
            for grad, fd in (
                (jax.grad(f, 0)(n, out), _central_difference(lambda v, f=f, out=out: f(v, out), n, 1e-4)),
                (jax.grad(f, 1)(n, out), _central_difference(lambda v, f=f, n=n: f(n, v), out, 1e-4)),
            ):
                np.testing.assert_allclose(grad, fd, rtol=GRADIENT_RTOL, atol=atol)


def test_gradients_for_fewer_rows_than_pes_equal_central_differences():
    # 10 ... 63 output rows on 64 PEs, both derivatives of every case in one compiled vmap
    with jax.enable_x64(True):
        hw = _f64(HW)

        def lat(n, out):
            return eie.latency_cycles(dataclasses.replace(hw, num_pes=n), FcLayer(4096.0, out, 0.1, 0.4))

        outs = jnp.arange(10.0, 64.0, dtype=jnp.float64)
        pes = jnp.full_like(outs, 64.0)
        values = jax.jit(jax.vmap(lat))
        grads = jax.jit(jax.vmap(jax.grad(lat, argnums=(0, 1))))(pes, outs)
        fds = (
            _central_difference(lambda v: values(v, outs), pes, 1e-4),
            _central_difference(lambda v: values(pes, v), outs, 1e-4),
        )
        atol = 1e-9 * float(jnp.min(values(pes, outs)))
        for grad, fd in zip(grads, fds, strict=True):
            assert np.isfinite(grad).all()
            np.testing.assert_allclose(grad, fd, rtol=GRADIENT_RTOL, atol=atol)


@pytest.mark.parametrize(
    ("layer", "pes"),
    [
        (FcLayer(4096.0, 1000.0, 0.09, 0.35), 64.0),
        (FcLayer(4096.0, 1000.0, 0.04, 0.18), 64.0),
        (FcLayer(300.0, 1000.0, 0.05, 0.02), 64.0),
        (FcLayer(800.0, 130.0, 0.3, 0.03), 64.0),
        (FcLayer(70.0, 4100.0, 0.1, 0.06), 64.0),
        (FcLayer(300.0, 100.0, 0.995, 0.5), 64.0),
        (FcLayer(784.0, 300.0, 0.0005, 0.2), 16.0),
    ],
)
def test_check_grads_in_densities_and_hardware(layer, pes):
    with jax.enable_x64(True):
        hw = _f64(dataclasses.replace(HW, num_pes=pes))

        def costs(wd, ad, n, fifo):
            h = dataclasses.replace(hw, num_pes=n, fifo_depth=fifo)
            w = dataclasses.replace(layer, weight_density=wd, activation_density=ad)
            return jnp.stack([eie.latency_cycles(h, w), _energy(h, w)])

        args = tuple(jnp.float64(v) for v in (layer.weight_density, layer.activation_density, pes, 8.0))
        check_grads(costs, args, order=1, modes=["fwd", "rev"], eps=1e-6)


def _square_outputs(hw, w, a, out):
    layer = FcLayer(100.0, out, w, a)
    counts = eie.action_counts(hw, layer)
    return jnp.stack([*counts.values(), eie.latency_cycles(hw, layer), _energy(hw, layer)])


# compiled once for every case of the sweep below (the hardware is an argument, not a constant)
_square_values = jax.jit(jax.vmap(_square_outputs, in_axes=(None, 0, 0, 0)))
_square_jacobians = jax.jit(jax.vmap(jax.jacfwd(_square_outputs, argnums=(1, 2, 3)), in_axes=(None, 0, 0, 0)))


@pytest.mark.parametrize("out_features", [1.0, 10.0, 40.0, 63.0, 64.0, 65.0, 300.0])
@pytest.mark.parametrize("pes", [64.0, 200.0])
def test_values_and_gradients_finite_and_non_negative_on_the_whole_density_square(out_features, pes):
    hw = dataclasses.replace(HW, num_pes=pes)
    grid = jnp.array([0.0, 1e-4, 0.05, 0.5, 0.99, 1.0])
    w, a = (v.ravel() for v in jnp.meshgrid(grid, grid))
    out = jnp.full_like(w, out_features)
    values = _square_values(hw, w, a, out)
    assert np.all(np.isfinite(values)) and np.all(np.asarray(values) >= 0)
    jac = _square_jacobians(hw, w, a, out)
    assert all(np.all(np.isfinite(j)) for j in jac)
    # energy grows with both densities, also at the ends
    assert np.all(np.asarray(jac[0][:, -1]) >= 0) and np.all(np.asarray(jac[1][:, -1]) >= 0)


def test_energy_grows_with_weight_density_near_one_from_a_dense_start():
    d = jnp.linspace(0.98, 1.0, 41)
    slopes = jax.jit(jax.vmap(jax.grad(lambda wd: _energy(HW, FcLayer(300.0, 100.0, wd, 1.0)))))(d)
    assert np.all(np.asarray(slopes) > 0)


# --- energy table and checks ----------------------------------------------------------------------------
def test_per_action_energies_sum_to_table_ii_power_at_its_access_rates():
    # EIE Table II: 9.157 mW per PE at 800 MHz, with one entry per PE-cycle and a Spmat word and a pointer
    # pair every 8 cycles (Sec. VI): the per-action energies times these rates give back the total.
    per_action = eie.per_action_energy_pj(HW)
    per_cycle_pj = (
        per_action["spmat_sram.read"] / 8
        + per_action["ptr_sram.read"] * 2 / 8
        + per_action["pe.mac"]
        + per_action["act_sram.read"]
        + per_action["act_sram.write"]
        + per_action["fifo.push"] / 8
        + per_action["pe.cycle"]
    )
    np.testing.assert_allclose(per_cycle_pj * 800e6 * 1e-9, 9.157, rtol=1e-3)


def test_checks_reject_bad_shapes_and_hardware():
    eie.check_hardware(HW)
    for layer in eie.COST_MODEL.sample_workloads().values():
        eie.check_workload(layer)
    with pytest.raises(ValueError, match="out_features"):
        eie.check_workload(FcLayer(10.0, 0.5, 0.2, 0.5))
    with pytest.raises(ValueError, match="in_features"):
        eie.check_workload(FcLayer(0.0, 10.0, 0.2, 0.5))
    with pytest.raises(ValueError, match="num_pes"):
        eie.check_hardware(dataclasses.replace(HW, num_pes=0.5))
    with pytest.raises(ValueError, match="fifo_depth"):
        eie.check_hardware(dataclasses.replace(HW, fifo_depth=0.0))
    with pytest.raises(ValueError, match="temperature"):
        eie.check_hardware(dataclasses.replace(HW, smoothing=smooth.Smoothing(0.0)))
