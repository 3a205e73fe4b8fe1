"""Sparse storage with relative indices and filler zeros, counted bit-exactly (Deep Compression Sec. 2).

Storage order: each kernel is flattened in Caffe blob order, the order of the paper's models: an fc
kernel ``(in, out)`` as ``(out, in)`` and a conv kernel ``(kh, kw, c, k)`` as ``(k, c, kh, kw)``, row-major.

Each stored entry is a pair (weight code, relative index). The relative index ``g`` in ``[0, 2**b)`` is
the number of zero positions skipped since the previous stored entry (the first entry counts from
position 0), so positions decode as ``cumsum(g + 1) - 1`` (the authors' AlexNet decoder). A gap of more
than ``2**b - 1`` zeros is bridged by filler zeros (Sec. 2, Fig. 2): an entry with weight code 0 placed
``2**b`` positions after the previous entry, as often as needed. Zeros after the last nonzero need no
entry (the kernel size is known).

Bits of one layer (its ``n`` weights, ``e`` stored entries = nonzeros + fillers):

* P+Q: ``e * weight_bits + e * index_bits + k * 32`` (codes, relative indices, codebook of
  ``k = 2**weight_bits - 1`` float32 centroids; code 0 is the implicit zero);
* P+Q+H: Huffman-coded codes + Huffman-coded relative indices + codebook + the two canonical Huffman
  tables (a 5-bit code length per alphabet symbol: ``5 * (2**weight_bits + 2**index_bits)``), i.e.
  exactly what :mod:`compress.export` writes for the layer's weights, before byte padding.

Compression rate = layer bits / (32 * n). Biases are excluded from both sides, as in the paper's
#weights column (Tables 2-5); they are stored as float32 in the exported file and reported apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from compress import huffman
from compress.sharing import SharedLayer, check_bits

#: Bits of one original (dense) weight and of one stored centroid: float32 (Sec. 3, Eq. 1 with b = 32).
FLOAT_BITS = 32
#: Relative-index bits of the LeNet tables (Deep Compression Tables 2 and 3: 5 bits for every layer).
LENET_INDEX_BITS = 5
#: Bits per stored Huffman code length (one field per alphabet symbol; see compress.export).
HUFFMAN_LENGTH_BITS = huffman.LENGTH_BITS


def storage_order(kernel: np.ndarray) -> np.ndarray:
    """``kernel`` transposed to Caffe blob order (fc ``(out, in)``, conv ``(k, c, kh, kw)``)."""
    kernel = np.asarray(kernel)
    if kernel.ndim == 2:
        return kernel.T
    if kernel.ndim == 4:
        return kernel.transpose(3, 2, 0, 1)
    raise ValueError(f"kernel shape={kernel.shape} is not a 2-D (fc) or 4-D (conv) kernel")


def from_storage_order(stored: np.ndarray, kernel_shape: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`storage_order`: a flat or blob-shaped array back to the flax kernel shape."""
    shape = tuple(int(d) for d in kernel_shape)
    if len(shape) == 2:
        return np.asarray(stored).reshape(shape[1], shape[0]).T
    if len(shape) == 4:
        kh, kw, c, k = shape
        return np.asarray(stored).reshape(k, c, kh, kw).transpose(2, 3, 1, 0)
    raise ValueError(f"kernel shape={shape} is not a 2-D (fc) or 4-D (conv) kernel")


