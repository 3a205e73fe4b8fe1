"""Convolution layers of the SCNN benchmark networks and SqueezeNet: shapes, densities, published results.

Networks and layer names (``"network/layer"``):

* ``alexnet``: conv1..conv5 of Caffe BVLC AlexNet on a 3x227x227 input (the Caffe model's input; SCNN
  says 224x224, which conv1's 11x11 stride-4 window does not tile). conv2, conv4 and conv5 have
  ``groups=2`` as in Caffe: each filter sees half the input channels. SCNN Table 1 counts AlexNet this
  way: its largest layer is conv3 (384x256x3x3 = 884,736 weights, 1.69 MiB at 2 B) and its 0.69 B
  multiplies are the grouped count (0.666 B); without groups conv4 would hold 1,327,104 weights (2.53
  MiB) and the layers 1.08 B multiplies.
* ``googlenet``: the 54 convolutions inside inception modules 3a, 3b, 4a-4e, 5a, 5b of Caffe BVLC
  GoogLeNet (224x224 input, modules on 28x28, 14x14 and 7x7 planes), named
  ``inception_3a/1x1``, ``.../3x3_reduce``, ``.../3x3`` (pad 1), ``.../5x5_reduce``, ``.../5x5`` (pad 2),
  ``.../pool_proj`` (1x1 on the 3x3 stride-1 max-pool of the module input), as SCNN evaluates it (SCNN
  Table 1: "54 conv layers").
* ``vgg16``: the 13 3x3 pad-1 convolutions conv1_1..conv5_3 on 224x224 .. 14x14 planes.
* ``squeezenet``: SqueezeNet v1.0 (``DeepScale/SqueezeNet`` prototxt, 3x227x227 input): conv1, the
  squeeze1x1 / expand1x1 / expand3x3 layers of fire2..fire9, conv10; shapes from
  :func:`models.squeezenet.conv_geometry`. SCNN did not evaluate it: its densities are ``None``.

Densities (fractions of nonzeros): ``weight_density`` and ``activation_density`` (of the layer's input)
are SCNN Fig. 1 (V-F, papers.md SCNN-6). Fig. 1 shows only inception_3a and inception_5b of GoogLeNet;
for 3b, 4a-4e and 5a both densities are **assumed**: linear in the module index ``m`` (3a = 0 .. 5b = 8)
between 3a's and 5b's value of the same branch, ``v = v_3a + (v_5b - v_3a) m / 8``
(``densities_assumed=True``).

``output_density`` is the density of the activation the layer's output becomes, i.e. the input density
of the layer that reads it (after the ReLU and any pooling in between, which is what Fig. 1 measures at
every layer's input):

* the next convolution of a chain (AlexNet, VGG-16; GoogLeNet 3x3_reduce -> 3x3, 5x5_reduce -> 5x5);
* a GoogLeNet module's outputs (1x1, 3x3, 5x5, pool_proj, concatenated) -> the next module's input
  density (its 1x1 branch's); only one density is published for the concatenated tensor, so the four
  branches share it;
* the last convolution of AlexNet and VGG-16 -> the input of fc6 after pool5: EIE Table III (V-P)
  activation density of Alex-6 (0.351) and VGG-6 (0.183), the same pruned models (Han et al. NIPS'15);
* inception_5b (followed by average pooling and the classifier; nothing published): **assumed** equal to
  5b's own module-input density (0.309), i.e. a steady state over the last module;
* an output density taken from an assumed (interpolated) input is marked ``output_density_assumed``.

Also: SCNN Table 1 (network sizes), Fig. 9 (speedups over DCNN, SCNN and oracle), Fig. 10 (multiplier
utilisation, PE idle fraction at barriers) and Fig. 11 (energy relative to DCNN, DCNN-opt and SCNN) per
layer (per inception module for GoogLeNet) and per network, for validation (:data:`SCNN_RESULTS`).
"""

from __future__ import annotations

from typing import NamedTuple

