import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from hwcost import eie
from hwcost.types import FcLayer, total

HW = eie.EIE_64PE_45NM


def _brute_force_entries(rows: int, density: float, index_bits: int) -> float:
    """Exact E[entries] of a Bernoulli column slice by enumerating all 2**rows patterns."""
    span = 2**index_bits
    expected = 0.0
    for bits in itertools.product((0, 1), repeat=rows):
        nnz = sum(bits)
        prob = density**nnz * (1 - density) ** (rows - nnz)
        entries, run = 0, 0
        for b in bits:
            if b:
                entries += 1 + run // span
                run = 0
            else:
                run += 1
        expected += prob * entries
    return expected


@pytest.mark.parametrize(("rows", "density", "index_bits"), [(6, 0.3, 1), (9, 0.15, 2), (12, 0.1, 2), (10, 0.5, 3)])
def test_filler_expectation_matches_brute_force_enumeration(rows, density, index_bits):
    exact = _brute_force_entries(rows, density, index_bits)
    np.testing.assert_allclose(eie.expected_entries(float(rows), density, index_bits), exact, rtol=1e-5)


def test_paper_filler_example_one_filler_for_eighteen_zeros():
    # EIE Sec. III-B: 18 zeros before a nonzero -> one filler (z = 15, filler, z = 2).
    assert _brute_force_entries(19, 1.0, 4) == 19.0
    np.testing.assert_allclose(eie.expected_fillers(19.0, 1.0), 0.0, atol=1e-5)


def test_density_one_gives_the_dense_count():
    layer = FcLayer(1024.0, 640.0, 1.0, 1.0)
    counts = eie.action_counts(HW, layer)
    np.testing.assert_allclose(counts["pe.mac"], 1024 * 640, rtol=1e-5)
    np.testing.assert_allclose(counts["act_sram.write"], 1024 * 640, rtol=1e-5)
    np.testing.assert_allclose(counts["pe.filler"], 0.0, atol=1.0)
    # every PE holds 10 rows: 10 cycles per column, no imbalance (exact on the hard path; the soft
    # ceiling of the busiest PE's rows adds at most 0.14 rows on the relaxed one)
    np.testing.assert_allclose(eie.latency_cycles(eie.COST_MODEL.hard(HW), layer), 1024 * 10, rtol=1e-4)
    np.testing.assert_allclose(eie.latency_cycles(HW, layer), 1024 * 10, rtol=0.015)


def test_dense_layer_with_fewer_rows_than_pes_matches_archsim_counts():
    # LeNet's 10-row output layer at density 1: 10 PEs hold one row, 54 hold none and read no Spmat word,
    # yet every PE spends one cycle per broadcast column.
    from archsim.eie import simulate

    weights = np.ones((10, 100), np.float32)
    activations = np.zeros(100, np.float32)
    activations[:40] = 1.0
    sim = simulate(weights, activations, pes=64, fifo_depth=8, index_bits=4)
    hard = eie.COST_MODEL.hard(HW)
    layer = FcLayer(100.0, 10.0, 1.0, 0.4)
    counts = eie.action_counts(hard, layer)
    np.testing.assert_allclose(float(counts["spmat_sram.read"]), sim.spmat_reads, rtol=1e-5)
    np.testing.assert_allclose(float(eie.latency_cycles(hard, layer)), sim.cycles, rtol=1e-3)
    np.testing.assert_allclose(float(eie.empty_slice_probability(0.0, 1.0)), 1.0)
    np.testing.assert_allclose(float(eie.empty_slice_probability(1.0, 1.0)), 0.0)


def test_energy_grows_with_weight_density():
    energies = [float(total(eie.energy_pj(HW, FcLayer(4096.0, 4096.0, d, 0.35)))) for d in (0.02, 0.09, 0.3, 1.0)]
    assert all(a < b for a, b in itertools.pairwise(energies))


def test_latency_grows_with_activation_density_and_shrinks_with_pes():
    lat = [float(eie.latency_cycles(HW, FcLayer(4096.0, 4096.0, 0.09, a))) for a in (0.1, 0.3, 0.9)]
    assert lat[0] < lat[1] < lat[2]
    more_pes = dataclasses.replace(HW, num_pes=128.0)
    assert eie.latency_cycles(more_pes, FcLayer(4096.0, 4096.0, 0.09, 0.35)) < lat[1]


def _at(wd, ad):
    return FcLayer(4096.0, 1000.0, wd, ad)


def test_latency_and_energy_gradients_wrt_both_densities():
    with jax.enable_x64(True):
        hw = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), HW)
        lat = lambda wd, ad: eie.latency_cycles(hw, _at(wd, ad)) / 1e4
        energy = lambda wd, ad: total(eie.energy_pj(hw, _at(wd, ad))) / 1e7
        for wd, ad in ((0.09, 0.35), (0.25, 0.6), (0.04, 0.18)):
            args = (jnp.float64(wd), jnp.float64(ad))
            check_grads(lat, args, order=1, modes=["rev"], eps=1e-5, rtol=2e-3)
            check_grads(energy, args, order=1, modes=["rev"], eps=1e-5, rtol=2e-3)


