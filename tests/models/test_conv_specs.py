"""Layer shapes of the SCNN networks against SCNN Table 1 and Deep Compression Tables 4-5; densities,
lookups, published results and the conversion to the cost models' ConvLayer."""

import dataclasses
import itertools

import pytest

from hwcost.types import ConvLayer
from models import conv_specs as cs
from models import squeezenet

MIB = 2**20
MB = 10**6
B = cs.SCNN_BYTES_PER_VALUE


@pytest.mark.parametrize("network", ["alexnet", "googlenet", "vgg16"])
def test_layer_counts_match_scnn_table_1(network):
    assert len(cs.network_specs(network)) == cs.SCNN_TABLE_1[network].conv_layers


@pytest.mark.parametrize(("network", "tolerance"), [("alexnet", 0.05), ("googlenet", 0.01), ("vgg16", 0.01)])
def test_total_multiplies_match_scnn_table_1(network, tolerance):
    # Computed: AlexNet 0.666 B (-3.5%, grouped conv2/4/5 as in Caffe), GoogLeNet 1.104 B, VGG-16 15.35 B.
    paper = cs.SCNN_TABLE_1[network].multiplies_billions * 1e9
    assert cs.total_multiplies(network) == pytest.approx(paper, rel=tolerance)


def test_alexnet_groups_are_the_convention_of_table_1():
    ungrouped = sum(s._replace(groups=1).multiplies for s in cs.network_specs("alexnet"))
    assert ungrouped == pytest.approx(1.077e9, rel=1e-3)  # 56% above Table 1's 0.69 B
    assert max(s._replace(groups=1).num_weights for s in cs.network_specs("alexnet")) * B / MIB > 2.5
    assert cs.max_layer_weights("alexnet") == 384 * 256 * 3 * 3 == cs.conv_spec("alexnet/conv3").num_weights


def test_alexnet_and_vgg_weights_match_deep_compression_tables():
    # Deep Compression Table 4 (AlexNet) and Table 5 (VGG-16) "#Weights", in thousands (rounded either way).
    alexnet = {"conv1": 35, "conv2": 307, "conv3": 885, "conv4": 663, "conv5": 442}
    for layer, thousands in alexnet.items():
        assert abs(cs.conv_spec(f"alexnet/{layer}").num_weights / 1000 - thousands) < 1
    vgg = {"conv1_1": 2, "conv1_2": 37, "conv2_1": 74, "conv2_2": 148, "conv3_1": 295, "conv3_2": 590}
    for layer, thousands in vgg.items():
        assert abs(cs.conv_spec(f"vgg16/{layer}").num_weights / 1000 - thousands) < 1


# Table 1's sizes at 2 B per value, MiB (2**20 B) / decimal MB, computed from the specs:
#   AlexNet weights 1.688 / 1.769 (paper 1.73), activations 0.295 / 0.309 (0.31);
#   GoogLeNet weights 1.266 / 1.327 (1.32); VGG-16 weights 4.500 / 4.719 (4.49), activations 6.125 / 6.423 (6.12).
# Neither unit fits every row: MiB fits VGG-16 to 0.2%, MB fits AlexNet's activations and GoogLeNet's
# weights to 0.5%. Under MiB every row is within 5%; under the closer unit of each row within 2.5%.
SIZE_ROWS = [
    ("alexnet", "weights"),
    ("alexnet", "activations"),
    ("googlenet", "weights"),
    ("vgg16", "weights"),
    ("vgg16", "activations"),
]


def _computed_bytes(network, quantity):
    values = cs.max_layer_weights(network) if quantity == "weights" else cs.max_layer_input_activations(network)
    return values * B


def _paper_mb(network, quantity):
    row = cs.SCNN_TABLE_1[network]
    return row.max_layer_weights_mb if quantity == "weights" else row.max_layer_activations_mb


@pytest.mark.parametrize(("network", "quantity"), SIZE_ROWS)
def test_max_layer_sizes_match_table_1_in_mib(network, quantity):
    assert _computed_bytes(network, quantity) / MIB == pytest.approx(_paper_mb(network, quantity), rel=0.05)


@pytest.mark.parametrize(("network", "quantity"), SIZE_ROWS)
def test_max_layer_sizes_match_table_1_in_the_closer_unit(network, quantity):
    paper = _paper_mb(network, quantity)
    errors = [abs(_computed_bytes(network, quantity) / unit / paper - 1) for unit in (MIB, MB)]
    assert min(errors) < 0.025