from hwcost.checks import check_choice
from hwcost.types import ConvLayer, LayerRun
from models.specs import EIE_TABLE_III
from models.squeezenet import SqueezeNet, conv_geometry

NETWORKS: tuple[str, ...] = ("alexnet", "googlenet", "vgg16", "squeezenet")
#: Bytes per weight or activation in SCNN Table 1 (16-bit values).
SCNN_BYTES_PER_VALUE = 2

_FIG1 = "SCNN Fig. 1 (V-F)"
_FIG1_INTERPOLATED = "assumed: linear in module index between inception_3a and inception_5b (SCNN Fig. 1)"
_NOT_PUBLISHED = "not published"


class ConvSpec(NamedTuple):
    """One convolution layer: shape and densities.

    Attributes:
        network, layer: names; :attr:`name` is ``"network/layer"``.
        in_channels, out_channels: C (all input channels of the layer) and K.
        kernel: (R, S).
        stride: the same along H and W.
        padding: zero padding on each side, the same along H and W.
        in_hw: input plane (H, W), unpadded.
        groups: Caffe filter groups; each filter sees ``in_channels / groups`` channels.
        weight_density, activation_density: fraction of nonzero weights and of nonzero input
            activations, in [0, 1] (``None`` where not published).
        output_density: fraction of nonzero activations the output becomes (module docstring).
        densities_assumed, output_density_assumed: the value is our assumption, not the paper's.
        density_source, output_density_source: where the values come from.
    """

    network: str
    layer: str
    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    stride: int
    padding: int
    in_hw: tuple[int, int]
    groups: int = 1
    weight_density: float | None = None
    activation_density: float | None = None
    output_density: float | None = None
    densities_assumed: bool = False
    output_density_assumed: bool = False
    density_source: str = _NOT_PUBLISHED
    output_density_source: str = _NOT_PUBLISHED

    @property
    def name(self) -> str:
        """``"network/layer"``."""
        return f"{self.network}/{self.layer}"

    @property
    def module(self) -> str:
        """The inception or Fire module (``"inception_3a"``, ``"fire2"``), else the layer name."""
        return self.layer.split("/")[0]

    @property
    def out_hw(self) -> tuple[int, int]:
        """Output plane (H, W): ``(H + 2 pad - R) // stride + 1``."""
        return tuple(  # type: ignore[return-value]
            (size + 2 * self.padding - k) // self.stride + 1 for size, k in zip(self.in_hw, self.kernel, strict=True)
        )

    @property
    def filter_channels(self) -> int:
        """Input channels one filter sees, ``in_channels / groups``."""
        return self.in_channels // self.groups

    @property
    def num_weights(self) -> int:
        """Weights, ``K * (C / groups) * R * S`` (biases excluded)."""
        return self.out_channels * self.filter_channels * self.kernel[0] * self.kernel[1]

    @property
    def multiplies(self) -> int:
        """Dense multiplies of one inference, ``num_weights * out_h * out_w``."""
        return self.num_weights * self.out_hw[0] * self.out_hw[1]

    @property
    def input_values(self) -> int:
        """Input activations, ``C * H * W`` (unpadded)."""
        return self.in_channels * self.in_hw[0] * self.in_hw[1]

    @property
    def output_values(self) -> int:
        """Output activations, ``K * out_h * out_w``."""
        return self.out_channels * self.out_hw[0] * self.out_hw[1]

    @property
    def work(self) -> float | None:
        """Fraction of the dense multiplies with both operands nonzero, ``weight x activation density``
        (SCNN Fig. 1's "work" under independence); ``None`` without densities."""
        if self.weight_density is None or self.activation_density is None:
            return None
        return self.weight_density * self.activation_density