def test_gradient_wrt_pe_count_is_finite_and_negative():
    layer = FcLayer(9216.0, 4096.0, 0.09, 0.351)
    grad = jax.grad(lambda n: eie.latency_cycles(dataclasses.replace(HW, num_pes=n), layer))(64.0)
    assert np.isfinite(grad) and grad < 0


def test_table_ii_power_is_reproduced_at_the_operating_point():
    # EIE Table II: 9.157 mW per PE at 800 MHz with one entry per PE-cycle, Spmat/Ptr every 8 cycles.
    per_action = eie.action_energies_pj(HW)
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


def test_hard_and_relaxed_agree_closely_on_table_iii_shapes():
    gaps = []
    for layer in (
        FcLayer(9216.0, 4096.0, 0.09, 0.351),
        FcLayer(4096.0, 600.0, 0.1, 1.0),
        FcLayer(600.0, 8791.0, 0.11, 1.0),
    ):
        relaxed = eie.latency_cycles(HW, layer)
        exact = eie.latency_cycles(eie.COST_MODEL.hard(HW), layer)
        gaps.append(abs(float(relaxed / exact) - 1))
    print("hard vs relaxed latency gap:", [f"{g:.2e}" for g in gaps])
    assert max(gaps) < 0.02


def test_checks_reject_bad_inputs():
    eie.check_hardware(HW)
    eie.check_layer(eie.COST_MODEL.example_workload())
    with pytest.raises(ValueError, match="weight_density"):
        eie.check_layer(FcLayer(10.0, 10.0, 1.2, 0.5))
    with pytest.raises(ValueError, match="activation_density"):
        eie.check_layer(FcLayer(10.0, 10.0, 0.2, float("nan")))
    with pytest.raises(ValueError, match="out_features"):
        eie.check_layer(FcLayer(10.0, 0.0, 0.2, 0.5))
    with pytest.raises(ValueError, match="num_pes"):
        eie.check_hardware(dataclasses.replace(HW, num_pes=0.5))
    with pytest.raises(ValueError, match="fifo_depth"):
        eie.check_hardware(dataclasses.replace(HW, fifo_depth=0.0))


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
    total = np.array([1.0])
    for _ in range(columns):
        total = np.convolve(total, pmf)
    return float(np.sum(1.0 - np.minimum(np.cumsum(total), 1.0) ** pes))


@pytest.mark.parametrize(
    ("rows", "density", "columns", "pes"),
    [(3, 0.2, 3, 64), (5, 0.1, 2, 64), (6, 0.6, 8, 64), (4, 0.3, 5, 16), (2, 0.3, 1, 64), (8, 0.05, 4, 8)],
)
def test_few_column_latency_matches_the_exact_expected_maximum_of_per_pe_sums(rows, density, columns, pes):
    # With at most D broadcast columns no broadcast waits, and the latency is max_p of the per-PE sums.
    hw = dataclasses.replace(HW, num_pes=float(pes))
    layer = FcLayer(float(columns * 10), float(rows * pes), density, 0.1)
    exact = _exact_max_of_sums(rows, density, columns, pes)
    for h in (hw, eie.COST_MODEL.hard(hw)):
        np.testing.assert_allclose(eie.latency_cycles(h, layer), exact, rtol=0.05)


def test_single_pe_latency_is_the_expected_work_for_few_columns():
    hw = dataclasses.replace(HW, num_pes=1.0)
    for columns in (1.0, 3.0, 8.0):
        layer = FcLayer(columns * 10, 24.0, 0.2, 0.1)
        mean, _ = eie.column_work_moments(24.0, 0.2)
        # exact on the hard path; the relaxed one adds the smooth maximum's small bias
        np.testing.assert_allclose(eie.latency_cycles(eie.COST_MODEL.hard(hw), layer), columns * mean, rtol=1e-4)
        np.testing.assert_allclose(eie.latency_cycles(hw, layer), columns * mean, rtol=1e-2)


def test_expected_max_skewed_limits():
    n = jnp.array([1.0, 2.0, 8.0, 64.0, 256.0])
    np.testing.assert_allclose(eie.expected_max_skewed(0.0, n), eie.expected_max_normal(n), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eie.expected_max_skewed(jnp.array([-1.0, 0.5, 2.0, 4.0]), 1.0), 0.0, atol=1e-6)
    # positive skew lengthens the upper tail: the expected maximum of 64 grows with the skewness
    values = [float(eie.expected_max_skewed(g, 64.0)) for g in (-1.0, 0.0, 1.0, 2.0, 3.0, 4.0)]
    assert all(a < b for a, b in itertools.pairwise(values))


