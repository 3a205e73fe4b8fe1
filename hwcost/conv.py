"""Geometry of a convolution layer that the convolution accelerators share: input checks, the polyphase
rewriting of a strided layer as a stride-1 layer, and the count of kernel taps that land inside the
unpadded input.

All functions take a :class:`~hwcost.types.ConvLayer` whose shape fields may be traced floats (sweeps vmap
over layer shapes); integer operations go through :mod:`hwcost.smooth` with the layer's smoothing.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from hwcost import checks
from hwcost.smooth import Smoothing, smooth_relu, soft_ceil
from hwcost.types import Array, ConvLayer, Scalar

SHAPE_FIELDS = ("in_channels", "out_channels", "kernel_h", "kernel_w", "in_h", "in_w", "out_h", "out_w")
DENSITY_FIELDS = ("weight_density", "activation_density", "output_density")
MAX_SHAPE = 2**24
"""Largest channel count, kernel or plane side: integers are exact in float32 up to 2**24, and the models
split a layer by integer arithmetic (tiles, output-channel groups and their remainders)."""
PRODUCTS = {
    "weights": ("out_channels", "in_channels", "kernel_h", "kernel_w"),
    "input activations": ("in_channels", "in_h", "in_w"),
    "output activations": ("out_channels", "out_h", "out_w"),
    "multiplies": ("out_channels", "in_channels", "kernel_h", "kernel_w", "out_h", "out_w"),
}
"""Counts of a layer that must stay representable (:func:`hwcost.checks.check_product`)."""


def check_conv_layer(layer: ConvLayer) -> None:
    """Raise ``ValueError`` naming the field for shapes outside ``[1, 2**24]`` (or whose products exceed
    ``2**62``), a padding outside ``[0, R - 1]``, a stride outside ``[1, H + 2 padding]``, NaN, or densities
    outside [0, 1]; and, for integer-valued shapes, an output plane that is not
    ``(H + 2 padding - R) // stride + 1`` or a kernel larger than the padded input."""
    if not isinstance(layer, ConvLayer):
        raise TypeError(f"layer={type(layer).__name__} is not a ConvLayer")
    for name in SHAPE_FIELDS:
        checks.check_range(name, getattr(layer, name), 1, MAX_SHAPE)
    for what, names in PRODUCTS.items():
        checks.check_product(names, [getattr(layer, n) for n in names], what)
    checks.check_range("padding", layer.padding, 0, checks.MAX_SIZE)
    checks.check_range("stride", layer.stride, 1, checks.MAX_SIZE)
    padding = float(np.max(np.asarray(layer.padding)))
    for axis in ("h", "w"):
        kernel = float(np.min(np.asarray(getattr(layer, f"kernel_{axis}"))))
        if padding > kernel - 1:  # more padding would only add outputs that read nothing but zeros
            raise ValueError(f"padding={padding:g} is more than kernel_{axis} - 1 = {kernel - 1:g}; "
                             f"allowed: 0..{kernel - 1:g}")  # fmt: skip
        size = float(np.min(np.asarray(getattr(layer, f"in_{axis}")))) + 2 * padding
        stride = float(np.max(np.asarray(layer.stride)))
        if stride > size:
            raise ValueError(f"stride={stride:g} is more than in_{axis} + 2 padding = {size:g}; allowed: 1..{size:g}")
    for name in DENSITY_FIELDS:
        checks.check_fraction(name, getattr(layer, name))
    values = {name: float(getattr(layer, name)) for name in (*SHAPE_FIELDS, "stride", "padding")}
    if not all(v == int(v) for v in values.values()):
        return  # a relaxed (non-integer) layer: its output size is whatever the caller says
    for axis, kernel in (("h", "kernel_h"), ("w", "kernel_w")):
        padded = values[f"in_{axis}"] + 2 * values["padding"]
        if values[kernel] > padded:
            raise ValueError(
                f"{kernel}={values[kernel]:g} is larger than the padded input in_{axis} + 2 padding = {padded:g}; "
                f"allowed: at most {padded:g}"
            )
        expected = (padded - values[kernel]) // values["stride"] + 1
        if values[f"out_{axis}"] != expected:
            raise ValueError(
                f"out_{axis}={values[f'out_{axis}']:g} does not follow from in_{axis}={values[f'in_{axis}']:g}, "
                f"{kernel}={values[kernel]:g}, stride={values['stride']:g}, padding={values['padding']:g}; "
                f"allowed: {expected:g}"
            )


