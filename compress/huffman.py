"""Canonical Huffman codes for the weight indices and relative-index gaps (Deep Compression Sec. 4).

A code is described completely by one code length per symbol of the alphabet ``0 .. n-1`` (0 for a
symbol that never occurs); codewords are assigned canonically (shorter codes first, ties by symbol), so
only the lengths need storing. Bits are packed most-significant first into bytes, the last byte padded
with zeros; the decoder is told how many symbols to read.

Edge cases: an empty message has all lengths 0 and encodes to ``b""``; a message with a single distinct
symbol gives that symbol a 1-bit code (every occurrence costs one bit).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from hwcost.checks import check_int_range

#: Bits per stored code length in the canonical table (compress.export packs them).
LENGTH_BITS = 5
#: Largest code length a table can hold. A Huffman code longer than L bits needs at least Fibonacci(L + 2)
#: coded symbols, so 31 bits covers every message shorter than 3,524,578 symbols.
MAX_CODE_LENGTH = 2**LENGTH_BITS - 1


def code_lengths(frequencies: Sequence[int] | np.ndarray) -> np.ndarray:
    """Huffman code length (bits, int64 array shaped like ``frequencies``) of every symbol.

    Args:
        frequencies: occurrence count of each symbol ``0 .. n-1`` (non-negative integers).
    """
    freq = np.asarray(frequencies, dtype=np.int64).reshape(-1)
    if np.any(freq < 0):
        raise ValueError(f"frequencies contain {int(freq[freq < 0][0])}; they must be >= 0")
    lengths = np.zeros(freq.shape, np.int64)
    used = np.flatnonzero(freq)
    if used.size == 1:
        lengths[used[0]] = 1
    if used.size <= 1:
        return lengths
    # Heap of (weight, tie-breaker, symbols in the subtree); merging two subtrees deepens all their symbols.
    heap = [(int(freq[s]), int(s), [int(s)]) for s in used]
    heapq.heapify(heap)
    counter = int(freq.size)
    while len(heap) > 1:
        w1, _, s1 = heapq.heappop(heap)
        w2, _, s2 = heapq.heappop(heap)
        for s in s1:
            lengths[s] += 1
        for s in s2:
            lengths[s] += 1
        heapq.heappush(heap, (w1 + w2, counter, s1 + s2))
        counter += 1
    if lengths.max() > MAX_CODE_LENGTH:
        raise ValueError(f"Huffman code length {lengths.max()} exceeds {MAX_CODE_LENGTH}")
    return lengths


def canonical_codes(lengths: Sequence[int] | np.ndarray) -> dict[int, str]:
    """Canonical codewords ``{symbol: bit string}`` for the given code lengths (0 = symbol unused)."""
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    symbols = sorted((int(n), int(s)) for s, n in enumerate(lengths) if n > 0)
    codes: dict[int, str] = {}
    code, prev_len = 0, 0
    for n, s in symbols:
        code <<= n - prev_len
        codes[s] = format(code, f"0{n}b")
        code += 1
        prev_len = n
    if symbols and code > (1 << prev_len):
        raise ValueError(f"code lengths {lengths.tolist()} violate the Kraft inequality")
    return codes


def encoded_bits(symbols: Sequence[int] | np.ndarray, lengths: Sequence[int] | np.ndarray) -> int:
    """Exact length in bits of the Huffman-coded ``symbols`` (before byte padding)."""
    symbols = np.asarray(symbols, dtype=np.int64).reshape(-1)
    return int(np.asarray(lengths, dtype=np.int64)[symbols].sum()) if symbols.size else 0


def encode(symbols: Sequence[int] | np.ndarray, lengths: Sequence[int] | np.ndarray) -> bytes:
    """Huffman-code ``symbols`` with the canonical code of ``lengths``; bits packed MSB first."""
    codes = canonical_codes(lengths)
    symbols = np.asarray(symbols, dtype=np.int64).reshape(-1)
    try:
        bits = "".join(codes[int(s)] for s in symbols)
    except KeyError as err:
        raise ValueError(f"symbol {err.args[0]} has no code (its length is 0)") from None
    if not bits:
        return b""
    pad = -len(bits) % 8
    return int(bits + "0" * pad, 2).to_bytes((len(bits) + pad) // 8, "big")


def decode(data: bytes, lengths: Sequence[int] | np.ndarray, count: int) -> np.ndarray:
    """Decode ``count`` symbols (int64 array) from ``data`` coded with the canonical code of ``lengths``.

    Raises:
        ValueError: the data end before ``count`` symbols or hold a bit pattern that is no codeword.
    """
    check_int_range("count", count, 0)
    if count == 0:
        return np.zeros(0, np.int64)
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    codes = canonical_codes(lengths)
    if not codes:
        raise ValueError(f"cannot decode {count} symbols with an empty code")
    # Canonical decoding tables: per length, the first code and the symbols in canonical order.
    max_len = int(lengths.max())
    first_code = [0] * (max_len + 2)
    first_index = [0] * (max_len + 2)
    ordered = sorted(codes, key=lambda s: (int(lengths[s]), s))
    count_by_len = np.bincount(lengths[lengths > 0], minlength=max_len + 1)
    code = index = 0
    for n in range(1, max_len + 1):
        first_code[n], first_index[n] = code, index
        code = (code + int(count_by_len[n])) << 1
        index += int(count_by_len[n])
    bits = np.unpackbits(np.frombuffer(data, np.uint8)).tolist()
    out = np.empty(count, np.int64)
    pos, total = 0, len(bits)
    for i in range(count):
        code, n = 0, 0
        while True:
            if pos >= total:
                raise ValueError(f"Huffman stream ends after {i} of {count} symbols (truncated data)")
            code = (code << 1) | bits[pos]
            pos += 1
            n += 1
            if n > max_len:
                raise ValueError(f"invalid Huffman codeword at bit {pos - n} (corrupt data)")
            offset = code - first_code[n]
            if 0 <= offset < count_by_len[n]:
                out[i] = ordered[first_index[n] + offset]
                break
    return out


def pack_lengths(lengths: Sequence[int] | np.ndarray) -> bytes:
    """Code lengths as :data:`LENGTH_BITS`-bit fields, MSB first, the last byte zero-padded."""
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if lengths.size and (lengths.min() < 0 or lengths.max() > MAX_CODE_LENGTH):
        raise ValueError(f"code lengths must lie in [0, {MAX_CODE_LENGTH}]")
    bits = (lengths[:, None] >> np.arange(LENGTH_BITS - 1, -1, -1)) & 1
    return np.packbits(bits.reshape(-1).astype(np.uint8)).tobytes()


def unpack_lengths(data: bytes, count: int) -> np.ndarray:
    """Inverse of :func:`pack_lengths`: ``count`` code lengths (int64)."""
    bits = np.unpackbits(np.frombuffer(data, np.uint8))[: count * LENGTH_BITS]
    if bits.size < count * LENGTH_BITS:
        raise ValueError(f"code-length table holds {bits.size // LENGTH_BITS} of {count} lengths (truncated)")
    return (bits.reshape(count, LENGTH_BITS).astype(np.int64) << np.arange(LENGTH_BITS - 1, -1, -1)).sum(axis=1)


def packed_lengths_bytes(count: int) -> int:
    """Bytes taken by :func:`pack_lengths` for ``count`` lengths."""
    return -(-count * LENGTH_BITS // 8)