# --- shapes ------------------------------------------------------------------------------------------
def _alexnet_shapes() -> list[ConvSpec]:
    """Caffe BVLC AlexNet (``models/bvlc_alexnet/deploy.prototxt``); planes after Caffe's rounded-up pools."""
    return [
        ConvSpec("alexnet", "conv1", 3, 96, (11, 11), 4, 0, (227, 227)),
        ConvSpec("alexnet", "conv2", 96, 256, (5, 5), 1, 2, (27, 27), groups=2),
        ConvSpec("alexnet", "conv3", 256, 384, (3, 3), 1, 1, (13, 13)),
        ConvSpec("alexnet", "conv4", 384, 384, (3, 3), 1, 1, (13, 13), groups=2),
        ConvSpec("alexnet", "conv5", 384, 256, (3, 3), 1, 1, (13, 13), groups=2),
    ]


#: BVLC GoogLeNet inception modules (``models/bvlc_googlenet/deploy.prototxt``; Szegedy et al. Table 1):
#: module -> (input channels, plane, #1x1, #3x3_reduce, #3x3, #5x5_reduce, #5x5, pool_proj).
GOOGLENET_MODULES: dict[str, tuple[int, int, int, int, int, int, int, int]] = {
    "inception_3a": (192, 28, 64, 96, 128, 16, 32, 32),
    "inception_3b": (256, 28, 128, 128, 192, 32, 96, 64),
    "inception_4a": (480, 14, 192, 96, 208, 16, 48, 64),
    "inception_4b": (512, 14, 160, 112, 224, 24, 64, 64),
    "inception_4c": (512, 14, 128, 128, 256, 24, 64, 64),
    "inception_4d": (512, 14, 112, 144, 288, 32, 64, 64),
    "inception_4e": (528, 14, 256, 160, 320, 32, 128, 128),
    "inception_5a": (832, 7, 256, 160, 320, 32, 128, 128),
    "inception_5b": (832, 7, 384, 192, 384, 48, 128, 128),
}
GOOGLENET_BRANCHES: tuple[str, ...] = ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")


def _googlenet_shapes() -> list[ConvSpec]:
    out = []
    for module, (c, hw, n1, n3r, n3, n5r, n5, npool) in GOOGLENET_MODULES.items():
        plane = (hw, hw)
        out += [
            ConvSpec("googlenet", f"{module}/1x1", c, n1, (1, 1), 1, 0, plane),
            ConvSpec("googlenet", f"{module}/3x3_reduce", c, n3r, (1, 1), 1, 0, plane),
            ConvSpec("googlenet", f"{module}/3x3", n3r, n3, (3, 3), 1, 1, plane),
            ConvSpec("googlenet", f"{module}/5x5_reduce", c, n5r, (1, 1), 1, 0, plane),
            ConvSpec("googlenet", f"{module}/5x5", n5r, n5, (5, 5), 1, 2, plane),
            ConvSpec("googlenet", f"{module}/pool_proj", c, npool, (1, 1), 1, 0, plane),
        ]
    return out


def _vgg16_shapes() -> list[ConvSpec]:
    """VGG-16 (configuration D, Simonyan & Zisserman): 3x3 pad 1, max-pool 2x2/2 between blocks."""
    blocks = (
        (224, 3, (64, 64)),
        (112, 64, (128, 128)),
        (56, 128, (256, 256, 256)),
        (28, 256, (512, 512, 512)),
        (14, 512, (512, 512, 512)),
    )
    out = []
    for block, (hw, c, widths) in enumerate(blocks, start=1):
        for index, k in enumerate(widths, start=1):
            out.append(ConvSpec("vgg16", f"conv{block}_{index}", c, k, (3, 3), 1, 1, (hw, hw)))
            c = k
    return out


def _squeezenet_shapes() -> list[ConvSpec]:
    return [
        ConvSpec(
            "squeezenet", g.name, g.in_channels, g.out_channels, (g.kernel, g.kernel), g.stride, g.padding, g.in_hw
        )
        for g in conv_geometry(SqueezeNet(), (227, 227))
    ]


