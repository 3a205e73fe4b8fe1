import jax
import numpy as np
import pytest

from hwcost import memory
from hwcost.smooth import Smoothing
from hwcost.types import ConvLayer, FcLayer

HW = memory.MEMORY_45NM


def test_a_32_bit_dram_access_costs_128_sram_accesses():
    # EIE Table I / Sec. I: 640 pJ vs 5 pJ per 32-bit access
    per_access = memory.access_energies_pj(HW)
    np.testing.assert_allclose(per_access["dram.read"] / per_access["sram.read"], 128.0, rtol=1e-6)
    np.testing.assert_allclose(per_access["dram.read"], 640.0, rtol=1e-6)
    np.testing.assert_allclose(per_access["sram.read"], 5.0, rtol=1e-6)


def test_off_chip_layer_costs_128x_the_weight_traffic_of_an_on_chip_one():
    layer = FcLayer(1024.0, 1024.0, 1.0, 1.0)
    small = memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": 1024.0, "smoothing": Smoothing(hard=True)})
    big = memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": 2.0**30, "smoothing": Smoothing(hard=True)})
    e_off, e_on = memory.energy_pj(small, layer), memory.energy_pj(big, layer)
    ratio = (e_off["dram.read"] + e_off["dram.write"]) / (e_on["sram.read"] + e_on["sram.write"])
    np.testing.assert_allclose(ratio, 128.0, rtol=1e-6)


def test_fits_on_chip_step_converges_to_hard_twin():
    layer = FcLayer(4096.0, 4096.0, 0.5, 1.0)  # 32 MiB of fp32 weights at density 0.5
    for cap, expected in ((2.0**24, 0.0), (2.0**26, 1.0)):
        hw = memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": cap})
        relaxed = memory.on_chip_fraction(hw, layer)
        exact = memory.on_chip_fraction(memory.COST_MODEL.hard(hw), layer)
        assert float(exact) == expected
        assert abs(float(relaxed) - expected) < 1e-3


def test_conv_layer_counts():
    layer = ConvLayer(3.0, 8.0, 3.0, 3.0, 10.0, 10.0, 8.0, 8.0, 0.5, 0.5)
    weights, inputs, outputs, macs = memory.layer_sizes(layer)
    np.testing.assert_allclose([weights, inputs, outputs, macs], [108.0, 300.0, 512.0, 216 * 64 * 0.25])
    assert all(np.isfinite(float(v)) for v in memory.energy_pj(HW, layer).values())


def test_energy_grows_with_weight_density():
    e = [sum(memory.energy_pj(HW, FcLayer(4096.0, 4096.0, d, 0.3)).values()) for d in (0.1, 0.3, 0.9)]
    assert e[0] < e[1] < e[2]


def test_energy_is_differentiable_in_sram_capacity():
    layer = FcLayer(4096.0, 4096.0, 0.6, 1.0)

    def f(cap):
        hw = memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": cap})
        return sum(memory.energy_pj(hw, layer).values())

    g = jax.grad(f)(4.2e7)
    assert np.isfinite(g) and g < 0  # more SRAM -> more likely on chip -> less energy


def test_checks_reject_bad_inputs():
    with pytest.raises(ValueError, match="weight_density"):
        memory.check_layer(FcLayer(10.0, 10.0, 1.5, 0.5))
    with pytest.raises(ValueError, match="in_features"):
        memory.check_layer(FcLayer(0.0, 10.0, 0.5, 0.5))
    with pytest.raises(ValueError, match="sram_capacity_bytes"):
        memory.check_hardware(memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": -1.0}))
    memory.check_hardware(HW)
    memory.check_layer(memory.COST_MODEL.example_workload())