def relative_indices(flat_codes: np.ndarray, index_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Stored entries of a flat code array: ``(entry codes, relative indices)``, both int64 (e,).

    Filler zeros (code 0, relative index ``2**index_bits - 1``) bridge gaps longer than the index can say.
    """
    check_bits("index_bits", index_bits)
    flat_codes = np.asarray(flat_codes).reshape(-1)
    span = 2**index_bits
    positions = np.flatnonzero(flat_codes)
    gaps = np.diff(positions, prepend=-1) - 1  # zeros skipped before each nonzero
    fillers = gaps // span
    entries = positions.size + int(fillers.sum())
    codes = np.zeros(entries, np.int64)
    rel = np.full(entries, span - 1, np.int64)
    # Each nonzero lands after its fillers: its entry number is its rank plus all fillers so far.
    slot = np.arange(positions.size) + np.cumsum(fillers)
    codes[slot] = flat_codes[positions]
    rel[slot] = gaps - fillers * span
    return codes, rel


def positions_from_relative(rel: np.ndarray) -> np.ndarray:
    """Positions (int64) of the stored entries: ``cumsum(rel + 1) - 1``."""
    return np.cumsum(np.asarray(rel, np.int64) + 1) - 1


def decode_relative(codes: np.ndarray, rel: np.ndarray, size: int) -> np.ndarray:
    """Flat code array (int64, (size,)) from stored entries; raises ValueError if they overrun ``size``."""
    positions = positions_from_relative(rel)
    if positions.size and positions[-1] >= size:
        raise ValueError(f"relative indices reach position {int(positions[-1])} of a layer of {size} weights")
    flat = np.zeros(int(size), np.int64)
    flat[positions] = codes
    return flat


class EncodedLayer(NamedTuple):
    """One layer in the compressed format (before byte packing).

    ``kernel_shape``: flax kernel shape; ``codebook``: float32 (2**weight_bits - 1,); ``codes`` and
    ``rel``: int64 (entries,) weight codes and relative indices; ``weight_lengths`` (2**weight_bits,) and
    ``index_lengths`` (2**index_bits,): Huffman code lengths in bits; ``bias``: float32 (out,) or None.
    """

    name: str
    kind: str
    kernel_shape: tuple[int, ...]
    weight_bits: int
    index_bits: int
    codebook: np.ndarray
    codes: np.ndarray
    rel: np.ndarray
    weight_lengths: np.ndarray
    index_lengths: np.ndarray
    bias: np.ndarray | None


def encode_layer(name: str, shared: SharedLayer, index_bits: int = LENET_INDEX_BITS, bias: Any = None) -> EncodedLayer:
    """Sparse, Huffman-ready encoding of one weight-shared layer."""
    check_bits("index_bits", index_bits)
    flat = storage_order(shared.codes).reshape(-1)
    codes, rel = relative_indices(flat, index_bits)
    w_len = huffman.code_lengths(np.bincount(codes, minlength=2**shared.bits))
    i_len = huffman.code_lengths(np.bincount(rel, minlength=2**index_bits))
    return EncodedLayer(
        name=name,
        kind="conv" if shared.codes.ndim == 4 else "fc",
        kernel_shape=tuple(int(d) for d in shared.codes.shape),
        weight_bits=int(shared.bits),
        index_bits=int(index_bits),
        codebook=np.asarray(shared.codebook, np.float32),
        codes=codes,
        rel=rel,
        weight_lengths=w_len,
        index_lengths=i_len,
        bias=None if bias is None else np.asarray(bias, np.float32),
    )


def decode_layer(layer: EncodedLayer) -> np.ndarray:
    """The float32 kernel (flax shape) of an encoded layer: ``codebook[code - 1]``, zero at code 0."""
    size = int(np.prod(layer.kernel_shape))
    flat = decode_relative(layer.codes, layer.rel, size)
    full = np.concatenate([np.zeros(1, np.float32), layer.codebook.astype(np.float32)])
    return from_storage_order(full[flat], layer.kernel_shape)


def layer_bits(layer: EncodedLayer) -> dict[str, int]:
    """Exact bit counts of one encoded layer (see the module docstring for the formulas)."""
    n = int(np.prod(layer.kernel_shape))
    entries = int(layer.codes.size)
    nonzero = int(np.count_nonzero(layer.codes))
    codebook = FLOAT_BITS * int(layer.codebook.size)
    tables = HUFFMAN_LENGTH_BITS * (int(layer.weight_lengths.size) + int(layer.index_lengths.size))
    weight_pq = entries * layer.weight_bits
    index_pq = entries * layer.index_bits
    weight_pqh = huffman.encoded_bits(layer.codes, layer.weight_lengths)
    index_pqh = huffman.encoded_bits(layer.rel, layer.index_lengths)
    return {
        "num_weights": n,
        "num_nonzero": nonzero,
        "num_fillers": entries - nonzero,
        "num_entries": entries,
        "weight_code_bits_pq": weight_pq,
        "index_code_bits_pq": index_pq,
        "weight_code_bits_pqh": weight_pqh,
        "index_code_bits_pqh": index_pqh,
        "codebook_bits": codebook,
        "huffman_table_bits": tables,
        "total_bits_pq": weight_pq + index_pq + codebook,
        "total_bits_pqh": weight_pqh + index_pqh + codebook + tables,
        "original_bits": FLOAT_BITS * n,
        "bias_bits": 0 if layer.bias is None else FLOAT_BITS * int(layer.bias.size),
    }


def _row(name: str, b: Mapping[str, int]) -> dict[str, Any]:
    entries = max(b["num_entries"], 1)
    return {
        "layer": name,
        "num_weights": b["num_weights"],
        "weights_kept_pct": 100.0 * b["num_nonzero"] / b["num_weights"],
        "weight_bits_pq": b["weight_code_bits_pq"] / entries,
        "weight_bits_pqh": b["weight_code_bits_pqh"] / entries,
        "index_bits_pq": b["index_code_bits_pq"] / entries,
        "index_bits_pqh": b["index_code_bits_pqh"] / entries,
        "rate_pq_pct": 100.0 * b["total_bits_pq"] / b["original_bits"],
        "rate_pqh_pct": 100.0 * b["total_bits_pqh"] / b["original_bits"],
    }


def storage_table(layers: Sequence[EncodedLayer]) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Deep Compression Table 2/3 rows: ``(per-layer rows, total row, per-layer exact bit counts)``.

    Bits per weight/index are averages over stored entries (nonzeros and fillers), so the P+Q columns
    equal the configured bits as in the paper's tables; rates are percentages of the dense 32-bit size.
    The total row adds ``compression_pq`` and ``compression_pqh`` (dense size / compressed size).
    """
    bits = {layer.name: layer_bits(layer) for layer in layers}
    rows = [_row(name, b) for name, b in bits.items()]
    summed = {key: sum(b[key] for b in bits.values()) for key in next(iter(bits.values()), {})}
    total = _row("total", summed) if bits else {"layer": "total"}
    if bits:
        total["compression_pq"] = summed["original_bits"] / summed["total_bits_pq"]
        total["compression_pqh"] = summed["original_bits"] / summed["total_bits_pqh"]
    return rows, total, bits