def test_googlenet_max_activations_are_not_those_of_the_inception_layers():
    # Table 1's 1.52 MB is not reproduced: the largest input of the 54 inception layers is inception_3b's
    # 256x28x28 (0.38 MiB). It is within 1% of GoogLeNet's stem conv1 output, 64x112x112 at 2 B (1.53 MiB),
    # a layer outside the 54, so the table probably took the maximum over the whole network.
    assert cs.max_layer_input_activations("googlenet") == 256 * 28 * 28
    assert max(s.output_values for s in cs.network_specs("googlenet")) == 192 * 28 * 28
    assert 64 * 112 * 112 * B / MIB == pytest.approx(cs.SCNN_TABLE_1["googlenet"].max_layer_activations_mb, rel=0.01)


def test_planes_and_output_sizes():
    assert cs.conv_spec("alexnet/conv1").out_hw == (55, 55)
    assert cs.conv_spec("alexnet/conv2").out_hw == (27, 27)
    assert cs.conv_spec("alexnet/conv5").out_hw == (13, 13)
    for spec in cs.network_specs("googlenet"):
        assert spec.out_hw == spec.in_hw  # 1x1, 3x3 pad 1 and 5x5 pad 2 keep the plane
    assert {s.in_hw[0] for s in cs.network_specs("googlenet")} == {28, 14, 7}
    assert [s.in_hw[0] for s in cs.network_specs("vgg16")] == [224] * 2 + [112] * 2 + [56] * 3 + [28] * 3 + [14] * 3


def test_googlenet_module_outputs_concatenate_to_the_next_module_input():
    modules = list(cs.GOOGLENET_MODULES)
    for module, nxt in itertools.pairwise(modules):
        outs = [cs.conv_spec(f"googlenet/{module}/{b}").out_channels for b in ("1x1", "3x3", "5x5", "pool_proj")]
        assert sum(outs) == cs.conv_spec(f"googlenet/{nxt}/1x1").in_channels
    assert cs.conv_spec("googlenet/inception_5b/3x3").num_weights == cs.max_layer_weights("googlenet") == 663_552


def test_squeezenet_specs_follow_the_model_geometry():
    specs = cs.network_specs("squeezenet")
    geometry = squeezenet.conv_geometry(squeezenet.SqueezeNet(), (227, 227))
    assert [s.layer for s in specs] == [g.name for g in geometry]
    assert [s.out_hw for s in specs] == [g.out_hw for g in geometry]
    assert sum(s.num_weights + s.out_channels for s in specs) == squeezenet.V1_0_PARAMETERS
    assert all(s.weight_density is None and s.output_density is None for s in specs)


def test_fig1_densities_and_interpolated_googlenet_modules():
    conv3 = cs.conv_spec("alexnet/conv3")
    assert (conv3.weight_density, conv3.activation_density) == (0.346, 0.527)
    assert not conv3.densities_assumed
    assert cs.conv_spec("vgg16/conv5_3").activation_density == 0.306
    assumed = {s.module for s in cs.network_specs("googlenet") if s.densities_assumed}
    assert assumed == {
        "inception_3b",
        "inception_4a",
        "inception_4b",
        "inception_4c",
        "inception_4d",
        "inception_4e",
        "inception_5a",
    }
    for branch in cs.GOOGLENET_BRANCHES:  # 4c is module 4 of 0..8: the midpoint
        mid = cs.conv_spec(f"googlenet/inception_4c/{branch}")
        a, b = (cs.GOOGLENET_FIG1[m][branch] for m in ("inception_3a", "inception_5b"))
        assert mid.weight_density == pytest.approx((a[0] + b[0]) / 2)
        assert mid.activation_density == pytest.approx((a[1] + b[1]) / 2)
    for spec in cs.network_specs("googlenet"):
        assert spec.densities_assumed == spec.density_source.startswith("assumed")


