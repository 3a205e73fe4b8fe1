import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwcost import tech


def test_table_i_entries_at_32_bit():
    # EIE Table I (Horowitz 45 nm), V-P
    np.testing.assert_allclose(tech.int_add_pj(32), 0.1, rtol=1e-6)
    np.testing.assert_allclose(tech.float_add_pj(32), 0.9, rtol=1e-6)
    np.testing.assert_allclose(tech.int_mult_pj(32), 3.1, rtol=1e-6)
    np.testing.assert_allclose(tech.float_mult_pj(32), 3.7, rtol=1e-6)
    np.testing.assert_allclose(tech.sram_access_pj(8192.0, 32.0), 5.0, rtol=1e-6)
    np.testing.assert_allclose(tech.dram_access_pj(32.0), 640.0, rtol=1e-6)
    np.testing.assert_allclose(tech.register_file_access_pj(32.0), 1.0, rtol=1e-6)


def test_bit_width_fits_pass_through_the_slide_points():
    np.testing.assert_allclose(tech.int_add_pj(8), 0.03, rtol=1e-6)
    np.testing.assert_allclose(tech.int_mult_pj(8), 0.2, rtol=1e-6)
    np.testing.assert_allclose(tech.float_add_pj(16), 0.4, rtol=1e-6)
    np.testing.assert_allclose(tech.float_mult_pj(16), 1.1, rtol=1e-6)


def test_adders_scale_about_linearly_and_multipliers_about_quadratically():
    assert 0.7 < tech.INT_ADD_BITS_EXPONENT < 1.2
    assert 1.7 < tech.INT_MULT_BITS_EXPONENT < 2.2


def test_dram_costs_128_sram_accesses_and_three_orders_more_than_an_add():
    # EIE Sec. I: "DRAM access ... 128x more than SRAM", "three orders of magnitude" more than an add
    ratio = tech.dram_access_pj(32.0) / tech.sram_access_pj(8192.0, 32.0)
    np.testing.assert_allclose(ratio, 128.0, rtol=1e-6)
    assert tech.dram_access_pj(32.0) / tech.int_add_pj(32) >= 1e3


def test_sram_fit_is_close_to_its_fit_points_and_monotone():
    np.testing.assert_allclose(tech.sram_access_pj(8192.0, 64.0), 10.0, rtol=1e-6)
    np.testing.assert_allclose(tech.sram_access_pj(32768.0, 64.0), 20.0, rtol=0.1)
    np.testing.assert_allclose(tech.sram_access_pj(1048576.0, 64.0), 100.0, rtol=0.2)
    caps = jnp.geomspace(1024.0, 4.0 * 2**20, 12)
    energies = tech.sram_access_pj(caps, 64.0)
    assert bool(jnp.all(jnp.diff(energies) > 0))
    widths = jnp.array([16.0, 32.0, 64.0, 128.0])
    assert bool(jnp.all(jnp.diff(tech.sram_access_pj(8192.0, widths)) > 0))


def test_sram_energy_is_differentiable_in_capacity_and_width():
    grad_cap, grad_width = jax.grad(tech.sram_access_pj, argnums=(0, 1))(16384.0, 64.0)
    assert np.isfinite(grad_cap) and grad_cap > 0
    assert np.isfinite(grad_width) and grad_width > 0


def test_unknown_operation_is_rejected():
    with pytest.raises(ValueError, match="kind, op"):
        tech.arithmetic_energy_pj("int", "div", 32)
