import numpy as np
import pytest

from hwcost import memory
from hwcost.smooth import Smoothing
from hwcost.types import ConvLayer, FcLayer

HW = memory.MEMORY_45NM


def test_a_32_bit_dram_access_costs_128_sram_accesses():
    # EIE Table I / Sec. I: 640 pJ vs 5 pJ per 32-bit access
    per_access = memory.per_action_energy_pj(HW)
    np.testing.assert_allclose(per_access["dram.read"] / per_access["sram.read"], 128.0, rtol=1e-6)
    np.testing.assert_allclose(per_access["dram.read"], 640.0, rtol=1e-6)
    np.testing.assert_allclose(per_access["sram.read"], 5.0, rtol=1e-6)


def test_off_chip_layer_costs_128x_the_weight_traffic_of_an_on_chip_one():
    layer = FcLayer(1024.0, 1024.0, 1.0, 1.0)
    small = memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": 1024.0, "smoothing": Smoothing(hard=True)})
    big = memory.MemoryHierarchy(**{**vars(HW), "sram_capacity_bytes": 2.0**30, "smoothing": Smoothing(hard=True)})
    e_off, e_on = memory.COST_MODEL.energy_pj(small, layer), memory.COST_MODEL.energy_pj(big, layer)
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
    assert all(np.isfinite(float(v)) for v in memory.COST_MODEL.energy_pj(HW, layer).values())


def test_lowering_stores_only_the_live_columns_of_a_fully_connected_layer():
    from hwcost.types import LayerSpec, LayerStatistics

    spec = LayerSpec("ip2", "fc", (300, 100))
    stats = LayerStatistics(kept_weights=3000.0, live_inputs=250.0, broadcasts=100.0, weights_read=1000.0,
                            input_density=0.35, spec=spec)  # fmt: skip
    run = memory.lower(stats)
    assert run.repeats == 1.0
    layer = run.workload
    assert (float(layer.in_features), float(layer.out_features)) == (250.0, 100.0)
    assert float(layer.weight_density) == pytest.approx(3000.0 / (250 * 100))
    assert float(layer.activation_density) == pytest.approx(100.0 / 250)
    empty = memory.lower(LayerStatistics(0.0, 0.0, 0.0, 0.0, 0.0, spec))
    assert float(empty.workload.weight_density) == 0.0 and float(empty.workload.activation_density) == 0.0


def test_lowering_keeps_a_convolution_whole():
    from hwcost.types import LayerSpec, LayerStatistics

    spec = LayerSpec("conv2", "conv", (5, 5, 20, 50), in_hw=(12, 12), out_hw=(8, 8))
    stats = LayerStatistics(kept_weights=2500.0, live_inputs=480.0, broadcasts=200.0, weights_read=4000.0,
                            input_density=0.4, spec=spec)  # fmt: skip
    layer = memory.lower(stats).workload
    assert isinstance(layer, ConvLayer)
    assert float(layer.weight_density) == pytest.approx(2500.0 / 25000)
    assert float(layer.activation_density) == pytest.approx(200.0 / 500)