# --- densities (SCNN Fig. 1, V-F; papers.md SCNN-6): layer -> (weight density, input-activation density) --
ALEXNET_FIG1: dict[str, tuple[float, float]] = {
    "conv1": (0.845, 1.000),
    "conv2": (0.379, 0.936),
    "conv3": (0.346, 0.527),
    "conv4": (0.372, 0.389),
    "conv5": (0.369, 0.429),
}
VGG16_FIG1: dict[str, tuple[float, float]] = {
    "conv1_1": (0.566, 1.000),
    "conv1_2": (0.217, 0.507),
    "conv2_1": (0.339, 0.897),
    "conv2_2": (0.355, 0.788),
    "conv3_1": (0.530, 0.814),
    "conv3_2": (0.236, 0.639),
    "conv3_3": (0.417, 0.688),
    "conv4_1": (0.321, 0.707),
    "conv4_2": (0.266, 0.502),
    "conv4_3": (0.343, 0.452),
    "conv5_1": (0.352, 0.393),
    "conv5_2": (0.287, 0.330),
    "conv5_3": (0.363, 0.306),
}
#: GoogLeNet inception_3a and inception_5b, branch -> (weight density, input-activation density).
GOOGLENET_FIG1: dict[str, dict[str, tuple[float, float]]] = {
    "inception_3a": {
        "1x1": (0.379, 0.709),
        "3x3_reduce": (0.414, 0.709),
        "3x3": (0.452, 0.664),
        "5x5_reduce": (0.356, 0.709),
        "5x5": (0.340, 0.775),
        "pool_proj": (0.461, 0.956),
    },
    "inception_5b": {
        "1x1": (0.319, 0.309),
        "3x3_reduce": (0.329, 0.309),
        "3x3": (0.366, 0.301),
        "5x5_reduce": (0.330, 0.309),
        "5x5": (0.346, 0.459),
        "pool_proj": (0.315, 0.569),
    },
}
#: Input density of fc6 (pool5 output), EIE Table III (V-P): the output density of the last conv layer.
FC6_INPUT_DENSITY: dict[str, tuple[str, float]] = {
    "alexnet": ("Alex-6", next(r.activation_density for r in EIE_TABLE_III if r.name == "Alex-6")),
    "vgg16": ("VGG-6", next(r.activation_density for r in EIE_TABLE_III if r.name == "VGG-6")),
}


def googlenet_densities(module: str, branch: str) -> tuple[float, float, bool]:
    """(weight density, input-activation density, assumed) of one GoogLeNet branch: Fig. 1 for 3a and 5b,
    linear in the module index between them otherwise (module docstring)."""
    check_choice("module", module, tuple(GOOGLENET_MODULES))
    check_choice("branch", branch, GOOGLENET_BRANCHES)
    if module in GOOGLENET_FIG1:
        w, a = GOOGLENET_FIG1[module][branch]
        return w, a, False
    t = list(GOOGLENET_MODULES).index(module) / (len(GOOGLENET_MODULES) - 1)
    (w0, a0), (w1, a1) = GOOGLENET_FIG1["inception_3a"][branch], GOOGLENET_FIG1["inception_5b"][branch]
    return w0 + (w1 - w0) * t, a0 + (a1 - a0) * t, True


def _chain(specs: list[ConvSpec], table: dict[str, tuple[float, float]]) -> list[ConvSpec]:
    """AlexNet / VGG-16: Fig. 1 densities; output density = next layer's input, fc6's for the last."""
    network = specs[0].network
    fc6_name, fc6_density = FC6_INPUT_DENSITY[network]
    out = []
    for index, spec in enumerate(specs):
        w, a = table[spec.layer]
        if index + 1 < len(specs):
            nxt = specs[index + 1]
            od, source = table[nxt.layer][1], f"{_FIG1}: input of {nxt.name}"
        else:
            od, source = fc6_density, f"EIE Table III (V-P): {fc6_name} input (after pool5)"
        out.append(
            spec._replace(
                weight_density=w,
                activation_density=a,
                output_density=od,
                density_source=_FIG1,
                output_density_source=source,
            )
        )
    return out


