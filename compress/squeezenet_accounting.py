"""Deep Compression storage of SqueezeNet v1.0, counted from its layer shapes (SqueezeNet Sec. 4, Table 2).

SqueezeNet (Iandola et al., arXiv 1602.07360) compresses its 1,248,424 parameters with Deep Compression
(Han et al., ICLR'16): "33% sparsity" (a third of the weights kept) and 8-bit shared weights give
0.66 MB, 363x smaller than AlexNet's 240 MB; 6-bit weights give 0.47 MB, 510x (papers.md sec. 10).

Storage format: the authors' released model, ``songhan/SqueezeNet-Deep-Compression``
(``compressed_SqueezeNet.net`` read by its ``decode.py``; the README calls it "660KB"):

* a header of one uint32 per layer: its stored-entry count ``e``;
* per layer: a codebook of ``2**weight_bits`` float32 (code 0 is the zero), the biases as float32, the
  ``e`` weight codes packed into ``ceil(e * weight_bits / 8)`` bytes, and the ``e`` relative indices
  (``index_bits = 4``, positions ``cumsum(index + 1) - 1``) packed into ``ceil(e * index_bits / 8)``
  bytes. ``e`` counts the kept weights plus the filler zeros that bridge gaps of more than
  ``2**index_bits - 1`` zeros (Deep Compression Sec. 2, Fig. 2; :func:`compress.encoding.relative_indices`
  lays out the same entries).

Counted from shapes alone, the kept weights of a layer are ``density * n`` and their positions are assumed
independent, so a gap of ``g`` zeros is geometric, ``P(g >= m) = q**m`` with ``q = 1 - density``, and the
expected filler count per kept weight is ``sum_j q**(j S) = q**S / (1 - q**S)`` with ``S = 2**index_bits``
(:func:`expected_fillers`). ``index_coding="huffman"`` prices the relative indices with the Huffman code
(:func:`compress.huffman.code_lengths`) of that expected gap histogram, plus its canonical table
(``5`` bits per symbol), instead of ``index_bits`` each.

Units: ``size_kb`` = bytes / 1024 (the released file, 675,763 B, is the README's "660KB") and
``size_mb`` = ``size_kb / 1000``, the unit in which the paper's 0.66 MB and 363x = 240 / 0.66 are stated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, NamedTuple

import numpy as np

from compress import huffman
from compress.encoding import FLOAT_BITS
from hwcost.checks import check_choice, check_fraction, check_int_range
from models.conv_specs import ConvSpec, network_specs

IndexCoding = Literal["fixed", "huffman"]
INDEX_CODINGS: tuple[str, ...] = ("fixed", "huffman")
#: AlexNet's uncompressed size, MB (Deep Compression Table 1 and Table 7).
ALEXNET_MB = 240.0
#: Relative-index width of the released model (``decode.py``: two 4-bit indices per byte).
RELEASED_INDEX_BITS = 4
#: Bits of the header's per-layer entry count (uint32).
HEADER_BITS = 32
#: SqueezeNet Table 2 (papers.md sec. 10): weight bits -> (size MB, reduction vs AlexNet), at 33% density.
PAPER_SIZES: dict[int, tuple[float, float]] = {8: (0.66, 363.0), 6: (0.47, 510.0)}
#: The paper's fraction of weights kept ("33% sparsity").
PAPER_DENSITY = 0.33
#: Size of the released ``compressed_SqueezeNet.net``, bytes (V-P, author artefact).
RELEASED_FILE_BYTES = 675_763

#: Stored entries per layer (kept weights + fillers) of the released model, in forward order: the
#: header of ``compressed_SqueezeNet.net`` (V-P, author artefact). Parsing the file with these counts
#: consumes exactly its 675,763 bytes; 415,921 of the 422,083 entries are nonzero codes (33.4% of the
#: 1,244,448 weights; conv1 and most squeeze layers ~99% dense, expand3x3 ~30-33%, conv10 20%).
RELEASED_ENTRIES: dict[str, int] = {
    "conv1": 13902,
    "fire2/squeeze1x1": 1528,
    "fire2/expand1x1": 1020,
    "fire2/expand3x3": 3073,
    "fire3/squeeze1x1": 2038,
    "fire3/expand1x1": 1023,
    "fire3/expand3x3": 3081,
    "fire4/squeeze1x1": 4085,
    "fire4/expand1x1": 4071,
    "fire4/expand3x3": 12288,
    "fire5/squeeze1x1": 8160,
    "fire5/expand1x1": 4067,
    "fire5/expand3x3": 12343,
    "fire6/squeeze1x1": 12161,
    "fire6/expand1x1": 4602,
    "fire6/expand3x3": 27558,
    "fire7/squeeze1x1": 9205,
    "fire7/expand1x1": 9132,
    "fire7/expand3x3": 27564,
    "fire8/squeeze1x1": 24388,
    "fire8/expand1x1": 8190,
    "fire8/expand3x3": 44919,
    "fire9/squeeze1x1": 16371,
    "fire9/expand1x1": 16303,
    "fire9/expand3x3": 45038,
    "conv10": 105973,
}
#: Nonzero weight codes per layer of the released model (its entries less the fillers, code 0).
RELEASED_NONZERO: dict[str, int] = {
    "conv1": 13902,
    "fire2/squeeze1x1": 1528,
    "fire2/expand1x1": 1020,
    "fire2/expand3x3": 3039,
    "fire3/squeeze1x1": 2038,
    "fire3/expand1x1": 1023,
    "fire3/expand3x3": 3039,
    "fire4/squeeze1x1": 4085,
    "fire4/expand1x1": 4071,
    "fire4/expand3x3": 12156,
    "fire5/squeeze1x1": 8160,
    "fire5/expand1x1": 4067,
    "fire5/expand3x3": 12147,
    "fire6/squeeze1x1": 12161,
    "fire6/expand1x1": 4602,
    "fire6/expand3x3": 27325,
    "fire7/squeeze1x1": 9205,
    "fire7/expand1x1": 9129,
    "fire7/expand3x3": 27336,
    "fire8/squeeze1x1": 24388,
    "fire8/expand1x1": 8187,
    "fire8/expand3x3": 44144,
    "fire9/squeeze1x1": 16370,
    "fire9/expand1x1": 16303,
    "fire9/expand3x3": 44173,
    "conv10": 102323,
}


class LayerStorage(NamedTuple):
    """Storage of one layer (bits; entries may be fractional expectations)."""

    name: str
    num_weights: int
    kept: float
    entries: float
    code_bits: float
    index_bits: float
    codebook_bits: int
    bias_bits: int
    header_bits: int

    @property
    def total_bytes(self) -> float:
        """Bytes of the layer: each stream padded to whole bytes, as the released file stores it."""
        streams = math.ceil(self.code_bits / 8) + math.ceil(self.index_bits / 8)
        return streams + (self.codebook_bits + self.bias_bits + self.header_bits) / 8


class StorageSummary(NamedTuple):
    """Storage of the whole network (:func:`squeezenet_storage`)."""

    layers: tuple[LayerStorage, ...]
    weight_bits: int

    @property
    def total_bytes(self) -> float:
        """Bytes of the compressed model."""
        return sum(layer.total_bytes for layer in self.layers)

    @property
    def size_kb(self) -> float:
        """Size in KB of 1,024 bytes (the README's "660KB")."""
        return self.total_bytes / 1024

    @property
    def size_mb(self) -> float:
        """Size in the paper's MB, ``size_kb / 1000``."""
        return self.size_kb / 1000

    @property
    def reduction_vs_alexnet(self) -> float:
        """AlexNet's 240 MB over this size (the paper's "363x smaller")."""
        return ALEXNET_MB / self.size_mb

    @property
    def kept_weights(self) -> float:
        """Kept (nonzero) weights of all layers."""
        return sum(layer.kept for layer in self.layers)

    @property
    def bits_per_kept_weight(self) -> float:
        """All bits (codes, indices, codebooks, biases, header) per kept weight."""
        return 8 * self.total_bytes / self.kept_weights


def expected_fillers(kept: float, num_weights: int, index_bits: int) -> float:
    """Expected filler entries of a layer whose ``kept`` of ``num_weights`` weights sit at independent
    positions, with ``index_bits``-bit relative indices: ``kept * q**S / (1 - q**S)`` (module docstring)."""
    check_int_range("index_bits", index_bits, 1, 16)
    if kept <= 0:
        return 0.0
    q = 1.0 - kept / num_weights
    tail = q ** (2**index_bits)
    return kept * tail / (1.0 - tail)


def expected_gap_histogram(kept: float, num_weights: int, index_bits: int) -> np.ndarray:
    """Expected count (float64, (2**index_bits,)) of each relative-index value over a layer's entries.

    A kept weight after ``g`` zeros stores ``g mod S`` (``S = 2**index_bits``), with probability
    ``p q**v / (1 - q**S)`` for value ``v``; every filler stores ``S - 1``.
    """
    span = 2**index_bits
    p = kept / num_weights
    q = 1.0 - p
    values = np.arange(span, dtype=np.float64)
    counts = kept * p * q**values / (1.0 - q**span)
    counts[-1] += expected_fillers(kept, num_weights, index_bits)
    return counts


def huffman_index_bits(kept: float, num_weights: int, index_bits: int) -> float:
    """Expected bits of a layer's relative indices Huffman-coded (Deep Compression Sec. 4), with the
    canonical table of ``huffman.LENGTH_BITS`` bits per symbol."""
    counts = expected_gap_histogram(kept, num_weights, index_bits)
    frequencies = np.where(counts > 0, np.maximum(np.rint(counts), 1), 0).astype(np.int64)
    lengths = huffman.code_lengths(frequencies)
    return float(counts @ lengths) + huffman.LENGTH_BITS * counts.size


def layer_storage(
    spec: ConvSpec,
    density: float,
    weight_bits: int,
    index_bits: int = RELEASED_INDEX_BITS,
    *,
    entries: float | None = None,
    index_coding: IndexCoding = "fixed",
) -> LayerStorage:
    """Storage of one layer at ``density`` (fraction kept); ``entries`` overrides the expected count."""
    check_fraction("density", density)
    check_int_range("weight_bits", weight_bits, 1, 16)
    check_choice("index_coding", index_coding, INDEX_CODINGS)
    n = spec.num_weights
    kept = density * n
    if entries is None:
        entries = kept + expected_fillers(kept, n, index_bits)
    if index_coding == "fixed":
        index = entries * index_bits
    else:
        index = huffman_index_bits(kept, n, index_bits)
    return LayerStorage(
        name=spec.layer,
        num_weights=n,
        kept=kept,
        entries=entries,
        code_bits=entries * weight_bits,
        index_bits=index,
        codebook_bits=FLOAT_BITS * 2**weight_bits,
        bias_bits=FLOAT_BITS * spec.out_channels,
        header_bits=HEADER_BITS,
    )


def squeezenet_storage(
    density: float | Mapping[str, float] = PAPER_DENSITY,
    weight_bits: int = 8,
    index_bits: int = RELEASED_INDEX_BITS,
    *,
    entries: Mapping[str, float] | None = None,
    index_coding: IndexCoding = "fixed",
) -> StorageSummary:
    """Deep Compression storage of SqueezeNet v1.0 (:data:`models.conv_specs.CONV_SPECS` shapes).

    Args:
        density: fraction of weights kept, one for every layer or ``{layer: density}``.
        weight_bits: bits per weight code (``2**weight_bits`` float32 codebook entries per layer).
        index_bits: bits per relative index.
        entries: stored entries per layer (e.g. :data:`RELEASED_ENTRIES`) instead of the expected count.
        index_coding: ``"fixed"`` (``index_bits`` per entry) or ``"huffman"`` (module docstring).
    """
    layers = []
    for spec in network_specs("squeezenet"):
        d = density[spec.layer] if isinstance(density, Mapping) else density
        e = None if entries is None else entries[spec.layer]
        layers.append(layer_storage(spec, d, weight_bits, index_bits, entries=e, index_coding=index_coding))
    return StorageSummary(tuple(layers), weight_bits)
