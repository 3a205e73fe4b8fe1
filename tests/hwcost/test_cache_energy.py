"""The cache wire-energy geometry: the nearest/farthest spread comes out of the floorplan, the cross-check
against the authors' simulator, input checks and gradients."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from hwcost import cache_energy as ce

G = ce.HOLISWAP_32KB_4WAY


def test_default_geometry_is_valid():
    ce.check_geometry(G)


def test_nearest_to_farthest_wire_energy_ratio_exceeds_six_from_the_geometry():
    """HoLiSwap abstract (V-P): nearest vs farthest subarray wire energy differs by more than 6x."""
    energy = np.asarray(ce.way_wire_energy_pj(G, "l1d"))
    assert energy.shape == (4,)
    assert np.all(np.diff(energy) > 0), "way 0 must be the nearest and the ways ordered by distance"
    assert energy[-1] / energy[0] > 6.0
    np.testing.assert_allclose(energy[-1] / energy[0], 2 * G.ways - 1, rtol=1e-6)  # (i + 1/2) H routes


def test_documented_per_way_figures_hold():
    """The figures of ``HOLISWAP_32KB_4WAY``'s docstring."""
    np.testing.assert_allclose(ce.way_distance_mm(G), [0.0704, 0.2112, 0.3520, 0.4928], rtol=1e-4)
    np.testing.assert_allclose(ce.way_wire_energy_pj(G), [2.884, 8.651, 14.418, 20.185], rtol=1e-3)


def test_ratio_depends_on_the_placement():
    """The ratio is not set: a 2 x 2 block or a 4 x 1 row of subarrays spreads the ways far less."""
    for columns, low, high in ((2, 2.0, 3.0), (4, 1.4, 1.8)):
        energy = np.asarray(ce.way_wire_energy_pj(dataclasses.replace(G, columns=columns)))
        assert low < energy.max() / energy.min() < high
        assert energy[0] == energy.min()


def test_eight_kib_subarray_dimensions_at_22nm():
    width, height = ce.subarray_size_mm(G)
    np.testing.assert_allclose(float(width), 5440 * 11e-6, rtol=1e-6)  # (256*16 + 2*16*8) lambda / 0.8
    np.testing.assert_allclose(float(height), 12800 * 11e-6, rtol=1e-6)  # 256*40 lambda / 0.8


def test_conventional_htree_wire_energy_near_the_simulators_l1d_split():
    """The same floorplan as cache_spice's conventional 32 KB data array (a 4 x 1 row of 8 KB arrays) gives
    5.33 pJ of data wires per 512-bit access; the CG-OoO simulator's HSPICE L1-D has 5.73 pJ (V-S(author))."""
    width, height = ce.subarray_size_mm(G)
    route = ce.htree_route_mm(width, height, 4, 1)
    np.testing.assert_allclose(float(route), float(width + height / 2), rtol=1e-6)
    wire_pj = 512 * ce.WIRE_PJ_PER_BIT_MM_22NM * float(route)
    assert abs(wire_pj - ce.L1D_DATA_WIRE_PJ_22NM) / ce.L1D_DATA_WIRE_PJ_22NM < 0.10


def test_array_energy_is_the_simulators_non_wire_part():
    np.testing.assert_allclose(float(ce.array_energy_pj(G, "l1d")), 28.2 - 5.73, rtol=1e-5)
    total = np.asarray(ce.way_access_energy_pj(G, "l1i"))
    np.testing.assert_allclose(total - float(ce.array_energy_pj(G, "l1i")), ce.way_wire_energy_pj(G, "l1i"), rtol=1e-5)


def test_swap_energy_symmetric_zero_on_itself_and_cost_both_routes():
    d = np.asarray(ce.way_distance_mm(G))
    for a in range(4):
        for b in range(4):
            e = float(ce.line_swap_wire_energy_pj(G, a, b))
            assert e == pytest.approx(float(ce.line_swap_wire_energy_pj(G, b, a)))
            expected = 0.0 if a == b else 2 * 512 * 0.08 * (d[a] + d[b])
            assert e == pytest.approx(expected, rel=1e-5)
    near = np.asarray(ce.swap_with_nearest_energy_pj(G))
    assert near[0] == 0 and np.all(np.diff(near) > 0)
    whole = np.asarray(ce.swap_with_nearest_energy_pj(G, wire_only=False))
    np.testing.assert_allclose(whole[1:] - near[1:], 4 * 512 * ce.ARRAY_PJ_PER_BIT_22NM, rtol=1e-5)


def test_jit_equals_eager_and_vmap_over_wire_energies():
    eager = ce.way_wire_energy_pj(G)
    np.testing.assert_allclose(jax.jit(ce.way_wire_energy_pj)(G), eager, rtol=1e-6)
    stacked = dataclasses.replace(G, wire_pj_per_bit_mm=jnp.asarray([0.04, 0.08, 0.16]))
    axes = dataclasses.replace(jax.tree_util.tree_map(lambda _: None, G), wire_pj_per_bit_mm=0)
    out = jax.vmap(ce.way_wire_energy_pj, in_axes=(axes,))(stacked)
    np.testing.assert_allclose(out[1], eager, rtol=1e-6)
    np.testing.assert_allclose(out[2], 2 * eager, rtol=1e-6)


def test_gradients_agree_with_finite_differences():
    with jax.enable_x64(True):
        leaves = {
            "node_nm": 22.0,
            "wire_pj_per_bit_mm": 0.08,
            "l1d_bits_per_access": 512.0,
            "cell_width_lambda": 16.0,
            "cell_height_lambda": 40.0,
            "packing_efficiency": 0.8,
            "array_pj_per_bit": 0.044,
        }

        def costs(*values):
            g = dataclasses.replace(G, **dict(zip(leaves, values, strict=True)))
            return jnp.concatenate([
                ce.way_wire_energy_pj(g, "l1d"),
                ce.array_energy_pj(g, "l1d")[None],
                ce.swap_with_nearest_energy_pj(g, wire_only=False),
            ])  # fmt: skip

        args = tuple(jnp.asarray(v, dtype=jnp.float64) for v in leaves.values())
        check_grads(costs, args, order=1, modes=["fwd", "rev"], eps=1e-6)
        grad = jax.grad(lambda node: ce.way_wire_energy_pj(dataclasses.replace(G, node_nm=node))[-1])(22.0)
        assert grad > 0  # a larger node, longer wires


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("size_bytes", 24576, "power of two"),
        ("size_bytes", 512, "divisible by ways x line_bytes"),
        ("line_bytes", 48, "power of two"),
        ("ways", 0, "ways=0"),
        ("columns", 3, "columns=3"),
        ("packing_efficiency", 1.5, "packing_efficiency=1.5"),
        ("wire_pj_per_bit_mm", -0.1, "wire_pj_per_bit_mm=-0.1"),
    ],
)
def test_bad_geometry_names_the_field_and_value(field, value, words):
    bad = dataclasses.replace(G, **{field: value})
    if field == "size_bytes" and value == 512:
        bad = dataclasses.replace(bad, ways=16)
    with pytest.raises(ValueError, match=words):
        ce.check_geometry(bad)


def test_unknown_cache_is_refused():
    with pytest.raises(ValueError, match=r"cache=.l2.*allowed: l1i, l1d"):
        ce.way_wire_energy_pj(G, "l2")  # type: ignore[arg-type]
