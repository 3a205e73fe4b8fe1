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


def test_energy_grows_with_weight_density():
    energies = [float(total(eie.energy_pj(HW, FcLayer(4096.0, 4096.0, d, 0.35)))) for d in (0.02, 0.09, 0.3, 1.0)]
    assert all(a < b for a, b in itertools.pairwise(energies))


def test_latency_grows_with_activation_density_and_shrinks_with_pes():
    lat = [float(eie.latency_cycles(HW, FcLayer(4096.0, 4096.0, 0.09, a))) for a in (0.1, 0.3, 0.9)]
    assert lat[0] < lat[1] < lat[2]
    more_pes = eie.EieHardware(**{**vars(HW), "num_pes": 128.0})
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
    grad = jax.grad(lambda n: eie.latency_cycles(eie.EieHardware(**{**vars(HW), "num_pes": n}), layer))(64.0)
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
        eie.check_hardware(eie.EieHardware(**{**vars(HW), "num_pes": 0.5}))
    with pytest.raises(ValueError, match="fifo_depth"):
        eie.check_hardware(eie.EieHardware(**{**vars(HW), "fifo_depth": 0.0}))