def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def ceil_of_ratio(a: Scalar, b: Scalar, smoothing: Smoothing) -> Array:
    """``ceil(a / b)`` for positive integers ``a, b`` as ``ceil((a - 1/2) / b)``, which no integer input puts
    on a step of the ceiling (a relaxed ceiling is a half-step off exactly on a step)."""
    b = _float(b)
    return soft_ceil((_float(a) - 0.5) / b, smoothing.temperature, hard=smoothing.hard)


class Polyphase(NamedTuple):
    """A strided layer rewritten as a stride-1 layer (every quantity a float, continuous in the layer).

    For stride ``u`` the input phase ``(a, b)`` of channel ``c`` becomes channel ``c u^2 + a u + b`` of a
    plane ``ceil(Hp / u) x ceil(Wp / u)`` (``Hp = H + 2 padding``), and the weights of that phase a kernel
    ``ceil(R / u) x ceil(S / u)`` (zero where the original kernel has no tap); ``u = 1`` leaves the layer
    as it is (padded).

    Attributes:
        channels: C' = C u^2.
        plane_h, plane_w: H', W'.
        kernel_h, kernel_w: R', S'.
        weight_density: nonzero weights over the K C' R' S' positions of the rewritten kernel.
        activation_density: nonzero inputs over the C' H' W' positions of the rewritten (padded) input.
    """

    channels: Array
    plane_h: Array
    plane_w: Array
    kernel_h: Array
    kernel_w: Array
    weight_density: Array
    activation_density: Array


class PhaseClasses(NamedTuple):
    """The input phases of a strided layer grouped by how many kernel taps they meet.

    Along one axis, phase ``a`` of stride ``u`` meets the taps ``a, a + u, ...`` of a kernel of ``R``:
    ``ceil(R / u)`` taps for the ``R - u (ceil(R / u) - 1)`` lowest phases, one fewer for the others (none
    for ``a >= R``). The four classes are (more, more), (more, fewer), (fewer, more), (fewer, fewer) taps
    along (rows, columns).

    Attributes:
        channels: ``(4,)`` rewritten input channels in each class, ``C`` times the phase counts.
        taps: ``(4,)`` kernel taps a channel of each class meets.
    """

    channels: Array
    taps: Array


def phase_classes(layer: ConvLayer, smoothing: Smoothing) -> PhaseClasses:
    """:class:`PhaseClasses` of ``layer`` (for stride 1: one class with every tap)."""
    u = _float(layer.stride)

    def axis(kernel: Scalar) -> tuple[Array, Array]:
        more = ceil_of_ratio(kernel, u, smoothing)
        phases_more = _float(kernel) - u * (more - 1.0)
        # the relaxed ceiling may fall a little below 1; a phase never meets a negative number of taps
        fewer = smooth_relu(more - 1.0, smoothing.temperature, hard=smoothing.hard)
        return jnp.stack([more, fewer]), jnp.stack([phases_more, u - phases_more])

    taps_h, phases_h = axis(layer.kernel_h)
    taps_w, phases_w = axis(layer.kernel_w)
    channels = _float(layer.in_channels) * (phases_h[:, None] * phases_w[None, :]).reshape(4)
    return PhaseClasses(channels, (taps_h[:, None] * taps_w[None, :]).reshape(4))


def polyphase(layer: ConvLayer, smoothing: Smoothing) -> Polyphase:
    """The stride-1 rewriting of ``layer`` (:class:`Polyphase`); exact for integer shapes."""
    u = _float(layer.stride)
    p = _float(layer.padding)
    plane_h = ceil_of_ratio(_float(layer.in_h) + 2.0 * p, u, smoothing)
    plane_w = ceil_of_ratio(_float(layer.in_w) + 2.0 * p, u, smoothing)
    kernel_h = ceil_of_ratio(layer.kernel_h, u, smoothing)
    kernel_w = ceil_of_ratio(layer.kernel_w, u, smoothing)
    channels = _float(layer.in_channels) * u * u
    taps = _float(layer.kernel_h) * _float(layer.kernel_w)
    weight_density = layer.weight_density * taps / (u * u * kernel_h * kernel_w)
    inputs = _float(layer.in_channels) * _float(layer.in_h) * _float(layer.in_w)
    activation_density = layer.activation_density * inputs / (channels * plane_h * plane_w)
    return Polyphase(channels, plane_h, plane_w, kernel_h, kernel_w, weight_density, activation_density)