def test_latency_is_continuous_and_increasing_in_activation_density_down_to_one_column():
    # 0.5 .. 60 broadcast columns across the blend from the no-stall form to the large-M terms
    ads = jnp.geomspace(0.5 / 300, 0.2, 200)
    lat = jax.vmap(lambda ad: eie.latency_cycles(HW, FcLayer(300.0, 1000.0, 0.1, ad)))(ads)
    assert np.all(np.diff(np.asarray(lat)) > 0)
    assert np.max(np.diff(np.asarray(lat)) / np.asarray(lat[1:])) < 0.05


@pytest.mark.parametrize(("in_features", "out_features"), [(300.0, 1000.0), (800.0, 130.0), (70.0, 4100.0)])
def test_few_column_gradients_wrt_densities_and_pe_count(in_features, out_features):
    with jax.enable_x64(True):
        hw = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), HW)

        def lat(wd, ad, n):
            h = dataclasses.replace(hw, num_pes=n)
            return eie.latency_cycles(h, FcLayer(in_features, out_features, wd, ad)) / 100.0

        pes = jnp.float64(64.0)
        for wd, ad in ((0.05, 0.02), (0.3, 0.03), (0.1, 0.06)):
            args = (jnp.float64(wd), jnp.float64(ad))
            check_grads(lambda w, a: lat(w, a, pes), args, order=1, modes=["fwd", "rev"], eps=1e-6, rtol=2e-3)
            assert np.isfinite(jax.grad(lat, argnums=2)(*args, pes))


def test_vmap_over_pe_counts_equals_a_loop_for_few_columns():
    layer = FcLayer(200.0, 1000.0, 0.1, 0.03)
    pes = jnp.array([1.0, 4.0, 16.0, 64.0, 100.0, 256.0])
    swept = jax.jit(jax.vmap(lambda n: eie.latency_cycles(dataclasses.replace(HW, num_pes=n), layer)))(pes)
    looped = [float(eie.latency_cycles(dataclasses.replace(HW, num_pes=float(n)), layer)) for n in pes]
    np.testing.assert_allclose(swept, looped, rtol=1e-5)


def _brute_force_filler_moments(rows: int, density: float, index_bits: int) -> tuple[float, float, float]:
    """Exact ``(E[fillers], Cov[nonzeros, fillers], Var[entries])`` by enumerating all 2**rows patterns."""
    span = 2**index_bits
    moments = np.zeros(6)  # E[1], E[n], E[f], E[n f], E[e], E[e**2]
    for bits in itertools.product((0, 1), repeat=rows):
        nnz, fillers, run = sum(bits), 0, 0
        for b in bits:
            if b:
                fillers, run = fillers + run // span, 0
            else:
                run += 1
        prob = density**nnz * (1 - density) ** (rows - nnz)
        e = nnz + fillers
        moments += prob * np.array([1.0, nnz, fillers, nnz * fillers, e, e * e])
    _, n, f, nf, e, e2 = moments
    return f, nf - n * f, e2 - e * e


@pytest.mark.parametrize(
    ("rows", "density", "index_bits"), [(7, 0.2, 2), (12, 0.1, 2), (12, 0.05, 2), (11, 0.3, 2), (13, 0.15, 3)]
)
def test_filler_covariance_is_exact_and_entries_variance_close(rows, density, index_bits):
    # the variance blend is within 11 % of the exact one for 4-bit indices, rows 2..200, density >= 0.02
    fillers, cov, var = _brute_force_filler_moments(rows, density, index_bits)
    model_fillers, model_cov = eie._filler_nonzero_covariance(jnp.float32(rows), jnp.float32(density), index_bits)
    np.testing.assert_allclose([model_fillers, model_cov], [fillers, cov], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        eie._entries_variance(jnp.float32(rows), jnp.float32(density), index_bits)[0], var, rtol=0.12
    )


@pytest.mark.parametrize("out_features", [10.0, 40.0, 63.0, 300.0])
def test_gradients_finite_at_density_boundaries(out_features):
    # One-row (or fractional-row) slices have zero work variance and an empty-slice probability with an
    # infinite slope at density 1; densities 0 and 1 are the ends a trainer reaches. Gradients stay finite.
    hw = eie.EIE_64PE_45NM

    def cost(w, a):
        layer = FcLayer(100.0, out_features, w, a)
        return total(eie.energy_pj(hw, layer)) + eie.latency_cycles(hw, layer)

    grad = jax.jit(jax.vmap(jax.grad(cost, argnums=(0, 1))))
    w, a = (jnp.array(v).ravel() for v in jnp.meshgrid(jnp.array([0.0, 0.05, 1.0]), jnp.array([0.0, 0.3, 1.0])))
    gw, ga = grad(w, a)
    assert bool(jnp.all(jnp.isfinite(gw))) and bool(jnp.all(jnp.isfinite(ga)))
    assert float(gw[4]) > 0  # interior point (0.05, 0.3): energy grows with weight density