def _googlenet(specs: list[ConvSpec]) -> list[ConvSpec]:
    modules = list(GOOGLENET_MODULES)
    consumer = {"3x3_reduce": "3x3", "5x5_reduce": "5x5"}
    out = []
    for spec in specs:
        module, branch = spec.layer.split("/")
        w, a, assumed = googlenet_densities(module, branch)
        if branch in consumer:
            target = f"{module}/{consumer[branch]}"
            od, od_assumed = googlenet_densities(module, consumer[branch])[1:]
            source = f"{_FIG1}: input of googlenet/{target}"
        elif module != modules[-1]:
            target = f"{modules[modules.index(module) + 1]}/1x1"
            od, od_assumed = googlenet_densities(*target.split("/"))[1:]
            source = f"{_FIG1}: input of googlenet/{target} (next module)"
        else:
            od, od_assumed = googlenet_densities(module, "1x1")[1], True
            source = "assumed: inception_5b's own module-input density (SCNN Fig. 1)"
        if od_assumed and not source.startswith("assumed"):
            source = f"assumed (interpolated): input of googlenet/{target}"
        out.append(
            spec._replace(
                weight_density=w,
                activation_density=a,
                output_density=od,
                densities_assumed=assumed,
                output_density_assumed=od_assumed,
                density_source=_FIG1_INTERPOLATED if assumed else _FIG1,
                output_density_source=source,
            )
        )
    return out


def _build() -> dict[str, tuple[ConvSpec, ...]]:
    return {
        "alexnet": tuple(_chain(_alexnet_shapes(), ALEXNET_FIG1)),
        "googlenet": tuple(_googlenet(_googlenet_shapes())),
        "vgg16": tuple(_chain(_vgg16_shapes(), VGG16_FIG1)),
        "squeezenet": tuple(_squeezenet_shapes()),
    }


CONV_SPECS: dict[str, tuple[ConvSpec, ...]] = _build()
_BY_NAME: dict[str, ConvSpec] = {s.name: s for specs in CONV_SPECS.values() for s in specs}


# --- lookups -----------------------------------------------------------------------------------------
def layer_names(network: str | None = None) -> tuple[str, ...]:
    """``"network/layer"`` names of every layer, or of ``network``'s, in forward order."""
    if network is None:
        return tuple(_BY_NAME)
    return tuple(s.name for s in network_specs(network))


def network_specs(network: str) -> tuple[ConvSpec, ...]:
    """The convolution layers of ``network`` in forward order; ``ValueError`` naming an unknown network."""
    check_choice("network", network, NETWORKS)
    return CONV_SPECS[network]


def conv_spec(name: str) -> ConvSpec:
    """The layer called ``"network/layer"`` (e.g. ``"googlenet/inception_3a/3x3"``).

    An unknown name raises ``ValueError`` naming it and listing the networks, or the layers of its network.
    """
    if name in _BY_NAME:
        return _BY_NAME[name]
    network = name.split("/", 1)[0]
    if network not in CONV_SPECS:
        raise ValueError(f"layer={name!r} is unknown: network {network!r} is unknown; allowed: {', '.join(NETWORKS)}")
    raise ValueError(f"layer={name!r} is unknown; allowed: {', '.join(layer_names(network))}")