def _taps_inside_1d(
    in_size: Array, out_size: Array, kernel: Array, stride: Array, padding: Array, t: Smoothing
) -> Array:
    """Pairs (output index y, tap r) with ``0 <= u y + r - p < H``, of the ``Ho R`` pairs.

    The pairs cut off at the top (``u y + r < p``) are ``sum_{k=1..p} min(Ho, ceil(k / u))`` and those at
    the bottom ``sum_{k=e-R+1..e, k>=1} min(Ho, ceil(k / u))``, with ``e = u (Ho - 1) + R - p - H`` the
    overhang of the last output: tap ``r`` is cut at ``k = p - r`` (top) or ``k = e - (R - 1 - r)``
    (bottom) output positions. With ``ceil(k / u)`` taken as ``k / u`` and
    ``min(Ho, k / u) = k / u - max(0, k - u Ho) / u``, each sum is a triangle
    ``T(x) = x (x + 1) / (2 u)`` of ``x = max(0, .)`` clipped by inclusion-exclusion at ``Ho`` outputs and
    ``R`` taps (:func:`_clipped_triangle`); exact for stride 1, and never more than the true cut otherwise.
    The two cut sets are disjoint, so the count is at least the exact count, which is non-negative.
    """
    overhang_bottom = stride * (out_size - 1.0) + kernel - padding - in_size
    cut = sum(_clipped_triangle(x, out_size, kernel, stride, t) for x in (padding, overhang_bottom))
    return out_size * kernel - cut


def _clipped_triangle(
    x: Array, out_size: Array, kernel: Array, stride: Array, t: Smoothing, nonnegative: bool = False
) -> Array:
    """``sum_{k=max(1, x-R+1)..x} min(Ho, k / u)`` as ``T(x) - T(x - u Ho) - T(x - R) + T(x - R - u Ho)``;
    ``nonnegative`` takes ``x`` itself as known to be ``>= 0`` (the padding), so it is not smoothed."""

    def triangle(z: Array, rectify: bool = True) -> Array:
        z = smooth_relu(z, t.temperature, hard=t.hard) if rectify else z
        return z * (z + 1.0) / (2.0 * stride)

    span = stride * out_size
    return triangle(x, not nonnegative) - triangle(x - span) - triangle(x - kernel) + triangle(x - kernel - span)


def taps_inside_input(layer: ConvLayer, smoothing: Smoothing) -> Array:
    """Multiplies of the dense layer whose input is inside the unpadded plane (the rest read padding),
    ``K C`` times the in-bound (output, tap) pairs of each axis (:func:`_taps_inside_1d`)."""
    args = (_float(layer.stride), _float(layer.padding), smoothing)
    rows = _taps_inside_1d(_float(layer.in_h), _float(layer.out_h), _float(layer.kernel_h), *args)
    cols = _taps_inside_1d(_float(layer.in_w), _float(layer.out_w), _float(layer.kernel_w), *args)
    return _float(layer.out_channels) * _float(layer.in_channels) * rows * cols


def dense_multiplies(layer: ConvLayer) -> Array:
    """``K C R S Ho Wo``: multiplies of the dense layer."""
    return (
        _float(layer.out_channels)
        * _float(layer.in_channels)
        * _float(layer.kernel_h)
        * _float(layer.kernel_w)
        * _float(layer.out_h)
        * _float(layer.out_w)
    )


__all__ = [
    "DENSITY_FIELDS",
    "MAX_SHAPE",
    "SHAPE_FIELDS",
    "PhaseClasses",
    "Polyphase",
    "ceil_of_ratio",
    "check_conv_layer",
    "dense_multiplies",
    "phase_classes",
    "polyphase",
    "taps_inside_input",
]