def test_output_density_is_the_consumer_input_density():
    assert cs.conv_spec("alexnet/conv1").output_density == cs.conv_spec("alexnet/conv2").activation_density
    assert cs.conv_spec("alexnet/conv5").output_density == 0.351  # EIE Table III, Alex-6
    assert cs.conv_spec("vgg16/conv5_3").output_density == 0.183  # EIE Table III, VGG-6
    assert cs.conv_spec("googlenet/inception_3a/3x3_reduce").output_density == 0.664
    assert not cs.conv_spec("googlenet/inception_3a/3x3_reduce").output_density_assumed
    to_5b = cs.conv_spec("googlenet/inception_5a/5x5")
    assert to_5b.output_density == 0.309 and not to_5b.output_density_assumed
    to_4a = cs.conv_spec("googlenet/inception_3b/pool_proj")
    assert to_4a.output_density == cs.conv_spec("googlenet/inception_4a/1x1").activation_density
    assert to_4a.output_density_assumed
    last = cs.conv_spec("googlenet/inception_5b/3x3")
    assert last.output_density == 0.309 and last.output_density_assumed
    for spec in cs.network_specs("alexnet") + cs.network_specs("vgg16"):
        assert not spec.output_density_assumed and 0 < spec.output_density <= 1


def test_lookups_and_clear_errors():
    spec = cs.conv_spec("googlenet/inception_3a/3x3")
    assert (spec.in_channels, spec.out_channels, spec.kernel, spec.padding) == (96, 128, (3, 3), 1)
    assert spec.name == "googlenet/inception_3a/3x3" and spec.module == "inception_3a"
    assert cs.layer_names("alexnet") == tuple(f"alexnet/conv{i}" for i in range(1, 6))
    assert len(cs.layer_names()) == 5 + 54 + 13 + 26
    with pytest.raises(ValueError, match=r"layer='alexnet/conv9' is unknown; allowed: alexnet/conv1, "):
        cs.conv_spec("alexnet/conv9")
    with pytest.raises(ValueError, match=r"network 'resnet' is unknown; allowed: alexnet, googlenet"):
        cs.conv_spec("resnet/conv1")
    with pytest.raises(ValueError, match=r"network='vgg19' is unknown"):
        cs.network_specs("vgg19")
    with pytest.raises(ValueError, match=r"result='alexnet/fc6' is unknown"):
        cs.scnn_result("alexnet/fc6")


def test_scnn_results_cover_every_layer_and_agree_with_the_text():
    for network in ("alexnet", "vgg16"):
        for name in cs.layer_names(network):
            assert cs.scnn_result(name).multiplier_utilisation is not None
    for module in cs.GOOGLENET_MODULES:
        assert cs.scnn_result(f"googlenet/{module}").pe_idle_fraction is not None
    networks = [cs.scnn_result(n) for n in ("alexnet", "googlenet", "vgg16")]
    # Abstract: 2.7x performance and 2.3x energy over DCNN (means over the three networks); Sec. VI: DCNN-opt 2.0x.
    assert sum(r.speedup for r in networks) / 3 == pytest.approx(2.7, abs=0.01)
    assert sum(1 / r.scnn_energy for r in networks) / 3 == pytest.approx(2.3, abs=0.03)
    assert sum(1 / r.dcnn_opt_energy for r in networks) / 3 == pytest.approx(2.0, abs=0.01)


_HAS_NEW_FIELDS = {"stride", "padding", "output_density"} <= {f.name for f in dataclasses.fields(ConvLayer)}


@pytest.mark.skipif(not _HAS_NEW_FIELDS, reason="hwcost.types.ConvLayer has no stride/padding/output_density yet")
def test_conversion_to_conv_layer_describes_one_group():
    spec = cs.conv_spec("alexnet/conv2")
    run = cs.to_layer_run(spec)
    layer = run.workload
    assert (layer.in_channels, layer.out_channels, layer.out_h, layer.stride, layer.padding) == (48, 128, 27, 1, 2)
    assert run.repeats == 2
    per_group = layer.in_channels * layer.out_channels * layer.kernel_h * layer.kernel_w
    assert per_group * run.repeats == spec.num_weights
    assert (layer.weight_density, layer.activation_density, layer.output_density) == (0.379, 0.936, 0.527)
    assert cs.to_conv_layer(cs.conv_spec("alexnet/conv1")).stride == 4
    with pytest.raises(ValueError, match="squeezenet/conv1 has no published weight_density"):
        cs.to_conv_layer(cs.conv_spec("squeezenet/conv1"))
    given = cs.to_conv_layer(
        cs.conv_spec("squeezenet/conv1"), weight_density=0.9, activation_density=1.0, output_density=0.5
    )
    assert (given.in_h, given.out_h, given.stride) == (227, 111, 2)