# --- conversion to the cost models' workload ---------------------------------------------------------
def to_conv_layer(
    spec: ConvSpec,
    *,
    weight_density: float | None = None,
    activation_density: float | None = None,
    output_density: float | None = None,
) -> ConvLayer:
    """One filter group of ``spec`` as a :class:`hwcost.types.ConvLayer` (all groups: :func:`to_layer_run`).

    A grouped layer is ``groups`` independent convolutions of ``C / groups`` to ``K / groups`` channels
    on the same plane, so one group is described exactly. ``in_h``/``in_w`` are the unpadded input plane,
    with ``stride``, ``padding`` and the output plane of the spec. Densities default to the spec's; pass
    them for layers without published ones (SqueezeNet), else ``ValueError`` names the missing field.
    """
    given = {
        "weight_density": weight_density,
        "activation_density": activation_density,
        "output_density": output_density,
    }
    values = {}
    for field, value in given.items():
        value = getattr(spec, field) if value is None else value
        if value is None:
            raise ValueError(f"{spec.name} has no published {field}; pass {field}= (a fraction in [0, 1])")
        values[field] = float(value)
    return ConvLayer(
        in_channels=float(spec.filter_channels),
        out_channels=float(spec.out_channels // spec.groups),
        kernel_h=float(spec.kernel[0]),
        kernel_w=float(spec.kernel[1]),
        in_h=float(spec.in_hw[0]),
        in_w=float(spec.in_hw[1]),
        out_h=float(spec.out_hw[0]),
        out_w=float(spec.out_hw[1]),
        weight_density=values["weight_density"],
        activation_density=values["activation_density"],
        stride=float(spec.stride),
        padding=float(spec.padding),
        output_density=values["output_density"],
        name=spec.name,
    )


def to_layer_run(spec: ConvSpec, **densities: float | None) -> LayerRun[ConvLayer]:
    """The whole layer: :func:`to_conv_layer` (one group) run ``groups`` times per inference."""
    return LayerRun(to_conv_layer(spec, **densities), float(spec.groups))


# --- SCNN Table 1 -------------------------------------------------------------------------------------
class ScnnNetworkRow(NamedTuple):
    """SCNN Table 1 (V-P, papers.md SCNN-5): conv layers, largest layer weights and activations (MB at
    2 B per value, as printed), total conv multiplies (billions)."""

    conv_layers: int
    max_layer_weights_mb: float
    max_layer_activations_mb: float
    multiplies_billions: float


SCNN_TABLE_1: dict[str, ScnnNetworkRow] = {
    "alexnet": ScnnNetworkRow(5, 1.73, 0.31, 0.69),
    "googlenet": ScnnNetworkRow(54, 1.32, 1.52, 1.1),
    "vgg16": ScnnNetworkRow(13, 4.49, 6.12, 15.3),
}


def total_multiplies(network: str) -> int:
    """Dense multiplies of all of ``network``'s convolution layers."""
    return sum(s.multiplies for s in network_specs(network))


def max_layer_weights(network: str) -> int:
    """Weights of ``network``'s largest layer (values, not bytes)."""
    return max(s.num_weights for s in network_specs(network))


def max_layer_input_activations(network: str) -> int:
    """Input activations of the layer of ``network`` with the largest input (values, not bytes)."""
    return max(s.input_values for s in network_specs(network))


# --- SCNN Figs. 9-11 (V-F, papers.md SCNN-8..10) -----------------------------------------------------
class ScnnResult(NamedTuple):
    """SCNN's published result for one layer, inception module or network (all relative to DCNN).

    Attributes:
        speedup, oracle_speedup: Fig. 9, performance over DCNN (= DCNN-opt) of SCNN and of the oracle
            (non-zero products / 1,024 multipliers per cycle).
        dcnn_opt_energy, scnn_energy: Fig. 11, energy relative to DCNN (= 1).
        multiplier_utilisation, pe_idle_fraction: Fig. 10, average multiplier-array utilisation and the
            fraction of time PEs wait at inter-PE barriers (per layer / module only; ``None`` for networks).
    """

    speedup: float
    oracle_speedup: float
    dcnn_opt_energy: float
    scnn_energy: float
    multiplier_utilisation: float | None = None
    pe_idle_fraction: float | None = None


#: Keyed ``"network/layer"``, ``"googlenet/inception_3a"`` (GoogLeNet per module) and ``"network"``
#: (whole network). Network speedups in the text (Sec. VI, V-S): 2.37 / 2.19 / 3.52; Fig. 9 prints 2.38 for
#: AlexNet.
SCNN_RESULTS: dict[str, ScnnResult] = {
    # name: (Fig. 9 SCNN, Fig. 9 oracle, Fig. 11 DCNN-opt, Fig. 11 SCNN, Fig. 10 util, Fig. 10 idle)
    "alexnet/conv1": ScnnResult(1.47, 1.86, 0.823, 1.090, 0.972, 0.165),
    "alexnet/conv2": ScnnResult(2.46, 4.09, 0.569, 0.538, 0.953, 0.423),
    "alexnet/conv3": ScnnResult(2.92, 7.90, 0.432, 0.334, 0.615, 0.270),
    "alexnet/conv4": ScnnResult(2.93, 10.64, 0.432, 0.319, 0.523, 0.355),
    "alexnet/conv5": ScnnResult(2.93, 10.12, 0.443, 0.322, 0.531, 0.333),
    "alexnet": ScnnResult(2.38, 4.42, 0.524, 0.489),
    "googlenet/inception_3a": ScnnResult(2.34, 4.79, 0.569, 0.470, 0.784, 0.263),
    "googlenet/inception_3b": ScnnResult(2.37, 5.16, 0.542, 0.438, 0.774, 0.283),
    "googlenet/inception_4a": ScnnResult(2.27, 5.35, 0.531, 0.476, 0.630, 0.210),
    "googlenet/inception_4b": ScnnResult(2.54, 6.27, 0.476, 0.378, 0.648, 0.216),
    "googlenet/inception_4c": ScnnResult(2.48, 5.95, 0.492, 0.393, 0.620, 0.209),
    "googlenet/inception_4d": ScnnResult(2.36, 6.55, 0.488, 0.367, 0.594, 0.252),
    "googlenet/inception_4e": ScnnResult(2.67, 6.52, 0.463, 0.360, 0.670, 0.227),
    "googlenet/inception_5a": ScnnResult(0.96, 6.99, 0.388, 0.355, 0.196, 0.194),
    "googlenet/inception_5b": ScnnResult(1.57, 12.65, 0.377, 0.316, 0.195, 0.186),
    "googlenet": ScnnResult(2.19, 5.90, 0.477, 0.389),
    "vgg16/conv1_1": ScnnResult(9.09, 9.43, 0.919, 1.130, 0.966, 0.000),
    "vgg16/conv1_2": ScnnResult(6.89, 9.12, 0.495, 0.494, 0.908, 0.158),
    "vgg16/conv2_1": ScnnResult(1.73, 3.30, 0.581, 0.762, 0.936, 0.030),
    "vgg16/conv2_2": ScnnResult(1.68, 3.58, 0.564, 0.604, 0.937, 0.099),
    "vgg16/conv3_1": ScnnResult(2.24, 2.41, 0.652, 0.774, 0.924, 0.027),
    "vgg16/conv3_2": ScnnResult(5.62, 6.86, 0.476, 0.310, 0.874, 0.116),
    "vgg16/conv3_3": ScnnResult(2.96, 3.60, 0.564, 0.510, 0.910, 0.129),
    "vgg16/conv4_1": ScnnResult(3.64, 5.95, 0.502, 0.376, 0.835, 0.290),
    "vgg16/conv4_2": ScnnResult(5.87, 10.11, 0.444, 0.232, 0.793, 0.285),
    "vgg16/conv4_3": ScnnResult(4.77, 8.65, 0.467, 0.260, 0.794, 0.317),
    "vgg16/conv5_1": ScnnResult(3.48, 9.77, 0.433, 0.279, 0.523, 0.283),
    "vgg16/conv5_2": ScnnResult(5.41, 14.40, 0.390, 0.212, 0.538, 0.242),
    "vgg16/conv5_3": ScnnResult(4.45, 12.09, 0.427, 0.260, 0.569, 0.296),
    "vgg16": ScnnResult(3.52, 5.69, 0.508, 0.426),
}


def scnn_result(name: str) -> ScnnResult:
    """SCNN's result for ``name`` (a key of :data:`SCNN_RESULTS`); ``ValueError`` listing the keys."""
    check_choice("result", name, tuple(SCNN_RESULTS))
    return SCNN_RESULTS[name]
