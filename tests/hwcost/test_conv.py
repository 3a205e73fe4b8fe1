"""The in-bound (output, tap) count of a convolution against a count over every pair."""

from __future__ import annotations

import itertools

import numpy as np

from hwcost.conv import taps_inside_input
from hwcost.smooth import Smoothing
from hwcost.types import ConvLayer

HARD = Smoothing(hard=True)


def _exact_pairs(in_size: int, kernel: int, stride: int, padding: int, out_size: int) -> int:
    y, r = np.meshgrid(np.arange(out_size), np.arange(kernel), indexing="ij")
    position = stride * y + r - padding
    return int(np.sum((position >= 0) & (position < in_size)))


def _count(in_size: int, kernel: int, stride: int, padding: int, out_size: int) -> float:
    """In-bound pairs along one axis, from a square layer (stride and padding are shared by both axes)."""
    layer = ConvLayer(
        1, 1, kernel, kernel, in_size, in_size, out_size, out_size, 1.0, 1.0, stride=stride, padding=padding
    )
    return float(np.sqrt(taps_inside_input(layer, HARD)))


def _geometries(max_size: int = 9):
    for in_size, kernel, stride in itertools.product(range(1, max_size + 1), range(1, 8), range(1, 5)):
        for padding in range(kernel):
            padded = in_size + 2 * padding
            if kernel <= padded and stride <= padded:
                yield in_size, kernel, stride, padding, (padded - kernel) // stride + 1


def test_stride_one_counts_are_exact_including_planes_smaller_than_the_padding():
    """With ``Ho < p`` (a 1-pixel plane, padding 2, kernel 5) the unclipped triangles counted -1 pairs."""
    assert _count(1, 5, 1, 2, 1) == _exact_pairs(1, 5, 1, 2, 1) == 1
    for geometry in _geometries():
        if geometry[2] == 1:
            assert _count(*geometry) == _exact_pairs(*geometry), geometry


def test_strided_counts_lie_between_the_exact_count_and_all_pairs():
    """``ceil(k / u)`` is taken as ``k / u``: the cut is never over-counted, so the count never undershoots."""
    for geometry in _geometries():
        _, kernel, _, _, out_size = geometry
        assert _exact_pairs(*geometry) - 1e-4 <= _count(*geometry) <= out_size * kernel + 1e-4, geometry


def test_output_sizes_that_do_not_follow_from_the_geometry_are_counted_exactly_at_stride_one():
    """A relaxed layer's output size is whatever the caller sets; a kernel wider than the padded input
    (the fuzz found 6187 taps on 56 pixels) leaves cut-off triangles larger than ``Ho`` or ``R``."""
    for in_size, kernel, padding, out_size in itertools.product((1, 3, 8), (1, 5, 40), (0, 2), (1, 4, 12)):
        if padding < kernel:
            geometry = (in_size, kernel, 1, padding, out_size)
            assert _count(*geometry) == _exact_pairs(*geometry), geometry
